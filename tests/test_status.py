import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from oms_lib import signatures, status
from standardwebhooks.webhooks import Webhook

OCCURRED = datetime(2026, 11, 23, 3, 10, tzinfo=timezone.utc)

# The contract's example body, as-is.
CONTRACT_EXAMPLE = {
    "type": "order.status",
    "order": {"id": "EXT-1001", "name": "WEB/2026/1001"},
    "status": "delivered",
    "occurred_at": "2026-11-23T03:10:00Z",
    "odoo": {"sale_order": "S00042"},
    "complete": True,
    "tracking": {"carrier": "GHN", "number": "GHN123456789"},
    "lines": [{"id": "1", "sku": "SP001", "quantity_delivered": 5}],
}


def test_contract_example_is_built_exactly():
    body = status.build_status_body(
        "EXT-1001",
        "WEB/2026/1001",
        "delivered",
        OCCURRED,
        "S00042",
        complete=True,
        tracking={"carrier": "GHN", "number": "GHN123456789"},
        # Odoo's delivered quantities are floats.
        lines=[{"id": "1", "sku": "SP001", "quantity_delivered": 5.0}],
    )
    assert body == CONTRACT_EXAMPLE
    assert json.dumps(body["lines"]) == json.dumps(CONTRACT_EXAMPLE["lines"])


def test_optional_keys_are_left_out():
    body = status.build_status_body(
        "EXT-1001", "WEB/2026/1001", "approved", OCCURRED, "S00042"
    )
    assert body == {
        "type": "order.status",
        "order": {"id": "EXT-1001", "name": "WEB/2026/1001"},
        "status": "approved",
        "occurred_at": "2026-11-23T03:10:00Z",
        "odoo": {"sale_order": "S00042"},
    }


def test_partial_delivery():
    body = status.build_status_body(
        "EXT-1001",
        "WEB/2026/1001",
        "delivered",
        OCCURRED,
        "S00042",
        complete=False,
        lines=[
            {"id": "1", "sku": "SP001", "quantity_delivered": Decimal("3")},
            {"id": 2, "sku": None, "quantity_delivered": 2.5, "product_id": 7},
        ],
    )
    assert body["complete"] is False
    assert body["lines"] == [
        {"id": "1", "sku": "SP001", "quantity_delivered": 3},
        {"id": "2", "sku": "", "quantity_delivered": 2.5},
    ]
    assert "tracking" not in body


def test_only_contract_keys_of_tracking_and_empty_tracking():
    body = status.build_status_body(
        "E",
        "N",
        "delivered",
        OCCURRED,
        "S1",
        tracking={"carrier": "GHN", "number": "X1", "cost": 30000},
    )
    assert body["tracking"] == {"carrier": "GHN", "number": "X1"}
    body = status.build_status_body(
        "E", "N", "delivered", OCCURRED, "S1", tracking={"carrier": False}
    )
    assert "tracking" not in body


@pytest.mark.parametrize(
    "moment",
    [
        OCCURRED,
        OCCURRED.replace(microsecond=999999),
        # Odoo's datetimes are naive UTC.
        OCCURRED.replace(tzinfo=None),
        OCCURRED.astimezone(timezone(timedelta(hours=7))),
    ],
)
def test_occurred_at_is_utc_in_whole_seconds(moment):
    body = status.build_status_body("E", "N", "approved", moment, "S1")
    assert body["occurred_at"] == "2026-11-23T03:10:00Z"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": "shipped"}, ValueError),
        ({"order_id": ""}, ValueError),
        ({"occurred_at": "2026-11-23T03:10:00Z"}, TypeError),
        ({"complete": "yes"}, TypeError),
        ({"tracking": "GHN123"}, TypeError),
        ({"lines": [{"id": "1", "quantity_delivered": True}]}, ValueError),
        ({"lines": [{"id": "1", "quantity_delivered": float("nan")}]}, ValueError),
    ],
)
def test_invalid_arguments_are_programming_errors(kwargs, error):
    arguments = {
        "order_id": "E",
        "order_name": "N",
        "status": "delivered",
        "occurred_at": OCCURRED,
        "sale_order_name": "S1",
    }
    arguments.update(kwargs)
    with pytest.raises(error):
        status.build_status_body(**arguments)


def test_dumped_body_is_signed_and_verified_by_the_reference():
    secret = signatures.new_standard_webhooks_secret()
    body = status.build_status_body(
        "EXT-1001", "Đơn hàng 1001", "approved", OCCURRED, "S00042"
    )
    raw = status.dumps_status_body(body)
    assert json.loads(raw) == body
    assert "Đơn hàng".encode() in raw  # UTF-8, not \u escapes
    timestamp = int(datetime.now(timezone.utc).timestamp())
    headers = {
        "webhook-id": "evt_42",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures.standard_webhooks_sign(
            secret, "evt_42", timestamp, raw
        ),
    }
    assert Webhook(secret).verify(raw, headers) == body


# --- Regressions ------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "new", "regression"),
    [
        (None, "approved", False),
        ("", "delivered", False),
        ("approved", "processing", False),
        ("approved", "delivered", False),
        ("processing", "delivered", False),
        ("approved", "approved", False),
        # Partial deliveries send "delivered" more than once.
        ("delivered", "delivered", False),
        ("processing", "approved", True),
        ("delivered", "processing", True),
        ("delivered", "approved", True),
        # A cancellation may follow anything, itself included.
        ("approved", "cancelled", False),
        ("processing", "cancelled", False),
        ("delivered", "cancelled", False),
        ("cancelled", "cancelled", False),
        # Nothing goes back from a cancellation.
        ("cancelled", "approved", True),
        ("cancelled", "delivered", True),
    ],
)
def test_is_regression(previous, new, regression):
    assert status.is_regression(previous, new) is regression


def test_status_order_is_the_contracts():
    assert status.STATUS_ORDER == ("approved", "processing", "delivered", "cancelled")


def test_unknown_statuses_and_provider_orders():
    with pytest.raises(ValueError):
        status.is_regression("approved", "shipped")
    with pytest.raises(ValueError):
        status.is_regression("shipped", "approved")
    # A provider addon adding "invoiced" passes its own order.
    extended = ("approved", "processing", "delivered", "invoiced", "cancelled")
    assert not status.is_regression("delivered", "invoiced", order=extended)
    assert status.is_regression("invoiced", "delivered", order=extended)
    assert not status.is_regression("invoiced", "cancelled", order=extended)
