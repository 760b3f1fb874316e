#!/usr/bin/env bash
# Run the performance benchmark of the inbound pipeline on a fresh database
# (default oms_bench, dropped and created again) with Odoo on port 8369.
# Options go to the driver, benchmarks/bench_inbound.py (--quick, --only ...,
# see benchmarks/README.md). Knobs: OMS_BENCH_DB, OMS_BENCH_HTTP_PORT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$OMS_ROOT"

if ! ODOO="$(find_odoo)"; then
    no_odoo_message >&2
    exit 2
fi
DB="${OMS_BENCH_DB:-oms_bench}"
PORT="${OMS_BENCH_HTTP_PORT:-8369}"
ensure_postgres
ensure_venv "$ODOO" || die "Could not install the Python requirements."
ensure_secret_key
CONF="$(write_odoo_conf "$ODOO" "odoo-$DB" "$PORT")"

say "Benchmark database $DB (dropped and created again), Odoo 18.0 at $ODOO"
dropdb --if-exists "$DB" ||
    die "Cannot drop the database $DB: is an Odoo still using it? Stop it and run again."
createdb "$DB"
"$PY" "$OMS_ROOT/benchmarks/bench_inbound.py" --odoo "$ODOO" --config "$CONF" \
    --db "$DB" --http-port "$PORT" "$@" 2>&1 | tee "$OMS_CACHE/bench-$DB.txt"
