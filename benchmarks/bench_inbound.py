"""Performance benchmark of the inbound pipeline of ``oms_integration``.

Run it through ``bash setup/bench.sh`` (a fresh database ``oms_bench``), or
directly with the project's virtualenv::

    python benchmarks/bench_inbound.py --odoo /opt/odoo-18.0 \\
        --config ~/.cache/oms_integration/odoo-oms_bench.conf --db oms_bench

It measures, each figure against a baseline measured in the same run:

- webhook acceptance: signed deliveries accepted per second by
  ``POST /oms/webhook/<key>`` (Odoo with 2 workers, 8 concurrent clients)
  against ``POST /oms_bench/bare``, a route of the benchmark-only addon
  ``oms_bench`` that stores the body with one INSERT; both routes in
  alternating rounds, so that both see the same machine;
- processing: queued orders of 10 lines turned into sale orders by the queue
  cron against the same orders created directly with ``sale.order.create``,
  one transaction each, in alternating rounds in one Odoo process;
- scale: the per-event cost of the queue cron with 100,000 pending events
  against 1,000, and the memory of one process over 20,000 events.

Every figure is printed as a ratio with both sides and its target; the exit
status is 1 when a figure misses its target, 2 when the benchmark could not
run. Phases that need Odoo's API run in child processes of this script
(``--phase``), so that the memory figure is taken in a fresh process.
"""

import argparse
import configparser
import importlib.util
import json
import os
import pathlib
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

REPO = pathlib.Path(__file__).resolve().parent.parent
BENCH_ADDONS = REPO / "benchmarks" / "addons"
CACHE = (
    pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache")
    / "oms_integration"
)
ADDONS_TO_INSTALL = "oms_integration,oms_bench"
SOURCE_NAME = "Benchmark source"
CUSTOMER_CODE = "BENCH-C1"
LINES_PER_ORDER = 10
SKU = "BENCH-SKU-{:02d}"

TARGETS = {
    "accept_rate": 0.85,  # at least, webhook rate / bare route rate
    "accept_p99": 1.5,  # at most, webhook p99 / bare route p99
    "processing": 0.8,  # at least, queue rate / direct ORM rate
    "scale": 1.2,  # at most, per-event cost 100k pending / 1k pending
    "memory": 10.0,  # less than, growth in % over the memory run
}

# Full run (the numbers) and --quick run.
PROFILES = {
    "full": {
        "webhook_requests": 3000,
        "webhook_rounds": 10,
        "webhook_warmup": 200,
        "orders": 240,
        "order_rounds": 6,
        "pending_small": 1000,
        "pending_large": 100000,
        "scale_events": 500,
        "memory_events": 20000,
        "memory_warmup": 500,
    },
    "quick": {
        "webhook_requests": 400,
        "webhook_rounds": 4,
        "webhook_warmup": 60,
        "orders": 40,
        "order_rounds": 2,
        "pending_small": 1000,
        "pending_large": 10000,
        "scale_events": 150,
        "memory_events": 1000,
        "memory_warmup": 200,
    },
}


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def load_signatures():
    """``oms_integration/lib/signatures.py`` without Odoo (plain stdlib code)."""
    path = REPO / "oms_integration" / "lib" / "signatures.py"
    spec = importlib.util.spec_from_file_location("oms_bench_signatures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def addons_path(args):
    """The configuration's addons path plus this directory's addons."""
    parser = configparser.ConfigParser()
    parser.read(args.config)
    configured = parser.get("options", "addons_path", fallback="")
    if not configured:
        configured = f"{args.odoo}/addons,{args.odoo}/odoo/addons,{REPO}"
    return f"{configured},{BENCH_ADDONS}"


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def order_document(order_id, currency, updated_at, line_count=LINES_PER_ORDER):
    """One canonical (compatible) order of ``line_count`` lines."""
    lines = [
        {
            "id": str(index + 1),
            "product": {"sku": SKU.format(index + 1)},
            "quantity": index % 3 + 1,
            "price_unit": 10 + index,
        }
        for index in range(line_count)
    ]
    return {
        "type": "order.created",
        "order": {
            "id": order_id,
            "name": order_id,
            "updated_at": updated_at,
            "date_order": updated_at,
            "currency": currency,
            "customer": {"id": CUSTOMER_CODE, "name": "Benchmark Customer"},
            "lines": lines,
            "amount_total": sum(
                line["quantity"] * line["price_unit"] for line in lines
            ),
        },
    }


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def verdict(ok):
    return "PASS" if ok else "FAIL"


# --- Driver ------------------------------------------------------------------


def run_phase(args, phase, **params):
    """Run ``phase`` in a child process of this script; return its result."""
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        result_file = pathlib.Path(tmp) / "result.json"
        command = [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--odoo",
            args.odoo,
            "--config",
            args.config,
            "--db",
            args.db,
            "--phase-params",
            json.dumps(params),
            "--result-file",
            str(result_file),
        ]
        completed = subprocess.run(command, check=False)
        if completed.returncode != 0 or not result_file.exists():
            raise RuntimeError(
                f"the {phase} phase failed (exit {completed.returncode})"
            )
        return json.loads(result_file.read_text())


def install(args):
    log_file = CACHE / f"bench-install-{args.db}.log"
    log_file.unlink(missing_ok=True)
    log(f"Installing {ADDONS_TO_INSTALL} into {args.db} (log in {log_file})")
    command = [
        sys.executable,
        os.path.join(args.odoo, "odoo-bin"),
        "-c",
        args.config,
        "-d",
        args.db,
        f"--addons-path={addons_path(args)}",
        "-i",
        ADDONS_TO_INSTALL,
        "--without-demo=all",
        "--stop-after-init",
        "--log-level=warn",
        f"--logfile={log_file}",
    ]
    if subprocess.run(command, check=False).returncode != 0:
        raise RuntimeError(f"installing the addons failed, see {log_file}")


class OdooServer:
    """``odoo-bin --workers=2 --max-cron-threads=0`` in its own process group."""

    def __init__(self, args):
        self.args = args
        self.url = f"http://127.0.0.1:{args.http_port}"
        self.log_file = CACHE / f"bench-server-{args.db}.log"
        self.process = None

    def __enter__(self):
        self.log_file.unlink(missing_ok=True)
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.args.http_port)) == 0:
                raise RuntimeError(
                    f"port {self.args.http_port} is taken: stop what listens "
                    "there or pass --http-port"
                )
        command = [
            sys.executable,
            os.path.join(self.args.odoo, "odoo-bin"),
            "-c",
            self.args.config,
            "-d",
            self.args.db,
            f"--addons-path={addons_path(self.args)}",
            "--http-interface=127.0.0.1",
            f"--http-port={self.args.http_port}",
            f"--gevent-port={self.args.http_port + 3}",
            "--workers=2",
            "--max-cron-threads=0",
            f"--logfile={self.log_file}",
        ]
        log(f"Starting Odoo with 2 workers on {self.url} (log in {self.log_file})")
        # Its own process group: the workers go with the master at the end.
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            status = self._get_status("/web/login")
            if status == 200:
                return self
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError(f"Odoo did not start; see {self.log_file}")
            time.sleep(0.5)

    def _get_status(self, path):
        try:
            with socket.create_connection(
                ("127.0.0.1", self.args.http_port), timeout=10
            ) as sock:
                sock.sendall(
                    f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                return int(sock.recv(64).split(b" ", 2)[1])
        except (OSError, ValueError, IndexError):
            return None

    def __exit__(self, *_exc):
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # Wait for the workers too, so that the database is free afterwards.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        self.process = None


class WebhookClient:
    """Concurrent HTTP clients on plain sockets, as light as a client can be:
    requests are built and signed before the clock starts, and each one is
    written with one ``sendall`` on a new connection (Odoo's workers close
    the connection after each answer)."""

    def __init__(self, port, clients):
        self.port = port
        self.clients = clients

    def post_all(self, raw_requests):
        """Send every request with ``self.clients`` threads; return the
        elapsed wall time, the latencies (s) and the status codes."""
        results = [None] * len(raw_requests)
        next_index = iter(range(len(raw_requests)))
        lock = threading.Lock()
        start = threading.Barrier(self.clients + 1)

        def work():
            start.wait()
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                results[index] = self._post(raw_requests[index])

        threads = [threading.Thread(target=work) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        return elapsed, [r[1] for r in results], [r[0] for r in results]

    def _post(self, raw):
        began = time.perf_counter()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=60) as sock:
                sock.sendall(raw)
                chunks = []
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except OSError:
            return 0, time.perf_counter() - began
        latency = time.perf_counter() - began
        head = b"".join(chunks)[:32]
        try:
            return int(head.split(b" ", 2)[1]), latency
        except (ValueError, IndexError):
            return 0, latency


def build_request(path, port, headers, body):
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ] + [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def signed_requests(args, setup, path, prefix, count):
    """``count`` signed deliveries, each a distinct order, for ``path``."""
    signatures = load_signatures()
    sent_at = int(time.time())
    updated_at = now_iso()
    raw = []
    for index in range(count):
        order_id = f"{prefix}-{index}"
        body = json.dumps(
            order_document(order_id, setup["currency"], updated_at)
        ).encode()
        msg_id = f"msg-{order_id}"
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(sent_at),
            "webhook-signature": signatures.standard_webhooks_sign(
                setup["secret"], msg_id, sent_at, body
            ),
        }
        raw.append(build_request(path, args.http_port, headers, body))
    return raw


def bench_webhook(args, profile, setup):
    client = WebhookClient(args.http_port, args.clients)
    routes = {
        "webhook": f"/oms/webhook/{setup['webhook_key']}",
        "bare": "/oms_bench/bare",
    }
    if args.diagnose:
        routes["store_only"] = f"/oms_bench/store_only/{setup['webhook_key']}"
    run_id = time.strftime("%Y%m%d%H%M%S")
    log(f"Warming up both routes ({profile['webhook_warmup']} requests each)")
    for side, path in routes.items():
        raw = signed_requests(
            args, setup, path, f"BW-{run_id}-warm-{side}", profile["webhook_warmup"]
        )
        _elapsed, _latencies, statuses = client.post_all(raw)
        if any(status != 202 for status in statuses):
            raise RuntimeError(f"warm-up of {path}: answers {sorted(set(statuses))}")

    rounds = profile["webhook_rounds"]
    per_round = max(1, profile["webhook_requests"] // rounds)
    totals = {side: {"elapsed": 0.0, "latencies": [], "bad": 0} for side in routes}
    cpu_before = time.process_time()
    wall_measured = 0.0
    for round_index in range(rounds):
        # Alternate which side goes first, so that drift hits both alike.
        order = list(routes) if round_index % 2 == 0 else list(routes)[::-1]
        for side in order:
            # Signed just before sending: the signature's timestamp is fresh.
            raw = signed_requests(
                args,
                setup,
                routes[side],
                f"BW-{run_id}-{round_index}-{side}",
                per_round,
            )
            elapsed, latencies, statuses = client.post_all(raw)
            totals[side]["elapsed"] += elapsed
            totals[side]["latencies"] += latencies
            totals[side]["bad"] += sum(1 for status in statuses if status != 202)
            wall_measured += elapsed
        rates = {
            side: len(total["latencies"]) / total["elapsed"]
            for side, total in totals.items()
        }
        log(
            f"  round {round_index + 1}/{rounds}: "
            + ", ".join(f"{side} {rate:.1f}/s" for side, rate in rates.items())
        )
    client_cpu = time.process_time() - cpu_before
    figures = {}
    for side, total in totals.items():
        latencies = sorted(total["latencies"])
        figures[side] = {
            "requests": len(latencies),
            "rate": len(latencies) / total["elapsed"],
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "bad": total["bad"],
        }
    figures["client_cpu_share"] = client_cpu / wall_measured  # of one core
    figures["client_cpu_ms_per_request"] = (
        client_cpu * 1000 / (len(routes) * rounds * per_round)  # signing: off clock
    )
    return figures


def main(args):
    profile = dict(PROFILES["quick" if args.quick else "full"])
    for knob in (
        "webhook_requests",
        "orders",
        "pending_large",
        "scale_events",
        "memory_events",
    ):
        if getattr(args, knob) is not None:
            profile[knob] = getattr(args, knob)
    only = set(args.only.split(",")) if args.only else set(PHASES)
    unknown = only - set(PHASES)
    if unknown:
        raise SystemExit(f"unknown --only phase(s): {', '.join(sorted(unknown))}")
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log(
        f"Benchmark of the inbound pipeline ({'quick' if args.quick else 'full'} "
        f"run) on database {args.db}, {os.cpu_count()} CPU(s), load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if not args.skip_install:
        install(args)
    secret = load_signatures().new_standard_webhooks_secret()
    setup = run_phase(args, "setup", secret=secret)
    setup["secret"] = secret

    results = {}
    if "webhook" in only:
        with OdooServer(args):
            results["webhook"] = bench_webhook(args, profile, setup)
    if "processing" in only:
        results["processing"] = run_phase(
            args,
            "processing",
            orders=profile["orders"],
            rounds=profile["order_rounds"],
            currency=setup["currency"],
        )
    if "scale" in only:
        results["scale"] = run_phase(
            args,
            "scale",
            small=profile["pending_small"],
            large=profile["pending_large"],
            events=profile["scale_events"],
            currency=setup["currency"],
        )
    if "memory" in only:
        results["memory"] = run_phase(
            args,
            "memory",
            events=profile["memory_events"],
            warmup=profile["memory_warmup"],
            lines=args.memory_lines,
            currency=setup["currency"],
        )
    ok = report(args, profile, results, time.monotonic() - started)
    return 0 if ok else 1


def report(args, profile, results, elapsed):
    lines, passed = [], []

    def figure(text, ok):
        passed.append(ok)
        lines.append(f"{text} {verdict(ok)}")

    if "webhook" in results:
        hook, bare = results["webhook"]["webhook"], results["webhook"]["bare"]
        ratio = hook["rate"] / bare["rate"]
        figure(
            f"webhook accept rate: {hook['rate']:.1f}/s vs bare INSERT route "
            f"{bare['rate']:.1f}/s = {ratio:.2f}x "
            f"(target >= {TARGETS['accept_rate']}x)",
            ratio >= TARGETS["accept_rate"],
        )
        ratio = hook["p99_ms"] / bare["p99_ms"]
        figure(
            f"webhook p99 latency: {hook['p99_ms']:.1f} ms vs bare INSERT route "
            f"{bare['p99_ms']:.1f} ms = {ratio:.2f}x "
            f"(target <= {TARGETS['accept_p99']}x)",
            ratio <= TARGETS["accept_p99"],
        )
        if hook["bad"] or bare["bad"]:
            figure(
                f"webhook answers other than 202: {hook['bad']} vs bare route "
                f"{bare['bad']} (target 0)",
                False,
            )
        store = results["webhook"].get("store_only")
        if store:
            lines.append(
                f"  diagnostic, no target: storing the event row alone "
                f"{store['rate']:.1f}/s vs bare INSERT route {bare['rate']:.1f}/s "
                f"= {store['rate'] / bare['rate']:.2f}x, p99 "
                f"{store['p99_ms'] / bare['p99_ms']:.2f}x (answers other than "
                f"202: {store['bad']})"
            )
        lines.append(
            f"  (p50 {hook['p50_ms']:.1f} ms vs {bare['p50_ms']:.1f} ms = "
            f"{hook['p50_ms'] / bare['p50_ms']:.2f}x; {hook['requests']} "
            f"deliveries per route in {profile['webhook_rounds']} alternating "
            f"rounds, {args.clients} clients, Odoo --workers=2; client CPU "
            f"{results['webhook']['client_cpu_ms_per_request']:.2f} ms per "
            f"request, {results['webhook']['client_cpu_share'] * 100:.0f}% of "
            "one core)"
        )
    if "processing" in results:
        proc = results["processing"]
        queue_rate = proc["orders"] / proc["queue_seconds"]
        direct_rate = proc["orders"] / proc["direct_seconds"]
        ratio = queue_rate / direct_rate
        figure(
            f"processing rate: {queue_rate:.1f} orders/s (queue cron) vs direct "
            f"ORM create {direct_rate:.1f} orders/s = {ratio:.2f}x "
            f"(target >= {TARGETS['processing']}x)",
            ratio >= TARGETS["processing"],
        )
        lines.append(
            f"  ({proc['orders']} orders of {LINES_PER_ORDER} lines each way, "
            f"{proc['rounds']} alternating rounds in one process: "
            f"{proc['queue_seconds'] * 1000 / proc['orders']:.1f} ms vs "
            f"{proc['direct_seconds'] * 1000 / proc['orders']:.1f} ms per order)"
        )
    if "scale" in results:
        scale = results["scale"]
        small, large = scale["small"], scale["large"]
        ratio = large["ms_per_event"] / small["ms_per_event"]
        figure(
            f"per-event cost with {large['pending']} pending: "
            f"{large['ms_per_event']:.1f} ms vs with {small['pending']} pending "
            f"{small['ms_per_event']:.1f} ms = {ratio:.2f}x "
            f"(target <= {TARGETS['scale']}x)",
            ratio <= TARGETS["scale"],
        )
        lines.append(
            f"  ({large['done']} and {small['done']} events of {LINES_PER_ORDER} "
            "lines processed by two queue cron runs each, in the order small, "
            f"large, large, small; one claim of 20 with {large['pending']} "
            f"pending: {large['claim_ms']:.1f} ms vs {small['claim_ms']:.1f} ms)"
        )
    if "memory" in results:
        memory = results["memory"]
        growth = (memory["rss_end_mb"] / memory["rss_start_mb"] - 1) * 100
        figure(
            f"worker memory over {memory['events']} events: "
            f"{memory['rss_end_mb']:.1f} MB at the end vs "
            f"{memory['rss_start_mb']:.1f} MB after warm-up = {growth:+.1f}% "
            f"(target < +{TARGETS['memory']:.0f}%)",
            growth < TARGETS["memory"],
        )
        lines.append(
            f"  (RSS of one process running the queue cron as the cron worker "
            f"does, {memory['runs']} runs, orders of {memory['lines']} line(s); "
            f"peak {memory['rss_peak_mb']:.1f} MB; "
            f"{memory['seconds'] * 1000 / memory['events']:.1f} ms per event)"
        )
    print()
    print(
        f"Inbound pipeline benchmark ({'quick' if args.quick else 'full'} run, "
        f"{platform.node()}, {os.cpu_count()} CPUs, {elapsed / 60:.1f} min)"
    )
    for line in lines:
        print(line)
    ok = all(passed)
    print(f"Result: {'PASS' if ok else 'FAIL'} ({sum(passed)}/{len(passed)} figures)")
    return ok


# --- Phases in a child process, with Odoo's API ------------------------------


class OdooContext:
    """Odoo's configuration and registry of the benchmark database."""

    def __init__(self, args):
        sys.path.insert(0, args.odoo)
        import odoo  # noqa: PLC0415 - only the phases import Odoo

        odoo.tools.config.parse_config(
            [
                "-c",
                args.config,
                "-d",
                args.db,
                f"--addons-path={addons_path(args)}",
                "--log-level=warn",
                "--max-cron-threads=0",
            ]
        )
        self.odoo = odoo
        self.registry = odoo.modules.registry.Registry(args.db)

    def env(self, cr):
        return self.odoo.api.Environment(cr, self.odoo.SUPERUSER_ID, {})


def phase_setup(ctx, params):
    """Products, a customer, a pricelist, and an active webhook source with a
    signing secret and inbound consent, all mapped (as after onboarding)."""
    from odoo import Command  # noqa: PLC0415

    with ctx.registry.cursor() as cr:
        env = ctx.env(cr)
        company = env.company
        existing = env["oms.integration.source"].search([("name", "=", SOURCE_NAME)])
        if existing:
            # --skip-install: the records are there, only the secret is new.
            existing.signing_secret = params["secret"]
            return {
                "webhook_key": existing.webhook_key,
                "currency": company.currency_id.name,
            }
        pricelist = env["product.pricelist"].create(
            {"name": "Benchmark", "currency_id": company.currency_id.id}
        )
        products = env["product.product"].create(
            [
                {
                    "name": f"Benchmark product {index}",
                    "default_code": SKU.format(index),
                    "type": "consu",
                    "list_price": 10 + index,
                    "taxes_id": [Command.clear()],
                }
                for index in range(1, LINES_PER_ORDER + 1)
            ]
        )
        partner = env["res.partner"].create(
            {"name": "Benchmark Customer", "customer_rank": 1}
        )
        source = env["oms.integration.source"].create(
            {
                "name": SOURCE_NAME,
                "mode": "webhook",
                "signing_secret": params["secret"],
                "pricelist_id": pricelist.id,
                "partner_policy": "match",
                "product_policy": "match",
            }
        )
        wizard = env["oms.integration.consent.wizard"].create(
            {"source_id": source.id, "scope_inbound": True, "confirmed": True}
        )
        wizard.action_confirm()
        source.action_activate()
        env["oms.integration.mapping"].create(
            [
                {
                    "source_id": source.id,
                    "kind": "partner",
                    "external_code": CUSTOMER_CODE,
                    "partner_id": partner.id,
                    "state": "mapped",
                }
            ]
            + [
                {
                    "source_id": source.id,
                    "kind": "product",
                    "external_code": product.default_code,
                    "product_id": product.id,
                    "state": "mapped",
                }
                for product in products
            ]
        )
        result = {
            "webhook_key": source.webhook_key,
            "currency": company.currency_id.name,
        }
    # A fresh database is still being vacuumed and analyzed after the
    # install: measure once that is done, as on a database in use.
    _vacuum_analyze(ctx, table=None)
    return result


def _bench_records(env):
    source = env["oms.integration.source"].search([("name", "=", SOURCE_NAME)])
    products = env["product.product"].search(
        [("default_code", "=like", "BENCH-SKU-%")], order="default_code"
    )
    partner = env["oms.integration.mapping"]._oms_resolve(
        source, "partner", CUSTOMER_CODE
    )
    return source, products, partner


def _reset_queue(cr):
    """Forget what earlier phases left pending (the webhook deliveries)."""
    cr.execute(
        "DELETE FROM oms_integration_event "
        "WHERE state IN ('pending', 'processing', 'failed')"
    )
    cr.execute("DELETE FROM ir_cron_trigger")
    cr.commit()


def _insert_pending(cr, source, prefix, count, currency, line_count=LINES_PER_ORDER):
    """Insert ``count`` pending events of distinct orders with one SQL
    statement (as a backlog would look), then refresh the statistics."""
    template = json.dumps(
        order_document("__ORDER_ID__", currency, now_iso(), line_count)
    )
    cr.execute(
        """
        INSERT INTO oms_integration_event (
            direction, source_id, provider, event_type,
            external_order_id, external_updated_at, delivery_id, payload,
            payload_hash, headers, state, attempts, next_attempt_at,
            received_at, create_uid, write_uid, create_date, write_date)
        SELECT 'inbound', %(source)s, %(provider)s, 'order.created',
               order_id, at, 'msg-' || order_id, payload,
               encode(sha256(convert_to(payload, 'UTF8')), 'hex'), '{}',
               'pending', 0, at, at, 1, 1, at, at
          FROM (SELECT order_id, replace(%(template)s, '__ORDER_ID__', order_id)
                       AS payload,
                       -- whole seconds, as fields.Datetime.now() gives
                       date_trunc('second', now() at time zone 'utc') AS at
                  FROM (SELECT %(prefix)s || '-' || n AS order_id
                          FROM generate_series(1, %(count)s) n) ids) rows
        """,
        {
            "source": source.id,
            "provider": source.provider,
            "template": template,
            "prefix": prefix,
            "count": count,
        },
    )
    cr.commit()


def _process_queue(ctx, **kwargs):
    """One run of the queue cron in its own cursor, as ir.cron runs a job."""
    with ctx.registry.cursor() as cr:
        env = ctx.env(cr)
        began = time.perf_counter()
        done = env["oms.integration.event"]._cron_process_queue(**kwargs)
        return done, time.perf_counter() - began


def _check_done(cr, prefix, expected):
    cr.commit()  # a new snapshot: the queue ran in another transaction
    cr.execute(
        """
        SELECT state, count(*), max(last_error) FROM oms_integration_event
         WHERE external_order_id LIKE %s GROUP BY state
        """,
        [prefix + "-%"],
    )
    states = {state: (count, error) for state, count, error in cr.fetchall()}
    done = states.pop("done", (0, None))[0]
    failed = {
        state: count for state, (count, _e) in states.items() if state != "pending"
    }
    if failed:
        errors = "; ".join(str(error) for state, (_c, error) in states.items() if error)
        raise RuntimeError(f"events of {prefix} not done: {failed} ({errors[:500]})")
    if expected is not None and done != expected:
        raise RuntimeError(f"{done} events of {prefix} done, expected {expected}")
    return done


def phase_processing(ctx, params):
    """Queue cron against direct ``sale.order.create``, alternating rounds."""
    from odoo import Command  # noqa: PLC0415

    orders, rounds = params["orders"], params["rounds"]
    per_round = max(1, orders // rounds)
    run_id = time.strftime("%H%M%S")
    totals = {"direct": 0.0, "queue": 0.0}
    with ctx.registry.cursor() as cr:
        _reset_queue(cr)
        env = ctx.env(cr)
        source, products, partner = _bench_records(env)
        Event = env["oms.integration.event"]

        def direct_vals(order_id):
            document = order_document(order_id, params["currency"], now_iso())
            return {
                "partner_id": partner.id,
                "pricelist_id": source.pricelist_id.id,
                "client_order_ref": order_id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": line["quantity"],
                            "price_unit": line["price_unit"],
                        }
                    )
                    for product, line in zip(
                        products, document["order"]["lines"], strict=True
                    )
                ],
            }

        def store_events(prefix, count):
            updated_at = now_iso()
            for index in range(count):
                order_id = f"{prefix}-{index}"
                body = json.dumps(
                    order_document(order_id, params["currency"], updated_at)
                )
                Event._oms_create_inbound(
                    source,
                    {
                        "delivery_id": f"msg-{order_id}",
                        "event_type": "order.created",
                        "external_order_id": order_id,
                        "payload": body,
                        "headers": {"content-type": "application/json"},
                    },
                )
            cr.commit()

        # Warm-up: both paths once, so that neither pays for first-use caches.
        warm = f"BP-{run_id}-warm"
        store_events(warm, 5)
        _process_queue(ctx)
        _check_done(cr, warm, 5)
        for index in range(5):
            env["sale.order"].create(direct_vals(f"{warm}-direct-{index}"))
            cr.commit()

        for round_index in range(rounds):
            sides = ("direct", "queue") if round_index % 2 == 0 else ("queue", "direct")
            for side in sides:
                prefix = f"BP-{run_id}-{round_index}-{side}"
                if side == "direct":
                    vals_list = [
                        direct_vals(f"{prefix}-{index}") for index in range(per_round)
                    ]
                    began = time.perf_counter()
                    for vals in vals_list:
                        env["sale.order"].create(vals)
                        cr.commit()
                    totals["direct"] += time.perf_counter() - began
                else:
                    store_events(prefix, per_round)
                    done, seconds = _process_queue(ctx)
                    _check_done(cr, prefix, per_round)
                    totals["queue"] += seconds
            log(
                f"  processing round {round_index + 1}/{rounds}: "
                f"direct {totals['direct']:.1f}s, queue {totals['queue']:.1f}s so far"
            )
    return {
        "orders": per_round * rounds,
        "rounds": rounds,
        "direct_seconds": totals["direct"],
        "queue_seconds": totals["queue"],
    }


def _time_claim(ctx):
    """The cost of one claim of 20 due events (rolled back)."""
    with ctx.registry.cursor() as cr:
        env = ctx.env(cr)
        Event = env["oms.integration.event"]
        samples = []
        for _index in range(5):
            began = time.perf_counter()
            Event._oms_claim(20)
            samples.append(time.perf_counter() - began)
            cr.rollback()
        return sorted(samples)[len(samples) // 2] * 1000


def _vacuum_analyze(ctx, table="oms_integration_event"):
    """Clean dead rows and refresh the statistics, as autovacuum would have
    done by the time a backlog of that size builds up (``table=None``: the
    whole database)."""
    import psycopg2  # noqa: PLC0415 - installed with Odoo

    from odoo import sql_db  # noqa: PLC0415

    _db, info = sql_db.connection_info_for(ctx.registry.db_name)
    connection = psycopg2.connect(**info)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table or ''}")
    finally:
        connection.close()


def _set_backlog(ctx, cr, source, prefix, pending, currency):
    """Make the pending backlog exactly ``pending`` events: insert new ones,
    or delete the newest."""
    cr.execute("SELECT count(*) FROM oms_integration_event WHERE state = 'pending'")
    missing = pending - cr.fetchone()[0]
    if missing > 0:
        _insert_pending(cr, source, f"{prefix}-{time.time_ns()}", missing, currency)
    elif missing < 0:
        cr.execute(
            """
            DELETE FROM oms_integration_event WHERE id IN (
                SELECT id FROM oms_integration_event WHERE state = 'pending'
                 ORDER BY id DESC LIMIT %s)
            """,
            [-missing],
        )
    cr.commit()
    _vacuum_analyze(ctx)


def phase_scale(ctx, params):
    """Per-event cost of the queue cron with a small and a large backlog,
    measured small, large, large, small (drift hits both sides alike)."""
    run_id = time.strftime("%H%M%S")
    with ctx.registry.cursor() as cr:
        _reset_queue(cr)
        source = _bench_records(ctx.env(cr))[0]
        # Warm-up, and the time budget giving about ``events`` events a run.
        warm = f"BS-{run_id}-warm"
        _insert_pending(cr, source, warm, 100, params["currency"])
        done, seconds = _process_queue(ctx)
        _check_done(cr, warm, 100)
        budget = params["events"] * seconds / done / 2
        log(
            f"  scale: cron runs of {budget:.1f}s (~{params['events'] // 2} "
            "events), small, large, large, small"
        )
        totals = {
            size: {"pending": params[size], "done": 0, "seconds": 0.0, "claim": []}
            for size in ("small", "large")
        }
        prefix = f"BS-{run_id}"
        for size in ("small", "large", "large", "small"):
            pending = params[size]
            _set_backlog(ctx, cr, source, prefix, pending, params["currency"])
            claim_ms = _time_claim(ctx)
            done, seconds = _process_queue(ctx, time_budget=budget)
            _check_done(cr, prefix, None)
            if done >= pending:
                raise RuntimeError(
                    f"the queue ran dry with {pending} pending: lower --scale-events"
                )
            total = totals[size]
            total["done"] += done
            total["seconds"] += seconds
            total["claim"].append(claim_ms)
            log(
                f"  scale: {done} events in {seconds:.1f}s with {pending} pending "
                f"({seconds * 1000 / done:.1f} ms per event, one claim "
                f"{claim_ms:.1f} ms)"
            )
        _reset_queue(cr)
    return {
        size: {
            "pending": total["pending"],
            "done": total["done"],
            "ms_per_event": total["seconds"] * 1000 / total["done"],
            "claim_ms": sorted(total["claim"])[len(total["claim"]) // 2],
        }
        for size, total in totals.items()
    }


def _rss_mb():
    """Resident memory of this process (VmRSS) and its peak (VmHWM), in MB."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _sep, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def phase_memory(ctx, params):
    """RSS of one process running the queue cron over ``events`` events,
    run by run as the cron worker does (a fresh cursor and environment per
    job run, the cron's default batch size and time budget)."""
    run_id = time.strftime("%H%M%S")
    with ctx.registry.cursor() as cr:
        _reset_queue(cr)
        source = _bench_records(ctx.env(cr))[0]
        warm = f"BM-{run_id}-warm"
        _insert_pending(
            cr, source, warm, params["warmup"], params["currency"], params["lines"]
        )
    while _process_queue(ctx)[0]:
        pass
    rss_start, _peak = _rss_mb()
    log(f"  memory: {rss_start:.1f} MB after {params['warmup']} warm-up events")
    prefix = f"BM-{run_id}-main"
    with ctx.registry.cursor() as cr:
        _check_done(cr, warm, params["warmup"])
        source = _bench_records(ctx.env(cr))[0]
        _insert_pending(
            cr, source, prefix, params["events"], params["currency"], params["lines"]
        )
    _vacuum_analyze(ctx)
    began = time.perf_counter()
    done_total = 0
    runs = 0
    while True:
        done, _seconds = _process_queue(ctx)
        if not done:
            break
        runs += 1
        done_total += done
        rss, _peak = _rss_mb()
        log(f"  memory: {done_total} events, {rss:.1f} MB")
    seconds = time.perf_counter() - began
    rss_end, peak = _rss_mb()
    with ctx.registry.cursor() as cr:
        _check_done(cr, prefix, params["events"])
    return {
        "events": done_total,
        "lines": params["lines"],
        "runs": runs,
        "seconds": seconds,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_peak_mb": peak,
    }


PHASES = {
    "webhook": None,  # in the driver: it needs a server, not the API
    "processing": phase_processing,
    "scale": phase_scale,
    "memory": phase_memory,
}
CHILD_PHASES = {"setup": phase_setup, **{k: v for k, v in PHASES.items() if v}}


def run_child(args):
    ctx = OdooContext(args)
    result = CHILD_PHASES[args.phase](ctx, json.loads(args.phase_params))
    pathlib.Path(args.result_file).write_text(json.dumps(result))
    return 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark of the inbound pipeline (see benchmarks/README.md)."
    )
    parser.add_argument("--odoo", required=True, help="the Odoo 18.0 source tree")
    parser.add_argument("--config", required=True, help="the Odoo configuration")
    parser.add_argument("--db", default="oms_bench", help="the benchmark database")
    parser.add_argument("--http-port", type=int, default=8369)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--quick", action="store_true", help="a short run with smaller numbers"
    )
    parser.add_argument(
        "--only",
        help=f"comma-separated phases to run, among {', '.join(PHASES)}",
    )
    parser.add_argument(
        "--skip-install",
        action="store_true",
        help="the addons are installed already (and the setup done once)",
    )
    parser.add_argument("--webhook-requests", type=int, help="deliveries per route")
    parser.add_argument("--orders", type=int, help="orders each way (processing)")
    parser.add_argument("--pending-large", type=int, help="the large backlog")
    parser.add_argument("--scale-events", type=int, help="events per scale sample")
    parser.add_argument("--memory-events", type=int, help="events of the memory run")
    parser.add_argument(
        "--memory-lines",
        type=int,
        default=1,
        help="lines per order in the memory run (default 1: 20,000 orders of "
        "10 lines take too long on a small machine)",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="webhook phase: also measure a benchmark route that only stores the "
        "event row as the webhook does (no verification, no validation), printed "
        "as a diagnostic without a target",
    )
    parser.add_argument("--phase", choices=sorted(CHILD_PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--phase-params", help=argparse.SUPPRESS)
    parser.add_argument("--result-file", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.phase:
        sys.exit(run_child(arguments))
    try:
        sys.exit(main(arguments))
    except RuntimeError as error:
        log(f"ERROR: {error}")
        sys.exit(2)
