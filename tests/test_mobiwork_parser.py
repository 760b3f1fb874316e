"""Mobiwork webhook deliveries and read-API pages into normalized orders."""

import copy
import json
import pathlib
import unicodedata
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from mobiwork_lib import parser
from oms_lib import normalize

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "mobiwork"


def _bytes(name):
    return (FIXTURES / name).read_bytes()


def _load(name):
    return json.loads(_bytes(name))


def _parse(payload):
    return parser.parse_delivery(json.dumps(payload, ensure_ascii=False).encode())


def _errors(item_or_result):
    return {issue.path: issue.message for issue in item_or_result.errors}


def _order(**changes):
    """A small valid order object; ``changes`` replace its fields."""
    order = {
        "ma_phieu": "DH-1",
        "ma_kh": "KH1",
        "ten_kh": "Tạp hóa Minh",
        "ngay_dat": "2026-11-23T01:00:00Z",
        "san_pham": [
            {"stt": 1, "ma_sp": "SP001", "so_luong": 2, "don_gia": 125000, "vat": 10}
        ],
    }
    order.update(changes)
    return order


def _line(**changes):
    line = {"stt": 1, "ma_sp": "SP001", "so_luong": 2, "don_gia": 125000}
    line.update(changes)
    return line


def _one(order_data):
    """Parse one order object; return its ParseResult."""
    return parser.parse_order(order_data)


@pytest.fixture
def multi():
    delivery = parser.parse_delivery(_bytes("delivery_multi_orders.json"))
    assert delivery.ok, (delivery.errors, [i.errors for i in delivery.items])
    return delivery


# --- a valid multi-order delivery --------------------------------------------


def test_every_order_of_a_delivery_is_parsed(multi):
    assert multi.event == "sales_order_create"
    assert [item.index for item in multi.items] == [0, 1]
    assert [o.external_id for o in multi.orders] == ["DH-2026-000123", "DH-2026-000124"]
    assert multi.rejected == []
    result = multi.as_parse_result()
    assert result.ok
    assert [o.external_id for o in result.orders] == [
        "DH-2026-000123",
        "DH-2026-000124",
    ]


def test_header_is_mapped(multi):
    order = multi.orders[0]
    assert order.event_type == "order.created"
    assert order.external_id == order.name == "DH-2026-000123"
    assert order.currency == "VND"
    assert order.date_order == datetime(2026, 11, 22, 18, 30, tzinfo=timezone.utc)
    assert order.date_order.utcoffset().total_seconds() == 0
    assert order.commitment_date == datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)
    # ngay_cap_nhat is Mobiwork's version of the order.
    assert order.updated_at == datetime(2026, 11, 22, 18, 35, tzinfo=timezone.utc)
    assert order.customer.external_id == "KH00457"
    assert order.customer.name == "Tạp hóa Cô Ba Ngọc Hương"
    assert order.customer.phone == "0903 456 789"
    assert order.customer.street == (
        "45 Nguyễn Trãi, Phường Bến Thành, Quận 1, TP. Hồ Chí Minh"
    )
    assert order.salesperson_code == "NV015"
    assert order.salesperson_name == "Trần Thị Thu Trang"
    assert order.discount_amount == Decimal(50000)
    assert order.shipping_amount == Decimal(0)
    assert order.amount_total is None
    assert order.extra["sales_group"] == "NHOM-Q1"
    assert order.extra["line_discount_total"] == 39000
    assert order.extra["status"] == "Chờ duyệt"


def test_lines_carry_every_vat_rate_prices_and_discounts(multi):
    lines = multi.orders[0].lines
    paid = [line for line in lines if not line.is_free]
    assert [line.external_id for line in lines] == [
        "1", "2", "3", "4", "5", "6", "km1", "km2",
    ]  # fmt: skip
    assert [line.tax_rate for line in paid] == ["10", "8", "5", "0", "KCT"]
    assert [line.sku for line in paid] == ["SP001", "SP002", "SP003", "SP004", "SP005"]
    assert [line.product_external_id for line in paid] == [line.sku for line in paid]
    assert [line.quantity for line in paid] == [10, 24, 5, 2, 3]
    assert [line.price_unit for line in paid] == [125000, 8500, 42000, 310000, 15000]
    assert [line.discount_amount for line in paid] == [25000, 4000, 10000, 0, 0]
    assert [line.uom_name for line in paid] == ["Thùng", "Chai", "Hộp", "Bao", "Gói"]
    assert {line.warehouse_code for line in lines} == {"KHO-HCM"}
    assert paid[1].note == "Giao kèm hóa đơn đỏ"
    assert all(isinstance(line.price_unit, Decimal) for line in paid)
    # tong_ck_sp is the sum of the lines' chiet_khau.
    assert sum(line.discount_amount for line in lines) == 39000


def test_promotion_line_without_price_is_free_and_linked(multi):
    line = multi.orders[0].lines[5]
    assert line.sku == "SP006"
    assert line.is_free is True
    assert line.price_unit == Decimal(0)
    assert line.discount_amount == Decimal(0)  # chiet_khau "" is no discount
    assert line.promotion_code == "KM-1102"
    assert line.tax_rate == "10"
    assert line.note == "Tặng kèm khi mua thùng"


def test_free_goods_are_free_lines_linked_to_the_promotion_listing_them(multi):
    linked, unlinked = multi.orders[0].lines[6:]
    assert (linked.sku, linked.quantity, linked.uom_name) == ("SP002", 2, "Chai")
    assert linked.is_free and linked.price_unit == Decimal(0)
    assert linked.promotion_code == "KM-1101"
    assert linked.product_name == "Nước suối Lavie 500ml"
    assert linked.warehouse_code == "KHO-HCM"
    assert linked.note == "Mua 24 tặng 2"
    assert linked.tax_rate is None
    # No promotion lists SP099: a free good without a promotion.
    assert (unlinked.sku, unlinked.is_free, unlinked.promotion_code) == (
        "SP099",
        True,
        "",
    )
    assert unlinked.note == "Quà tặng trưng bày"


def test_promotions_are_kept_as_plain_json_ready_dicts(multi):
    promotions = multi.orders[0].extra["promotions"]
    assert promotions == [
        {
            "id": "KM-1101",
            "name": "Mua 24 chai tặng 2 chai",
            "value": "TANG_HANG",
            "products": [
                {"code": "SP002", "name": "Nước suối Lavie 500ml", "quantity": 2}
            ],
        },
        {
            "id": "KM-1102",
            "name": "Tặng ly khi mua thùng",
            "value": "TANG_KEM",
            "products": [
                {"code": "SP006", "name": "Ly thủy tinh in logo", "quantity": 1}
            ],
        },
        {
            "id": "KM-1103",
            "name": "Chiết khấu đơn hàng 50.000đ",
            "value": "CK_DON_HANG",
            "products": [],
        },
    ]
    assert json.loads(json.dumps(multi.orders[0].extra)) == multi.orders[0].extra


def test_nfd_text_is_nfc_and_numeric_strings_are_read(multi):
    raw = _bytes("delivery_multi_orders.json").decode()
    assert unicodedata.normalize("NFD", "Đức Thành") in raw  # the fixture is NFD
    order = multi.orders[1]
    assert order.customer.name == "Cửa hàng Bách hóa Đức Thành"
    assert unicodedata.is_normalized("NFC", order.customer.name)
    assert order.customer.street == "12 Lê Lợi, Phường Phú Hội, TP. Huế"
    assert order.salesperson_name == "Lê Văn Hùng"
    assert order.updated_at is None  # no ngay_cap_nhat / updated_at sent
    assert order.discount_amount == Decimal(0)  # ck_don_hang ""
    assert order.extra["line_discount_total"] == 6000  # "6000"
    first, second = order.lines
    assert [first.external_id, second.external_id] == ["1", "2"]  # no stt
    assert first.price_unit is None  # don_gia "": Odoo's pricelist price
    assert first.quantity == Decimal(12)
    assert first.tax_rate == "8"  # thue_suat "8%"
    assert first.uom_name == "Hộp"
    assert first.is_free is False
    assert second.quantity == Decimal("2.5")
    assert second.price_unit == Decimal(64000)
    assert second.discount_amount == Decimal(6000)
    assert second.tax_rate == "5"
    assert second.note == "Cân tại kho"


def test_each_order_raw_reads_back_to_the_same_order(multi):
    for item in multi.items:
        assert (
            json.loads(item.raw)
            == _load("delivery_multi_orders.json")["data"][item.index]
        )
        again = parser.parse_delivery(item.raw.encode())
        assert again.ok
        assert again.orders == [item.order]


# --- cancellations -----------------------------------------------------------


def test_cancelled_order_needs_only_its_number():
    delivery = parser.parse_delivery(_bytes("delivery_cancelled.json"))
    assert delivery.ok
    [order] = delivery.orders
    assert order.event_type == "order.cancelled"
    assert order.external_id == "DH-2026-000123"
    assert order.customer is None
    assert order.lines == []
    assert order.updated_at == datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)
    assert order.extra["status"] == "Đã huỷ"  # NFC of the NFD label


@pytest.mark.parametrize(
    "label",
    [
        "Hủy",
        "Đã hủy",
        "Đã huỷ",
        "ĐÃ HỦY",
        unicodedata.normalize("NFD", "Đã hủy"),
        "da huy",
        "Bị hủy",
        "Hủy đơn",
        "Cancelled",
    ],
)
def test_cancellation_labels(label):
    result = _one(_order(trang_thai=label))
    assert result.ok, result.errors
    assert result.orders[0].event_type == "order.cancelled"


@pytest.mark.parametrize(
    "label", ["", "Chờ duyệt", "Đã duyệt", "Đã bán hàng", "Hủy KM"]
)
def test_other_labels_are_orders(label):
    result = _one(_order(trang_thai=label))
    assert result.ok, result.errors
    assert result.orders[0].event_type == "order.created"


def test_an_order_that_is_not_cancelled_needs_customer_and_lines():
    result = _one({"ma_phieu": "DH-9", "trang_thai": "Chờ duyệt"})
    assert _errors(result) == {
        "ma_kh": "is required",
        "ten_kh": "is required",
        "san_pham": "needs at least one product line",
    }


# --- delivery shapes ---------------------------------------------------------


def test_a_bare_order_object_is_one_order():
    delivery = parser.parse_delivery(_bytes("order_single_object.json"))
    assert delivery.ok
    assert delivery.event == ""
    [order] = delivery.orders
    assert order.event_type == "order.created"
    assert order.external_id == "DH-2026-000130"
    assert order.customer.name == "Đại lý Hoàng Yến"
    assert order.customer.phone == ""  # no sdt sent
    # updated_at is read when ngay_cap_nhat is absent.
    assert order.updated_at == datetime(2026, 11, 23, 8, 5, tzinfo=timezone.utc)
    assert order.lines[0].external_id == "1"
    assert order.extra["line_discount_total"] == 0


def test_a_top_level_list_and_data_as_an_object_are_accepted():
    single = _load("order_single_object.json")
    as_list = _parse([single, _order()])
    assert as_list.ok
    assert [o.external_id for o in as_list.orders] == ["DH-2026-000130", "DH-1"]
    as_object = _parse({"event": "sales_order_create", "data": single})
    assert [o.external_id for o in as_object.orders] == ["DH-2026-000130"]
    without_event = _parse({"data": [single]})
    assert [o.external_id for o in without_event.orders] == ["DH-2026-000130"]


def test_error_paths_follow_the_shape():
    bad = _order(ma_phieu="")
    assert set(_errors(_parse([bad]).items[0])) == {"$[0].ma_phieu"}
    assert set(_errors(_parse(bad).items[0])) == {"ma_phieu"}
    assert set(_errors(_parse({"data": [_order(), bad]}).items[1])) == {
        "data[1].ma_phieu"
    }


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (_bytes("invalid_not_json.txt"), "$", "the body is not valid JSON"),
        (b"\xff\xfe{", "$", normalize.NOT_UTF8_MESSAGE),  # a UTF-16 mark
        (b"42", "$", "must be a JSON object or a list of orders"),
        (b"[]", "$", "is empty: the delivery has no order"),
        (
            b'{"event": "sales_order_create", "data": []}',
            "data",
            "is empty: the delivery has no order",
        ),
        (
            b'{"event": "sales_order_create"}',
            "data",
            "is required (the list of orders)",
        ),
        (
            b'{"event": "sales_order_create", "data": "DH-1"}',
            "data",
            "must be a list of orders",
        ),
        (
            b'{"event": 7, "data": []}',
            "event",
            "must be text such as sales_order_create",
        ),
        (
            b'{"event": "order_paid", "data": []}',
            "event",
            "unknown event 'order_paid': Mobiwork orders come as sales_order_create",
        ),
    ],
)
def test_delivery_level_errors(body, path, message):
    delivery = parser.parse_delivery(body)
    assert _errors(delivery) == {path: message}
    assert delivery.items == [] and delivery.orders == []
    assert not delivery.ok
    assert _errors(delivery.as_parse_result()) == {path: message}


def test_an_event_that_is_not_about_orders_says_what_to_do():
    delivery = parser.parse_delivery(_bytes("invalid_not_an_order_event.json"))
    assert delivery.event == "customers_create"
    assert _errors(delivery) == {
        "event": "customers_create is not an order event: only sales_order_create "
        "is imported. Turn this event off in Mobiwork for this webhook URL."
    }


# --- invalid orders ----------------------------------------------------------


def test_one_invalid_order_does_not_reject_the_valid_ones():
    delivery = parser.parse_delivery(_bytes("delivery_partly_invalid.json"))
    assert delivery.errors == []
    assert [o.external_id for o in delivery.orders] == ["DH-2026-000150"]
    assert [(r.index, r.external_id) for r in delivery.rejected] == [
        (1, None),
        (2, "DH-2026-000152"),
    ]
    assert _errors(delivery.rejected[0]) == {"data[1].ma_phieu": "is required"}
    assert _errors(delivery.rejected[1]) == {
        "data[2].san_pham[0].so_luong": "must be greater than 0",
        "data[2].san_pham[1].so_luong": "must be a number",
    }
    assert not delivery.ok
    strict = delivery.as_parse_result()
    assert strict.orders == []
    assert list(_errors(strict)) == [
        "data[1].ma_phieu",
        "data[2].san_pham[0].so_luong",
        "data[2].san_pham[1].so_luong",
    ]


@pytest.mark.parametrize(
    ("fixture", "errors"),
    [
        ("invalid_missing_ma_phieu.json", {"data[0].ma_phieu": "is required"}),
        (
            "invalid_bad_quantity.json",
            {
                "data[0].san_pham[0].so_luong": "must be greater than 0",
                "data[0].san_pham[1].so_luong": "must be a number",
                "data[0].san_pham[2].so_luong": "must be greater than 0",
                "data[0].san_pham[3].so_luong": "is required",
            },
        ),
        (
            "invalid_fractional_vnd.json",
            {
                "data[0].san_pham[0].don_gia": "must be a whole number of đồng "
                "(VND has no decimals)",
                "data[0].san_pham[0].chiet_khau": "must be a whole number of đồng "
                "(VND has no decimals)",
                "data[0].ck_don_hang": "must be a whole number of đồng "
                "(VND has no decimals)",
            },
        ),
        (
            "invalid_ptype.json",
            {
                "data[0].promotion[0].ptype": "is not valid JSON: expected text "
                'like {"value": ...}',
                "data[0].promotion[1].ptype": "must hold a JSON object like "
                '{"value": ...}',
            },
        ),
        (
            "invalid_line_discount_total.json",
            {
                "data[0].tong_ck_sp": "is 30000 but the lines' discounts "
                "(chiet_khau) add up to 29000"
            },
        ),
    ],
)
def test_invalid_fixtures(fixture, errors):
    delivery = parser.parse_delivery(_bytes(fixture))
    assert delivery.errors == []
    assert delivery.orders == []
    [rejected] = delivery.rejected
    assert _errors(rejected) == errors


def test_whole_vnd_written_with_decimals_and_fractional_quantities_are_fine():
    data = _load("invalid_fractional_vnd.json")["data"][0]
    line = data["san_pham"][1]
    assert (line["so_luong"], line["don_gia"]) == (1.5, "64000.00")
    data["san_pham"] = [line]
    data["ck_don_hang"] = 1000.0
    result = _one(data)
    assert result.ok, result.errors
    assert result.orders[0].lines[0].price_unit == Decimal(64000)
    assert result.orders[0].lines[0].quantity == Decimal("1.5")
    assert result.orders[0].discount_amount == Decimal(1000)


def test_same_order_number_twice_rejects_both():
    delivery = _parse({"data": [_order(), _order(ten_kh="Khác")]})
    assert delivery.orders == []
    message = "DH-1 appears more than once in the delivery (data[0], data[1])"
    assert [_errors(item) for item in delivery.rejected] == [
        {"data[0].ma_phieu": message},
        {"data[1].ma_phieu": message},
    ]


@pytest.mark.parametrize(
    ("value", "rate"),
    [
        (10, "10"),
        ("10", "10"),
        ("10%", "10"),
        (8.0, "8"),
        ("8.00", "8"),
        (5, "5"),
        (0, "0"),
        ("0%", "0"),
        ("KCT", "KCT"),
        (" kct ", "KCT"),
    ],
)
def test_vat_rates_are_normalized(value, rate):
    result = _one(_order(san_pham=[_line(vat=value)]))
    assert result.ok, result.errors
    assert result.orders[0].lines[0].tax_rate == rate


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (150, "must be a rate between 0 and 100 (or KCT)"),
        (-5, "must be a rate between 0 and 100 (or KCT)"),
        (True, "must be a VAT rate: 10, 8, 5, 0 or KCT"),
        ("1O%", "must be a VAT rate: 10, 8, 5, 0 or KCT"),
    ],
)
def test_wrong_vat_rates_are_errors(value, message):
    result = _one(_order(san_pham=[_line(vat=value)]))
    assert _errors(result) == {"san_pham[0].vat": message}


def test_vat_and_thue_suat_must_agree():
    assert _one(_order(san_pham=[_line(vat=8, thue_suat="8%")])).ok
    result = _one(_order(san_pham=[_line(vat=8, thue_suat=10)]))
    assert _errors(result) == {"san_pham[0].thue_suat": "disagrees with vat"}


def test_no_vat_keeps_the_products_taxes():
    result = _one(_order(san_pham=[_line()]))
    assert result.orders[0].lines[0].tax_rate is None


def test_line_rules():
    result = _one(
        _order(
            san_pham=[
                _line(chiet_khau=250001),
                _line(stt=2, is_km="yes"),
                _line(stt=2, ma_sp=""),
                _line(stt=4, don_gia=-1),
                _line(stt=5, chiet_khau="mười nghìn"),
            ]
        )
    )
    assert _errors(result) == {
        "san_pham[0].chiet_khau": "is more than the line's amount (250000)",
        "san_pham[1].is_km": "must be true or false (or 1 or 0)",
        "san_pham[2].ma_sp": "is required",
        "san_pham[2].stt": "2 is already the stt of san_pham[1]",
        "san_pham[3].don_gia": "must be 0 or more",
        "san_pham[4].chiet_khau": "must be an amount in đồng",
    }


def test_a_promotion_line_with_a_price_stays_paid_and_linked():
    promotion = {
        "id": 77,
        "ten_khuyen_mai": "Giá ưu đãi",
        "ptype": {"value": "GIA_KM"},  # an object is also accepted
        "product": [{"ma_san_pham": "SP001", "ten_san_pham": "Bia", "so_luong": ""}],
    }
    result = _one(_order(san_pham=[_line(is_km="1")], promotion=[promotion]))
    assert result.ok, result.errors
    [line] = result.orders[0].lines
    assert (line.is_free, line.price_unit, line.promotion_code) == (
        False,
        Decimal(125000),
        "77",
    )
    assert result.orders[0].extra["promotions"] == [
        {
            "id": "77",
            "name": "Giá ưu đãi",
            "value": "GIA_KM",
            "products": [{"code": "SP001", "name": "Bia", "quantity": None}],
        }
    ]


def test_free_goods_need_a_product_and_a_quantity():
    result = _one(_order(san_pham_km=[{"ma_sp_km": "", "so_luong_km": "0"}]))
    assert _errors(result) == {
        "san_pham_km[0].ma_sp_km": "is required",
        "san_pham_km[0].so_luong_km": "must be greater than 0",
    }


def test_wrong_structures_are_errors_with_paths():
    result = _one(
        _order(
            san_pham=["SP001"],
            san_pham_km={"ma_sp_km": "SP9"},
            promotion=[{"id": "KM", "product": "SP9"}, 3],
            ten_kh={"name": "x"},
        )
    )
    assert _errors(result) == {
        "san_pham[0]": "must be an object",
        "san_pham_km": "must be a list",
        "promotion[0].product": "must be a list",
        "promotion[1]": "must be an object",
        "ten_kh": "must be text",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "2026-11-23T01:30:00+07:00",
            datetime(2026, 11, 22, 18, 30, tzinfo=timezone.utc),
        ),
        (
            "2026-11-22T18:30:00.000Z",
            datetime(2026, 11, 22, 18, 30, tzinfo=timezone.utc),
        ),
    ],
)
def test_dates_with_a_time_zone_become_utc(value, expected):
    result = _one(_order(ngay_dat=value))
    assert result.orders[0].date_order == expected


def test_dates_without_a_time_zone_are_errors():
    result = _one(_order(ngay_dat="2026-11-22 18:30:00", ngay_giao="23/11/2026"))
    message = "must be an ISO 8601 date-time with a time zone (…T10:00:00Z)"
    assert _errors(result) == {"ngay_dat": message, "ngay_giao": message}


# --- the read API ------------------------------------------------------------


def test_read_api_page():
    results, total = parser.parse_read_api_page(_bytes("read_api_sale_page.json"))
    assert total == 3
    page = _load("read_api_sale_page.json")["data"]
    assert [json.loads(raw) for raw, _result in results] == page
    (raw_ok, ok), (raw_bad, bad) = results
    [order] = ok.orders
    assert order.external_id == "DH-2026-000140"
    assert [line.tax_rate for line in order.lines] == ["10", "KCT"]
    assert order.lines[0].discount_amount == Decimal(12000)
    # Paths are relative to the stored order, which parses the same again.
    assert _errors(bad) == {"san_pham[0].so_luong": "must be greater than 0"}
    assert parser.parse_delivery(raw_ok.encode()).orders == [order]
    assert _errors(parser.parse_delivery(raw_bad.encode()).items[0]) == _errors(bad)


@pytest.mark.parametrize(
    ("body", "total"),
    [
        (b'{"status": true, "data": [], "total": "12"}', 12),
        (b'{"status": 1, "data": []}', None),
        (b'{"data": [], "total": 0}', 0),
        (b'{"status": true, "data": null, "total": ""}', None),
    ],
)
def test_read_api_totals(body, total):
    assert parser.parse_read_api_page(body) == ([], total)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>502</html>", "Mobiwork's read API answered with something not JSON."),
        (b"[]", "Mobiwork's read API answered with an unexpected shape."),
        (
            b'{"status": false, "successful": false, '
            b'"errors": [{"message": "Sai m\xc3\xa3 API"}]}',
            "Mobiwork refused the request: Sai mã API",
        ),
        (b'{"status": false}', "Mobiwork answered HTTP 200 without success"),
        (
            b'{"status": true, "data": {"ma_phieu": "DH-1"}}',
            "Mobiwork's read API answered data that is not a list.",
        ),
        (
            b'{"status": true, "data": [], "total": "many"}',
            "Mobiwork's read API answered a total that is not a number.",
        ),
    ],
)
def test_read_api_pages_that_cannot_be_used(body, message):
    with pytest.raises(parser.ReadApiError) as caught:
        parser.parse_read_api_page(body)
    assert str(caught.value).startswith(message)


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_read_api_params_are_vietnam_days():
    params = parser.read_api_params(
        _utc(2026, 11, 20, 17, 0), _utc(2026, 11, 22, 18, 30), 2, 50
    )
    assert params == {
        "tu_ngay": "21/11/2026",  # 17:00 UTC is midnight in Vietnam
        "den_ngay": "23/11/2026",  # 18:30 UTC on the 22nd is the 23rd there
        "page_number": 2,
        "page_size": 50,
        "kieu_ngay": "cdate",
    }
    earlier = parser.read_api_params(
        _utc(2026, 11, 20, 16, 59, 59), _utc(2026, 11, 22, 16, 59, 59)
    )
    assert (earlier["tu_ngay"], earlier["den_ngay"]) == ("20/11/2026", "22/11/2026")
    assert (earlier["page_number"], earlier["page_size"]) == (1, 100)


def test_read_api_params_without_since_ask_for_the_last_day_only():
    params = parser.read_api_params(None, datetime(2026, 11, 22, 18, 30))  # naive: UTC
    assert (params["tu_ngay"], params["den_ngay"]) == ("23/11/2026", "23/11/2026")
    later_since = parser.read_api_params(_utc(2026, 12, 1), _utc(2026, 11, 22))
    assert later_since["tu_ngay"] == later_since["den_ngay"] == "22/11/2026"


@pytest.mark.parametrize(("page_number", "page_size"), [(0, 10), (1, 0), ("1", 10)])
def test_read_api_params_refuse_wrong_pages(page_number, page_size):
    with pytest.raises(ValueError):
        parser.read_api_params(None, _utc(2026, 11, 22), page_number, page_size)


@pytest.mark.parametrize(
    ("page_number", "page_size", "count", "total", "next_page"),
    [
        (1, 2, 2, 5, 2),
        (2, 2, 2, 5, 3),
        (3, 2, 1, 5, None),
        (1, 2, 2, 4, 2),
        (2, 2, 2, 4, None),
        (1, 2, 0, 5, None),
        (1, 2, 2, None, 2),
        (2, 2, 1, None, None),
    ],
)
def test_read_api_next_page(page_number, page_size, count, total, next_page):
    assert parser.read_api_next_page(page_number, page_size, count, total) == next_page


def test_parse_order_does_not_change_its_input():
    data = _load("delivery_multi_orders.json")
    before = copy.deepcopy(data)
    _parse(data)
    assert data == before


def test_local_dates_of_the_vietnam_helpers():
    from mobiwork_lib import vietnam

    moment = _utc(2026, 11, 22, 18, 30)
    assert vietnam.local_date(moment) == date(2026, 11, 23)
    assert vietnam.format_date(moment) == "23/11/2026"
    assert vietnam.format_iso_date(moment) == "2026-11-23"
    assert vietnam.format_date(date(2026, 11, 22)) == "22/11/2026"
    assert vietnam.parse_date("23/11/2026") == date(2026, 11, 23)
    assert vietnam.fold("  ĐÃ   Huỷ ") == "da huy"


# --- bodies that must be refused fast, not raise or burn CPU -----------------

MiB = 1 << 20


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "$", "TOO_DEEP_MESSAGE"),
        (b'{"data":[' * (MiB // 10), "$", "TOO_DEEP_MESSAGE"),
        ('{"data": []}'.encode("utf-16-le"), "$", "NOT_UTF8_MESSAGE"),
        (b'{"data": []}\x00', "$", "NUL_MESSAGE"),
        (
            b'{"data": [{"san_pham": [{"so_luong": 1' + b"0" * MiB + b"}]}]}",
            "data[0].san_pham[0].so_luong",
            "NUMBER_TOO_LONG_MESSAGE",
        ),
        (
            b'[{"san_pham": [{}, {"don_gia": -1e999}]}]',
            "$[0].san_pham[1].don_gia",
            "NOT_FINITE_MESSAGE",
        ),
        (
            b'{"ma_phieu": "DH-1", "ck_don_hang": Infinity}',
            "ck_don_hang",
            "NOT_FINITE_MESSAGE",
        ),
    ],
)
def test_deliveries_refused_before_their_orders_are_read(body, path, message):
    delivery = parser.parse_delivery(body)
    assert delivery.items == []
    [issue] = delivery.errors
    assert issue.path == path
    assert issue.message.startswith(getattr(normalize, message))


def test_amounts_too_large_are_refused_with_their_path_fast():
    # "1E+999999" is short, but as a whole number of đồng it has a million
    # digits: made an int, it took seconds.
    order = _order(
        san_pham=[_line(don_gia="1E+999999"), _line(stt=2, so_luong="9" * 40)],
        ck_don_hang=10**13,
    )
    assert _errors(_parse({"data": [order]}).items[0]) == {
        "data[0].san_pham[0].don_gia": normalize.TOO_LARGE_MESSAGE,
        "data[0].san_pham[1].so_luong": normalize.NUMBER_TOO_LONG_MESSAGE,
        "data[0].ck_don_hang": normalize.TOO_LARGE_MESSAGE,
    }


def test_a_nul_character_rejects_only_its_order():
    bad = _order(ma_phieu="DH-2", ten_kh="Tạp hóa\u0000")
    delivery = _parse({"event": "sales_order_create", "data": [_order(), bad]})
    assert [item.ok for item in delivery.items] == [True, False]
    assert _errors(delivery.items[1]) == {"data[1].ten_kh": normalize.NUL_MESSAGE}
    # Its stored raw text is refused the same when the queue parses it.
    again = parser.parse_delivery(delivery.items[1].raw.encode())
    assert _errors(again.items[0]) == {"ten_kh": normalize.NUL_MESSAGE}


def test_a_nul_character_rejects_only_its_order_of_a_read_api_page():
    page = _load("read_api_sale_page.json")
    page["data"][0]["ma_kh"] = "KH\u0000"
    results, _total = parser.parse_read_api_page(json.dumps(page).encode())
    assert _errors(results[0][1]) == {"ma_kh": normalize.NUL_MESSAGE}
    assert results[1][1].errors  # the fixture's invalid order, as before
    assert "ma_kh" not in _errors(results[1][1])


def test_a_ptype_nested_too_deep_is_an_issue_of_its_field():
    promotion = {"id": "KM1", "ptype": "[" * 100_000 + "]" * 100_000}
    result = _one(_order(promotion=[promotion]))
    assert _errors(result) == {
        "promotion[0].ptype": "holds JSON that cannot be read: "
        + normalize.TOO_DEEP_MESSAGE
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * MiB, "JSON that cannot be read ($: " + normalize.TOO_DEEP_MESSAGE),
        (
            b'{"data": [], "total": 1' + b"0" * 5000 + b"}",
            "JSON that cannot be read (total: " + normalize.NUMBER_TOO_LONG_MESSAGE,
        ),
    ],
)
def test_read_api_pages_that_cannot_be_read(body, message):
    with pytest.raises(parser.ReadApiError) as caught:
        parser.parse_read_api_page(body)
    assert message in str(caught.value)


# --- inbound contract 1.1 -----------------------------------------------------


def _contract_1_1():
    result = parser.parse_delivery(_bytes("order_contract_1_1.json"))
    assert result.ok, (result.errors, [i.errors for i in result.items])
    [order] = result.orders
    return order


def _issues(result):
    return [(issue.path, issue.message) for issue in result.errors]


def test_contract_1_1_fields_of_an_order():
    order = _contract_1_1()
    # ma_nhom, stripped: the price list code and still the sales group.
    assert order.pricelist_code == "NHOM-Q1"
    assert order.extra["sales_group"] == "NHOM-Q1"
    assert order.extra["line_discount_total"] == 15000
    assert [p["id"] for p in order.extra["promotions"]] == ["KM-1101", "KM-1102"]
    # dia_chi_giao_hang (sent decomposed): a delivery address with its street only.
    assert order.shipping_address == normalize.NormalizedCustomer(
        external_id="",
        name="",
        street="Kho sau, 12 Lê Lợi, Phường Bến Nghé, TP. Hồ Chí Minh",
    )
    # The customer keeps its own address (dia_chi).
    assert order.customer.street == "45 Nguyễn Trãi, Phường Bến Thành, TP. Hồ Chí Minh"
    assert order.note == ""


def test_contract_1_1_fields_of_the_lines():
    first, promoted, free = _contract_1_1().lines
    assert (first.uom_name, first.warehouse_code, first.note, first.promotion_code) == (
        "Thùng",  # sent as " Thùng " decomposed (NFD)
        "KHO-HCM",
        "Hàng dễ vỡ",
        "",
    )
    assert (promoted.uom_name, promoted.warehouse_code, promoted.promotion_code) == (
        "Lốc",
        "KHO-Q7",
        "KM-1102",
    )
    assert (promoted.is_free, promoted.price_unit) == (False, Decimal(90000))
    assert (free.uom_name, free.warehouse_code, free.note, free.promotion_code) == (
        "Chai",
        "KHO-HCM",
        "Tặng kèm",
        "KM-1101",
    )
    for line in (first, promoted, free):
        assert unicodedata.is_normalized("NFC", line.uom_name)
        assert unicodedata.is_normalized("NFC", line.note)


def test_unit_codes_are_the_same_whether_sent_nfc_or_nfd():
    composed = "Thùng"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    codes = set()
    for unit in (composed, decomposed, f"  {decomposed}\t"):
        order = _order(
            san_pham=[_line(ten_dvt=unit)],
            san_pham_km=[{"ma_sp_km": "SP9", "so_luong_km": 1, "ten_dvt_km": unit}],
        )
        result = _one(order)
        assert result.ok, result.errors
        codes.update(line.uom_name for line in result.orders[0].lines)
    assert codes == {"Thùng"}


def test_a_unit_keeps_its_vietnamese_text_and_case():
    [line] = _one(_order(san_pham=[_line(ten_dvt="thùng 24 chai")])).orders[0].lines
    assert line.uom_name == "thùng 24 chai"


def test_without_dia_chi_giao_hang_there_is_no_shipping_address():
    assert _one(_order()).orders[0].shipping_address is None
    for blank in ("", "   ", None):
        result = _one(_order(dia_chi_giao_hang=blank))
        assert result.orders[0].shipping_address is None


def test_dia_chi_giao_hang_must_be_text():
    result = _parse({"data": [_order(dia_chi_giao_hang={"street": "12 Lê Lợi"})]})
    [item] = result.items
    assert _issues(item) == [("data[0].dia_chi_giao_hang", "must be text")]
    assert _issues(_one(_order(dia_chi_giao_hang=["12 Lê Lợi"]))) == [
        ("dia_chi_giao_hang", "must be text")
    ]


def test_without_ma_nhom_the_price_list_code_is_empty():
    order = _one(_order()).orders[0]
    assert order.pricelist_code == order.extra["sales_group"] == ""


def test_ma_nhom_is_a_code():
    too_long = "N" * (normalize.MAX_ID_LENGTH + 1)
    assert _issues(_one(_order(ma_nhom=too_long))) == [
        ("ma_nhom", normalize.ID_TOO_LONG_MESSAGE)
    ]
    assert _issues(_one(_order(ma_nhom=["NHOM-Q1"]))) == [("ma_nhom", "must be text")]
    group = unicodedata.normalize("NFD", " Nhóm Quận 1 ")
    order = _one(_order(ma_nhom=group)).orders[0]
    assert order.pricelist_code == order.extra["sales_group"] == "Nhóm Quận 1"


def test_line_notes_must_be_text():
    result = _one(
        _order(
            san_pham=[_line(ghi_chu={"x": 1})],
            san_pham_km=[{"ma_sp_km": "SP9", "so_luong_km": 1, "ghi_chu_km": True}],
        )
    )
    assert _issues(result) == [
        ("san_pham[0].ghi_chu", "must be text"),
        ("san_pham_km[0].ghi_chu_km", "must be text"),
    ]
