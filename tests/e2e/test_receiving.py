"""One delivery, received by a real server: stored at once as a pending
event, and the same delivery again answered as its duplicate."""

import json
import time

import requests
from test_concurrent_deliveries import _make_source, _order_body, _signed_headers


def _post(url, body, msg_id):
    headers = _signed_headers(body, msg_id, int(time.time()))
    return requests.post(url, data=body, headers=headers, timeout=60)


def test_a_delivery_is_stored_at_once_and_its_repeat_answered(odoo_server):
    source_id, key = _make_source(odoo_server, f"E2E receiving {time.time_ns()}")
    url = f"{odoo_server.url}/oms/webhook/{key}"
    order_id = f"E2E-{time.time_ns()}"
    body = _order_body(order_id)

    response = _post(url, body, f"msg-{order_id}")
    assert response.status_code == 202, response.text
    event_id = response.json()["event_id"]
    [event] = odoo_server.call(
        "oms.integration.event",
        "read",
        [event_id],
        fields=[
            "source_id",
            "direction",
            "delivery_id",
            "external_order_id",
            "external_updated_at",
            "payload",
            "headers",
        ],
    )
    assert event["source_id"][0] == source_id
    assert event["direction"] == "inbound"
    assert event["delivery_id"] == f"msg-{order_id}"
    assert event["external_order_id"] == order_id
    assert event["external_updated_at"] == "2026-11-22 09:30:00"
    assert event["payload"] == body.decode()
    assert json.loads(event["headers"])["webhook-signature"] == "***"

    again = _post(url, body, f"msg-{order_id}")
    assert again.status_code == 200, again.text
    assert again.json() == {"status": "duplicate", "event_id": event_id}
    # The same payload under another delivery id: the same order's version.
    other = _post(url, body, f"msg-{order_id}-again")
    assert other.json() == {"status": "duplicate", "event_id": event_id}
    events = odoo_server.call(
        "oms.integration.event", "search", [("source_id", "=", source_id)]
    )
    assert events == [event_id]

    # The delivery woke the queue cron, which finds the event committed.
    deadline = time.monotonic() + 120
    state = "pending"
    while time.monotonic() < deadline:
        [event] = odoo_server.call(
            "oms.integration.event", "read", [event_id], fields=["state"]
        )
        state = event["state"]
        if state not in ("pending", "processing"):
            break
        time.sleep(1)
    assert state == "done", state
