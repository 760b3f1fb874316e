"""Ten identical deliveries at the same moment: one event, one sale order.
The same with ten delivery ids for one payload (a provider that sends again
under a new id)."""

import json
import threading
import time

import requests
from oms_lib import signatures

SECRET = "whsec_" + "ZTJlLWNvbmN1cnJlbmN5LXNpZ25pbmctc2VjcmV0"


def _make_source(odoo, name):
    source_id = odoo.call(
        "oms.integration.source",
        "create",
        {"name": name, "mode": "webhook", "signing_secret": SECRET},
    )
    wizard_id = odoo.call(
        "oms.integration.consent.wizard",
        "create",
        {"source_id": source_id, "scope_inbound": True, "confirmed": True},
    )
    odoo.call("oms.integration.consent.wizard", "action_confirm", [wizard_id])
    odoo.call("oms.integration.source", "action_activate", [source_id])
    [source] = odoo.call(
        "oms.integration.source", "read", [source_id], fields=["webhook_key"]
    )
    return source_id, source["webhook_key"]


def _order_body(order_id):
    return json.dumps(
        {
            "type": "order.created",
            "order": {
                "id": order_id,
                "updated_at": "2026-11-22T09:30:00Z",
                "currency": "USD",
                "customer": {"id": "E2E-C1", "name": "E2E Customer"},
                "lines": [
                    {"product": {"sku": "SP001"}, "quantity": 2, "price_unit": 10}
                ],
            },
        }
    ).encode()


def _signed_headers(body, msg_id, sent_at):
    """The headers of a delivery signed with Standard Webhooks."""
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(sent_at),
        "webhook-signature": signatures.standard_webhooks_sign(
            SECRET, msg_id, sent_at, body
        ),
    }


def _deliver_at_once(url, body, msg_ids):
    """Post ``body`` once per webhook id in ``msg_ids``, all at the same
    moment; the answers as ``(status, json)``."""
    sent_at = int(time.time())
    barrier = threading.Barrier(len(msg_ids))
    answers = []

    def deliver(msg_id):
        headers = _signed_headers(body, msg_id, sent_at)
        barrier.wait()
        response = requests.post(url, data=body, headers=headers, timeout=60)
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=deliver, args=(m,)) for m in msg_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_ten_deliveries_of_one_payload_under_ten_ids_at_once(odoo_server):
    source_id, key = _make_source(odoo_server, f"E2E repeats {time.time_ns()}")
    order_id = f"E2E-{time.time_ns()}"
    answers = _deliver_at_once(
        f"{odoo_server.url}/oms/webhook/{key}",
        _order_body(order_id),
        [f"msg-{order_id}-{index}" for index in range(10)],
    )
    statuses = sorted(status for status, _answer in answers)
    assert statuses == [200] * 9 + [202], answers
    assert len({answer["event_id"] for _status, answer in answers}) == 1, answers
    events = odoo_server.call(
        "oms.integration.event",
        "search_read",
        [("source_id", "=", source_id)],
        fields=["delivery_id"],
    )
    assert len(events) == 1, events


def test_ten_identical_deliveries_at_once(odoo_server):
    source_id, key = _make_source(odoo_server, f"E2E concurrency {time.time_ns()}")
    order_id = f"E2E-{time.time_ns()}"
    url = f"{odoo_server.url}/oms/webhook/{key}"
    answers = _deliver_at_once(url, _order_body(order_id), [f"msg-{order_id}"] * 10)

    statuses = sorted(status for status, _answer in answers)
    assert statuses == [200] * 9 + [202], answers
    event_ids = {answer["event_id"] for _status, answer in answers}
    assert len(event_ids) == 1, answers
    events = odoo_server.call(
        "oms.integration.event",
        "search_read",
        [("source_id", "=", source_id)],
        fields=["state"],
    )
    assert len(events) == 1

    # The queue cron, triggered by the delivery, makes exactly one sale order.
    deadline = time.monotonic() + 120
    orders = []
    event = {}
    while time.monotonic() < deadline:
        orders = odoo_server.call(
            "sale.order",
            "search_read",
            [("oms_source_id", "=", source_id), ("oms_external_id", "=", order_id)],
            fields=["name", "amount_untaxed"],
        )
        [event] = odoo_server.call(
            "oms.integration.event",
            "read",
            [events[0]["id"]],
            fields=["state", "last_error", "error_hint"],
        )
        if orders or event["state"] == "dead":
            break
        time.sleep(1)
    assert len(orders) == 1, f"the queue did not make one sale order: event {event}"
    assert orders[0]["amount_untaxed"] == 20
    assert event["state"] == "done", event
