"""Benchmark of the job queue bridge (``oms_integration_queue_job``): the
queue run by OCA queue_job on a real server (``--workers=2``, queue_job's job
runner in the master process).

    python benchmarks/bench_queue_job.py --odoo /opt/odoo-18.0 \\
        --config ~/.cache/oms_integration/odoo-oms_bench_jobs.conf --db oms_bench_jobs

(``bash setup/bench.sh --jobs`` does it on a fresh database.) Figures, each
against its baseline in the same run:

- throughput: one backlog of orders of 10 lines (one in four with 2 or 3
  versions) stored while no server runs, then worked by the server with the
  channel ``root.oms.inbound`` at capacity 2 against capacity 1; rounds one,
  two, two, one after a warm-up; the time from the backlog's first job
  started to its last job done (queue_job's timestamps); target >= 1.5x,
  with 0 duplicates, 0 events not done, every order at its last version;
- latency: deliveries of 10-line orders at 15 per second for 40 s to the
  webhook of the server (capacity 2); per order, the sale order's
  ``create_date`` minus the time the delivery was sent; p95 printed
  (target <= 2 s).

The exit status is 1 when a figure misses its target, 2 when the benchmark
could not run.
"""

import argparse
import os
import sys
import time

from bench_common import CACHE, load_signatures, log, percentile
from bench_common import verdict as _verdict
from bench_http import OdooServer, bench_latency
from bench_inbound import install, run_phase

ADDONS = "oms_integration,oms_bench,queue_job,oms_integration_queue_job"
TARGETS = {"throughput": 1.5, "latency_p95": 2.0}


class JobsServer(OdooServer):
    """The benchmark server with queue_job loaded server-wide (its job
    runner) and the inbound channel at ``capacity``."""

    def __init__(self, args, capacity):
        super().__init__(
            args, cron_threads=0, load="base,web,queue_job,oms_integration"
        )
        self.capacity = capacity

    def __enter__(self):
        os.environ.update(
            ODOO_QUEUE_JOB_CHANNELS=(
                f"root:{max(self.capacity, 1)},root.oms.inbound:{self.capacity}"
            ),
            ODOO_QUEUE_JOB_HOST="127.0.0.1",
            ODOO_QUEUE_JOB_PORT=str(self.args.http_port),
        )
        return super().__enter__()


def one_round(args, setup, prefix, orders, capacity):
    since = time.time() - 1  # this backlog's jobs only
    stored = run_phase(
        args,
        "jobs_backlog",
        prefix=prefix,
        orders=orders,
        currency=setup["currency"],
    )
    with JobsServer(args, capacity):
        result = run_phase(
            args,
            "jobs_check",
            prefix=prefix,
            orders=orders,
            currency=setup["currency"],
            versions=stored["versions"],
            since=since,
            timeout=600,
        )
    result["rate"] = orders / result["seconds"] if result["seconds"] else 0.0
    log(
        f"  capacity {capacity}: {result['events']} events of {orders} orders in "
        f"{result['seconds']:.1f}s ({result['rate']:.2f} orders/s), not done "
        f"{result['not_done']}, duplicates {result['duplicates']}, wrong final "
        f"state {result['wrong_final_state']}, events tried again "
        f"{result['retried']}, failed jobs {result['failed_jobs']}"
    )
    return result


def main(args):
    CACHE.mkdir(parents=True, exist_ok=True)
    log(
        f"Job queue benchmark on {args.db}, {os.cpu_count()} CPU(s), load "
        f"average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    if not args.skip_install:
        install(args, ADDONS)
    secret = load_signatures().new_standard_webhooks_secret()
    setup = dict(run_phase(args, "setup", secret=secret), secret=secret)
    run_id = time.strftime("%H%M%S")
    one_round(args, setup, f"QJ-{run_id}-warm", 10, 2)
    sides = {1: [], 2: []}
    for index, capacity in enumerate((1, 2, 2, 1)):
        sides[capacity].append(
            one_round(
                args, setup, f"QJ-{run_id}-{index}-c{capacity}", args.orders, capacity
            )
        )
    rate = {c: sum(r["rate"] for r in rs) / len(rs) for c, rs in sides.items()}
    problems = sum(
        r["duplicates"] + r["wrong_final_state"] + sum(r["not_done"].values())
        for rs in sides.values()
        for r in rs
    )
    ratio = rate[2] / rate[1] if rate[1] else 0.0
    results = {"throughput": (rate, ratio, problems)}

    profile = {
        "latency_rate": args.latency_rate,
        "latency_seconds": args.latency_seconds,
    }
    run_phase(args, "reset")
    with JobsServer(args, 2):
        sent = bench_latency(args, profile, setup)
        collected = run_phase(
            args, "latency", prefix=sent["prefix"], sent=sent["sent"], timeout=180
        )
    latencies = collected["latencies"]
    p95 = percentile(latencies, 0.95) if latencies else float("inf")
    results["latency"] = (
        p95,
        percentile(latencies, 0.5) if latencies else 0,
        collected,
    )

    ok_throughput = ratio >= TARGETS["throughput"] and problems == 0
    ok_latency = p95 <= TARGETS["latency_p95"] and not collected["missing"]
    print()
    print("Job queue bridge (oms_integration_queue_job), Odoo --workers=2")
    print(
        f"  throughput, capacity 2 vs 1: {rate[2]:.2f} vs {rate[1]:.2f} orders/s "
        f"= {ratio:.2f}x (target >= {TARGETS['throughput']}x), duplicates/not "
        f"done/wrong final state: {problems}  {_verdict(ok_throughput)}"
    )
    print(
        f"  latency, webhook to sale order at {args.latency_rate}/s for "
        f"{args.latency_seconds} s: p50 {results['latency'][1]:.2f} s, p95 "
        f"{p95:.2f} s (target <= {TARGETS['latency_p95']} s), missing "
        f"{collected['missing']}, accept p95 {sent['accept_p95_ms']:.0f} ms  "
        f"{_verdict(ok_latency)}"
    )
    return 0 if ok_throughput and ok_latency else 1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--odoo", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", default="oms_bench_jobs")
    parser.add_argument("--http-port", type=int, default=8479)
    parser.add_argument("--orders", type=int, default=120)
    parser.add_argument("--latency-rate", type=int, default=15)
    parser.add_argument("--latency-seconds", type=int, default=40)
    parser.add_argument("--skip-install", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(main(parse_args()))
    except (RuntimeError, OSError) as exc:
        log(f"The job queue benchmark could not run: {exc}")
        sys.exit(2)
