"""Faults on a real server: PostgreSQL restarted while deliveries arrive, and
a provider down, then back, while status callbacks are sent."""

import json
import shutil
import subprocess
import threading
import time

import pytest
import requests
from oms_lib.simulator import ProviderSimulator
from test_concurrent_deliveries import _make_source, _signed_headers
from test_runners import _order


def _restart_postgres():
    """Restart the PostgreSQL cluster the tests run on (Debian's tools)."""
    if not shutil.which("pg_ctlcluster"):
        pytest.fail("pg_ctlcluster is needed to restart PostgreSQL")
    subprocess.run(["pg_ctlcluster", "15", "main", "restart"], check=True)


def _post(url, body, msg_id):
    try:
        response = requests.post(
            url,
            data=body,
            headers=_signed_headers(body, msg_id, int(time.time())),
            timeout=30,
        )
    except requests.RequestException as exc:
        return None, str(exc)
    return response.status_code, response.text


def _wait_for_database(odoo, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            odoo.call("oms.integration.source", "search_count", [])
            return
        except Exception:  # noqa: BLE001 - still restarting
            time.sleep(1)
    pytest.fail("Odoo did not reach the database again")


def test_a_database_restart_under_load_loses_nothing_and_is_never_a_4xx(odoo_server):
    odoo = odoo_server
    source_id, key = _make_source(odoo, f"E2E restart {time.time_ns()}")
    url = f"{odoo.url}/oms/webhook/{key}"
    prefix = f"E2E-DB{time.time_ns()}"
    deliveries = [
        (f"{prefix}-{index}", _order(f"{prefix}-{index}", lines=2))
        for index in range(400)
    ]
    answers = {}

    def send(batch):
        for msg_id, body in batch:
            answers[msg_id] = _post(url, body, msg_id)

    # 50 per second: 8 seconds, PostgreSQL restarted after 2.
    threads = []
    restarter = threading.Timer(2.0, _restart_postgres)
    restarter.start()
    for start in range(0, 400, 25):
        thread = threading.Thread(target=send, args=(deliveries[start : start + 25],))
        thread.start()
        threads.append(thread)
        time.sleep(0.5)
    for thread in threads:
        thread.join()
    restarter.join()
    _wait_for_database(odoo)

    statuses = [status for status, _text in answers.values()]
    refused = {
        msg_id: answer
        for msg_id, answer in answers.items()
        if answer[0] is not None and 400 <= answer[0] < 500
    }
    assert not refused, f"4xx during the outage: {list(refused.items())[:3]}"
    accepted = {m for m, (status, _text) in answers.items() if status in (200, 202)}
    unavailable = [text for status, text in answers.values() if status == 503]
    for text in unavailable:
        assert json.loads(text) == {"status": "unavailable"}
    print(
        f"\n{len(accepted)} accepted, {len(unavailable)} answered 503, "
        f"{sum(1 for s in statuses if s is None or (s >= 500 and s != 503))} "
        "other errors during the restart"
    )
    stored = {
        event["delivery_id"]
        for event in odoo.call(
            "oms.integration.event",
            "search_read",
            [("source_id", "=", source_id)],
            fields=["delivery_id"],
        )
    }
    missing = accepted - stored
    assert not missing, f"answered 2xx but not stored: {sorted(missing)[:5]}"
    # What was not accepted is sent again, as a provider does: all accepted.
    for msg_id, body in deliveries:
        if msg_id not in accepted:
            status, text = _post(url, body, msg_id)
            assert status in (200, 202), (msg_id, status, text)
    count = odoo.call(
        "oms.integration.event", "search_count", [("source_id", "=", source_id)]
    )
    assert count == 400


def test_callbacks_survive_a_provider_down_then_back(odoo_server):
    """The provider answers 503 to the first callbacks, then comes back:
    every status arrives once, each order's in order, nothing is lost."""
    odoo = odoo_server
    simulator = ProviderSimulator().start()
    try:
        source_id, _key = _make_source(odoo, f"E2E callbacks {time.time_ns()}")
        odoo.call(
            "oms.integration.source",
            "write",
            [source_id],
            {
                "outbound_enabled": True,
                "callback_url": f"{simulator.url}/status",
                "retry_base_delay": 1,
                "retry_max_delay": 5,
                "circuit_threshold": 3,
                "circuit_cooldown": 5,
                "rate_limit": 0,
            },
        )
        wizard_id = odoo.call(
            "oms.integration.consent.wizard",
            "create",
            {"source_id": source_id, "scope_outbound": True, "confirmed": True},
        )
        odoo.call("oms.integration.consent.wizard", "action_confirm", [wizard_id])
        simulator.script(503, {"error": "down for maintenance"}, times=6)
        product = odoo.call(
            "product.product", "search", [("default_code", "=", "SP001")], limit=1
        )
        partner = odoo.call("res.partner", "create", {"name": "E2E callbacks"})
        prefix = f"E2E-CB{time.time_ns()}"
        order_ids = [
            odoo.call(
                "sale.order",
                "create",
                {
                    "partner_id": partner,
                    "oms_source_id": source_id,
                    "oms_external_id": f"{prefix}-{index}",
                    "order_line": [
                        (0, 0, {"product_id": product[0], "product_uom_qty": 1})
                    ],
                },
            )
            for index in range(4)
        ]
        odoo.call("sale.order", "action_confirm", order_ids)
        deadline = time.monotonic() + 300
        events = []
        while time.monotonic() < deadline:
            events = odoo.call(
                "oms.integration.event",
                "search_read",
                [("source_id", "=", source_id), ("direction", "=", "outbound")],
                fields=["state", "delivery_id", "external_order_id", "status"],
            )
            if events and all(e["state"] in ("done", "dead") for e in events):
                break
            time.sleep(2)
        assert events and {e["state"] for e in events} == {"done"}, events
        accepted = [c for c in simulator.callbacks if c["status"] < 300]
        ids = [c["headers"].get("webhook-id") for c in accepted]
        assert sorted(ids) == sorted(e["delivery_id"] for e in events), ids
        assert len(ids) == len(set(ids)), "a status was accepted twice"
        for index in range(4):
            received = [
                json.loads(c["body"])["status"]
                for c in accepted
                if json.loads(c["body"])["order"]["id"] == f"{prefix}-{index}"
            ]
            expected = [
                e["status"]
                for e in sorted(events, key=lambda e: e["id"])
                if e["external_order_id"] == f"{prefix}-{index}"
            ]
            assert received == expected, (received, expected)
    finally:
        simulator.stop()
