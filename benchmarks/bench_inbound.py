"""Performance benchmark of ``oms_integration``: the driver.

Run it through ``bash setup/bench.sh`` (a fresh database ``oms_bench``), or
directly with the project's virtualenv::

    python benchmarks/bench_inbound.py --odoo /opt/odoo-18.0 \\
        --config ~/.cache/oms_integration/odoo-oms_bench.conf --db oms_bench

Every figure is measured against its baseline in the same run and printed
with both sides, the ratio and its target (benchmarks/README.md):

- webhook: signed deliveries accepted per second and their p99 latency,
  against a bare INSERT route (``bench_http.py``);
- latency: webhook delivery to sale order with the server's cron workers
  applying the orders (``bench_http.py``, then ``bench_queue.py latency``);
- processing: the runner against direct ``sale.order.create``;
- parallel: two processors against one on the same backlog;
- scale and memory: claim cost with a large backlog, RSS over many events
  (these four in processes of ``bench_queue.py``);
- callbacks and outage: status callbacks (``bench_outbound.py``).

The exit status is 1 when a figure misses its target, 2 when the benchmark
could not run.
"""

import argparse
import json
import os
import pathlib
import platform
import subprocess
import sys
import tempfile
import time

from bench_common import CACHE, LINES_PER_ORDER, addons_path, load_signatures, log
from bench_common import verdict as _verdict
from bench_http import OdooServer, bench_latency, bench_webhook

HERE = pathlib.Path(__file__).resolve().parent
ADDONS_TO_INSTALL = "oms_integration,oms_bench"

TARGETS = {
    "accept_rate": 0.80,  # at least, webhook rate / bare route rate
    "accept_p99": 1.5,  # at most, webhook p99 / bare route p99
    "latency_p95": 2.0,  # at most, seconds from delivery to sale order
    "processing": 0.9,  # at least, runner rate / direct ORM rate
    "parallel": 1.5,  # at least, two processors' rate / one processor's
    "scale": 1.2,  # at most, per-event cost 100k pending / 1k pending
    "memory": 10.0,  # less than, growth in % over the memory run
}
INBOUND = ("webhook", "latency", "processing", "parallel", "scale", "memory")
OUTBOUND = ("callbacks", "outage")

# Full run (the numbers) and --quick run (development).
PROFILES = {
    "full": {
        "webhook_requests": 3000,
        "webhook_rounds": 10,
        "webhook_warmup": 200,
        "latency_rate": 15,
        "latency_seconds": 40,
        "orders": 240,
        "order_rounds": 6,
        "parallel_orders": 240,
        "parallel_rounds": 2,
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
        "latency_rate": 15,
        "latency_seconds": 10,
        "orders": 40,
        "order_rounds": 2,
        "parallel_orders": 60,
        "parallel_rounds": 1,
        "pending_small": 1000,
        "pending_large": 10000,
        "scale_events": 150,
        "memory_events": 1000,
        "memory_warmup": 200,
    },
}


def run_phase(args, phase, **params):
    """Run ``bench_queue.py <phase>`` in a child process; return its result."""
    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        result_file = pathlib.Path(tmp) / "result.json"
        command = [
            sys.executable,
            str(HERE / "bench_queue.py"),
            phase,
            "--odoo",
            args.odoo,
            "--config",
            args.config,
            "--db",
            args.db,
            "--params",
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


def install(args, addons=ADDONS_TO_INSTALL):
    log_file = CACHE / f"bench-install-{args.db}.log"
    log_file.unlink(missing_ok=True)
    log(f"Installing {addons} into {args.db} (log in {log_file})")
    command = [
        sys.executable,
        os.path.join(args.odoo, "odoo-bin"),
        "-c",
        args.config,
        "-d",
        args.db,
        f"--addons-path={addons_path(args.odoo, args.config)}",
        "-i",
        addons,
        "--without-demo=all",
        "--stop-after-init",
        "--log-level=warn",
        f"--logfile={log_file}",
    ]
    if subprocess.run(command, check=False).returncode != 0:
        raise RuntimeError(f"installing the addons failed, see {log_file}")


def run_outbound(args, only):
    """``bench_outbound.py`` on the same database: it prints its own figures;
    returns its exit status."""
    command = [
        sys.executable,
        str(HERE / "bench_outbound.py"),
        "--odoo",
        args.odoo,
        "--config",
        args.config,
        "--db",
        args.db,
    ]
    if args.quick:
        command.append("--quick")
    if len(only) == 1:
        command += ["--only", next(iter(only))]
    return subprocess.run(command, check=False).returncode


def main(args):
    profile = dict(PROFILES["quick" if args.quick else "full"])
    for knob in (
        "webhook_requests",
        "orders",
        "parallel_orders",
        "pending_large",
        "scale_events",
        "memory_events",
    ):
        if getattr(args, knob) is not None:
            profile[knob] = getattr(args, knob)
    only = set(args.only.split(",")) if args.only else set(INBOUND + OUTBOUND)
    unknown = only - set(INBOUND + OUTBOUND)
    if unknown:
        raise SystemExit(f"unknown --only figure(s): {', '.join(sorted(unknown))}")
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log(
        f"Benchmark ({'quick' if args.quick else 'full'} run) on database "
        f"{args.db}, {os.cpu_count()} CPU(s), load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    results = {}
    try:
        run_inbound(args, profile, only, results)
    except RuntimeError:
        # What was measured before the failure is still worth reading.
        if results:
            report(args, profile, results, time.monotonic() - started)
        raise
    ok = report(args, profile, results, time.monotonic() - started) if results else True
    if only & set(OUTBOUND):
        status = run_outbound(args, only & set(OUTBOUND))
        if status == 2:
            raise RuntimeError("the outbound benchmark could not run")
        ok = ok and status == 0
    return 0 if ok else 1


def run_inbound(args, profile, only, results):
    """The inbound figures in ``only``, each added to ``results`` once
    measured."""
    if only & set(INBOUND):
        if not args.skip_install:
            install(args)
        secret = load_signatures().new_standard_webhooks_secret()
        setup = dict(run_phase(args, "setup", secret=secret), secret=secret)
        currency = setup["currency"]
        if "webhook" in only:
            with OdooServer(args, cron_threads=0):
                results["webhook"] = bench_webhook(args, profile, setup)
        if "latency" in only:
            run_phase(args, "reset")  # the webhook figure's deliveries
            with OdooServer(args, cron_threads=2):
                sent = bench_latency(args, profile, setup)
                collected = run_phase(
                    args,
                    "latency",
                    prefix=sent["prefix"],
                    sent=sent["sent"],
                    timeout=120,
                )
            results["latency"] = dict(sent, **collected, sent=len(sent["sent"]))
        if "processing" in only:
            results["processing"] = run_phase(
                args,
                "processing",
                orders=profile["orders"],
                rounds=profile["order_rounds"],
                currency=currency,
            )
        if "parallel" in only:
            results["parallel"] = run_phase(
                args,
                "parallel",
                orders=profile["parallel_orders"],
                rounds=profile["parallel_rounds"],
                currency=currency,
                processor_args={
                    "odoo": args.odoo,
                    "config": args.config,
                    "db": args.db,
                },
            )
        if "scale" in only:
            results["scale"] = run_phase(
                args,
                "scale",
                small=profile["pending_small"],
                large=profile["pending_large"],
                events=profile["scale_events"],
                currency=currency,
            )
        if "memory" in only:
            results["memory"] = run_phase(
                args,
                "memory",
                events=profile["memory_events"],
                warmup=profile["memory_warmup"],
                lines=args.memory_lines,
                currency=currency,
            )
        run_phase(args, "reset")


# --- Report ------------------------------------------------------------------


def report_webhook(args, profile, results, figure, note):
    hook, bare = results["webhook"], results["bare"]
    ratio = hook["rate"] / bare["rate"]
    figure(
        f"webhook accept rate: {hook['rate']:.1f}/s vs bare INSERT route "
        f"{bare['rate']:.1f}/s = {ratio:.2f}x (target >= {TARGETS['accept_rate']}x)",
        ratio >= TARGETS["accept_rate"],
    )
    ratio = hook["p99_ms"] / bare["p99_ms"]
    figure(
        f"webhook p99 latency: {hook['p99_ms']:.1f} ms vs bare INSERT route "
        f"{bare['p99_ms']:.1f} ms = {ratio:.2f}x (target <= {TARGETS['accept_p99']}x)",
        ratio <= TARGETS["accept_p99"],
    )
    if hook["bad"] or bare["bad"]:
        figure(
            f"webhook answers other than 202: {hook['bad']} vs bare route "
            f"{bare['bad']} (target 0)",
            False,
        )
    store = results.get("store_only")
    if store:
        note(
            f"diagnostic, no target: storing the event row alone "
            f"{store['rate']:.1f}/s vs bare INSERT route {bare['rate']:.1f}/s = "
            f"{store['rate'] / bare['rate']:.2f}x, p99 "
            f"{store['p99_ms'] / bare['p99_ms']:.2f}x (other than 202: {store['bad']})"
        )
    note(
        f"p50 {hook['p50_ms']:.1f} ms vs {bare['p50_ms']:.1f} ms; "
        f"{hook['requests']} deliveries per route in {profile['webhook_rounds']} "
        f"alternating rounds, {args.clients} clients, Odoo --workers=2 "
        f"--max-cron-threads=0; client CPU {results['client_cpu_ms_per_request']:.2f} "
        f"ms per request, {results['client_cpu_share'] * 100:.0f}% of one core"
    )


def report_latency(latency, figure, note):
    values = latency["latencies"]
    p50 = values[len(values) // 2] if values else float("nan")
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))] if values else p50
    complete = not latency["missing"] and not latency["bad"]
    figure(
        f"webhook to sale order: p95 {p95:.2f} s, p50 {p50:.2f} s, max "
        f"{values[-1] if values else float('nan'):.2f} s over {len(values)} orders "
        f"(target p95 <= {TARGETS['latency_p95']:.0f} s, every order created)",
        complete and p95 <= TARGETS["latency_p95"],
    )
    note(
        f"{latency['sent']} deliveries of {LINES_PER_ORDER} lines at "
        f"{latency['rate']}/s for {latency['seconds']} s (sent in "
        f"{latency['sending_seconds']:.1f} s) to Odoo --workers=2 "
        f"--max-cron-threads=2, its two runners applying them; sale order "
        f"create_date minus send time; answers other than 202: {latency['bad']}, "
        f"without a sale order after 120 s: {latency['missing']}, events "
        f"{latency['states']}; acceptance p95 {latency['accept_p95_ms']:.0f} ms"
    )


def report_parallel(parallel, figure, note):
    sides = {}
    for side, runs in parallel.items():
        events = sum(run["events"] for run in runs)
        seconds = sum(run["seconds"] for run in runs)
        sides[side] = {
            "rate": events / seconds,
            "orders": sum(run["orders_checked"] for run in runs),
            "events": events,
            "seconds": seconds,
        }
    one, two = sides["one"], sides["two"]
    ratio = two["rate"] / one["rate"]
    figure(
        f"parallel processing: two processors {two['rate']:.1f} events/s vs one "
        f"processor {one['rate']:.1f} events/s = {ratio:.2f}x "
        f"(target >= {TARGETS['parallel']}x)",
        ratio >= TARGETS["parallel"],
    )
    runs = [run for side_runs in parallel.values() for run in side_runs]
    failed = sum(sum(run["not_done"].values()) for run in runs)
    duplicates = sum(run["duplicates"] for run in runs)
    wrong = sum(run["wrong_final_state"] for run in runs)
    skipped = sum(run["skipped_as_older"] for run in runs)
    multi = sum(run["multi_version_orders"] for run in runs)
    two_runs = parallel["two"]
    figure(
        f"parallel correctness: events not done {failed}, duplicate sale orders "
        f"{duplicates}, orders not at their last version {wrong} of "
        f"{sum(run['orders_checked'] for run in runs)} ({multi} with 2 or 3 "
        f"versions), versions skipped as older {skipped} (target 0 each)",
        not (failed or duplicates or wrong or skipped),
    )
    errors = [error for run in runs for error in run["errors"]]
    if errors:
        note(f"errors: {'; '.join(errors)[:300]}")
    note(
        f"same backlog each side: {one['orders']} orders of {LINES_PER_ORDER} "
        f"lines, {one['events']} events, in {len(two_runs)} round(s) per side; "
        f"{one['seconds']:.1f} s vs {two['seconds']:.1f} s; events deferred "
        f"because of a concurrent update: {sum(r['deferred'] for r in two_runs)} "
        f"with two (not a failure), "
        f"{sum(r['deferred'] for r in parallel['one'])} with one; each "
        "processor an OS process running the runner loop "
        "(_oms_run_queue('inbound'), a fresh cursor per run)"
    )


def report(args, profile, results, elapsed):
    lines, passed = [], []

    def figure(text, ok):
        passed.append(ok)
        lines.append(f"{text} {_verdict(ok)}")

    def note(text):
        lines.append(f"  ({text})")

    if "webhook" in results:
        report_webhook(args, profile, results["webhook"], figure, note)
    if "latency" in results:
        report_latency(results["latency"], figure, note)
    if "processing" in results:
        proc = results["processing"]
        queue_rate = proc["orders"] / proc["queue_seconds"]
        direct_rate = proc["orders"] / proc["direct_seconds"]
        ratio = queue_rate / direct_rate
        figure(
            f"processing rate: {queue_rate:.1f} orders/s (runner) vs direct ORM "
            f"create {direct_rate:.1f} orders/s = {ratio:.2f}x "
            f"(target >= {TARGETS['processing']}x)",
            ratio >= TARGETS["processing"],
        )
        note(
            f"{proc['orders']} orders of {LINES_PER_ORDER} lines each way, "
            f"{proc['rounds']} alternating rounds in one process: "
            f"{proc['queue_seconds'] * 1000 / proc['orders']:.1f} ms vs "
            f"{proc['direct_seconds'] * 1000 / proc['orders']:.1f} ms per order"
        )
    if "parallel" in results:
        report_parallel(results["parallel"], figure, note)
    if "scale" in results:
        small, large = results["scale"]["small"], results["scale"]["large"]
        ratio = large["ms_per_event"] / small["ms_per_event"]
        figure(
            f"per-event cost with {large['pending']} pending: "
            f"{large['ms_per_event']:.1f} ms vs with {small['pending']} pending "
            f"{small['ms_per_event']:.1f} ms = {ratio:.2f}x "
            f"(target <= {TARGETS['scale']}x)",
            ratio <= TARGETS["scale"],
        )
        note(
            f"{large['done']} and {small['done']} events of {LINES_PER_ORDER} lines "
            "in two runner runs each, small, large, large, small; one claim of 20 "
            f"with {large['pending']} pending: {large['claim_ms']:.1f} ms vs "
            f"{small['claim_ms']:.1f} ms"
        )
    if "memory" in results:
        memory = results["memory"]
        growth = (memory["rss_end_mb"] / memory["rss_start_mb"] - 1) * 100
        figure(
            f"processor memory over {memory['events']} events: "
            f"{memory['rss_end_mb']:.1f} MB at the end vs "
            f"{memory['rss_start_mb']:.1f} MB after warm-up = {growth:+.1f}% "
            f"(target < +{TARGETS['memory']:.0f}%)",
            growth < TARGETS["memory"],
        )
        note(
            f"RSS of one process running the runner run after run, "
            f"{memory['runs']} runs, orders of {memory['lines']} line(s); peak "
            f"{memory['rss_peak_mb']:.1f} MB; "
            f"{memory['seconds'] * 1000 / memory['events']:.1f} ms per event"
        )
    print()
    print(
        f"Inbound pipeline benchmark ({'quick' if args.quick else 'full'} run, "
        f"{platform.node()}, {os.cpu_count()} CPUs, {elapsed / 60:.1f} min)"
    )
    for line in lines:
        print(line, flush=True)
    ok = all(passed)
    print(f"Result: {_verdict(ok)} ({sum(passed)}/{len(passed)} figures)", flush=True)
    return ok


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark of oms_integration (see benchmarks/README.md)."
    )
    parser.add_argument("--odoo", required=True, help="the Odoo 18.0 source tree")
    parser.add_argument("--config", required=True, help="the Odoo configuration")
    parser.add_argument("--db", default="oms_bench", help="the benchmark database")
    parser.add_argument("--http-port", type=int, default=8469)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--quick", action="store_true", help="smaller numbers")
    parser.add_argument(
        "--only", help=f"comma-separated figures, among {', '.join(INBOUND + OUTBOUND)}"
    )
    parser.add_argument(
        "--skip-install", action="store_true", help="the addons are installed already"
    )
    parser.add_argument("--webhook-requests", type=int, help="deliveries per route")
    parser.add_argument("--orders", type=int, help="orders each way (processing)")
    parser.add_argument("--parallel-orders", type=int, help="orders per backlog")
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
        help="webhook figure: also measure a route that only stores the event "
        "row as the webhook does (no verification, no validation)",
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(main(parse_args()))
    except RuntimeError as error:
        log(f"ERROR: {error}")
        sys.exit(2)
