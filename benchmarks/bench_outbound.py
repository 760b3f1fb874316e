"""Performance benchmark of the outbound status callbacks of ``oms_integration``.

Run by ``bash setup/bench.sh`` (``--only callbacks,outage`` for these
figures alone) on the benchmark database, or directly with the project's
virtualenv::

    ~/.cache/oms_integration/venv/bin/python benchmarks/bench_outbound.py \\
        --odoo /opt/odoo-18.0 \\
        --config ~/.cache/oms_integration/odoo-oms_bench.conf --db oms_bench

The database must have ``oms_integration`` installed (demo data or not). Odoo
runs in this process; the receiving end of the callbacks is a local HTTP
server in a process of its own (it never shares this process's GIL), which
answers 200 at once, or 503 when told to, and records every request it gets
with its time.

Figures, each against its baseline or bound, measured in the same run:

- callbacks: status callbacks delivered per second by the send cron
  (``oms.integration.event._cron_send_statuses``: the outbound runner and
  ``oms.integration.sender``, one worker, as Odoo's cron runs it) against
  a plain ``requests.Session()`` loop posting the same bodies with the same
  headers to the same receiver. Both sides run in alternating rounds (the
  order flips every round) after a warm-up, so that both see the same
  machine. The source has no rate limit for this figure
  (the limit is a policy, not a cost).
- outage: the receiver answers 503 for a minute while the cron keeps running
  (repeated calls, committing, with a short sleep, as Odoo's cron would):
  the requests it got in that minute against what the circuit breaker allows
  (the threshold, then one probe per cool-down), then, once it answers 200
  again, every callback delivered (all events done, none dead) and the time
  to drain the queue.

On the benchmark database, each run adds a source, a customer, a service
product and orders, discards the outbound events an interrupted run left
behind, archives the earlier benchmark sources and deactivates the queue and
send crons (the benchmark drives the send cron itself; no Odoo server may
send meanwhile) and activates them again at the end. ``--quick`` is a
short run for development (a 12 s outage); ``--profile FILE`` records the
cron's rounds with cProfile.

The exit status is 1 when a figure misses its target, 2 when the benchmark
could not run.
"""

import argparse
import cProfile
import http
import json
import math
import multiprocessing
import os
import pstats
import sys
import time
import traceback
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from bench_common import RUNNER_XMLIDS, addons_path

THROUGHPUT_TARGET = 0.7  # at least: cron rate / plain requests loop rate
SOURCE_PREFIX = "Outbound benchmark"
SIGNING_SECRET = "whsec_" + "b3V0Ym91bmQtYmVuY2htYXJrLXNpZ25pbmc="

# Full run (the numbers) and --quick run (development).
PROFILES = {
    "full": {
        "events": 300,  # per round and side
        "rounds": 4,
        "warmup": 40,
        "outage_events": 200,
        "outage_seconds": 60,
        "circuit_threshold": 5,
        "circuit_cooldown": 15,
    },
    "quick": {
        "events": 60,
        "rounds": 2,
        "warmup": 20,
        "outage_events": 40,
        "outage_seconds": 12,
        "circuit_threshold": 5,
        "circuit_cooldown": 5,
    },
}
# Retry policy of the benchmark source, so that a one-minute outage drains
# quickly once over and dead-letters nothing (the defaults are 60 s, 3600 s
# and 8 attempts).
RETRY_BASE_DELAY = 1
RETRY_MAX_DELAY = 10
MAX_ATTEMPTS = 30
CRON_SLEEP = 0.5  # seconds between two runs of the send cron in the outage
DRAIN_TIMEOUT = 120  # seconds allowed to deliver everything after the outage


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def verdict(ok):
    return "PASS" if ok else "FAIL"


# --- The receiver (a process of its own) --------------------------------------


class ReceiverHandler(BaseHTTPRequestHandler):
    """``POST`` anything: a status callback, answered with the current status
    (200 or 503) and recorded. ``GET /control/...``: the benchmark's controls
    (not recorded)."""

    protocol_version = "HTTP/1.1"  # keep-alive, as a real provider's endpoint

    def log_message(self, *args):
        pass

    def _reply(self, status, body):
        # One write for the head and the body: two small writes would wait for
        # the client's delayed ACK (Nagle's algorithm) on every request.
        head = (
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.wfile.write(head + body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        server = self.server
        status = server.answer_status
        # list.append is atomic: the handler threads need no lock here.
        server.records.append((time.time(), status, self.headers.get("webhook-id")))
        body = b'{"ok": true}' if status < 300 else b'{"error": "unavailable"}'
        self._reply(status, body)

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        server = self.server
        if parts.path == "/control/status":
            server.answer_status = int(query["code"])
            answer = {"status": server.answer_status, "at": time.time()}
        elif parts.path == "/control/stats":
            since = float(query.get("since", 0))
            until = float(query.get("until", math.inf))
            records = [r for r in list(server.records) if since <= r[0] < until]
            by_status = {}
            for _at, status, _id in records:
                by_status[str(status)] = by_status.get(str(status), 0) + 1
            answer = {
                "requests": len(records),
                "by_status": by_status,
                "times": [r[0] for r in records],
                "delivered_ids": sorted({r[2] for r in records if r[1] < 300}),
            }
        else:
            return self._reply(404, b'{"error": "not found"}')
        return self._reply(200, json.dumps(answer).encode())


def serve_receiver(conn):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ReceiverHandler)
    server.daemon_threads = True
    server.answer_status = 200
    server.records = []
    conn.send(server.server_address[1])
    conn.close()
    server.serve_forever()


class Receiver:
    """The receiving end of the callbacks, in a child process."""

    def __init__(self):
        self.process = None
        self.port = None

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self.process = context.Process(
            target=serve_receiver, args=(child,), daemon=True
        )
        self.process.start()
        if not parent.poll(30):
            raise RuntimeError("the receiver did not start")
        self.port = parent.recv()
        return self

    def __exit__(self, *_exc):
        if self.process is not None:
            self.process.terminate()
            self.process.join(10)
            self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _control(self, path):
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as answer:
            return json.loads(answer.read())

    def set_status(self, code):
        """Answer ``code`` from now on; returns when the receiver switched."""
        return self._control(f"/control/status?code={code}")["at"]

    def stats(self, since=0.0, until=None):
        query = f"since={since!r}" + (f"&until={until!r}" if until else "")
        return self._control(f"/control/stats?{query}")


# --- Odoo -----------------------------------------------------------------------


class Bench:
    """The Odoo side: one environment on one cursor, as a cron worker has."""

    def __init__(self, args, receiver):
        sys.path.insert(0, args.odoo)
        import odoo

        odoo.tools.config.parse_config(
            [
                "-c",
                args.config,
                "-d",
                args.db,
                f"--addons-path={addons_path(args.odoo, args.config)}",
                "--log-level=warn",
                "--max-cron-threads=0",
            ]
        )
        self.odoo = odoo
        self.registry = odoo.modules.registry.Registry(args.db)
        self.cursor = self.registry.cursor()
        self.env = odoo.api.Environment(self.cursor, odoo.SUPERUSER_ID, {})
        self.receiver = receiver
        self.run_id = uuid.uuid4().hex[:8]
        self.order_count = 0
        self.source = None
        self.partner = None
        self.product = None
        self.crons = ("oms_integration.ir_cron_send_statuses", *RUNNER_XMLIDS)

    def close(self):
        self.cursor.rollback()
        for xmlid in self.crons:
            self.env.ref(xmlid).active = True
        self.commit()
        self.cursor.close()

    def commit(self):
        self.env.cr.commit()  # pylint: disable=invalid-commit

    # Setup -------------------------------------------------------------------

    def setup(self, profile):
        env = self.env
        Source = env["oms.integration.source"]
        if "oms.integration.event" not in env:
            raise RuntimeError("oms_integration is not installed in this database")
        # The benchmark drives the send cron itself: no Odoo server's cron
        # thread may send this database's statuses meanwhile.
        for xmlid in self.crons:
            env.ref(xmlid).active = False
        # What an interrupted run left behind is not sent in this one.
        leftovers = env["oms.integration.event"].search(
            [
                ("direction", "=", "outbound"),
                ("state", "in", ("pending", "processing", "failed")),
            ]
        )
        # A lease the interrupted run held is given back first: an event
        # being sent cannot be discarded.
        leftovers.filtered(lambda event: event.state == "processing")._set_pending()
        if leftovers:
            leftovers._set_discarded("Left over by an interrupted benchmark run.")
        Source.search([("name", "=like", f"{SOURCE_PREFIX}%")]).write({"active": False})
        self.partner = env["res.partner"].create(
            {"name": f"{SOURCE_PREFIX} customer", "email": "bench@example.com"}
        )
        self.product = env["product.product"].create(
            {
                "name": f"{SOURCE_PREFIX} service",
                "type": "service",
                "default_code": f"BENCH-OUT-{self.run_id}",
                "list_price": 10.0,
            }
        )
        source = Source.create(
            {
                "name": f"{SOURCE_PREFIX} {self.run_id}",
                "mode": "webhook",
                "outbound_enabled": True,
                "callback_url": f"{self.receiver.url}/status",
                "rate_limit": 0,
                "circuit_threshold": profile["circuit_threshold"],
                "circuit_cooldown": profile["circuit_cooldown"],
                "retry_base_delay": RETRY_BASE_DELAY,
                "retry_max_delay": RETRY_MAX_DELAY,
                "max_attempts": MAX_ATTEMPTS,
            }
        )
        source.signing_secret = SIGNING_SECRET
        source._oms_give_consent(["inbound", "outbound"])
        source.action_activate()
        self.commit()
        self.source = source

    def queue_statuses(self, count):
        """Create and confirm ``count`` orders of the source (a service
        product: one ``approved`` status each), commit; return the events
        queued, checked."""
        env = self.env
        first = self.order_count
        self.order_count += count
        orders = env["sale.order"].create(
            [
                {
                    "partner_id": self.partner.id,
                    "oms_source_id": self.source.id,
                    "oms_external_id": f"BENCH-{self.run_id}-{index:05d}",
                    "oms_external_ref": f"WEB/{self.run_id}/{index:05d}",
                    "order_line": [
                        self.odoo.fields.Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 2}
                        )
                    ],
                }
                for index in range(first, first + count)
            ]
        )
        orders.action_confirm()
        self.commit()
        events = env["oms.integration.event"].search(
            [
                ("direction", "=", "outbound"),
                ("sale_order_id", "in", orders.ids),
                ("state", "=", "pending"),
            ],
            order="id",
        )
        if len(events) != count:
            raise RuntimeError(f"{len(events)} statuses queued for {count} orders")
        return events

    def states(self, events):
        self.env.invalidate_all()
        counts = {}
        for state in events.mapped("state"):
            counts[state] = counts.get(state, 0) + 1
        return counts

    # The two sides --------------------------------------------------------------

    def plain_requests(self, events):
        """The requests the provider gets for ``events``, built (and signed)
        by the source before any clock starts: what the plain loop posts."""
        return [self.source._oms_build_status_request(event) for event in events]

    def send_with_cron(self, events, profiler=None):
        """Run the send cron until ``events`` are all done; return the time."""
        Event = self.env["oms.integration.event"]
        if profiler:
            profiler.enable()
        elapsed = 0.0
        for _run in range(10):
            started = time.perf_counter()
            Event._cron_send_statuses()
            elapsed += time.perf_counter() - started
            states = self.states(events)
            if states == {"done": len(events)}:
                break
        else:
            raise RuntimeError(f"the cron left the events {states}")
        if profiler:
            profiler.disable()
        return elapsed

    def send_with_plain_loop(self, session, prepared):
        """Post ``prepared`` one after the other; return the time."""
        started = time.perf_counter()
        for request in prepared:
            answer = session.request(
                request["method"],
                request["url"],
                headers=request["headers"],
                data=request["body"],
                timeout=(5, 15),
                allow_redirects=False,
            )
            if answer.status_code != 200:
                raise RuntimeError(f"the receiver answered {answer.status_code}")
        return time.perf_counter() - started


# --- Phases -----------------------------------------------------------------------


def bench_throughput(bench, profile, profiler=None):
    import requests

    session = requests.Session()
    rounds = []
    log(f"Warm-up: {profile['warmup']} callbacks each side")
    events = bench.queue_statuses(profile["warmup"])
    prepared = bench.plain_requests(events)
    bench.send_with_cron(events)
    bench.send_with_plain_loop(session, prepared)
    for index in range(profile["rounds"]):
        events = bench.queue_statuses(profile["events"])
        prepared = bench.plain_requests(events)
        count = len(events)
        sides = {}
        order = ("cron", "plain") if index % 2 == 0 else ("plain", "cron")
        for side in order:
            since = time.time()
            if side == "cron":
                sides[side] = bench.send_with_cron(events, profiler)
            else:
                sides[side] = bench.send_with_plain_loop(session, prepared)
            received = bench.receiver.stats(since)["by_status"]
            if received != {"200": count}:
                raise RuntimeError(f"{side}: the receiver got {received}")
        cron_rate, plain_rate = count / sides["cron"], count / sides["plain"]
        rounds.append((count, sides["cron"], sides["plain"]))
        log(
            f"Round {index + 1}/{profile['rounds']} ({' then '.join(order)}): "
            f"cron {cron_rate:.1f}/s, plain loop {plain_rate:.1f}/s = "
            f"{cron_rate / plain_rate:.2f}x"
        )
    total = sum(r[0] for r in rounds)
    from odoo.addons.oms_integration import const  # noqa: PLC0415

    return {
        "batch_size": const.OUTBOUND_BATCH_SIZE,
        "rounds": rounds,
        "cron_rate": total / sum(r[1] for r in rounds),
        "plain_rate": total / sum(r[2] for r in rounds),
    }


def run_cron_until(bench, stop):
    """Call the send cron (committing), with a short sleep between runs, as
    Odoo's cron would, until ``stop()`` is true."""
    Event = bench.env["oms.integration.event"]
    runs = 0
    while not stop():
        Event._cron_send_statuses()
        runs += 1
        time.sleep(CRON_SLEEP)
    return runs


def bench_outage(bench, profile):
    receiver = bench.receiver
    source = bench.source
    events = bench.queue_statuses(profile["outage_events"])
    count = len(events)
    seconds = profile["outage_seconds"]
    log(
        f"Outage: the receiver answers 503 for {seconds} s with {count} statuses "
        f"queued (circuit threshold {source.circuit_threshold}, cool-down "
        f"{source.circuit_cooldown} s)"
    )
    down_at = receiver.set_status(503)
    runs = run_cron_until(bench, lambda: time.time() - down_at >= seconds)
    up_at = receiver.set_status(200)
    during = receiver.stats(down_at, up_at)
    states_at_recovery = bench.states(events)
    log(
        f"Recovery: the receiver answers 200 again; during the outage it got "
        f"{during['requests']} requests; events {states_at_recovery}"
    )

    def drained():
        states = bench.states(events)
        return (
            states.get("done", 0) + states.get("dead", 0) == count
            or time.time() - up_at > DRAIN_TIMEOUT
        )

    runs += run_cron_until(bench, drained)
    drained_in = time.time() - up_at
    states = bench.states(events)
    after = receiver.stats(up_at)
    delivered_ids = set(after["delivered_ids"]) & set(events.mapped("delivery_id"))
    threshold, cooldown = source.circuit_threshold, source.circuit_cooldown
    offsets = [round(at - down_at, 1) for at in during["times"]]
    return {
        "events": count,
        "seconds": up_at - down_at,
        "requests_during": during["requests"],
        "statuses_during": during["by_status"],
        "offsets": offsets,
        "bound": threshold + math.ceil(seconds / cooldown),
        "threshold": threshold,
        "cooldown": cooldown,
        "done": states.get("done", 0),
        "dead": states.get("dead", 0),
        "states": states,
        "delivered_ids": len(delivered_ids),
        "drained_in": drained_in,
        "cron_runs": runs,
        "exchanges": bench.env["oms.integration.exchange"].search_count(
            [("event_id", "in", events.ids)]
        ),
    }


# --- Report -----------------------------------------------------------------------


def report(profile, throughput, outage, elapsed):
    ok = True
    lines = [
        "",
        f"Outbound status callbacks benchmark ({os.cpu_count()} CPU(s), load "
        f"average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"{elapsed:.0f} s)",
    ]
    if throughput:
        ratio = throughput["cron_rate"] / throughput["plain_rate"]
        passed = ratio >= THROUGHPUT_TARGET
        ok &= passed
        per_round = ", ".join(
            f"{(c / t_cron) / (c / t_plain):.2f}x"
            for c, t_cron, t_plain in throughput["rounds"]
        )
        cron_ms = 1000 / throughput["cron_rate"]
        plain_ms = 1000 / throughput["plain_rate"]
        lines += [
            f"callbacks: {throughput['cron_rate']:.1f}/s vs plain requests loop "
            f"{throughput['plain_rate']:.1f}/s = {ratio:.2f}x "
            f"(target >= {THROUGHPUT_TARGET}x) {verdict(passed)}",
            f"  {len(throughput['rounds'])} alternating rounds of "
            f"{profile['events']} callbacks each side after a warm-up of "
            f"{profile['warmup']}; per round: {per_round}. One cron worker "
            f"(_cron_send_statuses, batches of {throughput['batch_size']}, "
            "committing) against one requests.Session posting the same bodies "
            "and headers; source without rate limit.",
            f"  per callback: {cron_ms:.2f} ms through Odoo vs {plain_ms:.2f} ms "
            f"for the request alone ({cron_ms - plain_ms:+.2f} ms): Odoo's work "
            "(claim, state changes, redacted exchange log, the order's last "
            "status, circuit state, commits) less what sending a few requests "
            "at once saves; --profile FILE shows where the time goes.",
        ]
    if outage:
        storm_ok = outage["requests_during"] <= outage["bound"]
        drained_ok = outage["done"] == outage["events"] and not outage["dead"]
        drained_ok &= outage["delivered_ids"] == outage["events"]
        ok &= storm_ok and drained_ok
        lines += [
            f"outage: {outage['requests_during']} requests received during the "
            f"{outage['seconds']:.0f} s of 503 vs bound {outage['bound']} "
            f"(threshold {outage['threshold']} + one probe per "
            f"{outage['cooldown']} s cool-down) {verdict(storm_ok)}",
            f"  received at (s after the 503 began): {outage['offsets']}",
            f"recovery: delivered after recovery {outage['done']}/"
            f"{outage['events']} (receiver: {outage['delivered_ids']} distinct "
            f"callbacks answered 200), {outage['dead']} dead, drained in "
            f"{outage['drained_in']:.1f} s {verdict(drained_ok)}",
            f"  the source's retry policy for this run: retry_base_delay "
            f"{RETRY_BASE_DELAY} s, retry_max_delay {RETRY_MAX_DELAY} s, "
            f"max_attempts {MAX_ATTEMPTS} (defaults 60 s, 3600 s, 8), so that a "
            "one-minute outage dead-letters nothing and drains quickly; "
            f"the cron ran {outage['cron_runs']} times ({CRON_SLEEP} s apart), "
            f"{outage['exchanges']} HTTP exchanges logged.",
        ]
    lines.append(f"RESULT: {verdict(ok)}")
    print("\n".join(lines), flush=True)
    return ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", default="/opt/odoo-18.0", help="Odoo 18.0 tree")
    parser.add_argument("--config", required=True, help="Odoo configuration file")
    parser.add_argument("--db", default="oms_bench")
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--only", choices=("callbacks", "outage"))
    parser.add_argument("--events", type=int, help="callbacks per round and side")
    parser.add_argument("--rounds", type=int)
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile the cron's rounds into FILE"
    )
    args = parser.parse_args()
    profile = dict(PROFILES["quick" if args.quick else "full"])
    for knob in ("events", "rounds"):
        if getattr(args, knob):
            profile[knob] = getattr(args, knob)
    started = time.monotonic()
    profiler = cProfile.Profile() if args.profile else None
    throughput = outage = None
    with Receiver() as receiver:
        log(f"Receiver on {receiver.url} (pid {receiver.process.pid})")
        bench = Bench(args, receiver)
        try:
            bench.setup(profile)
            if args.only in (None, "callbacks"):
                throughput = bench_throughput(bench, profile, profiler)
            if args.only in (None, "outage"):
                outage = bench_outage(bench, profile)
        finally:
            bench.close()
    if profiler:
        profiler.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)
    return 0 if report(profile, throughput, outage, time.monotonic() - started) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:  # noqa: BLE001 - the exit status says it could not run
        traceback.print_exc()
        log(f"The benchmark could not run: {exc!r}")
        raise SystemExit(2) from exc
