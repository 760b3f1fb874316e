"""Cloudify webhook events and polling pages into normalized orders."""

import copy
import json
import pathlib
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from cloudify_lib import parser
from oms_lib import normalize

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "cloudify"


def _bytes(name):
    return (FIXTURES / name).read_bytes()


def _load(name):
    return json.loads(_bytes(name))


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def _parse(payload):
    return parser.parse_delivery(json.dumps(payload, ensure_ascii=False).encode())


def _order_of(name):
    result = parser.parse_delivery(_bytes(name))
    assert result.ok, [(e.path, e.message) for e in result.errors]
    [order] = result.orders
    return order


def _errors(result):
    return {issue.path: issue.message for issue in result.errors}


def _event(**order_changes):
    """The proposal's example event; ``order_changes`` replace order keys
    (None removes the key)."""
    event = _load("event_order_created.json")
    for key, value in order_changes.items():
        if value is None:
            event["order"].pop(key, None)
        else:
            event["order"][key] = value
    return event


def _with_line(index, **changes):
    event = _event()
    line = event["order"]["lines"][index]
    for key, value in changes.items():
        if value is None:
            line.pop(key, None)
        else:
            line[key] = value
    return event


# --- the proposal's example ----------------------------------------------------


def test_the_proposal_example_is_mapped():
    order = _order_of("event_order_created.json")
    assert order.event_type == "order.created"
    assert order.external_id == "cf_88421"
    assert order.name == "SO/2026/00123"
    assert order.currency == "VND"
    assert order.salesperson_code == "NV0123"
    # 09:05 in Vietnam is 02:05 UTC.
    assert order.date_order == _utc(2026, 11, 22, 2, 5)
    assert order.date_order.utcoffset().total_seconds() == 0
    # The bare date 2026-11-23 is Vietnam's midnight: 17:00 UTC the day before.
    assert order.commitment_date == _utc(2026, 11, 22, 17, 0)
    # No order-level version: the event's created_at (09:10 +07:00).
    assert order.updated_at == _utc(2026, 11, 22, 2, 10)
    assert order.discount_amount == Decimal(20000)
    assert order.amount_total == Decimal(1274400)
    assert order.shipping_amount == Decimal(0)
    assert order.extra == {
        "state": "confirmed",
        "distributor_code": "NPP01",
        "route_code": "T2",
        "event_id": "evt_0001",
        "amount_untaxed": 1180000,
        "amount_tax": 94400,
        "promotions": [],  # none sent: an empty list, not a missing key
    }
    json.dumps(order.extra)  # JSON-ready


def test_the_outlet_is_the_customer_in_nfc():
    raw = _bytes("event_order_created.json").decode()
    assert "Tạp hóa Minh Anh" not in raw  # the fixture holds it decomposed (NFD)
    customer = _order_of("event_order_created.json").customer
    assert customer.external_id == "CH00457"
    assert customer.name == "Tạp hóa Minh Anh"
    assert unicodedata.is_normalized("NFC", customer.name)
    assert customer.vat == "0312345678"
    assert customer.street == "12 Lê Lợi"
    assert unicodedata.is_normalized("NFC", customer.street)
    assert customer.street2 == "Phường Bến Nghé"
    assert customer.city == customer.state == "TP Hồ Chí Minh"
    assert customer.phone == "0901234567"
    assert customer.country_code == "VN"


def test_lines_of_the_proposal_example():
    paid, free = _order_of("event_order_created.json").lines
    assert (paid.external_id, paid.sku, paid.product_external_id) == (
        "1",
        "SP001",
        "SP001",
    )
    assert paid.uom_name == "Thùng"
    assert unicodedata.is_normalized("NFC", paid.uom_name)
    assert paid.quantity == Decimal(5)
    assert paid.price_unit == Decimal(250000)
    assert paid.discount_amount == Decimal(50000)
    assert paid.tax_rate == "8"
    assert paid.is_free is False
    assert paid.promotion_code == ""
    assert (free.external_id, free.sku, free.quantity) == ("2", "SP009", Decimal(2))
    assert free.is_free is True
    assert free.price_unit == Decimal(0)
    assert free.promotion_code == "KM2511-01"
    assert all(
        isinstance(value, Decimal)
        for line in (paid, free)
        for value in (line.quantity, line.price_unit, line.discount_amount)
    )


def test_a_confirmed_update_is_versioned_by_the_order_updated_at():
    order = _order_of("event_order_confirmed_update.json")
    assert order.event_type == "order.updated"
    assert order.external_id == "cf_88421"
    # The order's updated_at (10:29:30 +07:00) wins over created_at (10:30).
    assert order.updated_at == _utc(2026, 11, 22, 3, 29, 30)
    assert order.lines[0].quantity == Decimal(6)
    assert order.amount_total == Decimal(1544400)
    assert order.extra["event_id"] == "evt_0002"
    assert order.customer.name == "Tạp hóa Minh Anh"


def test_a_cancellation_needs_only_its_id_and_state():
    order = _order_of("event_order_cancelled.json")
    assert order.event_type == "order.cancelled"
    assert order.external_id == "cf_88421"
    assert order.customer is None
    assert order.lines == []
    # write_date in Odoo's server format (no offset) is UTC.
    assert order.updated_at == _utc(2026, 11, 22, 3, 59, 58)
    assert order.currency == "VND"
    assert order.extra["state"] == "cancel"


def test_free_goods_and_promotions():
    order = _order_of("event_free_goods_promotion.json")
    assert order.event_type == "order.created"
    promoted, free, free_without_price = order.lines
    assert (promoted.is_free, promoted.promotion_code) == (False, "KM2511-02")
    assert promoted.discount_amount == Decimal(125000)
    assert (free.is_free, free.price_unit, free.promotion_code) == (
        True,
        Decimal(0),
        "KM2511-01",
    )
    # A free line may leave price_unit out: it is 0, not "the pricelist's".
    assert free_without_price.is_free is True
    assert free_without_price.price_unit == Decimal(0)
    assert free_without_price.tax_rate == "KCT"
    assert order.discount_amount == Decimal(75000)
    assert order.amount_total == Decimal(2484000)
    assert order.extra["amount_untaxed"] == 2300000
    assert order.customer.name == "Cửa hàng Bách hóa Đức Thành"
    assert order.commitment_date == _utc(2026, 11, 23, 17, 0)


def test_every_tax_rate_string():
    order = _order_of("event_tax_rates.json")
    assert [line.tax_rate for line in order.lines] == ["10", "8", "5", "0", "KCT"]
    assert [line.price_unit for line in order.lines] == [
        250000,
        8500,
        42000,
        310000,
        15000,
    ]
    assert [line.discount_amount for line in order.lines] == [0, 4000, 10000, 0, 0]
    assert order.amount_total == Decimal(1641000)
    assert order.customer.city == "Tỉnh Đồng Nai"
    assert order.date_order == _utc(2026, 11, 23, 1, 30)


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(8, "8"), ("8%", "8"), ("8.0", "8"), (10.0, "10"), ("kct", "KCT"), (" 5 ", "5")],
)
def test_tax_rate_forms(rate, expected):
    order = _parse(_with_line(0, tax_rate=rate)).orders[0]
    assert order.lines[0].tax_rate == expected


def test_no_tax_rate_keeps_the_products_taxes():
    order = _parse(_with_line(0, tax_rate=None)).orders[0]
    assert order.lines[0].tax_rate is None


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("101", "must be a rate between 0 and 100 (or KCT)"),
        ("-5", "must be a rate between 0 and 100 (or KCT)"),
        ("8 phần trăm", "must be a VAT rate: 10, 8, 5, 0 or KCT"),
        (True, "must be a VAT rate: 10, 8, 5, 0 or KCT"),
    ],
)
def test_bad_tax_rates(rate, message):
    result = _parse(_with_line(0, tax_rate=rate))
    assert _errors(result) == {"order.lines[0].tax_rate": message}


def test_numeric_strings_are_read_and_lines_may_have_no_seq():
    event = _with_line(0, qty="5", price_unit="250000", discount_amount="50000")
    for line in event["order"]["lines"]:
        del line["seq"]
    order = _parse(event).orders[0]
    assert [line.external_id for line in order.lines] == ["1", "2"]
    assert order.lines[0].quantity == Decimal(5)
    assert order.lines[0].price_unit == Decimal(250000)


def test_text_seq_and_decimal_quantities():
    event = _with_line(0, seq="A1", qty=2.5, price_unit=100000, discount_amount=0)
    event["order"].update(amount_untaxed=230000, amount_tax=18400, amount_total=248400)
    order = _parse(event).orders[0]
    assert order.lines[0].external_id == "A1"
    assert order.lines[0].quantity == Decimal("2.5")


# --- event types -------------------------------------------------------------


@pytest.mark.parametrize(
    ("webhook_type", "state", "expected"),
    [
        ("order.created", "confirmed", "order.created"),
        ("order.updated", "picking", "order.updated"),
        ("order.updated", "cancel", "order.cancelled"),
        ("order.created", "cancel", "order.cancelled"),
        ("order.cancelled", "cancel", "order.cancelled"),
        (None, "draft", "order.created"),
        (None, "confirmed", "order.updated"),
        (None, "delivering", "order.updated"),
        (None, "done", "order.updated"),
        (None, "cancel", "order.cancelled"),
    ],
)
def test_event_type_from_type_and_state(webhook_type, state, expected):
    event = _event(state=state)
    if webhook_type is None:
        del event["type"]
    else:
        event["type"] = webhook_type
    [order] = _parse(event).orders
    assert order.event_type == expected


def test_state_is_read_case_insensitively():
    assert _parse(_event(state="Cancel")).orders[0].event_type == "order.cancelled"


def test_a_cancelled_type_on_an_order_that_is_not_cancelled_is_refused():
    event = _event(state="confirmed")
    event["type"] = "order.cancelled"
    assert _errors(_parse(event)) == {
        "type": "is order.cancelled but order.state is confirmed: one of them is wrong"
    }


def test_an_event_that_is_not_about_orders_is_refused():
    event = _event()
    event["type"] = "partner.created"
    assert _errors(_parse(event)) == {
        "type": "'partner.created' is not an order event: must be one of "
        "order.created, order.updated, order.cancelled"
    }


def test_created_at_is_optional_and_then_there_is_no_version():
    event = _event()
    del event["created_at"], event["id"]
    order = _parse(event).orders[0]
    assert order.updated_at is None
    assert order.extra["event_id"] == ""


def test_write_date_with_an_offset_and_updated_at_first():
    order = _parse(_event(write_date="2026-11-22T03:00:00Z")).orders[0]
    assert order.updated_at == _utc(2026, 11, 22, 3, 0)
    both = _event(write_date="2026-11-22 03:00:00", updated_at="2026-11-22T11:00+07:00")
    assert _parse(both).orders[0].updated_at == _utc(2026, 11, 22, 4, 0)


def test_commitment_date_may_be_a_date_time():
    order = _parse(_event(commitment_date="2026-11-23T14:00:00+07:00")).orders[0]
    assert order.commitment_date == _utc(2026, 11, 23, 7, 0)


def test_currency_may_be_left_out_but_must_be_vnd():
    assert _parse(_event(currency=None)).orders[0].currency == "VND"
    assert _parse(_event(currency="vnd")).orders[0].currency == "VND"
    assert _errors(_parse(_event(currency="USD"))) == {
        "order.currency": "must be VND: Cloudify orders are in đồng"
    }


# --- totals --------------------------------------------------------------------


def test_totals_may_be_left_out():
    event = _event(amount_untaxed=None, amount_tax=None, amount_total=None)
    order = _parse(event).orders[0]
    assert order.amount_total is None
    assert order.extra["amount_untaxed"] is None


def test_amount_untaxed_must_match_the_lines():
    result = _parse(_event(amount_untaxed=1200000, amount_total=1294400))
    assert _errors(result) == {
        "order.amount_untaxed": "is 1200000 but the lines (1200000) less "
        "order_discount (20000) come to 1180000"
    }


def test_amount_total_must_be_untaxed_plus_tax():
    result = _parse(_event(amount_total=1274000))
    assert _errors(result) == {
        "order.amount_total": "is 1274000 but amount_untaxed + amount_tax is 1274400"
    }


def test_an_order_discount_above_the_lines_is_refused():
    event = _event(order_discount=1200001, amount_untaxed=None, amount_total=None)
    assert _errors(_parse(event)) == {
        "order.order_discount": "is 1200001, more than the lines' amount (1200000)"
    }


def test_a_discount_above_the_line_amount_is_refused():
    result = _parse(_with_line(0, discount_amount=1250001))
    assert _errors(result)["order.lines[0].discount_amount"] == (
        "is more than the line's amount (1250000)"
    )


# --- malformed ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "errors"),
    [
        ("invalid_missing_external_id.json", {"order.external_id": "is required"}),
        (
            "invalid_fractional_vnd.json",
            {
                "order.lines[0].price_unit": (
                    "must be a whole number of đồng (VND has no decimals)"
                ),
                "order.lines[0].discount_amount": (
                    "must be a whole number of đồng (VND has no decimals)"
                ),
                "order.order_discount": (
                    "must be a whole number of đồng (VND has no decimals)"
                ),
            },
        ),
        (
            "invalid_bad_qty.json",
            {
                "order.lines[0].qty": "must be greater than 0",
                "order.lines[1].qty": "must be a number",
            },
        ),
        (
            "invalid_bad_date.json",
            {
                path: "must be an ISO 8601 date-time with its offset "
                "(2026-11-22T09:05:00+07:00) or a date (2026-11-23)"
                for path in ("created_at", "order.date_order", "order.commitment_date")
            },
        ),
        (
            "invalid_unknown_state.json",
            {
                "order.state": (
                    "must be one of draft, confirmed, picking, delivering, done, cancel"
                )
            },
        ),
        ("invalid_not_json.txt", {"$": "the body is not valid JSON"}),
    ],
)
def test_malformed_fixtures_give_every_error_with_its_path(name, errors):
    result = parser.parse_delivery(_bytes(name))
    assert not result.ok
    assert result.orders == []
    assert _errors(result) == errors
    assert len(result.errors) == len(errors)


def test_all_errors_of_an_order_are_reported_at_once():
    event = _event(external_id="", state=None, outlet={"code": "", "name": None})
    event["order"]["lines"] = [
        {"seq": 1, "product_code": "", "qty": -1, "price_unit": -5, "is_free": "no"},
        {"seq": 1, "product_code": "SP002", "qty": 1},
        "SP003",
    ]
    event["order"]["date_order"] = "2026-11-22T09:05:00"  # no offset
    assert _errors(_parse(event)) == {
        "order.state": (
            "is required: one of draft, confirmed, picking, delivering, done, cancel"
        ),
        "order.external_id": "is required",
        "order.lines[0].qty": "must be greater than 0",
        "order.lines[0].is_free": "must be true or false",
        "order.lines[0].price_unit": "must be 0 or more",
        "order.lines[0].product_code": "is required",
        "order.lines[1].price_unit": "is required on a paid line",
        "order.lines[1].seq": "1 is already the seq of order.lines[0]",
        "order.lines[2]": "must be an object",
        "order.date_order": (
            "must be an ISO 8601 date-time with its offset "
            "(2026-11-22T09:05:00+07:00) or a date (2026-11-23)"
        ),
        "order.outlet.code": "is required",
        "order.outlet.name": "is required",
    }


def test_a_price_on_a_free_line_is_refused():
    result = _parse(_with_line(1, price_unit=12000))
    assert _errors(result) == {
        "order.lines[1].price_unit": "must be 0 on a free line (is_free)"
    }


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"lines": []}, {"order.lines": "needs at least one line"}),
        ({"lines": None}, {"order.lines": "needs at least one line"}),
        ({"lines": {"seq": 1}}, {"order.lines": "must be a list"}),
        ({"outlet": None}, {"order.outlet": "is required (an object)"}),
        ({"outlet": "CH00457"}, {"order.outlet": "must be an object"}),
        ({"external_id": 88421.5}, {"order.external_id": "must be text"}),
        ({"salesman_code": ["NV1"]}, {"order.salesman_code": "must be text"}),
    ],
)
def test_order_level_errors(changes, errors):
    event = _event()
    event["order"].update(changes)
    assert _errors(_parse(event)) == errors


def test_an_integer_external_id_is_text():
    assert _parse(_event(external_id=88421)).orders[0].external_id == "88421"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (b"[1, 2]", {"$": "must be a JSON object"}),
        (b"\xff\xfe", {"$": normalize.NOT_UTF8_MESSAGE}),  # a UTF-16 mark
        (b'{"type": "order.created"}', {"order": "is required (an object)"}),
        (b'{"order": []}', {"order": "must be an object"}),
        (
            b'{"type": 3, "order": null}',
            {
                "type": "must be one of order.created, order.updated, order.cancelled",
                "order": "is required (an object)",
            },
        ),
    ],
)
def test_event_level_errors(body, errors):
    assert _errors(parser.parse_delivery(body)) == errors


def test_str_and_bytes_bodies_parse_alike():
    text = _bytes("event_order_created.json").decode()
    assert parser.parse_delivery(text) == parser.parse_delivery(text.encode())


# --- polling ---------------------------------------------------------------------


def test_poll_params():
    since = _utc(2026, 11, 22, 2, 10)
    assert parser.poll_params(since, 3, 50) == {
        "updated_since": "2026-11-22T02:10:00Z",
        "limit": 50,
        "offset": 100,
    }
    # A naive datetime is UTC (Odoo's); an aware one is converted.
    vietnam = datetime(2026, 11, 22, 9, 10, tzinfo=parser.VIETNAM_TZ)
    assert parser.poll_params(vietnam)["updated_since"] == "2026-11-22T02:10:00Z"
    naive = parser.poll_params(datetime(2026, 11, 22, 2, 10), db="tenant")
    assert naive == {
        "updated_since": "2026-11-22T02:10:00Z",
        "limit": parser.DEFAULT_PAGE_SIZE,
        "offset": 0,
        "db": "tenant",
    }
    assert parser.poll_params(None, 1, 10) == {"limit": 10, "offset": 0}


@pytest.mark.parametrize(("page", "page_size"), [(0, 10), (1, 0), ("2", 10), (1, 1.5)])
def test_poll_params_refuse_bad_pages(page, page_size):
    with pytest.raises(ValueError):
        parser.poll_params(None, page, page_size)


@pytest.mark.parametrize(
    ("name", "ids", "next_page"),
    [
        ("poll_page_array.json", ["cf_90001", "cf_90002"], 2),
        ("poll_page_data.json", ["cf_90001", "cf_90002", "cf_90004"], 2),
        ("poll_page_result.json", ["cf_90001", "cf_90002", "cf_90003"], 2),
        ("poll_page_records.json", ["cf_90003"], None),
        ("poll_page_odoo_search_read.json", ["cf_90001", "cf_90002"], 2),
    ],
)
def test_every_answer_shape_is_accepted(name, ids, next_page):
    # page 1 of 2 orders; poll_page_records.json is page 2 of 2 (count 3).
    page = 2 if name == "poll_page_records.json" else 1
    results, following = parser.parse_poll_page(_bytes(name), page, 2)
    assert [json.loads(raw)["order"]["external_id"] for raw, _r in results] == ids
    assert following == next_page


def test_polled_orders_are_parsed_and_stored_as_events():
    results, _next = parser.parse_poll_page(_bytes("poll_page_result.json"), 1, 3)
    orders = [result.orders[0] for _raw, result in results]
    assert [o.event_type for o in orders] == [
        "order.created",
        "order.updated",
        "order.cancelled",
    ]
    assert [o.updated_at for o in orders] == [
        _utc(2026, 11, 22, 2, 0),
        _utc(2026, 11, 22, 2, 5),  # write_date "2026-11-22 02:05:00": UTC
        _utc(2026, 11, 22, 2, 20),
    ]
    assert orders[1].lines[0].quantity == Decimal(3)
    assert orders[0].extra["event_id"] == ""
    # Each raw text is what to store: the webhook parser reads it back.
    for raw, result in results:
        assert json.loads(raw).keys() == {"order"}
        assert parser.parse_delivery(raw) == result
    assert "Tạp hóa Minh Anh" in results[0][0]  # Vietnamese left readable


def test_one_invalid_polled_order_does_not_reject_the_others():
    results, _next = parser.parse_poll_page(_bytes("poll_page_data.json"), 1, 3)
    assert [result.ok for _raw, result in results] == [True, True, False]
    assert _errors(results[2][1]) == {
        "order.lines[0].qty": "must be a number",
        "order.updated_at": (
            "is required on a polled order (or write_date): polling moves forward "
            "with it"
        ),
    }


def test_a_polled_order_without_a_version_is_refused():
    order = copy.deepcopy(_load("poll_page_array.json")[0])
    del order["updated_at"]
    [(_raw, result)] = parser.parse_poll_page(json.dumps([order]), 1, 10)[0]
    assert list(_errors(result)) == ["order.updated_at"]


def test_a_polled_item_that_is_not_an_object():
    [(raw, result)] = parser.parse_poll_page("[42]")[0]
    assert raw == '{"order": 42}'
    assert _errors(result) == {"order": "must be an object"}


@pytest.mark.parametrize(
    ("page", "page_size", "count", "total", "expected"),
    [
        (1, 2, 2, None, 2),
        (1, 2, 1, None, None),
        (1, 2, 0, None, None),
        (1, 2, 2, 4, 2),
        (2, 2, 2, 4, None),
        (1, 2, 0, 4, None),
        (3, 100, 100, 1000, 4),
    ],
)
def test_next_page(page, page_size, count, total, expected):
    assert parser.next_page(page, page_size, count, total) == expected


def test_poll_pages_may_be_decoded_already():
    results, following = parser.parse_poll_page({"data": [], "total": 0})
    assert (results, following) == ([], None)
    results, following = parser.parse_poll_page({"result": None})
    assert (results, following) == ([], None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>502 Bad Gateway</html>", "answered with something that is not JSON"),
        (b'"ok"', "answered with an unexpected shape"),
        (b'{"orders": []}', "without a list of orders (expected data, result"),
        (b'{"data": {"id": 1}}', "answered data that is not a list of orders"),
        ('{"data": [], "total": "nhiều"}', "answered a total that is not a number"),
        (
            b'{"jsonrpc": "2.0", "error": {"code": 200, "message": "Odoo Server '
            b'Error", "data": {"message": "Invalid field updated_since"}}}',
            "Cloudify refused the request: Invalid field updated_since",
        ),
        (
            b'{"success": false, "message": "Kh\\u00f4ng c\\u00f3 quy\\u1ec1n"}',
            "Cloudify refused the request: Không có quyền",
        ),
    ],
)
def test_unusable_poll_answers_raise_a_readable_error(body, message):
    with pytest.raises(parser.PollError) as raised:
        parser.parse_poll_page(body)
    assert message in str(raised.value)
    assert raised.value.session_expired is False


def test_an_expired_session_in_a_poll_answer_says_so():
    body = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": 100, "message": "Odoo Session Expired"},
    }
    with pytest.raises(parser.PollError) as raised:
        parser.parse_poll_page(json.dumps(body))
    assert raised.value.session_expired is True
    assert "log in again" in str(raised.value)


def test_parse_moment():
    assert parser.parse_moment("2026-11-23") == _utc(2026, 11, 22, 17)
    assert parser.parse_moment("2026-11-22T09:05:00+07:00") == _utc(2026, 11, 22, 2, 5)
    assert parser.parse_moment("2026-11-22T02:05:00Z") == _utc(2026, 11, 22, 2, 5)
    assert parser.parse_moment("2026-11-22 02:05:00", naive_is_utc=True) == _utc(
        2026, 11, 22, 2, 5
    )
    for bad in ("2026-11-22 02:05:00", "23/11/2026", "", None, 20261122):
        with pytest.raises(ValueError):
            parser.parse_moment(bad)


# --- bodies that must be refused fast, not raise or burn CPU -----------------

MiB = 1 << 20


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "$", "TOO_DEEP_MESSAGE"),
        (b'{"order":' * MiB, "$", "TOO_DEEP_MESSAGE"),
        ('{"order": {}}'.encode("utf-16"), "$", "NOT_UTF8_MESSAGE"),
        (
            b'{"order": {"amount_total": 1' + b"0" * MiB + b"}}",
            "order.amount_total",
            "NUMBER_TOO_LONG_MESSAGE",
        ),
        (
            b'{"order": {"lines": [{"qty": 1E+999999999}]}}',
            "order.lines[0].qty",
            "NOT_FINITE_MESSAGE",
        ),
        (
            b'{"order": {"lines": [{"qty": NaN}]}}',
            "order.lines[0].qty",
            "NOT_FINITE_MESSAGE",
        ),
        (b'{"order": {"note": "a\\u0000"}}', "order.note", "NUL_MESSAGE"),
    ],
)
def test_events_refused_before_their_order_is_read(body, path, message):
    assert _errors(parser.parse_delivery(body)) == {path: getattr(normalize, message)}


def test_amounts_too_large_are_refused_with_their_path():
    event = _with_line(0, qty="1E+999999", price_unit="9" * 40)
    event["order"]["amount_total"] = 10**13
    errors = _errors(_parse(event))
    assert errors["order.lines[0].qty"] == normalize.TOO_LARGE_MESSAGE
    assert errors["order.lines[0].price_unit"] == normalize.NUMBER_TOO_LONG_MESSAGE
    assert errors["order.amount_total"] == normalize.TOO_LARGE_MESSAGE


def test_a_nul_character_rejects_only_its_polled_order():
    page = _load("poll_page_array.json")
    page[1]["outlet"]["name"] = "Tạp hóa\u0000"
    results, _next = parser.parse_poll_page(json.dumps(page), 1, 10)
    assert [result.ok for _raw, result in results] == [
        True,
        False,
        *[True] * (len(page) - 2),
    ]
    assert _errors(results[1][1]) == {"order.outlet.name": normalize.NUL_MESSAGE}
    # Stored as it is, it is refused the same when the queue parses it.
    assert parser.parse_delivery(results[1][0]) == results[1][1]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * MiB, "cannot be read ($: " + normalize.TOO_DEEP_MESSAGE),
        (
            b'{"data": [{"qty": 1' + b"0" * 5000 + b"}]}",
            "cannot be read (data[0].qty: " + normalize.NUMBER_TOO_LONG_MESSAGE,
        ),
        ("[]".encode("utf-16"), "cannot be read ($: " + normalize.NOT_UTF8_MESSAGE),
    ],
)
def test_poll_answers_that_cannot_be_read_raise_a_poll_error(body, message):
    with pytest.raises(parser.PollError) as raised:
        parser.parse_poll_page(body)
    assert message in str(raised.value)


# --- inbound contract 1.1 -----------------------------------------------------


def _issues(result):
    return [(issue.path, issue.message) for issue in result.errors]


def _with_order(**order_changes):
    """The 1.1 example event; ``order_changes`` replace order keys (None
    removes the key)."""
    event = _load("event_order_contract_1_1.json")
    for key, value in order_changes.items():
        if value is None:
            event["order"].pop(key, None)
        else:
            event["order"][key] = value
    return _parse(event)


def test_contract_1_1_fields_of_an_order():
    raw = _bytes("event_order_contract_1_1.json").decode()
    assert "Nguyễn Trãi" not in raw  # the fixture holds it decomposed (NFD)
    order = _order_of("event_order_contract_1_1.json")
    assert order.pricelist_code == "BANG-GIA-SI"
    assert order.shipping_address == normalize.NormalizedCustomer(
        external_id="ADDR-12",
        name="Kho Minh Anh",
        phone="0901234568",
        street="45 Nguyễn Trãi",
        street2="Phường Bến Thành",  # ward
        city="TP Hồ Chí Minh",  # province
        state="TP Hồ Chí Minh",  # province
        zip="700000",
        country_code="VN",  # sent "vn"
    )
    assert order.extra["promotions"] == [
        {"code": "KM2511-01", "name": "Mua 5 thùng tặng 2 chai", "amount": 0},
        {"code": "CK-DH", "name": "Chiết khấu đơn hàng", "amount": 20000},
    ]
    assert json.loads(json.dumps(order.extra)) == order.extra  # JSON-ready


def test_contract_1_1_fields_of_the_lines():
    paid, free = _order_of("event_order_contract_1_1.json").lines
    assert (paid.uom_name, paid.warehouse_code, paid.note, paid.promotion_code) == (
        "Thùng",  # sent decomposed (NFD)
        "WH-HCM",
        "Hàng dễ vỡ",
        "",
    )
    assert unicodedata.is_normalized("NFC", paid.uom_name)
    assert unicodedata.is_normalized("NFC", paid.note)
    assert (free.uom_name, free.warehouse_code, free.note, free.promotion_code) == (
        "Chai",
        "WH-Q7",
        "",
        "KM2511-01",
    )


def test_the_proposal_example_has_none_of_the_new_order_fields():
    order = _order_of("event_order_created.json")
    assert order.shipping_address is None
    assert order.pricelist_code == ""
    assert order.extra["promotions"] == []
    assert [line.warehouse_code for line in order.lines] == ["", ""]


def test_unit_codes_are_the_same_whether_sent_nfc_or_nfd():
    composed = "Thùng"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    units = set()
    for unit in (composed, decomposed, f" {decomposed} "):
        result = _parse(_with_line(0, uom=unit))
        assert result.ok, result.errors
        units.add(result.orders[0].lines[0].uom_name)
    assert units == {"Thùng"}


def test_line_warehouse_is_a_code():
    too_long = "W" * (normalize.MAX_ID_LENGTH + 1)
    assert _issues(_parse(_with_line(0, warehouse=too_long))) == [
        ("order.lines[0].warehouse", normalize.ID_TOO_LONG_MESSAGE)
    ]
    assert _issues(_parse(_with_line(1, warehouse=["WH-HCM"]))) == [
        ("order.lines[1].warehouse", "must be text")
    ]
    warehouse = unicodedata.normalize("NFD", " Kho Hà Nội ")
    result = _parse(_with_line(0, warehouse=warehouse))
    assert result.orders[0].lines[0].warehouse_code == "Kho Hà Nội"


def test_pricelist_code_is_an_optional_code():
    assert _with_order(pricelist_code=None).orders[0].pricelist_code == ""
    assert _with_order(pricelist_code=" SI-01 ").orders[0].pricelist_code == "SI-01"
    too_long = "P" * (normalize.MAX_ID_LENGTH + 1)
    assert _issues(_with_order(pricelist_code=too_long)) == [
        ("order.pricelist_code", normalize.ID_TOO_LONG_MESSAGE)
    ]
    assert _issues(_with_order(pricelist_code={"code": "SI"})) == [
        ("order.pricelist_code", "must be text")
    ]


def test_shipping_address_absent_or_null_is_none():
    assert _with_order(shipping_address=None).orders[0].shipping_address is None
    event = _load("event_order_contract_1_1.json")
    event["order"]["shipping_address"] = None  # null, sent
    assert _order_of_event(event).shipping_address is None


def _order_of_event(event):
    result = _parse(event)
    assert result.ok, result.errors
    [order] = result.orders
    return order


def test_shipping_address_id_alone_is_enough_and_the_country_is_vn():
    address = _with_order(shipping_address={"id": 12}).orders[0].shipping_address
    assert address == normalize.NormalizedCustomer(
        external_id="12", name="", country_code="VN"
    )


@pytest.mark.parametrize("key", ["street", "ward", "province", "zip", "country_code"])
def test_shipping_address_without_id_needs_one_address_field(key):
    result = _with_order(shipping_address={"name": "Kho", key: "VN"})
    assert result.ok, result.errors
    address = result.orders[0].shipping_address
    assert address.external_id == ""
    assert address.name == "Kho"


@pytest.mark.parametrize(
    "address",
    [{}, {"name": "Kho Minh Anh", "phone": "0901234568"}, {"id": "", "street": " "}],
)
def test_shipping_address_with_neither_id_nor_address_is_an_error(address):
    assert _issues(_with_order(shipping_address=address)) == [
        ("order.shipping_address", "needs an id or an address")
    ]


@pytest.mark.parametrize("address", ["45 Nguyễn Trãi", ["ADDR-12"], 12, True])
def test_shipping_address_not_an_object_is_an_error(address):
    assert _issues(_with_order(shipping_address=address)) == [
        ("order.shipping_address", "must be an object")
    ]


def test_shipping_address_fields_must_be_text():
    result = _with_order(
        shipping_address={"id": 12.5, "street": {"no": 45}, "province": ["HCM"]}
    )
    assert _issues(result) == [
        ("order.shipping_address.id", "must be text"),
        ("order.shipping_address.street", "must be text"),
        ("order.shipping_address.province", "must be text"),
    ]


def test_shipping_address_id_is_a_code():
    too_long = "A" * (normalize.MAX_ID_LENGTH + 1)
    assert _issues(_with_order(shipping_address={"id": too_long})) == [
        ("order.shipping_address.id", normalize.ID_TOO_LONG_MESSAGE)
    ]


def test_promotions_are_optional():
    assert _with_order(promotions=None).orders[0].extra["promotions"] == []
    assert _with_order(promotions=[]).orders[0].extra["promotions"] == []
    result = _with_order(promotions=[{"code": " KM-1 "}])
    assert result.orders[0].extra["promotions"] == [
        {"code": "KM-1", "name": "", "amount": None}
    ]
    result = _with_order(promotions=[{"code": "KM-2", "amount": "15000"}])
    assert result.orders[0].extra["promotions"][0]["amount"] == 15000


def test_promotions_errors_have_their_paths():
    assert _issues(_with_order(promotions={"code": "KM-1"})) == [
        ("order.promotions", "must be a list")
    ]
    result = _with_order(
        promotions=[
            "KM-1",
            {"name": "Không mã"},
            {"code": "KM-3", "amount": 1500.5},
            {"code": "KM-4", "amount": -1},
            {"code": ["KM-5"], "name": True},
        ]
    )
    assert _issues(result) == [
        ("order.promotions[0]", "must be an object"),
        ("order.promotions[1].code", "is required"),
        (
            "order.promotions[2].amount",
            "must be a whole number of đồng (VND has no decimals)",
        ),
        ("order.promotions[3].amount", "must be 0 or more"),
        ("order.promotions[4].code", "must be text"),
        ("order.promotions[4].name", "must be text"),
    ]
