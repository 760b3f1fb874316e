#!/usr/bin/env bash
# Benchmark of the job queue bridge (benchmarks/bench_queue_job.py): a fresh
# database (default oms_bench_jobs, dropped and created again) with
# oms_integration, queue_job and oms_integration_queue_job, Odoo on port 8479.
# Options go to the driver: --orders N, --latency-seconds S, --skip-install.
# Knobs: OMS_BENCH_JOBS_DB, OMS_BENCH_JOBS_HTTP_PORT.
# Exit status: 0 every figure met its target, 1 one missed it, 2 could not run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$OMS_ROOT"

if ! ODOO="$(find_odoo)"; then
    no_odoo_message >&2
    exit 2
fi
DB="${OMS_BENCH_JOBS_DB:-oms_bench_jobs}"
PORT="${OMS_BENCH_JOBS_HTTP_PORT:-8479}"
ensure_postgres
ensure_venv "$ODOO" || die "Could not install the Python requirements."
ensure_secret_key
CONF="$(write_odoo_conf "$ODOO" "odoo-$DB" "$PORT")"

case " $* " in
    *" --skip-install "*) say "Benchmark database $DB (reused), Odoo 18.0 at $ODOO" ;;
    *)
        say "Benchmark database $DB (dropped and created again), Odoo 18.0 at $ODOO"
        dropdb --if-exists "$DB" ||
            die "Cannot drop the database $DB: is an Odoo still using it? Stop it and run again."
        createdb "$DB" ;;
esac
set +e
"$PY" "$OMS_ROOT/benchmarks/bench_queue_job.py" --odoo "$ODOO" --config "$CONF" \
    --db "$DB" --http-port "$PORT" "$@" 2>&1 | tee "$OMS_CACHE/bench-$DB.txt"
exit "${PIPESTATUS[0]}"
