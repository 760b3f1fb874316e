#!/usr/bin/env bash
# Set up and run: PostgreSQL, the virtualenv, a database with the three addons
# and their demo data, then Odoo on http://localhost:8069.
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

cat <<MSG

  OMS Integration is starting.
  URL:   http://localhost:${OMS_HTTP_PORT:-8069}
         (the sources: http://localhost:${OMS_HTTP_PORT:-8069}/odoo/action-oms_integration.oms_integration_source_action)
  Login: admin   Password: admin   (database $DB)
  Stop with Ctrl+C.

MSG
exec "$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" --db-filter="^${DB}\$"
