#!/usr/bin/env bash
# Set up and run: PostgreSQL, the virtualenv, a database with the three addons
# and their demo data, then Odoo on http://localhost:8069 with the live demo
# (setup/demo_provider.py: a simulated provider on port 8070 pushing orders and
# printing the status callbacks it receives; OMS_DEMO_PROVIDER=0 turns it off).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! ODOO="$(find_odoo)"; then
    no_odoo_message >&2
    exit 2
fi
DB="${OMS_DB:-oms_demo}"
say "Odoo 18.0 at $ODOO"
ensure_postgres
ensure_venv "$ODOO"
ensure_secret_key
CONF="$(write_odoo_conf "$ODOO" odoo "${OMS_HTTP_PORT:-8069}")"

if psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    say "Updating the addons in the existing database $DB"
    "$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" -u "$OMS_ADDONS" --stop-after-init --log-level=warn
else
    say "Creating the database $DB with the addons and demo data (a few minutes)"
    "$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" -i "$OMS_ADDONS" --stop-after-init --log-level=warn
fi

PORT="${OMS_HTTP_PORT:-8069}"
# Server-wide, so that the webhook answers 503 (not Odoo's 404) while the
# database restarts; Odoo's default two cron threads run the queue's runners.
ODOO_CMD=("$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" --db-filter="^${DB}\$"
    --load=base,web,oms_integration --max-cron-threads=2)
DEMO_LOG="$OMS_CACHE/demo-provider.log"
DEMO_INTERVAL="${OMS_DEMO_INTERVAL:-20}"

cat <<MSG

  OMS Integration is starting.
  URL:   http://localhost:${PORT}
         (the sources: http://localhost:${PORT}/odoo/action-oms_integration.oms_integration_source_action)
  Login: admin   Password: admin   (database $DB)
MSG
if [ "${OMS_DEMO_PROVIDER:-1}" = "0" ]; then
    printf '  Stop with Ctrl+C.\n\n'
    exec "${ODOO_CMD[@]}"
fi
cat <<MSG
  Live demo: a simulated provider on http://127.0.0.1:8070 pushes an order every
         ${DEMO_INTERVAL} s to the source "Provider Simulator (live demo)". Confirm, deliver
         or cancel one of its sale orders: the provider prints the status it receives.
         Its lines start with [demo provider] (also in $DEMO_LOG).
         OMS_DEMO_PROVIDER=0 bash setup/run.sh runs Odoo without it.
  Stop with Ctrl+C (Odoo, then the demo provider).

MSG

# The live demo: the provider simulator runs next to Odoo, waits for it, sets
# up its source, pushes orders, and stops when Odoo stops.
DEMO_PID=""
stop_demo_provider() {
    if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
        kill -TERM "$DEMO_PID" 2>/dev/null || true
        wait "$DEMO_PID" 2>/dev/null || true
    fi
}
trap stop_demo_provider EXIT
: > "$DEMO_LOG"  # this run's lines only
"$PY" "$OMS_ROOT/setup/demo_provider.py" --odoo-url "http://localhost:${PORT}" --db "$DB" \
    --interval "$DEMO_INTERVAL" --log-file "$DEMO_LOG" &
DEMO_PID=$!

"${ODOO_CMD[@]}" &
ODOO_PID=$!
# Ctrl+C reaches Odoo directly (same process group); a TERM or HUP sent to this
# script is passed on. Either way, wait until Odoo has stopped; then the EXIT
# trap stops the demo provider.
trap 'kill -TERM "$ODOO_PID" 2>/dev/null || true' TERM HUP
trap ':' INT
rc=0
wait "$ODOO_PID" || rc=$?
while kill -0 "$ODOO_PID" 2>/dev/null; do
    rc=0
    wait "$ODOO_PID" || rc=$?
done
exit "$rc"
