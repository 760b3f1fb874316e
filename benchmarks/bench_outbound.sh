#!/usr/bin/env bash
# Run the performance benchmark of the outbound status callbacks
# (benchmarks/bench_outbound.py) on its own database, oms_bench_out by default.
# The database is created with oms_integration (no demo data) when it does not
# exist, and reused with oms_integration updated otherwise (each run makes its
# own source and orders); OMS_BENCH_OUT_FRESH=1 drops and creates it again.
# The exit status is the driver's: 1 when a figure misses its target, 2 when
# the benchmark could not run. Options go to the driver
# (--quick, --only throughput|outage, --events N, --rounds N, --profile FILE).
# Knobs: OMS_BENCH_OUT_DB, OMS_BENCH_OUT_FRESH.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../setup/common.sh"
cd "$OMS_ROOT"

if ! ODOO="$(find_odoo)"; then
    no_odoo_message >&2
    exit 2
fi
DB="${OMS_BENCH_OUT_DB:-oms_bench_out}"
ensure_postgres
ensure_venv "$ODOO" || die "Could not install the Python requirements."
ensure_secret_key
# Odoo runs inside the driver and serves no HTTP: the port is never opened.
CONF="$(write_odoo_conf "$ODOO" "odoo-$DB" 0)"

if [ "${OMS_BENCH_OUT_FRESH:-0}" = "1" ]; then
    say "Dropping the database $DB (OMS_BENCH_OUT_FRESH=1)"
    dropdb --if-exists "$DB" ||
        die "Cannot drop the database $DB: is an Odoo still using it? Stop it and run again."
fi
if ! psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    LOG="$OMS_CACHE/bench-install-$DB.log"
    say "Creating the database $DB with oms_integration, without demo data (log in $LOG)"
    "$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" -i oms_integration --without-demo=all \
        --stop-after-init --log-level=warn --logfile="$LOG" ||
        die "Installing oms_integration into $DB failed: see $LOG"
else
    LOG="$OMS_CACHE/bench-update-$DB.log"
    say "Reusing the database $DB, oms_integration updated (log in $LOG; OMS_BENCH_OUT_FRESH=1 creates it again)"
    "$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" -u oms_integration \
        --stop-after-init --log-level=warn --logfile="$LOG" ||
        die "Updating oms_integration in $DB failed: see $LOG"
fi
PYTHONPATH="$ODOO${PYTHONPATH:+:$PYTHONPATH}" "$PY" "$OMS_ROOT/benchmarks/bench_outbound.py" \
    --odoo "$ODOO" --config "$CONF" --db "$DB" "$@" 2>&1 | tee "$OMS_CACHE/bench-$DB.txt"
