#!/usr/bin/env bash
# Export the translation templates (i18n/<addon>.pot) of the three addons with
# Odoo's own tool, from a fresh database without demo data where they are
# installed. Run it after changing a user-facing string; the Odoo suite's
# test_i18n fails while a string of the code or the views is missing from a
# template.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$OMS_ROOT"
ODOO="$(find_odoo)" || { no_odoo_message >&2; exit 2; }
ensure_postgres
ensure_venv "$ODOO"
ensure_secret_key
DB="${OMS_POT_DB:-oms_pot}"
CONF="$(write_odoo_conf "$ODOO" "odoo-$DB" 8199)"
dropdb --if-exists "$DB" >/dev/null
say "Installing $OMS_ADDONS without demo data into $DB"
"$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" -i "$OMS_ADDONS" --without-demo=all \
    --stop-after-init --log-level=warn
for addon in ${OMS_ADDONS//,/ }; do
    mkdir -p "$addon/i18n"
    "$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" --modules="$addon" \
        --i18n-export="$OMS_ROOT/$addon/i18n/$addon.pot" --stop-after-init --log-level=warn
    say "$addon/i18n/$addon.pot: $(grep -c '^msgid' "$addon/i18n/$addon.pot") entries"
done
dropdb "$DB"
