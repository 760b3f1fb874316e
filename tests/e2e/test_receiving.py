"""One delivery, received by a real server: stored at once as a pending
event, on a connection the worker keeps (the webhook's prepared statement),
and the same delivery again answered as its duplicate."""

import configparser
import json
import os
import time

import psycopg2
import requests
from test_concurrent_deliveries import _make_source, _order_body, _signed_headers


def _database(odoo):
    """A connection to the test database, as the Odoo configuration says."""
    parser = configparser.ConfigParser()
    parser.read(os.environ["OMS_ODOO_CONF"])
    options = {}
    for key in ("host", "port", "user", "password"):
        value = parser.get("options", f"db_{key}", fallback="False")
        if value and value != "False":
            options[key] = value
    return psycopg2.connect(dbname=odoo.db, **options)


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
            "create_uid",
        ],
    )
    assert event["source_id"][0] == source_id
    assert event["direction"] == "inbound"
    assert event["delivery_id"] == f"msg-{order_id}"
    assert event["external_order_id"] == order_id
    assert event["external_updated_at"] == "2026-11-22 09:30:00"
    assert event["payload"] == body.decode()
    assert json.loads(event["headers"])["webhook-signature"] == "***"
    assert not event["create_uid"]

    # Stored by the worker on the connection it keeps for that.
    with _database(odoo_server) as connection, connection.cursor() as cr:
        cr.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name LIKE %s",
            [odoo_server.db, "%-oms-webhook"],
        )
        assert cr.fetchone()[0] >= 1
    connection.close()

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
