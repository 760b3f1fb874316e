"""Ids and codes the database indexes and compares are bounded: a longer one
is an issue with its field's path (422), not a database error later."""

import json
import pathlib

import pytest
from cloudify_lib import parser as cloudify
from mobiwork_lib import parser as mobiwork
from oms_lib import normalize

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
LONGEST = "X" * normalize.MAX_ID_LENGTH
TOO_LONG = LONGEST + "X"


def _errors(result):
    return {issue.path: issue.message for issue in result.errors}


def _too_long(*paths):
    return dict.fromkeys(paths, normalize.ID_TOO_LONG_MESSAGE)


# --- webhook-id ---------------------------------------------------------------


def test_a_delivery_id_up_to_the_limit_is_accepted():
    for value in (None, "", "msg_2YhKa9", LONGEST, "msg Tạp hóa"):
        assert normalize.check_delivery_id(value) is None


@pytest.mark.parametrize(
    "value", [TOO_LONG, "x" * 1_000_000, "msg\x00", "msg\n1", "msg\r", 42]
)
def test_a_delivery_id_too_long_or_with_control_characters_is_an_issue(value):
    issue = normalize.check_delivery_id(value)
    assert issue.path == normalize.DELIVERY_ID_PATH == "headers.webhook-id"
    if isinstance(value, str) and len(value) > normalize.MAX_ID_LENGTH:
        assert issue.message == normalize.ID_TOO_LONG_MESSAGE


# --- the compatible format ------------------------------------------------------


def _compatible(**changes):
    payload = json.loads((FIXTURES / "compatible" / "order_created.json").read_text())
    order = payload["order"]
    order["shipping_address"] = {"id": "A-3", "name": "Kho", "street": "45 Le Loi"}
    for path, value in changes.items():
        target = order
        *parents, key = path.split(".")
        for parent in parents:
            target = target[int(parent)] if parent.isdigit() else target[parent]
        target[key] = value
    body = json.dumps(payload)
    full = normalize.parse_compatible(body)
    check = normalize.parse_compatible(body, check_only=True)
    assert _errors(check) == _errors(full)  # the webhook route's check agrees
    return full


def test_compatible_ids_up_to_the_limit_are_kept():
    result = _compatible(
        **{
            "id": LONGEST,
            "customer.id": LONGEST,
            "lines.0.product.sku": LONGEST,
            "lines.0.uom": LONGEST,
        }
    )
    assert result.ok, result.errors
    [order] = result.orders
    assert order.external_id == order.customer.external_id == LONGEST
    assert order.lines[0].sku == order.lines[0].uom_name == LONGEST


def test_compatible_ids_and_codes_too_long_are_issues_with_their_path():
    result = _compatible(
        **{
            "id": TOO_LONG,
            "customer.id": TOO_LONG,
            "shipping_address.id": TOO_LONG,
            "salesperson.id": TOO_LONG,
            "carrier": TOO_LONG,
            "lines.0.id": TOO_LONG,
            "lines.0.product.id": TOO_LONG,
            "lines.0.product.sku": TOO_LONG,
            "lines.0.uom": TOO_LONG,
            "lines.0.warehouse": TOO_LONG,
            "lines.1.promotion_code": TOO_LONG,
        }
    )
    assert _errors(result) == _too_long(
        "order.id",
        "order.customer.id",
        "order.shipping_address.id",
        "order.salesperson.id",
        "order.carrier",
        "order.lines[0].id",
        "order.lines[0].product.id",
        "order.lines[0].product.sku",
        "order.lines[0].uom",
        "order.lines[0].warehouse",
        "order.lines[1].promotion_code",
    )


def test_names_and_notes_are_not_ids():
    result = _compatible(
        **{"customer.name": TOO_LONG * 4, "note": TOO_LONG * 4, "name": TOO_LONG}
    )
    assert result.ok, result.errors


# --- Mobiwork -------------------------------------------------------------------


def _mobiwork_order():
    return {
        "ma_phieu": "DH-1",
        "ma_kh": "KH1",
        "ten_kh": "Tạp hóa Minh",
        "ma_nv_dat": "NV1",
        "san_pham": [
            {"stt": 1, "ma_sp": "SP001", "so_luong": 2, "don_gia": 125000},
        ],
        "san_pham_km": [{"ma_sp_km": "SP9", "so_luong_km": 1}],
        "promotion": [
            {"id": "KM1", "product": [{"ma_san_pham": "SP9", "so_luong": 1}]}
        ],
    }


def test_mobiwork_ids_and_codes_too_long_are_issues_with_their_path():
    order = _mobiwork_order()
    order.update(ma_phieu=TOO_LONG, ma_kh=TOO_LONG, ma_nv_dat=TOO_LONG)
    order["san_pham"][0].update(
        stt=TOO_LONG, ma_sp=TOO_LONG, ten_dvt=TOO_LONG, ma_kho_xuat=TOO_LONG
    )
    order["san_pham_km"][0].update(
        ma_sp_km=TOO_LONG, ten_dvt_km=TOO_LONG, ma_kho_xuat_km=TOO_LONG
    )
    order["promotion"][0]["id"] = TOO_LONG
    order["promotion"][0]["product"][0]["ma_san_pham"] = TOO_LONG
    delivery = mobiwork.parse_delivery(json.dumps({"data": [order]}))
    [item] = delivery.items
    assert item.external_id is None  # what may be stored with the rejection
    assert _errors(item) == _too_long(
        "data[0].ma_phieu",
        "data[0].ma_kh",
        "data[0].ma_nv_dat",
        "data[0].promotion[0].id",
        "data[0].promotion[0].product[0].ma_san_pham",
        "data[0].san_pham[0].stt",
        "data[0].san_pham[0].ma_sp",
        "data[0].san_pham[0].ten_dvt",
        "data[0].san_pham[0].ma_kho_xuat",
        "data[0].san_pham_km[0].ma_sp_km",
        "data[0].san_pham_km[0].ten_dvt_km",
        "data[0].san_pham_km[0].ma_kho_xuat_km",
    )


def test_mobiwork_ids_up_to_the_limit_are_kept():
    order = _mobiwork_order()
    order.update(ma_phieu=LONGEST, ma_kh=LONGEST)
    order["san_pham"][0]["ma_sp"] = LONGEST
    [parsed] = mobiwork.parse_order(order).orders
    assert parsed.external_id == parsed.customer.external_id == LONGEST
    assert parsed.lines[0].sku == LONGEST


# --- Cloudify -------------------------------------------------------------------


def _cloudify_event():
    return json.loads((FIXTURES / "cloudify" / "event_order_created.json").read_text())


def test_cloudify_ids_and_codes_too_long_are_issues_with_their_path():
    event = _cloudify_event()
    order = event["order"]
    order.update(external_id=TOO_LONG, salesman_code=TOO_LONG)
    order["outlet"]["code"] = TOO_LONG
    order["lines"][0].update(
        seq=TOO_LONG, product_code=TOO_LONG, uom=TOO_LONG, promotion_code=TOO_LONG
    )
    assert _errors(cloudify.parse_delivery(json.dumps(event))) == _too_long(
        "order.external_id",
        "order.salesman_code",
        "order.outlet.code",
        "order.lines[0].seq",
        "order.lines[0].product_code",
        "order.lines[0].uom",
        "order.lines[0].promotion_code",
    )


def test_cloudify_ids_up_to_the_limit_are_kept():
    event = _cloudify_event()
    event["order"]["external_id"] = LONGEST
    event["order"]["lines"][0]["product_code"] = LONGEST
    result = cloudify.parse_delivery(json.dumps(event))
    assert result.ok, result.errors
    assert result.orders[0].external_id == result.orders[0].lines[0].sku == LONGEST
