#!/usr/bin/env bash
# Run the performance benchmark (benchmarks/README.md) on a fresh database
# (default oms_bench, dropped and created again) with Odoo on port 8469.
# Options go to the driver, benchmarks/bench_inbound.py: --quick,
# --only webhook,latency,processing,parallel,scale,memory,callbacks,outage,
# --skip-install (reuse the database of an earlier run), ...
# Knobs: OMS_BENCH_DB, OMS_BENCH_HTTP_PORT, OMS_BENCH_DRIVER (the script in
# benchmarks/ to run; setup/bench_jobs.sh sets it).
# Exit status: 0 every figure met its target, 1 one missed it, 2 could not run.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$OMS_ROOT"

if ! ODOO="$(find_odoo)"; then
    no_odoo_message >&2
    exit 2
fi
DB="${OMS_BENCH_DB:-oms_bench}"
PORT="${OMS_BENCH_HTTP_PORT:-8469}"
ensure_postgres
ensure_venv "$ODOO" || die "Could not install the Python requirements."
ensure_secret_key
CONF="$(write_odoo_conf "$ODOO" "odoo-$DB" "$PORT")"

case " $* " in
    *" --skip-install "*)
        say "Benchmark database $DB (reused), Odoo 18.0 at $ODOO" ;;
    *)
        say "Benchmark database $DB (dropped and created again), Odoo 18.0 at $ODOO"
        dropdb --if-exists "$DB" ||
            die "Cannot drop the database $DB: is an Odoo still using it? Stop it and run again."
        createdb "$DB" ;;
esac
set +e
"$PY" "$OMS_ROOT/benchmarks/${OMS_BENCH_DRIVER:-bench_inbound.py}" --odoo "$ODOO" --config "$CONF" \
    --db "$DB" --http-port "$PORT" "$@" 2>&1 | tee "$OMS_CACHE/bench-$DB.txt"
exit "${PIPESTATUS[0]}"
