import copy
import json
import pathlib
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from oms_lib import normalize

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "compatible"


@pytest.fixture(autouse=True)
def _check_agrees_with_parse(monkeypatch):
    """Every parse of this module runs the webhook route's check too
    (``check_only``): it must find the same errors, in the same order, and
    the same order identity, and build no lines."""
    parse = normalize.parse_compatible

    def parse_and_check(body, check_only=False):
        full, check = parse(body), parse(body, check_only=True)
        assert [(e.path, e.message) for e in check.errors] == [
            (e.path, e.message) for e in full.errors
        ]
        assert [(o.event_type, o.external_id, o.updated_at) for o in check.orders] == [
            (o.event_type, o.external_id, o.updated_at) for o in full.orders
        ]
        assert all(o.lines is None and o.customer is None for o in check.orders)
        return check if check_only else full

    monkeypatch.setattr(normalize, "parse_compatible", parse_and_check)


@pytest.fixture
def payload():
    return json.loads((FIXTURES / "order_created.json").read_text())


def _parse(data):
    return normalize.parse_compatible(json.dumps(data, ensure_ascii=False).encode())


def _paths(result):
    return {issue.path for issue in result.errors}


def test_contract_example_is_normalized(payload):
    result = normalize.parse_compatible((FIXTURES / "order_created.json").read_bytes())
    assert result.ok, result.errors
    [order] = result.orders
    assert order.event_type == "order.created"
    assert order.external_id == "EXT-1001"
    assert order.name == "WEB/2026/1001"
    assert order.updated_at == datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc)
    assert order.currency == "VND"
    assert order.customer.external_id == "C-77"
    assert order.customer.vat == "0312345678"
    assert order.customer.country_code == "VN"
    assert order.shipping_address is None
    assert order.salesperson_code == "NV0123"
    first, free = order.lines
    assert (first.sku, first.product_external_id) == ("SP001", "P-1")
    assert first.quantity == Decimal(5)
    assert first.price_unit == Decimal(250000)
    assert first.discount_amount == Decimal(50000)
    assert first.tax_rate == "8"
    assert free.is_free and free.price_unit == Decimal(0)
    assert order.discount_amount == Decimal(20000)
    assert order.amount_total == Decimal(1274400)
    # The contract's numbers add up: 5 x 250,000 - 50,000 = 1,200,000;
    # minus the order discount 20,000 = 1,180,000; 8 % VAT = 94,400.
    untaxed = sum(
        (
            line.quantity * line.price_unit - line.discount_amount
            for line in order.lines
        ),
        Decimal(0),
    )
    untaxed -= order.discount_amount
    assert untaxed + untaxed * Decimal("0.08") == order.amount_total


def test_dates_with_offsets_become_utc(payload):
    payload["order"]["date_order"] = "2026-11-22T16:25:00+07:00"
    [order] = _parse(payload).orders
    assert order.date_order == datetime(2026, 11, 22, 9, 25, tzinfo=timezone.utc)


def test_vietnamese_text_is_nfc(payload):
    nfd = unicodedata.normalize("NFD", "Tạp hóa Minh Anh")
    assert nfd != "Tạp hóa Minh Anh"
    payload["order"]["customer"]["name"] = f"  {nfd} "
    [order] = _parse(payload).orders
    assert order.customer.name == "Tạp hóa Minh Anh"


def test_cancellation_needs_no_lines(payload):
    payload["type"] = "order.cancelled"
    del payload["order"]["lines"]
    result = _parse(payload)
    assert result.ok, result.errors
    assert result.orders[0].lines == []


def test_numeric_strings_are_amounts(payload):
    payload["order"]["lines"][0]["price_unit"] = "250000.50"
    [order] = _parse(payload).orders
    assert order.lines[0].price_unit == Decimal("250000.50")


def test_not_json_and_not_an_object():
    assert _paths(normalize.parse_compatible(b"{not json")) == {"$"}
    assert _paths(normalize.parse_compatible(b"[1, 2]")) == {"$"}
    assert _paths(normalize.parse_compatible(b"\xff\xfe")) == {"$"}


def test_every_error_is_reported_with_its_path(payload):
    bad = copy.deepcopy(payload)
    bad["type"] = "order.shipped"
    del bad["order"]["customer"]["id"]
    bad["order"]["currency"] = "dong"
    bad["order"]["lines"][0]["quantity"] = 0
    bad["order"]["lines"][1]["price_unit"] = -1
    bad["order"]["lines"][1]["product"] = {"name": "no code"}
    bad["order"]["updated_at"] = "22/11/2026"
    result = _parse(bad)
    assert not result.orders
    assert _paths(result) == {
        "type",
        "order.customer.id",
        "order.currency",
        "order.lines[0].quantity",
        "order.lines[1].price_unit",
        "order.lines[1].product",
        "order.updated_at",
    }


def test_required_fields(payload):
    bad = copy.deepcopy(payload)
    del bad["type"]
    del bad["order"]["id"]
    bad["order"]["customer"]["name"] = "   "
    bad["order"]["lines"] = []
    assert _paths(_parse(bad)) == {
        "type",
        "order.id",
        "order.customer.name",
        "order.lines",
    }
    assert _paths(_parse({"type": "order.created"})) == {"order"}


def test_line_field_types(payload):
    bad = copy.deepcopy(payload)
    bad["order"]["lines"][0]["quantity"] = True
    bad["order"]["lines"][0]["price_unit"] = "abc"
    bad["order"]["lines"][1]["is_free"] = "yes"
    bad["order"]["lines"].append("not a line")
    bad["order"]["discount_amount"] = -5
    assert _paths(_parse(bad)) == {
        "order.lines[0].quantity",
        "order.lines[0].price_unit",
        "order.lines[1].is_free",
        "order.lines[2]",
        "order.discount_amount",
    }


def test_free_line_with_a_price_is_refused(payload):
    payload["order"]["lines"][1]["price_unit"] = 9000
    assert _paths(_parse(payload)) == {"order.lines[1].price_unit"}


def test_naive_datetime_is_refused(payload):
    payload["order"]["date_order"] = "2026-11-22T09:25:00"
    assert _paths(_parse(payload)) == {"order.date_order"}


# --- The fixture files: one valid variant each, one invalid case each --------


def _parse_fixture(name):
    return normalize.parse_compatible((FIXTURES / name).read_bytes())


def test_nfd_fixture_gives_the_same_text_as_nfc():
    raw = (FIXTURES / "order_created_nfd.json").read_text(encoding="utf-8")
    assert not unicodedata.is_normalized("NFC", raw)
    result = _parse_fixture("order_created_nfd.json")
    assert result.ok, result.errors
    [order] = result.orders
    assert order.customer.name == "Tạp hóa Minh Anh"
    assert order.customer.street == "12 Lê Lợi"
    assert order.customer.city == "Hồ Chí Minh"
    assert order.salesperson_name == "Nguyễn Văn A"
    assert [line.product_name for line in order.lines] == [
        "Nước suối 500ml (thùng)",
        "Trà xanh 330ml",
    ]
    assert order.note == "Giao buổi sáng"
    for value in (order.customer.name, order.note, order.lines[0].product_name):
        assert unicodedata.is_normalized("NFC", value)


def test_cancelled_fixture_has_no_lines():
    result = _parse_fixture("order_cancelled.json")
    assert result.ok, result.errors
    [order] = result.orders
    assert order.event_type == "order.cancelled"
    assert order.external_id == "EXT-1001"
    assert order.lines == []
    assert order.amount_total is None
    assert order.updated_at == datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("invalid_not_json.txt", [("$", "the body is not valid JSON")]),
        (
            "invalid_missing_customer.json",
            [("order.customer", "is required (an object)")],
        ),
        (
            "invalid_quantity_zero.json",
            [("order.lines[0].quantity", "must be greater than 0")],
        ),
        (
            "invalid_negative_price.json",
            [("order.lines[0].price_unit", "must be 0 or more")],
        ),
        (
            "invalid_bad_date.json",
            [("order.date_order", "must be an ISO 8601 date-time with a time zone")],
        ),
        (
            "invalid_free_line_with_price.json",
            [("order.lines[1].price_unit", "must be 0 on a free line")],
        ),
    ],
)
def test_invalid_fixtures_give_exact_paths(name, expected):
    result = _parse_fixture(name)
    assert result.orders == []
    assert [(issue.path, issue.message) for issue in result.errors] == expected


# --- Decisions where the contract is silent ----------------------------------


def test_amounts_accept_numbers_and_numeric_strings_only(payload):
    line = payload["order"]["lines"][0]
    line["quantity"] = 2.5
    line["price_unit"] = " 1000.10 "
    line["discount_amount"] = 0.1
    [order] = _parse(payload).orders
    first = order.lines[0]
    # Through str(): 0.1 stays 0.1, not 0.1000000000000000055...
    assert first.quantity == Decimal("2.5")
    assert first.price_unit == Decimal("1000.10")
    assert first.discount_amount == Decimal("0.1")
    for bad in ("1,000", "", "NaN", "Infinity", False, [], {"v": 1}):
        payload["order"]["shipping_amount"] = bad
        assert _paths(_parse(payload)) == {"order.shipping_amount"}, bad


def test_json_nan_and_huge_numbers_are_refused(payload):
    body = json.dumps(payload).replace('"amount_total": 1274400', '"amount_total": NaN')
    assert _paths(normalize.parse_compatible(body)) == {"order.amount_total"}
    body = json.dumps(payload).replace(
        '"amount_total": 1274400', '"amount_total": 1e999'
    )
    assert _paths(normalize.parse_compatible(body)) == {"order.amount_total"}


def test_missing_quantity_and_price_are_required(payload):
    del payload["order"]["lines"][0]["quantity"]
    del payload["order"]["lines"][0]["price_unit"]
    result = _parse(payload)
    assert [(i.path, i.message) for i in result.errors] == [
        ("order.lines[0].quantity", "is required"),
        ("order.lines[0].price_unit", "is required"),
    ]


def test_product_with_sku_only_or_id_only_is_enough(payload):
    payload["order"]["lines"][0]["product"] = {"sku": " SP001 "}
    payload["order"]["lines"][1]["product"] = {"id": 9}
    [order] = _parse(payload).orders
    assert (order.lines[0].sku, order.lines[0].product_external_id) == ("SP001", "")
    assert (order.lines[1].sku, order.lines[1].product_external_id) == ("", "9")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (8, "8"),
        (8.0, "8"),
        ("10.00", "10"),
        (10, "10"),
        (5.5, "5.5"),
        (0, "0"),
        ("KCT", "KCT"),
        (" kct ", "kct"),
        (None, None),
        ("", None),
    ],
)
def test_tax_rates_are_normalized_text(payload, given, expected):
    payload["order"]["lines"][0]["tax_rate"] = given
    [order] = _parse(payload).orders
    assert order.lines[0].tax_rate == expected


def test_currency_is_upper_cased_and_ascii(payload):
    payload["order"]["currency"] = " vnd "
    assert _parse(payload).orders[0].currency == "VND"
    for bad in ("VN", "VNDD", "ĐỒN", "V1D"):
        payload["order"]["currency"] = bad
        assert _paths(_parse(payload)) == {"order.currency"}, bad


def test_ids_must_be_text_or_numbers(payload):
    payload["order"]["id"] = 1001
    assert _parse(payload).orders[0].external_id == "1001"
    payload["order"]["id"] = {"value": "EXT-1001"}
    payload["order"]["customer"]["name"] = True
    result = _parse(payload)
    assert [(i.path, i.message) for i in result.errors] == [
        ("order.id", "must be text"),
        ("order.customer.name", "must be text"),
    ]


def test_shipping_address_is_optional_and_normalized(payload):
    payload["order"]["shipping_address"] = {
        "street": unicodedata.normalize("NFD", "5 Hàng Bài"),
        "city": "Ha Noi",
        "country_code": "vn",
    }
    [order] = _parse(payload).orders
    address = order.shipping_address
    assert address.street == "5 Hàng Bài"
    assert (address.external_id, address.name) == ("", "")
    assert address.country_code == "VN"
    payload["order"]["shipping_address"] = "5 Hang Bai"
    assert _paths(_parse(payload)) == {"order.shipping_address"}


def test_updated_at_variants(payload):
    order = payload["order"]
    order["updated_at"] = "2026-11-22T09:30:00.123456+00:00"
    assert _parse(payload).orders[0].updated_at.microsecond == 123456
    order["updated_at"] = "2026-11-22"
    assert _parse(payload).orders[0].updated_at == datetime(
        2026, 11, 22, tzinfo=timezone.utc
    )
    del order["updated_at"]
    assert _parse(payload).orders[0].updated_at is None
    for bad in ("yesterday", 1795000000, "2026-13-01T00:00:00Z"):
        order["updated_at"] = bad
        assert _paths(_parse(payload)) == {"order.updated_at"}, bad


def test_cancelled_still_validates_the_lines_it_has(payload):
    payload["type"] = "order.cancelled"
    payload["order"]["lines"][0]["quantity"] = -1
    assert _paths(_parse(payload)) == {"order.lines[0].quantity"}


def test_str_body_is_accepted(payload):
    result = normalize.parse_compatible(json.dumps(payload, ensure_ascii=False))
    assert result.ok, result.errors


def test_issues_serialize_for_the_422_answer():
    result = normalize.parse_compatible(b"")
    assert [issue.as_dict() for issue in result.errors] == [
        {"path": "$", "message": "the body is not valid JSON"}
    ]


def test_optional_carrier_code_is_read_for_the_mapping_center():
    data = json.loads((FIXTURES / "order_created.json").read_text())
    assert (
        normalize.parse_compatible(json.dumps(data).encode()).orders[0].carrier_code
        == ""
    )
    data["order"]["carrier"] = " GHN "
    [order] = normalize.parse_compatible(json.dumps(data).encode()).orders
    assert order.carrier_code == "GHN"


def test_field_reader_collects_every_problem_with_its_path():
    reader = normalize.FieldReader()
    data = {
        "code": {"not": "text"},
        "name": " Tạp hoá ",
        "total": "12.5",
        "paid": "-3",
        "vat": "8.00%",
        "kct": "kct",
        "bad": "tám",
        "high": 120,
    }
    assert reader.text(data, "code", "o.code") == ""
    assert reader.text(data, "name", "o.name") == "Tạp hoá"
    assert reader.text(data, "missing", "o.missing", required=True) == ""
    assert reader.vnd(data, "total", "o.total", default=None) is None
    assert reader.vnd(data, "paid", "o.paid") is None
    assert reader.vnd({"x": "150000"}, "x", "o.x") == Decimal(150000)
    assert reader.vnd({"x": " "}, "x", "o.x", default=Decimal(0)) == Decimal(0)
    assert reader.vat_rate(data["vat"], "o.vat") == "8"
    assert reader.vat_rate(data["kct"], "o.kct") == "KCT"
    assert reader.vat_rate(data["bad"], "o.bad") is None
    assert reader.vat_rate(data["high"], "o.high") is None
    assert [(issue.path, issue.message) for issue in reader.errors] == [
        ("o.code", "must be text"),
        ("o.missing", "is required"),
        ("o.total", "must be a whole number of đồng (VND has no decimals)"),
        ("o.paid", "must be 0 or more"),
        ("o.bad", "must be a VAT rate: 10, 8, 5, 0 or KCT"),
        ("o.high", "must be a rate between 0 and 100 (or KCT)"),
    ]


def test_nul_characters_are_refused_in_deliveries_and_replaced_in_stored_text():
    # PostgreSQL text cannot hold NUL: a delivery holding one is refused with
    # the path of the value (422: dropping it could make "C-1" of "C\0-1");
    # a stored delivery keeps its place as U+FFFD (as for bytes that are not
    # UTF-8); text() still drops it from a value read from elsewhere.
    assert normalize.text("Tap\x00 hoa ") == "Tap hoa"
    assert normalize.storable_text(b'{"a": 1}\x00\xff') == '{"a": 1}\ufffd\ufffd'
    assert normalize.storable_text("ok\x00") == "ok\ufffd"
    body = json.dumps(
        {
            "type": "order.created",
            "order": {
                "id": "NUL-1",
                "currency": "VND",
                "customer": {"id": "C\u0000-1", "name": "Tap hoa\u0000"},
                "lines": [
                    {"product": {"sku": "SP001"}, "quantity": 1, "price_unit": 1}
                ],
            },
        }
    )
    assert [(e.path, e.message) for e in normalize.parse_compatible(body).errors] == [
        ("order.customer.id", normalize.NUL_MESSAGE)
    ]


# --- inbound contract 1.1 -----------------------------------------------------


def _contract_1_1():
    return json.loads((FIXTURES / "order_created_contract_1_1.json").read_text())


def _issues(result):
    return [(issue.path, issue.message) for issue in result.errors]


def _with_address(address):
    payload = _contract_1_1()
    if address is ...:
        del payload["order"]["shipping_address"]
    else:
        payload["order"]["shipping_address"] = address
    return _parse(payload)


def test_contract_1_1_example_carries_every_new_field():
    result = normalize.parse_compatible(
        (FIXTURES / "order_created_contract_1_1.json").read_bytes()
    )
    assert result.ok, result.errors
    [order] = result.orders
    assert order.shipping_address == normalize.NormalizedCustomer(
        external_id="A-3",
        name="Kho Minh Anh",
        phone="0901234568",
        street="45 Nguyen Trai",
        street2="Phuong Ben Thanh",
        city="Ho Chi Minh",
        state="SG",
        zip="700000",
        country_code="VN",
    )
    paid, free = order.lines
    assert (paid.uom_name, paid.warehouse_code, paid.note, paid.promotion_code) == (
        "THUNG",
        "WH-HCM",
        "Hang de vo",
        "KM11",
    )
    # Left out: the product's sales unit, no warehouse, no note, no promotion.
    assert (free.uom_name, free.warehouse_code, free.note, free.promotion_code) == (
        "",
        "",
        "",
        "",
    )
    assert order.note == "Giao buoi sang"
    # The canonical format has no price list: always empty.
    assert order.pricelist_code == ""


def test_pricelist_code_defaults_to_empty_and_is_not_read_from_the_payload():
    order = normalize.NormalizedOrder(event_type="order.created", external_id="X")
    assert order.pricelist_code == ""
    payload = _contract_1_1()
    payload["order"]["pricelist_code"] = "SI"
    assert _parse(payload).orders[0].pricelist_code == ""


@pytest.mark.parametrize("address", [..., None])
def test_shipping_address_absent_or_null_is_none(address):
    result = _with_address(address)
    assert result.ok, result.errors
    assert result.orders[0].shipping_address is None


def test_shipping_address_id_alone_is_enough():
    [order] = _with_address({"id": " A-9 "}).orders
    assert order.shipping_address == normalize.NormalizedCustomer(
        external_id="A-9", name=""
    )


@pytest.mark.parametrize(
    "key", ["street", "street2", "city", "zip", "state_code", "state", "country_code"]
)
def test_shipping_address_without_id_needs_one_address_field(key):
    result = _with_address({"name": "Kho", "phone": "0901234568", key: "X1"})
    assert result.ok, result.errors
    address = result.orders[0].shipping_address
    assert address.external_id == ""
    assert (address.name, address.phone) == ("Kho", "0901234568")
    attribute = {"state_code": "state"}.get(key, key)
    assert getattr(address, attribute) == "X1"


@pytest.mark.parametrize(
    "address",
    [
        {},
        {"name": "Kho Minh Anh", "phone": "0901234568", "email": "kho@example.com"},
        {"id": "", "street": "  ", "city": None, "zip": ""},
    ],
)
def test_shipping_address_with_neither_id_nor_address_is_an_error(address):
    assert _issues(_with_address(address)) == [
        ("order.shipping_address", "needs an id or an address")
    ]


@pytest.mark.parametrize("address", ["45 Nguyen Trai", ["A-3"], 42, True])
def test_shipping_address_not_an_object_is_an_error(address):
    assert _issues(_with_address(address)) == [
        ("order.shipping_address", "must be an object")
    ]


def test_shipping_address_state_code_first_then_state():
    [order] = _with_address({"street": "1 Ly Thai To", "state": "HN"}).orders
    assert order.shipping_address.state == "HN"
    [order] = _with_address(
        {"street": "1 Ly Thai To", "state_code": "SG", "state": "HN"}
    ).orders
    assert order.shipping_address.state == "SG"
    [order] = _with_address(
        {"street": "1 Ly Thai To", "state_code": " ", "state": "HN"}
    ).orders
    assert order.shipping_address.state == "HN"


def test_shipping_address_values_are_stripped_nfc_and_country_upper_case():
    [order] = _with_address(
        {
            "name": unicodedata.normalize("NFD", " Kho Bến Thành "),
            "phone": " 0901 234 568 ",
            "street": unicodedata.normalize("NFD", "45 Nguyễn Trãi"),
            "street2": unicodedata.normalize("NFD", "Phường Bến Thành"),
            "city": "Hồ Chí Minh",
            "zip": 700000,  # a number is read as its text
            "country_code": " vn ",
        }
    ).orders
    assert order.shipping_address == normalize.NormalizedCustomer(
        external_id="",
        name="Kho Bến Thành",
        phone="0901 234 568",
        street="45 Nguyễn Trãi",
        street2="Phường Bến Thành",
        city="Hồ Chí Minh",
        zip="700000",
        country_code="VN",
    )


def test_shipping_address_fields_must_be_text():
    result = _with_address(
        {"id": ["A-3"], "street": {"no": 45}, "zip": True, "state": ["SG"]}
    )
    # Nothing usable is left: the address is also empty.
    assert _issues(result) == [
        ("order.shipping_address.id", "must be text"),
        ("order.shipping_address.street", "must be text"),
        ("order.shipping_address.zip", "must be text"),
        ("order.shipping_address.state", "must be text"),
        ("order.shipping_address", "needs an id or an address"),
    ]


def test_shipping_address_errors_come_with_the_other_errors():
    payload = _contract_1_1()
    payload["order"]["shipping_address"] = {"name": "Kho"}
    payload["order"]["lines"][0]["quantity"] = 0
    assert _issues(_parse(payload)) == [
        ("order.lines[0].quantity", "must be greater than 0"),
        ("order.shipping_address", "needs an id or an address"),
    ]


def test_unit_codes_are_nfc_and_stripped():
    payload = _contract_1_1()
    line = payload["order"]["lines"][0]
    line["uom"] = unicodedata.normalize("NFD", " Thùng ")
    line["warehouse"] = unicodedata.normalize("NFD", " Kho Hà Nội ")
    decomposed = _parse(payload).orders[0].lines[0]
    line["uom"] = "Thùng"
    composed = _parse(payload).orders[0].lines[0]
    assert decomposed.uom_name == composed.uom_name == "Thùng"
    assert unicodedata.is_normalized("NFC", decomposed.uom_name)
    assert decomposed.warehouse_code == "Kho Hà Nội"


def test_unit_codes_are_bounded_once_composed():
    payload = _contract_1_1()
    line = payload["order"]["lines"][0]
    # 255 "ù" are 510 characters decomposed (NFD), 255 once composed: kept.
    line["uom"] = unicodedata.normalize("NFD", "ù" * normalize.MAX_ID_LENGTH)
    assert _parse(payload).orders[0].lines[0].uom_name == "ù" * 255
    line["uom"] = "ù" * (normalize.MAX_ID_LENGTH + 1)
    assert _issues(_parse(payload)) == [
        ("order.lines[0].uom", normalize.ID_TOO_LONG_MESSAGE)
    ]
