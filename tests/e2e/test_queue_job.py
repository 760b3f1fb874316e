"""The queue as OCA queue jobs on a real server: queue_job's job runner in
the master process dispatching to two HTTP workers, channel
``root.oms.inbound`` of capacity 2. A backlog of orders (some with several
versions) drains with one sale order per external order, every version
applied in order and once; then uninstalling the bridge hands the queue back
to the cron runners with nothing lost."""

import concurrent.futures
import os
import signal
import subprocess
import time
import xmlrpc.client

import pytest
from test_concurrent_deliveries import _make_source
from test_runners import _deliver, _order

ORDERS = 24
# One order in four gets a second and a third version, sent after the first.
VERSIONS = {f"QJ-{n}": 3 if n % 4 == 0 else 1 for n in range(ORDERS)}


def _uninstall(odoo, module_id, timeout=120):
    """Uninstall as an administrator does: Odoo refuses while a scheduled
    action runs (the alerts, the readiness check, the clean-up start with a
    fresh server), saying to try again later; so do we."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return odoo.call(
                "ir.module.module", "button_immediate_uninstall", [module_id]
            )
        except xmlrpc.client.Fault as fault:
            busy = any(
                sign in fault.faultString
                for sign in (
                    "currently processing a scheduled action",
                    "LockNotAvailable",
                )
            )
            if not busy or time.monotonic() > deadline:
                raise
        time.sleep(2)


def _wait_until_done(odoo, source_id, expected, timeout=240):
    deadline = time.monotonic() + timeout
    while True:
        events = odoo.call(
            "oms.integration.event",
            "search_read",
            [("source_id", "=", source_id)],
            fields=["state", "attempts", "external_order_id", "last_error"],
        )
        done = [e for e in events if e["state"] == "done"]
        if len(done) == expected:
            return events
        stuck = [e for e in events if e["state"] in ("dead", "failed")]
        assert not stuck, stuck
        if time.monotonic() > deadline:
            states = sorted({e["state"] for e in events})
            pytest.fail(f"{len(done)}/{expected} events done, states {states}")
        time.sleep(1)


def _check_orders(odoo, source_id, versions):
    orders = odoo.call(
        "sale.order",
        "search_read",
        [("oms_source_id", "=", source_id)],
        fields=["oms_external_id", "oms_updated_at", "order_line"],
    )
    by_id = {}
    for order in orders:
        assert order["oms_external_id"] not in by_id, "a duplicate sale order"
        by_id[order["oms_external_id"]] = order
    assert set(by_id) == set(versions)
    for external_id, count in versions.items():
        # Version v is dated 09:(30 + v): the last one applied is the last.
        minute = 30 + count - 1
        assert by_id[external_id]["oms_updated_at"].endswith(f"09:{minute}:00")
    return by_id


def _workers(master_pid):
    """The master's children: HTTP workers, cron worker, job runner."""
    found = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def test_a_backlog_drains_by_itself_after_every_worker_is_killed(odoo_jobs_server):
    """kill -9 of every worker in the middle of a backlog: the jobs they were
    running stay "started" (queue_job's known failure), their events
    "processing" with a lease. Once the lease ends, the backstop scheduled
    action (every 2 minutes, on its own) enqueues them again: every order
    ends applied once."""
    odoo = odoo_jobs_server
    odoo.call("ir.config_parameter", "set_param", "oms_integration.lease_seconds", "20")
    source_id, key = _make_source(odoo, "E2E queue jobs, workers killed")
    url = f"{odoo.url}/oms/webhook/{key}"
    count = 30
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda n: _deliver(url, _order(f"QK-{n}"), f"qk-{n}-0"),
                range(count),
            )
        )
    # In the middle of it: some done, some not.
    deadline = time.monotonic() + 60
    while True:
        states = [
            e["state"]
            for e in odoo.call(
                "oms.integration.event",
                "search_read",
                [("source_id", "=", source_id)],
                fields=["state"],
            )
        ]
        if states.count("done") >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert states.count("done") < count, "the backlog drained before the kill"
    killed = _workers(odoo.pid)
    assert len(killed) >= 3, killed
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    # The master starts new workers; nobody touches anything else.
    events = _wait_until_done(odoo, source_id, count, timeout=300)
    assert len(events) == count
    _check_orders(odoo, source_id, {f"QK-{n}": 1 for n in range(count)})


def test_a_backlog_drains_through_queue_jobs_then_the_cron_takes_over(
    odoo_jobs_server,
):
    odoo = odoo_jobs_server
    [module] = odoo.call(
        "ir.module.module",
        "search_read",
        [("name", "=", "oms_integration_queue_job")],
        fields=["state"],
    )
    assert module["state"] == "installed"
    source_id, key = _make_source(odoo, "E2E queue jobs")
    url = f"{odoo.url}/oms/webhook/{key}"

    # The first versions from four clients at once, then the later ones.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda n: _deliver(url, _order(f"QJ-{n}"), f"qj-{n}-0"),
                range(ORDERS),
            )
        )
    for external_id, count in VERSIONS.items():
        for version in range(1, count):
            _deliver(
                url,
                _order(external_id, version, quantity=version + 1),
                f"{external_id}-{version}",
            )
    expected = sum(VERSIONS.values())
    events = _wait_until_done(odoo, source_id, expected)
    assert all(e["attempts"] == 1 for e in events), "each applied once"
    _check_orders(odoo, source_id, VERSIONS)

    # queue_job ran them: every event's job is done, on the inbound channel.
    jobs = odoo.call(
        "queue.job",
        "search_read",
        [("model_name", "=", "oms.integration.event")],
        fields=["state", "channel"],
    )
    assert len(jobs) >= expected
    assert {job["channel"] for job in jobs} == {"root.oms.inbound"}
    assert {job["state"] for job in jobs} == {"done"}, jobs

    # Uninstalled, the bridge hands the queue back to the cron runners.
    _uninstall(odoo, module["id"])
    more = {f"QJ-AFTER-{n}": 1 for n in range(4)}
    for external_id in more:
        _deliver(url, _order(external_id), f"{external_id}-0")
    _wait_until_done(odoo, source_id, expected + len(more), timeout=180)
    _check_orders(odoo, source_id, dict(VERSIONS, **more))
