"""Figures through a real Odoo server (``odoo-bin --workers=2``), driven by
``bench_inbound.py``: webhook acceptance against a bare INSERT route, and
the latency from a webhook delivery to its sale order with the server's
cron workers applying the orders. No Odoo import here: the server is
another process, the client plain sockets.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from bench_common import (
    CACHE,
    addons_path,
    iso,
    load_signatures,
    log,
    now_iso,
    order_document,
    percentile,
)


class OdooServer:
    """``odoo-bin --workers=2 --max-cron-threads=N`` in its own process group."""

    def __init__(self, args, cron_threads=0, load=None):
        self.args = args
        self.cron_threads = cron_threads
        # Server-wide modules (``--load``), Odoo's default when None.
        self.load = load
        self.url = f"http://127.0.0.1:{args.http_port}"
        self.log_file = CACHE / f"bench-server-{args.db}.log"
        self.process = None

    def __enter__(self):
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
            f"--db-filter=^{self.args.db}$",
            f"--addons-path={addons_path(self.args.odoo, self.args.config)}",
            "--http-interface=127.0.0.1",
            f"--http-port={self.args.http_port}",
            f"--gevent-port={self.args.http_port + 3}",
            "--workers=2",
            f"--max-cron-threads={self.cron_threads}",
            f"--logfile={self.log_file}",
        ]
        if self.load:
            command.append(f"--load={self.load}")
        log(
            f"Starting Odoo with 2 workers and {self.cron_threads} cron workers "
            f"on {self.url} (log in {self.log_file})"
        )
        # Its own process group: the workers go with the master at the end.
        self.process = subprocess.Popen(command, start_new_session=True)
        deadline = time.monotonic() + 120
        while self._get_status("/web/login") != 200:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError(f"Odoo did not start; see {self.log_file}")
            time.sleep(0.5)
        return self

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


def post(port, raw):
    """One request on a new connection (Odoo's workers close it after the
    answer): ``(status, seconds)``, status 0 when the connection failed."""
    began = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
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
    try:
        return int(b"".join(chunks)[:32].split(b" ", 2)[1]), latency
    except (ValueError, IndexError):
        return 0, latency


def post_all(port, clients, raw_requests):
    """Send every request with ``clients`` threads as fast as answered:
    ``(elapsed wall time, latencies, statuses)``."""
    results = [None] * len(raw_requests)
    next_index = iter(range(len(raw_requests)))
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def work():
        start.wait()
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            results[index] = post(port, raw_requests[index])

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    return elapsed, [r[1] for r in results], [r[0] for r in results]


def build_request(path, port, headers, body):
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ] + [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def signed_requests(args, setup, path, order_ids, updated_at=None):
    """A signed delivery (Standard Webhooks) of one order of 10 lines for
    each of ``order_ids``, for ``path``: the raw HTTP requests."""
    signatures = load_signatures()
    sent_at = int(time.time())
    updated_at = updated_at or now_iso()
    raw = []
    for order_id in order_ids:
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


# --- Webhook acceptance ------------------------------------------------------


def bench_webhook(args, profile, setup):
    """Signed deliveries accepted per second by the webhook route against
    the bare INSERT route, in alternating rounds after a warm-up (Odoo with
    2 HTTP workers, no cron worker: only acceptance is measured)."""
    routes = {
        "webhook": f"/oms/webhook/{setup['webhook_key']}",
        "bare": "/oms_bench/bare",
    }
    if args.diagnose:
        routes["store_only"] = f"/oms_bench/store_only/{setup['webhook_key']}"
    run_id = time.strftime("%Y%m%d%H%M%S")
    log(f"Warming up the routes ({profile['webhook_warmup']} requests each)")
    for side, path in routes.items():
        ids = [f"BW-{run_id}-warm-{side}-{i}" for i in range(profile["webhook_warmup"])]
        _elapsed, _latencies, statuses = post_all(
            args.http_port, args.clients, signed_requests(args, setup, path, ids)
        )
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
            ids = [f"BW-{run_id}-{round_index}-{side}-{i}" for i in range(per_round)]
            # Signed just before sending: the signature's timestamp is fresh.
            raw = signed_requests(args, setup, routes[side], ids)
            elapsed, latencies, statuses = post_all(args.http_port, args.clients, raw)
            totals[side]["elapsed"] += elapsed
            totals[side]["latencies"] += latencies
            totals[side]["bad"] += sum(1 for status in statuses if status != 202)
            wall_measured += elapsed
        log(
            f"  webhook round {round_index + 1}/{rounds}: "
            + ", ".join(
                f"{side} {len(total['latencies']) / total['elapsed']:.1f}/s"
                for side, total in totals.items()
            )
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
        client_cpu * 1000 / (len(routes) * rounds * per_round)
    )
    return figures


# --- Latency: webhook to sale order ------------------------------------------


def bench_latency(args, profile, setup):
    """Deliveries of orders of 10 lines sent at a steady rate to the webhook
    route of a server whose cron workers apply them (Odoo's defaults: two
    cron workers, the two runners shipped). Returns the send time of each
    delivery (epoch seconds, taken just before it is sent) and the answers;
    the sale orders' creation times are read afterwards (``bench_queue.py
    latency``)."""
    rate, seconds = profile["latency_rate"], profile["latency_seconds"]
    count = int(rate * seconds)
    run_id = time.strftime("%Y%m%d%H%M%S")
    prefix = f"BL-{run_id}"
    path = f"/oms/webhook/{setup['webhook_key']}"
    order_ids = [f"{prefix}-{index}" for index in range(count)]
    # Signed before the clock starts (the signatures stay valid for minutes).
    raw = signed_requests(args, setup, path, order_ids, iso(datetime.now(timezone.utc)))
    sent, answers = {}, {}

    def send(index):
        sent[order_ids[index]] = time.time()
        answers[order_ids[index]] = post(args.http_port, raw[index])

    log(f"Latency: {count} deliveries at {rate}/s for {seconds} s")
    # Threads so that a slow answer never delays the next delivery.
    with ThreadPoolExecutor(max_workers=16) as pool:
        began = time.perf_counter()
        for index in range(count):
            delay = began + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, index)
        sending = time.perf_counter() - began
    statuses = [answer[0] for answer in answers.values()]
    accept = sorted(answer[1] for answer in answers.values())
    return {
        "prefix": prefix,
        "sent": sent,
        "rate": rate,
        "seconds": seconds,
        "sending_seconds": sending,
        "bad": sum(1 for status in statuses if status != 202),
        "accept_p95_ms": percentile(accept, 0.95) * 1000,
    }
