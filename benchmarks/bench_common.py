"""What the benchmark scripts share: the orders they send, Odoo's context in
a benchmark process, the benchmark records (source, products, customer) and
the queue's bookkeeping between figures.

Plain helpers, imported by ``bench_inbound.py`` (the driver), ``bench_http.py``
(figures through an Odoo server), ``bench_queue.py`` (figures in benchmark
processes with Odoo's API) and ``bench_outbound.py``. Only the functions that
take an ``env``, a cursor or an ``OdooContext`` need Odoo.
"""

import configparser
import importlib.util
import json
import os
import pathlib
import sys
import time
from datetime import datetime, timedelta, timezone

REPO = pathlib.Path(__file__).resolve().parent.parent
BENCH_ADDONS = REPO / "benchmarks" / "addons"
CACHE = (
    pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache")
    / "oms_integration"
)
SOURCE_NAME = "Benchmark source"
CUSTOMER_CODE = "BENCH-C1"
LINES_PER_ORDER = 10
SKU = "BENCH-SKU-{:02d}"
# The scheduled actions that work the inbound queue (see data/ir_cron_data.xml).
RUNNER_XMLIDS = (
    "oms_integration.ir_cron_process_queue",
    "oms_integration.ir_cron_process_queue_2",
)


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def percentile(sorted_values, fraction):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, int(round(fraction * len(sorted_values) + 0.5)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def load_signatures():
    """``oms_integration/lib/signatures.py`` without Odoo (plain stdlib code)."""
    path = REPO / "oms_integration" / "lib" / "signatures.py"
    spec = importlib.util.spec_from_file_location("oms_bench_signatures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def addons_path(odoo, config):
    """The configuration's addons path plus the benchmark addons."""
    parser = configparser.ConfigParser()
    parser.read(config)
    configured = parser.get("options", "addons_path", fallback="")
    if not configured:
        configured = f"{odoo}/addons,{odoo}/odoo/addons,{REPO}"
    return f"{configured},{BENCH_ADDONS}"


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso():
    return iso(datetime.now(timezone.utc))


def order_document(
    order_id, currency, updated_at, line_count=LINES_PER_ORDER, version=1
):
    """One canonical (compatible) order of ``line_count`` lines. Version
    ``v`` adds ``v - 1`` to every quantity, so that the final state of an
    order tells which version was applied last."""
    lines = [
        {
            "id": str(index + 1),
            "product": {"sku": SKU.format(index + 1)},
            "quantity": index % 3 + version,
            "price_unit": 10 + index,
        }
        for index in range(line_count)
    ]
    return {
        "type": "order.created" if version == 1 else "order.updated",
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


def total_quantity(version, line_count=LINES_PER_ORDER):
    """The sum of the quantities of ``order_document(version=version)``."""
    return sum(index % 3 + version for index in range(line_count))


def versions_of(index):
    """How many versions order ``index`` of a backlog has: one order in
    eight has 2, one in eight 3 (sent one after the other), the rest one."""
    return {1: 2, 5: 3}.get(index % 8, 1)


def backlog_documents(prefix, count, currency):
    """The deliveries of a backlog of ``count`` orders, in the order they are
    sent: ``[(order_id, version, document)]``; the versions of an order one
    second apart, sent one after the other."""
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=5)
    documents = []
    for index in range(count):
        order_id = f"{prefix}-{index}"
        for version in range(1, versions_of(index) + 1):
            updated_at = iso(base + timedelta(seconds=version))
            documents.append(
                (
                    order_id,
                    version,
                    order_document(order_id, currency, updated_at, version=version),
                )
            )
    return documents


# --- Odoo (benchmark processes only) -----------------------------------------


class OdooContext:
    """Odoo's configuration and registry of the benchmark database, in a
    benchmark process (never an Odoo server: no HTTP, no cron thread)."""

    def __init__(self, odoo_path, config, db, log_level="warn"):
        sys.path.insert(0, odoo_path)
        import odoo  # noqa: PLC0415 - only benchmark processes import Odoo

        odoo.tools.config.parse_config(
            [
                "-c",
                config,
                "-d",
                db,
                f"--addons-path={addons_path(odoo_path, config)}",
                f"--log-level={log_level}",
                "--max-cron-threads=0",
            ]
        )
        self.odoo = odoo
        self.registry = odoo.modules.registry.Registry(db)

    def env(self, cr):
        return self.odoo.api.Environment(cr, self.odoo.SUPERUSER_ID, {})


def bench_records(env):
    """The benchmark source, its ten products (in SKU order) and customer."""
    source = env["oms.integration.source"].search([("name", "=", SOURCE_NAME)])
    products = env["product.product"].search(
        [("default_code", "=like", "BENCH-SKU-%")], order="default_code"
    )
    partner = env["oms.integration.mapping"]._oms_resolve(
        source, "partner", CUSTOMER_CODE
    )
    return source, products, partner


def accept_deliveries(env, source, documents):
    """Store ``documents`` (``backlog_documents``) as the webhook does once a
    delivery's signature is verified (``_oms_accept_delivery``: decode,
    validate, one INSERT per order, trigger the runners), and commit."""
    Receiver = env["oms.integration.receiver"]
    for order_id, version, document in documents:
        body = json.dumps(document).encode()
        status, answer = Receiver._oms_accept_delivery(
            source, {"webhook-id": f"msg-{order_id}-v{version}"}, body
        )
        if status != 202:
            raise RuntimeError(f"storing {order_id} v{version}: {status} {answer}")
    env.cr.commit()  # pylint: disable=invalid-commit


def reset_queue(cr):
    """Forget what earlier figures left to do (the webhook deliveries) and
    the runners' pending triggers."""
    cr.execute(
        "DELETE FROM oms_integration_event "
        "WHERE state IN ('pending', 'processing', 'failed')"
    )
    cr.execute("DELETE FROM ir_cron_trigger")
    cr.commit()  # pylint: disable=invalid-commit


def open_events(cr):
    """Inbound events not done yet (pending, being processed, to retry)."""
    cr.execute(
        "SELECT count(*) FROM oms_integration_event "
        "WHERE direction = 'inbound' "
        "AND state IN ('pending', 'processing', 'failed')"
    )
    return cr.fetchone()[0]


def event_states(cr, prefix):
    """``{state: (count, an error)}`` of the inbound events of ``prefix``."""
    cr.execute(
        """
        SELECT state, count(*), max(last_error) FROM oms_integration_event
         WHERE direction = 'inbound' AND external_order_id LIKE %s
         GROUP BY state
        """,
        [prefix + "-%"],
    )
    return {state: (count, error) for state, count, error in cr.fetchall()}


def check_done(cr, prefix, expected):
    """Raise unless the events of ``prefix`` are all done (``expected`` of
    them, when given); return how many are."""
    cr.commit()  # pylint: disable=invalid-commit - a new snapshot
    states = event_states(cr, prefix)
    done = states.pop("done", (0, None))[0]
    failed = {
        state: count for state, (count, _e) in states.items() if state != "pending"
    }
    if failed:
        errors = "; ".join(str(error) for _c, error in states.values() if error)
        raise RuntimeError(f"events of {prefix} not done: {failed} ({errors[:500]})")
    if expected is not None and done != expected:
        raise RuntimeError(f"{done} events of {prefix} done, expected {expected}")
    return done


def vacuum_analyze(ctx, table="oms_integration_event"):
    """Clean dead rows and refresh the statistics, as autovacuum would have
    done by the time a backlog of that size builds up (``table=None``: the
    whole database). VACUUM runs outside a transaction: a connection of the
    benchmark's own, never the product's."""
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
