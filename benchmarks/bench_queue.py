"""Figures of the inbound queue, each run in a benchmark process with Odoo's
API (never an Odoo server), started by ``bench_inbound.py``::

    python benchmarks/bench_queue.py <phase> --odoo ... --config ... --db ...
        --params JSON --result-file FILE

Phases: ``setup`` (the benchmark records), ``reset`` (empty the queue),
``processing`` (the runner against direct ``sale.order.create``),
``parallel`` (two processors against one on the same backlog), ``scale``
(claim cost with a large backlog), ``memory`` (RSS over many events),
``latency`` (collects the sale orders of the latency figure), and ``runner``
(one processor of the ``parallel`` figure, driven through its stdin).

A processor is what an Odoo cron thread runs: the inbound runner
(``_oms_run_queue("inbound")``) on a fresh cursor, again and again.
"""

import argparse
import json
import logging
import pathlib
import subprocess
import sys
import time

from bench_common import (
    CUSTOMER_CODE,
    LINES_PER_ORDER,
    RUNNER_XMLIDS,
    SKU,
    SOURCE_NAME,
    OdooContext,
    accept_deliveries,
    backlog_documents,
    bench_records,
    check_done,
    event_states,
    log,
    now_iso,
    open_events,
    order_document,
    reset_queue,
    total_quantity,
    vacuum_analyze,
)

EVENT_LOGGER = "odoo.addons.oms_integration.models.oms_integration_event"


# --- Setup -------------------------------------------------------------------


def phase_setup(ctx, params):
    """Products, a customer, a pricelist, and an active webhook source with a
    signing secret and inbound consent, all mapped (as after onboarding);
    the runners' scheduled actions active."""
    from odoo import Command  # noqa: PLC0415

    with ctx.registry.cursor() as cr:
        env = ctx.env(cr)
        for xmlid in RUNNER_XMLIDS:
            env.ref(xmlid).active = True
        company = env.company
        source = env["oms.integration.source"].search([("name", "=", SOURCE_NAME)])
        if source:
            # --skip-install: the records are there, only the secret is new.
            source.signing_secret = params["secret"]
            return {
                "webhook_key": source.webhook_key,
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
                "pricelist_id": pricelist.id,
                "partner_policy": "match",
                "product_policy": "match",
            }
        )
        source.signing_secret = params["secret"]
        source._oms_give_consent(["inbound"])
        source.action_activate()
        Mapping = env["oms.integration.mapping"]
        Mapping.create(
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
    vacuum_analyze(ctx, table=None)
    return result


def phase_reset(ctx, _params):
    with ctx.registry.cursor() as cr:
        reset_queue(cr)
    return {}


# --- Processing: the runner against direct creation -------------------------


def run_queue(ctx, time_budget=None):
    """One run of the inbound runner on a fresh cursor, as a cron thread
    runs it: ``(events done, seconds)``."""
    with ctx.registry.cursor() as cr:
        began = time.perf_counter()
        done = ctx.env(cr)["oms.integration.event"]._oms_run_queue(
            "inbound", time_budget=time_budget
        )
        return done, time.perf_counter() - began


def phase_processing(ctx, params):
    """Orders turned into sale orders by the runner against the same orders
    created directly with ``sale.order.create`` (one commit each), in
    alternating rounds in this one process."""
    from odoo import Command  # noqa: PLC0415

    orders, rounds = params["orders"], params["rounds"]
    per_round = max(1, orders // rounds)
    run_id = time.strftime("%H%M%S")
    totals = {"direct": 0.0, "queue": 0.0}
    with ctx.registry.cursor() as cr:
        reset_queue(cr)
        env = ctx.env(cr)
        source, products, partner = bench_records(env)

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

        def one_version(prefix, count):
            documents = backlog_documents(prefix, count, params["currency"])
            return [doc for doc in documents if doc[1] == 1]

        def direct(prefix, count):
            vals_list = [direct_vals(f"{prefix}-{index}") for index in range(count)]
            began = time.perf_counter()
            for vals in vals_list:
                env["sale.order"].create(vals)
                cr.commit()  # pylint: disable=invalid-commit
            return time.perf_counter() - began

        def queue(prefix, count):
            accept_deliveries(env, source, one_version(prefix, count))
            seconds = 0.0
            while True:
                done, elapsed = run_queue(ctx)
                seconds += elapsed
                if not done:
                    break
            check_done(cr, prefix, count)
            return seconds

        # Warm-up: both paths once, so that neither pays for first-use caches.
        queue(f"BP-{run_id}-warm-q", 5)
        direct(f"BP-{run_id}-warm-d", 5)
        for round_index in range(rounds):
            sides = ("direct", "queue") if round_index % 2 == 0 else ("queue", "direct")
            for side in sides:
                prefix = f"BP-{run_id}-{round_index}-{side}"
                totals[side] += (direct if side == "direct" else queue)(
                    prefix, per_round
                )
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


# --- Parallel: two processors against one -----------------------------------


class Runner:
    """A processor in an OS process of its own (``phase_runner``)."""

    def __init__(self, args, name):
        self.name = name
        command = [
            sys.executable,
            __file__,
            "runner",
            "--odoo",
            args.odoo,
            "--config",
            args.config,
            "--db",
            args.db,
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def wait_ready(self):
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"processor {self.name} did not start")

    def start(self):
        self.process.stdin.write("run\n")
        self.process.stdin.flush()

    def result(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"processor {self.name} stopped")
        return json.loads(line)

    def stop(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=60)


class _CountDeferred(logging.Handler):
    """Counts the runner's "met a concurrent update" log lines: the events
    put back in the queue because of a concurrent update."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record):
        if "concurrent update" in record.getMessage():
            self.count += 1


def phase_runner(ctx, _params):
    """A processor: on ``run``, the inbound runner again and again (a fresh
    cursor each time, as a cron thread) until no inbound event is left to
    do, then one JSON line: events done, seconds, events deferred."""
    counter = _CountDeferred()
    logger = logging.getLogger(EVENT_LOGGER)
    logger.setLevel(logging.INFO)
    logger.addHandler(counter)
    print("ready", flush=True)
    for command in sys.stdin:
        if command.strip() != "run":
            break
        counter.count = 0
        done = 0
        cpu, began = time.process_time(), time.perf_counter()
        while True:
            done += run_queue(ctx)[0]
            with ctx.registry.cursor() as cr:
                if not open_events(cr):
                    break
            time.sleep(0.02)  # the rest is leased by the other processor
        answer = {
            "done": done,
            "seconds": time.perf_counter() - began,
            "cpu": time.process_time() - cpu,
            "deferred": counter.count,
        }
        print(json.dumps(answer), flush=True)
    return None


def check_backlog(cr, source, prefix, documents):
    """What a backlog left behind: events not done, duplicate sale orders,
    orders whose final state is not their last version, versions skipped as
    older than the one applied."""
    states = event_states(cr, prefix)
    not_done = {
        state: count for state, (count, _e) in states.items() if state != "done"
    }
    errors = [error for _count, error in states.values() if error]
    cr.execute(
        """
        SELECT count(*) FROM (
            SELECT oms_external_id FROM sale_order
             WHERE oms_source_id = %s AND oms_external_id LIKE %s
             GROUP BY oms_external_id HAVING count(*) > 1) AS twice
        """,
        [source.id, prefix + "-%"],
    )
    duplicates = cr.fetchone()[0]
    cr.execute(
        """
        SELECT so.oms_external_id, so.oms_updated_at, sum(line.product_uom_qty)
          FROM sale_order so
          JOIN sale_order_line line ON line.order_id = so.id
         WHERE so.oms_source_id = %s AND so.oms_external_id LIKE %s
         GROUP BY so.id
        """,
        [source.id, prefix + "-%"],
    )
    final = {row[0]: (row[1], row[2]) for row in cr.fetchall()}
    last = {}
    for order_id, version, document in documents:
        last[order_id] = (version, document["order"]["updated_at"])
    wrong = [
        order_id
        for order_id, (version, updated_at) in last.items()
        if order_id not in final
        or final[order_id][0].strftime("%Y-%m-%dT%H:%M:%SZ") != updated_at
        or final[order_id][1] != total_quantity(version)
    ]
    cr.execute(
        """
        SELECT count(*) FROM oms_integration_event
         WHERE direction = 'inbound' AND external_order_id LIKE %s
           AND result_note LIKE 'Version of %%older than the applied one%%'
        """,
        [prefix + "-%"],
    )
    skipped = cr.fetchone()[0]
    return {
        "not_done": not_done,
        "errors": errors[:3],
        "duplicates": duplicates,
        "orders_checked": len(last),
        "multi_version_orders": sum(1 for v, _u in last.values() if v > 1),
        "wrong_final_state": len(wrong),
        "wrong_examples": wrong[:5],
        "skipped_as_older": skipped,
    }


def phase_parallel(ctx, params):
    """The same backlog (orders of 10 lines, one in four with 2 or 3
    versions) processed by one processor, then by two, each an OS process
    running the runner loop; rounds alternate which side goes first."""
    args = params["processor_args"]
    run_id = time.strftime("%H%M%S")
    runners = [Runner(argparse.Namespace(**args), name) for name in ("A", "B")]
    try:
        for runner in runners:
            runner.wait_ready()
        with ctx.registry.cursor() as cr:
            reset_queue(cr)
            env = ctx.env(cr)
            source = bench_records(env)[0]

            def run(prefix, count, processors):
                documents = backlog_documents(prefix, count, params["currency"])
                accept_deliveries(env, source, documents)
                began = time.perf_counter()
                for runner in processors:
                    runner.start()
                answers = [runner.result() for runner in processors]
                seconds = time.perf_counter() - began
                cr.commit()  # pylint: disable=invalid-commit - a new snapshot
                check = check_backlog(cr, source, prefix, documents)
                return dict(
                    check,
                    events=len(documents),
                    seconds=seconds,
                    per_processor=answers,
                    deferred=sum(answer["deferred"] for answer in answers),
                )

            # Warm-up: each processor alone on a few orders.
            for runner in runners:
                run(f"BB-{run_id}-warm-{runner.name}", 6, [runner])
            results = {"one": [], "two": []}
            for round_index in range(params["rounds"]):
                sides = ("one", "two") if round_index % 2 == 0 else ("two", "one")
                for side in sides:
                    processors = runners[:1] if side == "one" else runners
                    prefix = f"BB-{run_id}-{round_index}-{side}"
                    result = run(prefix, params["orders"], processors)
                    results[side].append(result)
                    log(
                        f"  parallel round {round_index + 1}/{params['rounds']}, "
                        f"{side} processor(s): {result['events']} events in "
                        f"{result['seconds']:.1f}s "
                        f"({result['events'] / result['seconds']:.1f}/s), "
                        f"{result['deferred']} deferred, not done "
                        f"{result['not_done']}, wrong final state "
                        f"{result['wrong_final_state']}"
                    )
    finally:
        for runner in runners:
            runner.stop()
    return results


# --- Scale and memory --------------------------------------------------------


def insert_pending(cr, source, prefix, count, currency, line_count=LINES_PER_ORDER):
    """Insert ``count`` pending events of distinct orders with one SQL
    statement, the row ``_oms_insert_order`` writes (a backlog is set up,
    not measured)."""
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
    cr.commit()  # pylint: disable=invalid-commit


def time_claim(ctx, samples=5, limit=20):
    """The median cost of one claim of ``limit`` due events (rolled back)."""
    with ctx.registry.cursor() as cr:
        Event = ctx.env(cr)["oms.integration.event"]
        timings = []
        for _index in range(samples):
            began = time.perf_counter()
            Event._oms_claim("inbound", limit)
            timings.append(time.perf_counter() - began)
            cr.rollback()
        return sorted(timings)[len(timings) // 2] * 1000


def set_backlog(ctx, cr, source, prefix, pending, currency):
    """Make the pending backlog exactly ``pending`` events: insert new ones,
    or delete the newest."""
    cr.execute("SELECT count(*) FROM oms_integration_event WHERE state = 'pending'")
    missing = pending - cr.fetchone()[0]
    if missing > 0:
        insert_pending(cr, source, f"{prefix}-{time.time_ns()}", missing, currency)
    elif missing < 0:
        cr.execute(
            """
            DELETE FROM oms_integration_event WHERE id IN (
                SELECT id FROM oms_integration_event WHERE state = 'pending'
                 ORDER BY id DESC LIMIT %s)
            """,
            [-missing],
        )
    cr.commit()  # pylint: disable=invalid-commit
    vacuum_analyze(ctx)


def phase_scale(ctx, params):
    """Per-event cost of the runner with a small and a large backlog,
    measured small, large, large, small (drift hits both sides alike)."""
    run_id = time.strftime("%H%M%S")
    with ctx.registry.cursor() as cr:
        reset_queue(cr)
        source = bench_records(ctx.env(cr))[0]
        warm = f"BS-{run_id}-warm"
        insert_pending(cr, source, warm, 100, params["currency"])
        done, seconds = run_queue(ctx)
        check_done(cr, warm, 100)
        # The time budget giving about half ``events`` events a run.
        budget = params["events"] * seconds / done / 2
        log(f"  scale: runner runs of {budget:.1f}s, small, large, large, small")
        totals = {
            size: {"pending": params[size], "done": 0, "seconds": 0.0, "claim": []}
            for size in ("small", "large")
        }
        prefix = f"BS-{run_id}"
        for size in ("small", "large", "large", "small"):
            pending = params[size]
            set_backlog(ctx, cr, source, prefix, pending, params["currency"])
            claim_ms = time_claim(ctx)
            done, seconds = run_queue(ctx, time_budget=budget)
            check_done(cr, prefix, None)
            if done >= pending:
                raise RuntimeError(f"the queue ran dry with {pending} pending")
            total = totals[size]
            total["done"] += done
            total["seconds"] += seconds
            total["claim"].append(claim_ms)
            log(
                f"  scale: {done} events in {seconds:.1f}s with {pending} pending "
                f"({seconds * 1000 / done:.1f} ms per event, one claim "
                f"{claim_ms:.1f} ms)"
            )
        reset_queue(cr)
    return {
        size: {
            "pending": total["pending"],
            "done": total["done"],
            "ms_per_event": total["seconds"] * 1000 / total["done"],
            "claim_ms": sorted(total["claim"])[len(total["claim"]) // 2],
        }
        for size, total in totals.items()
    }


def rss_mb():
    """Resident memory of this process (VmRSS) and its peak (VmHWM), in MB."""
    values = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _sep, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def phase_memory(ctx, params):
    """RSS of one process running the runner over ``events`` events, run by
    run as a cron thread does (a fresh cursor and environment per run, the
    default batch and time budget)."""
    run_id = time.strftime("%H%M%S")
    currency, lines = params["currency"], params["lines"]
    with ctx.registry.cursor() as cr:
        reset_queue(cr)
        source = bench_records(ctx.env(cr))[0]
        insert_pending(
            cr, source, f"BM-{run_id}-warm", params["warmup"], currency, lines
        )
    while run_queue(ctx)[0]:
        pass
    rss_start, _peak = rss_mb()
    log(f"  memory: {rss_start:.1f} MB after {params['warmup']} warm-up events")
    prefix = f"BM-{run_id}-main"
    with ctx.registry.cursor() as cr:
        check_done(cr, f"BM-{run_id}-warm", params["warmup"])
        source = bench_records(ctx.env(cr))[0]
        insert_pending(cr, source, prefix, params["events"], currency, lines)
    vacuum_analyze(ctx)
    began = time.perf_counter()
    done_total = runs = 0
    while True:
        done, _seconds = run_queue(ctx)
        if not done:
            break
        runs += 1
        done_total += done
        log(f"  memory: {done_total} events, {rss_mb()[0]:.1f} MB")
    seconds = time.perf_counter() - began
    rss_end, peak = rss_mb()
    with ctx.registry.cursor() as cr:
        check_done(cr, prefix, params["events"])
    return {
        "events": done_total,
        "lines": lines,
        "runs": runs,
        "seconds": seconds,
        "rss_start_mb": rss_start,
        "rss_end_mb": rss_end,
        "rss_peak_mb": peak,
    }


# --- Latency: the sale orders of the deliveries -----------------------------


def phase_latency(ctx, params):
    """Wait until every delivery of the latency figure has its sale order
    (at most ``timeout`` seconds), then return, per order, the seconds from
    the delivery's send time to the sale order's ``create_date`` (the start
    of the transaction that created it, the database's clock)."""
    sent = params["sent"]
    deadline = time.monotonic() + params["timeout"]
    with ctx.registry.cursor() as cr:
        while True:
            cr.execute(
                """
                SELECT oms_external_id,
                       extract(epoch FROM create_date AT TIME ZONE 'UTC')
                  FROM sale_order
                 WHERE oms_external_id LIKE %s
                """,
                [params["prefix"] + "-%"],
            )
            created = dict(cr.fetchall())
            if len(created) >= len(sent) or time.monotonic() > deadline:
                break
            cr.rollback()
            time.sleep(0.5)
        states = event_states(cr, params["prefix"])
    return {
        "latencies": sorted(
            float(created[order_id]) - at
            for order_id, at in sent.items()
            if order_id in created
        ),
        "missing": len(set(sent) - set(created)),
        "states": {state: count for state, (count, _e) in states.items()},
    }


# --- Job queue (oms_integration_queue_job) ----------------------------------


def phase_jobs_backlog(ctx, params):
    """Store a backlog as the webhook does (with the bridge installed, each
    due event gets its queue job), while no server runs: the jobs wait."""
    with ctx.registry.cursor() as cr:
        env = ctx.env(cr)
        source = bench_records(env)[0]
        documents = backlog_documents(
            params["prefix"], params["orders"], params["currency"]
        )
        accept_deliveries(env, source, documents)
        cr.execute(
            "SELECT count(*) FROM queue_job WHERE state = 'pending' "
            "AND model_name = 'oms.integration.event'"
        )
        return {
            "events": len(documents),
            "jobs_pending": cr.fetchone()[0],
            # What the check compares the sale orders with.
            "versions": [
                [order_id, version, document["order"]["updated_at"]]
                for order_id, version, document in documents
            ],
        }


def phase_jobs_check(ctx, params):
    """Wait until the backlog of ``prefix`` is worked (at most ``timeout``
    seconds), then return what it left (``check_backlog``) and how long the
    job queue took: from the first job of the backlog started to the last
    one done (queue_job's own timestamps)."""
    prefix = params["prefix"]
    deadline = time.monotonic() + params["timeout"]
    with ctx.registry.cursor() as cr:
        env = ctx.env(cr)
        source = bench_records(env)[0]
        while True:
            cr.commit()  # pylint: disable=invalid-commit - a new snapshot
            states = event_states(cr, prefix)
            open_count = sum(
                count
                for state, (count, _e) in states.items()
                if state in ("pending", "processing")
            )
            if not open_count or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        cr.execute(
            """
            SELECT extract(epoch FROM min(job.date_started)),
                   extract(epoch FROM max(job.date_done)),
                   count(*),
                   count(*) FILTER (WHERE job.state = 'failed')
              FROM queue_job job
             WHERE job.model_name = 'oms.integration.event'
               AND job.date_created >= to_timestamp(%s) AT TIME ZONE 'UTC'
            """,
            [params["since"]],
        )
        first, last, jobs, failed_jobs = cr.fetchone()
        documents = [
            (order_id, version, {"order": {"updated_at": updated_at}})
            for order_id, version, updated_at in params["versions"]
        ]
        cr.execute(
            "SELECT count(*) FROM oms_integration_event "
            "WHERE external_order_id LIKE %s AND attempts > 1",
            [prefix + "-%"],
        )
        retried = cr.fetchone()[0]
        return dict(
            check_backlog(cr, source, prefix, documents),
            events=len(documents),
            seconds=float(last - first) if first and last else None,
            jobs=jobs,
            failed_jobs=failed_jobs,
            retried=retried,
        )


PHASES = {
    "jobs_backlog": phase_jobs_backlog,
    "jobs_check": phase_jobs_check,
    "setup": phase_setup,
    "reset": phase_reset,
    "processing": phase_processing,
    "parallel": phase_parallel,
    "runner": phase_runner,
    "scale": phase_scale,
    "memory": phase_memory,
    "latency": phase_latency,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("phase", choices=sorted(PHASES))
    parser.add_argument("--odoo", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--params", default="{}")
    parser.add_argument("--result-file")
    args = parser.parse_args()
    ctx = OdooContext(args.odoo, args.config, args.db)
    result = PHASES[args.phase](ctx, json.loads(args.params))
    if args.result_file:
        pathlib.Path(args.result_file).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
