# Shared helpers of setup/run.sh and setup/test.sh (sourced, not run).
# Knobs (environment variables):
#   ODOO_SRC        an Odoo 18.0 source tree (with odoo-bin)
#   ODOO_DOWNLOAD=0 never clone Odoo 18.0 (by default, cloned into ~/odoo-18.0 when none is found)
#   OMS_VENV        the virtualenv (default ~/.cache/oms_integration/venv)
#   OMS_ODOO_DEFAULT the default place looked at (default /opt/odoo-18.0)

OMS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OMS_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/oms_integration"
OMS_VENV="${OMS_VENV:-$OMS_CACHE/venv}"
OMS_ODOO_DEFAULT="${OMS_ODOO_DEFAULT:-/opt/odoo-18.0}"
OMS_ADDONS="oms_integration,oms_integration_mobiwork,oms_integration_cloudify"
# The job queue bridge and OCA queue_job: tested in a database of their own.
OMS_JOBS_ADDONS="oms_integration,queue_job,oms_integration_queue_job"
OMS_KEY_FILE="${XDG_CONFIG_HOME:-$HOME/.config}/oms_integration/secret.key"
PY="$OMS_VENV/bin/python"

say() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Print the path of an Odoo 18.0 tree, or nothing.
is_odoo18() {
    [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] &&
        grep -Eq "^version_info = \(18, 0," "$1/odoo/release.py"
}

# Look for an Odoo 18.0 tree (ODOO_SRC, the default location, ~/odoo-18.0);
# when there is none, clone one into ~/odoo-18.0, unless ODOO_SRC names a
# tree of the user's own or ODOO_DOWNLOAD=0. Messages go to stderr: stdout
# is the tree's path, or nothing (status 1).
find_odoo() {
    local candidate clone="$HOME/odoo-18.0"
    for candidate in "${ODOO_SRC:-}" "$OMS_ODOO_DEFAULT" "$clone"; do
        if [ -n "$candidate" ] && is_odoo18 "$candidate"; then
            [ -z "${ODOO_SRC:-}" ] || [ "$candidate" = "$ODOO_SRC" ] ||
                say "ODOO_SRC=$ODOO_SRC is not an Odoo 18.0 source tree: using $candidate" >&2
            (cd "$candidate" && pwd)
            return 0
        fi
    done
    # A wrong ODOO_SRC is a mistake to fix, not a reason to download Odoo.
    [ -z "${ODOO_SRC:-}" ] && [ "${ODOO_DOWNLOAD:-1}" != "0" ] || return 1
    if [ -n "$(ls -A "$clone" 2>/dev/null)" ]; then
        say "$clone is not an Odoo 18.0 source tree (an interrupted clone?): not cloning over it. Remove it, or set ODOO_SRC=/path/to/odoo-18.0." >&2
        return 1
    fi
    say "No Odoo 18.0 found: cloning it from github.com/odoo/odoo (branch 18.0) into $clone, a few minutes. To use an existing tree instead: ODOO_SRC=/path/to/odoo-18.0" >&2
    if git clone --quiet --depth 1 --branch 18.0 https://github.com/odoo/odoo.git "$clone" >&2 &&
        is_odoo18 "$clone"; then
        echo "$clone"
        return 0
    fi
    say "Could not clone Odoo 18.0 from github.com/odoo/odoo (no network, or git missing?)." >&2
    return 1
}

no_odoo_message() {
    [ -z "${ODOO_SRC:-}" ] ||
        echo "ODOO_SRC=$ODOO_SRC is not an Odoo 18.0 source tree (odoo-bin and odoo/release.py of version 18.0)."
    cat <<MSG
No Odoo 18.0 found. Provide one in any of these ways, then run the command again:
  - ODOO_SRC=/path/to/odoo-18.0 (an Odoo 18.0 source tree with odoo-bin)
  - put the tree at $OMS_ODOO_DEFAULT (the default location) or $HOME/odoo-18.0
  - leave ODOO_SRC and ODOO_DOWNLOAD unset, with network access: the command clones it into $HOME/odoo-18.0
MSG
}

hash_of() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }

# Create the virtualenv and install what the project needs; with an Odoo tree
# as $1, Odoo's own requirements too (with the adjustments Python 3.11 needs).
ensure_venv() {
    local odoo="${1:-}" stamp want
    if [ ! -x "$PY" ]; then
        say "Creating the virtualenv $OMS_VENV"
        mkdir -p "$(dirname "$OMS_VENV")"
        python3 -m venv "$OMS_VENV" || return 1
    fi
    want="$(hash_of "$OMS_ROOT/setup/common.sh" "$OMS_ROOT/requirements.txt" "$OMS_ROOT/requirements-test.txt" ${odoo:+"$odoo/requirements.txt" "$OMS_ROOT/requirements-odoo.txt"})"
    stamp="$OMS_VENV/.oms-requirements-${want}"
    [ -f "$stamp" ] && return 0
    say "Installing Python requirements into $OMS_VENV"
    # Each step returns on failure: test.sh runs without "set -e", and the
    # stamp must only say "installed" when everything was.
    "$PY" -m pip install --quiet "setuptools<70" wheel || return 1
    if [ -n "$odoo" ]; then
        # psycopg2 and cbor2 pins have no wheel for this Python: take the binary
        # wheel and a newer cbor2; python-ldap only serves auth_ldap. gevent's
        # plugins (the websocket worker of --workers mode) need a zope of its
        # time, as Debian ships it.
        grep -vE '^(psycopg2|cbor2|python-ldap)\b' "$odoo/requirements.txt" > "$OMS_VENV/odoo-requirements.txt"
        "$PY" -m pip install --quiet --no-build-isolation -r "$OMS_VENV/odoo-requirements.txt" \
            "psycopg2-binary==2.9.9" "cbor2==5.6.5" "zope.interface<6" "zope.event<5" || return 1
    fi
    "$PY" -m pip install --quiet -r "$OMS_ROOT/requirements.txt" -r "$OMS_ROOT/requirements-test.txt" || return 1
    if [ -n "$odoo" ]; then
        # OCA addons (queue_job): their only dependency is Odoo, which is the
        # source tree here, hence --no-deps.
        "$PY" -m pip install --quiet --no-deps -r "$OMS_ROOT/requirements-odoo.txt" || return 1
    fi
    # One stamp per set of requirements (with or without Odoo's): switching
    # between the two does not reinstall.
    touch "$stamp"
}

# Start PostgreSQL and make sure the current user may create databases.
ensure_postgres() {
    command -v psql >/dev/null 2>&1 ||
        die "PostgreSQL is not installed: install it (Debian/Ubuntu: apt-get install postgresql), then run this again."
    if command -v pg_lsclusters >/dev/null 2>&1; then
        if pg_lsclusters --no-header 2>/dev/null | awk '$1 == "15" && $2 == "main" && $4 != "online" {found=1} END {exit !found}'; then
            say "Starting the PostgreSQL 15 cluster"
            pg_ctlcluster 15 main start
        fi
    fi
    if ! psql -d postgres -Atc "select 1" >/dev/null 2>&1; then
        if command -v runuser >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
            runuser -u postgres -- psql -q -c "CREATE ROLE \"$(whoami)\" SUPERUSER LOGIN" >/dev/null 2>&1 || true
        fi
        psql -d postgres -Atc "select 1" >/dev/null 2>&1 ||
            die "PostgreSQL is not reachable for user $(whoami): start it and create a role for this user (createuser -s $(whoami))."
    fi
}

# A browser for the tours (Odoo's HttpCase.start_tour drives Chromium
# headless): Debian's chromium package where it is missing and we may install
# it. Prints why not otherwise; the tour then reports that it did not run.
find_browser() {
    local exe
    for exe in google-chrome chromium chromium-browser google-chrome-stable; do
        command -v "$exe" >/dev/null 2>&1 && { command -v "$exe"; return 0; }
    done
    return 1
}
ensure_browser() {
    find_browser >/dev/null && return 0
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        say "Installing Chromium (Debian's chromium package) for the browser tours"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1
    fi
    find_browser >/dev/null && return 0
    say "No Chromium found and it could not be installed here (needs root and apt-get): the browser tours will not run."
    return 1
}

# The encryption key of the secrets, kept outside the project and the database.
ensure_secret_key() {
    if [ ! -s "$OMS_KEY_FILE" ]; then
        mkdir -p "$(dirname "$OMS_KEY_FILE")"
        (umask 077 && "$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' > "$OMS_KEY_FILE")
    fi
    chmod 600 "$OMS_KEY_FILE"
}

# Write an Odoo configuration file for the tree $1 (named $2, listening on
# port $3) and print its path.
write_odoo_conf() {
    local odoo="$1" conf="$OMS_CACHE/${2:-odoo}.conf" port="${3:-8069}"
    mkdir -p "$OMS_CACHE"
    (umask 077 && cat > "$conf" <<CONF
[options]
addons_path = $odoo/addons,$odoo/odoo/addons,$OMS_ROOT
; no host: the local PostgreSQL through its unix socket
db_host = False
without_demo = False
data_dir = $OMS_CACHE/data
http_interface = 127.0.0.1
http_port = $port
admin_passwd = ${OMS_MASTER_PASSWORD:-admin}
oms_integration_secret_key = $(cat "$OMS_KEY_FILE")
CONF
)
    echo "$conf"
}
