"""Personal data blanked in stored payloads: ids, amounts and structure kept."""

import importlib.util
import json
import pathlib

from oms_lib import personal_data
from oms_lib.personal_data import REMOVED

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def _load_const(addon):
    """A provider addon's const.py, a plain module (its package imports Odoo)."""
    path = ROOT / addon / "const.py"
    spec = importlib.util.spec_from_file_location(f"{addon}_const", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MOBIWORK_KEYS = personal_data.CANONICAL_KEYS | (
    _load_const("oms_integration_mobiwork").PERSONAL_DATA_KEYS
)
CLOUDIFY_KEYS = personal_data.CANONICAL_KEYS | (
    _load_const("oms_integration_cloudify").PERSONAL_DATA_KEYS
)


def _fixture(path):
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


def _shape(data):
    """The structure of a JSON value: its keys and list lengths, no values."""
    if isinstance(data, dict):
        return {key: _shape(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_shape(item) for item in data]
    return None


def _strings(data):
    if isinstance(data, dict):
        return [s for value in data.values() for s in _strings(value)]
    if isinstance(data, list):
        return [s for item in data for s in _strings(item)]
    return [str(data)] if data not in (None, "") else []


def test_canonical_order_loses_names_phones_addresses_and_tax_id():
    payload = _fixture("compatible/order_created_contract_1_1.json")
    blanked = personal_data.blank_personal(payload, personal_data.CANONICAL_KEYS)

    assert _shape(blanked) == _shape(payload)
    customer, shipping = (
        blanked["order"]["customer"],
        blanked["order"]["shipping_address"],
    )
    for key in ("name", "phone", "email", "vat", "street", "city"):
        assert customer[key] == REMOVED, key
    for key in ("name", "phone", "street", "street2", "city", "zip"):
        assert shipping[key] == REMOVED, key
    # Ids, codes, products, amounts and dates are kept.
    assert customer["id"] == "C-77" and customer["country_code"] == "VN"
    assert shipping["id"] == "A-3" and shipping["state_code"] == "SG"
    order = blanked["order"]
    assert order["id"] == "EXT-1001" and order["name"] == "WEB/2026/1001"
    assert order["amount_total"] == payload["order"]["amount_total"]
    assert order["updated_at"] == payload["order"]["updated_at"]
    assert order["lines"] == payload["order"]["lines"]
    assert order["salesperson"] == payload["order"]["salesperson"]
    # Nothing personal is left anywhere.
    left = " ".join(_strings(blanked))
    for value in ("Minh Anh", "0901234567", "minhanh@example.com", "0312345678"):
        assert value not in left
    assert "Le Loi" not in left and "Nguyen Trai" not in left
    # The input is not modified.
    assert payload["order"]["customer"]["name"] == "Tap hoa Minh Anh"


def test_mobiwork_delivery_blanked_on_its_vietnamese_keys():
    payload = _fixture("mobiwork/delivery_multi_orders.json")
    blanked = personal_data.blank_personal(payload, MOBIWORK_KEYS)

    assert _shape(blanked) == _shape(payload)
    for before, after in zip(payload["data"], blanked["data"], strict=True):
        for key in ("ten_kh", "sdt", "dia_chi"):
            if before.get(key):
                assert after[key] == REMOVED, key
        for key in ("ma_phieu", "ma_kh", "ngay_dat", "ck_don_hang", "san_pham"):
            assert after.get(key) == before.get(key), key
        assert after.get("ten_nguoi_dat") == before.get("ten_nguoi_dat")
    left = " ".join(_strings(blanked))
    assert "Ngọc Hương" not in left and "0903 456 789" not in left
    assert "Nguyễn Trãi" not in left


def test_mobiwork_delivery_address_blanked():
    payload = _fixture("mobiwork/order_contract_1_1.json")
    blanked = personal_data.blank_personal(payload, MOBIWORK_KEYS)
    assert blanked["dia_chi_giao_hang"] == REMOVED
    assert blanked["san_pham"] == payload["san_pham"]


def test_cloudify_outlet_and_shipping_address_blanked():
    payload = _fixture("cloudify/event_order_contract_1_1.json")
    blanked = personal_data.blank_personal(payload, CLOUDIFY_KEYS)

    assert _shape(blanked) == _shape(payload)
    outlet, shipping = blanked["order"]["outlet"], blanked["order"]["shipping_address"]
    for key in ("name", "vat", "street", "ward", "province", "phone"):
        assert outlet[key] == REMOVED, key
    for key in ("name", "phone", "street", "ward", "province", "zip"):
        assert shipping[key] == REMOVED, key
    assert outlet["code"] == "CH00457"
    assert shipping["id"] == "ADDR-12" and shipping["country_code"] == "vn"
    order = blanked["order"]
    # The order's own name and the promotions' names are not personal.
    assert order["name"] == "SO/2026/00123"
    assert order["promotions"] == payload["order"]["promotions"]
    assert order["lines"] == payload["order"]["lines"]
    assert order["amount_total"] == 1274400
    assert blanked["id"] == "evt_0011"


def test_a_parent_key_applies_to_the_objects_of_its_list():
    data = {"outlet": [{"name": "A", "code": "1"}], "name": "SO/1"}
    blanked = personal_data.blank_personal(data, CLOUDIFY_KEYS)
    assert blanked == {"outlet": [{"name": REMOVED, "code": "1"}], "name": "SO/1"}


def test_values_of_any_type_are_removed_empty_ones_kept():
    data = {
        "phone": 903456789,
        "email": "",
        "vat": None,
        "zip": False,
        "street": {"line": "12 Le Loi", "no": 12},
        "city": ["Hue", ""],
    }
    blanked = personal_data.blank_personal(data, personal_data.CANONICAL_KEYS)
    assert blanked == {
        "phone": REMOVED,
        "email": "",
        "vat": None,
        "zip": False,
        "street": {"line": REMOVED, "no": REMOVED},
        "city": [REMOVED, ""],
    }


def test_keys_match_without_regard_to_case():
    data = {"Customer": {"Name": "Ba", "ID": "7"}, "PHONE": "1"}
    blanked = personal_data.blank_personal(data, personal_data.CANONICAL_KEYS)
    assert blanked == {"Customer": {"Name": REMOVED, "ID": "7"}, "PHONE": REMOVED}


def test_text_body_blanked_through_its_json_and_unchanged_without_personal_data():
    body = json.dumps({"customer": {"id": "C-1", "name": "Bà Ba"}}, ensure_ascii=False)
    blanked = personal_data.blank_personal_text(body, personal_data.CANONICAL_KEYS)
    assert json.loads(blanked) == {"customer": {"id": "C-1", "name": REMOVED}}
    # Blanking twice changes nothing more.
    again = personal_data.blank_personal_text(blanked, personal_data.CANONICAL_KEYS)
    assert again == blanked
    # Text without personal values is kept as written (spacing included).
    status = '{"order_id": "EXT-1",  "status": "delivered"}'
    assert (
        personal_data.blank_personal_text(status, personal_data.CANONICAL_KEYS)
        == status
    )
    assert not personal_data.holds_personal(status, personal_data.CANONICAL_KEYS)
    assert personal_data.holds_personal(body, personal_data.CANONICAL_KEYS)


def test_text_that_is_not_json_is_replaced_whole():
    keys = personal_data.CANONICAL_KEYS
    assert personal_data.blank_personal_text("<html>Ba, 0903</html>", keys) == REMOVED
    # A body cut to its stored length no longer parses: removed too.
    cut = '{"customer": {"name": "Bà Ba", "phone": "09…'
    assert personal_data.blank_personal_text(cut, keys) == REMOVED
    assert personal_data.blank_personal_text('"Bà Ba"', keys) == REMOVED
    assert personal_data.blank_personal_text("", keys) == ""
    assert personal_data.blank_personal_text(None, keys) is None
    assert personal_data.blank_personal_text("[]", keys) == "[]"
