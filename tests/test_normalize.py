import copy
import json
import pathlib
import unicodedata
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from oms_lib import normalize

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "compatible"


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
