"""The queue's runners on a real server (two worker processes, Odoo's default
two cron threads): several runners work one backlog at once, each external
order's versions are applied in the order received and once, and a worker
killed in the middle of a batch loses nothing: after the lease, each event
of its batch is tried alone, so only the poison order is dead-lettered."""

import concurrent.futures
import contextlib
import json
import os
import signal
import time

import requests
from conftest import database
from test_concurrent_deliveries import _make_source, _signed_headers


def _order(order_id, version=0, lines=10, quantity=1):
    """A canonical order of ``lines`` lines of the demo product SP001; each
    version a minute later than the one before."""
    return json.dumps(
        {
            "type": "order.updated" if version else "order.created",
            "order": {
                "id": order_id,
                "updated_at": f"2026-11-22T09:{30 + version:02d}:00Z",
                "currency": "USD",
                "customer": {"id": "E2E-C1", "name": "E2E Customer"},
                "lines": [
                    {
                        "id": str(index),
                        "product": {"sku": "SP001"},
                        "quantity": quantity,
                        "price_unit": 10,
                    }
                    for index in range(lines)
                ],
            },
        }
    ).encode()


def _deliver(url, body, msg_id):
    response = requests.post(
        url,
        data=body,
        headers=_signed_headers(body, msg_id, int(time.time())),
        timeout=60,
    )
    assert response.status_code == 202, response.text
    return response.json()["event_id"]


def _events(odoo, source_id):
    return odoo.call(
        "oms.integration.event",
        "search_read",
        [("source_id", "=", source_id)],
        fields=["state", "attempts", "external_order_id", "last_error"],
    )


def _wait(odoo, source_id, settled, timeout, nudge=None):
    """Wait until ``settled(events)``; ``nudge()`` every few seconds meanwhile
    (a delivery, which wakes a runner up)."""
    deadline = time.monotonic() + timeout
    events = _events(odoo, source_id)
    last_nudge = time.monotonic()
    while not settled(events) and time.monotonic() < deadline:
        time.sleep(1)
        if nudge and time.monotonic() - last_nudge > 5:
            nudge()
            last_nudge = time.monotonic()
        events = _events(odoo, source_id)
    return events


def _runner_ids(odoo):
    data = odoo.call(
        "ir.model.data",
        "search_read",
        [
            ("module", "=", "oms_integration"),
            ("name", "in", ["ir_cron_process_queue", "ir_cron_process_queue_2"]),
        ],
        fields=["res_id"],
    )
    return [row["res_id"] for row in data]


def _runner_lastcalls(odoo):
    crons = odoo.call("ir.cron", "read", _runner_ids(odoo), fields=["lastcall"])
    return [cron["lastcall"] for cron in crons]


def test_two_runners_work_one_backlog_each_order_in_order_and_once(odoo_server):
    odoo = odoo_server
    started = odoo.call("oms.integration.event", "search_count", [])
    started_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
    source_id, key = _make_source(odoo, f"E2E runners {time.time_ns()}")
    url = f"{odoo.url}/oms/webhook/{key}"
    prefix = f"E2E-R{time.time_ns()}"
    # 36 orders of 10 lines, sent by four clients at once (faster than one
    # runner applies them: a backlog forms); then 8 of them sent again twice,
    # the quantity of the last version (3) being the one to keep.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as clients:
        list(
            clients.map(
                lambda index: _deliver(
                    url, _order(f"{prefix}-{index}"), f"{prefix}-{index}-v0"
                ),
                range(36),
            )
        )
    for index in range(8):
        for version in (1, 2):
            _deliver(
                url,
                _order(f"{prefix}-{index}", version, quantity=version + 1),
                f"{prefix}-{index}-v{version}",
            )
    assert odoo.call("oms.integration.event", "search_count", []) >= started + 52

    events = _wait(
        odoo,
        source_id,
        lambda events: all(e["state"] in ("done", "dead") for e in events),
        timeout=300,
    )
    failed = [e for e in events if e["state"] != "done"]
    assert not failed, failed
    assert len(events) == 52
    # No event failed by concurrency: each applied at its first attempt
    # (a deferral after a concurrent update does not count one).
    assert {e["attempts"] for e in events} == {1}, events
    orders = odoo.call(
        "sale.order",
        "search_read",
        [("oms_source_id", "=", source_id)],
        fields=["oms_external_id", "order_line"],
    )
    external_ids = [order["oms_external_id"] for order in orders]
    assert len(external_ids) == 36 == len(set(external_ids)), "one order each"
    lines = odoo.call(
        "sale.order.line",
        "search_read",
        [("order_id.oms_source_id", "=", source_id), ("display_type", "=", False)],
        fields=["order_id", "product_uom_qty"],
    )
    quantities = {}
    names = {order["id"]: order["oms_external_id"] for order in orders}
    for line in lines:
        quantities.setdefault(names[line["order_id"][0]], set()).add(
            line["product_uom_qty"]
        )
    for index in range(36):
        expected = 3.0 if index < 8 else 1.0
        assert quantities[f"{prefix}-{index}"] == {expected}, (index, quantities)
    # Both runners took part (a job's last call is written once it ends).
    deadline = time.monotonic() + 60
    lastcalls = _runner_lastcalls(odoo)
    while time.monotonic() < deadline and not all(
        lastcall and lastcall >= started_at for lastcall in lastcalls
    ):
        time.sleep(1)
        lastcalls = _runner_lastcalls(odoo)
    assert all(lastcall and lastcall >= started_at for lastcall in lastcalls), (
        started_at,
        lastcalls,
    )


def _cron_workers():
    """The pids of Odoo's cron worker processes (named by Odoo with
    setproctitle: "odoo: WorkerCron <pid> <db>")."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if cmdline.read().startswith(b"odoo: WorkerCron"):
                    pids.append(int(entry))
    return pids


def _kill_cron_workers_in_long_transactions(odoo, seconds):
    """SIGKILL the cron workers whose transaction on the test database has
    lasted more than ``seconds`` (the poison order being applied), as the
    system's out-of-memory killer would: a worker dies in the middle of its
    batch. A worker's connections are its own (Odoo empties the pool before
    forking), named ``odoo-<pid>``. A worker waiting for a lock the poison's
    transaction holds (another order of the same customer) is not the one
    using the memory: it is left alone, as the OOM killer would. Returns the
    pids killed."""
    connection = database(odoo)
    try:
        with connection.cursor() as cr:
            cr.execute(
                "SELECT DISTINCT application_name FROM pg_stat_activity "
                "WHERE datname = %s AND application_name LIKE 'odoo-%%' "
                "AND xact_start < now() - make_interval(secs => %s) "
                "AND wait_event_type IS DISTINCT FROM 'Lock'",
                [odoo.db, seconds],
            )
            busy = {int(row[0].split("-")[1]) for row in cr.fetchall()}
    finally:
        connection.close()
    killed = []
    for pid in set(_cron_workers()) & busy:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def test_a_killed_worker_loses_nothing_and_only_the_poison_is_dead(odoo_server):
    """A poison order so large that applying it takes long; the cron worker
    applying it for more than 8 s is killed with SIGKILL, with the batch it
    had claimed. After the lease (20 s
    here), each event of those batches is tried alone: the others are
    applied once, and the poison, whose worker is killed every time, goes to
    the dead-letter queue."""
    odoo = odoo_server
    odoo.call("ir.config_parameter", "set_param", "oms_integration.lease_seconds", "20")
    source_id, key = _make_source(odoo, f"E2E poison {time.time_ns()}")
    odoo.call("oms.integration.source", "write", [source_id], {"max_attempts": 2})
    url = f"{odoo.url}/oms/webhook/{key}"
    prefix = f"E2E-P{time.time_ns()}"
    _deliver(url, _order(f"{prefix}-poison", lines=6000), f"{prefix}-poison")
    for index in range(5):
        _deliver(url, _order(f"{prefix}-{index}"), f"{prefix}-{index}")
    nudges = iter(range(1000))
    killed = []

    def nudge():
        number = next(nudges)
        _deliver(url, _order(f"{prefix}-n{number}", lines=1), f"{prefix}-n{number}")

    def settled(events):
        killed.extend(_kill_cron_workers_in_long_transactions(odoo, 8))
        return all(e["state"] in ("done", "dead") for e in events)

    try:
        events = _wait(odoo, source_id, settled, timeout=600, nudge=nudge)
    finally:
        odoo.call(
            "ir.config_parameter", "set_param", "oms_integration.lease_seconds", "300"
        )
    assert _cron_workers() or killed, "Odoo's cron workers are not named"
    assert killed, "no worker was killed: the poison did not take long enough"
    dead = [e for e in events if e["state"] == "dead"]
    assert [e["external_order_id"] for e in dead] == [f"{prefix}-poison"], events
    assert "lease expired" in dead[0]["last_error"]
    done = [e for e in events if e["state"] == "done"]
    assert len(done) == len(events) - 1, events
    orders = odoo.call(
        "sale.order",
        "search_read",
        [("oms_source_id", "=", source_id)],
        fields=["oms_external_id"],
    )
    external_ids = sorted(order["oms_external_id"] for order in orders)
    assert len(external_ids) == len(set(external_ids)) == len(done), external_ids
    assert f"{prefix}-poison" not in external_ids
