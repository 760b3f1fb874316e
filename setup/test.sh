#!/usr/bin/env bash
# Run the tests: the suite that needs no Odoo always; the Odoo suites with
# pytest-odoo on a fresh database whenever an Odoo 18.0 is found.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$OMS_ROOT"

ODOO="$(find_odoo)" || ODOO=""
ensure_venv "$ODOO" || die "Could not install the Python requirements."

summary() { grep -E "^=*\s*[0-9]+ (passed|failed|error|skipped|deselected|no tests ran)|no tests ran" "$1" | tail -1 | tr -d '='; }

say "No-Odoo suite (tests/)"
"$PY" -m pytest -p no:odoo -p no:cacheprovider --ignore=tests/e2e tests 2>&1 | tee "$OMS_CACHE/no-odoo-tests.log"
plain_rc=${PIPESTATUS[0]}
[ "$plain_rc" = 5 ] && plain_rc=0
plain_summary="$(summary "$OMS_CACHE/no-odoo-tests.log")"

odoo_rc=0
if [ -z "$ODOO" ]; then
    odoo_summary="NOT RUN: no Odoo 18.0 found (0 Odoo tests ran). Set ODOO_SRC=/path/to/odoo-18.0 or put it at $OMS_ODOO_DEFAULT."
else
    DB="${OMS_TEST_DB:-oms_test}"
    ensure_postgres
    ensure_secret_key
    # The tours need Chromium; its first start on a machine is slow (fonts,
    # profile): start it once so the tour does not time out waiting for it.
    if ensure_browser; then
        "$(find_browser)" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1 || true
    fi
    # One configuration per test database: runs on other databases (other
    # clones) do not rewrite it under this one.
    CONF="$(write_odoo_conf "$ODOO" "odoo-$DB" "${OMS_TEST_HTTP_PORT:-8169}")"
    INSTALL_LOG="$OMS_CACHE/install-$DB.log"
    say "Installing $OMS_ADDONS with demo data into a new database $DB (Odoo at $ODOO)"
    dropdb --if-exists "$DB" >/dev/null ||
        die "Cannot drop the database $DB: is an Odoo still using it? Stop it and run again."
    rm -f "$INSTALL_LOG"  # Odoo appends to its log file: check this run only
    "$PY" "$ODOO/odoo-bin" -c "$CONF" -d "$DB" -i "$OMS_ADDONS" --stop-after-init \
        --log-level=info --logfile="$INSTALL_LOG"
    install_rc=$?
    # No error at all, and no warning about our addons: from their loggers
    # (odoo.addons.oms_integration*) or from Odoo's about them (views, access
    # rules). Log lines read "date time pid LEVEL db logger: message".
    problems="$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$INSTALL_LOG";
                grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ WARNING [^ ]+ (odoo\.addons\.oms_integration|[^ ]+: .*oms[._]integration)' "$INSTALL_LOG")"
    if [ "$install_rc" != 0 ] || [ -n "$problems" ]; then
        printf '%s\n' "$problems"
        if [ "$install_rc" != 0 ]; then
            echo "--- end of $INSTALL_LOG (the cause is usually the last traceback):"
            tail -n 25 "$INSTALL_LOG"
        fi
        odoo_rc=1
        odoo_summary="FAILED: installing the addons into $DB failed or logged errors/warnings (see $INSTALL_LOG)"
    else
        say "Odoo suites (pytest-odoo, real HTTP) on $DB"
        # --rootdir: otherwise pytest roots at oms_integration/ and both
        # provider addons' tests get the same node ids.
        PYTHONPATH="$ODOO${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m pytest -p no:cacheprovider \
            --rootdir="$OMS_ROOT" --odoo-database="$DB" --odoo-config="$CONF" --odoo-http -rs \
            oms_integration/tests oms_integration_mobiwork/tests oms_integration_cloudify/tests \
            2>&1 | tee "$OMS_CACHE/odoo-tests.log"
        odoo_rc=${PIPESTATUS[0]}
        [ "$odoo_rc" = 5 ] && odoo_rc=0
        odoo_summary="$(summary "$OMS_CACHE/odoo-tests.log") (Odoo 18.0 at $ODOO, database $DB)"
        # The browser tours (test_tour_*) are in that suite: say plainly
        # whether they ran.
        tour_skips="$(grep -E '^SKIPPED .*test_tour' "$OMS_CACHE/odoo-tests.log")"
        if ! find_browser >/dev/null; then
            tour_summary="NOT RUN: no Chromium on this machine (Debian: apt-get install chromium)"
        elif [ -n "$tour_skips" ]; then
            tour_summary="NOT RUN: ${tour_skips}"
        else
            tour_summary="ran in headless $(basename "$(find_browser)") (in the Odoo suite's count)"
        fi

        # The job queue bridge, in a database of its own where OCA queue_job
        # is installed (the suites above ran without it).
        JOBS_DB="${DB}_jobs"
        JOBS_CONF="$(write_odoo_conf "$ODOO" "odoo-$JOBS_DB" "${OMS_TEST_JOBS_HTTP_PORT:-8179}")"
        JOBS_LOG="$OMS_CACHE/install-$JOBS_DB.log"
        say "Installing oms_integration_queue_job (with queue_job) into a new database $JOBS_DB"
        dropdb --if-exists "$JOBS_DB" >/dev/null
        rm -f "$JOBS_LOG"
        "$PY" "$ODOO/odoo-bin" -c "$JOBS_CONF" -d "$JOBS_DB" -i "$OMS_JOBS_ADDONS" \
            --stop-after-init --log-level=info --logfile="$JOBS_LOG"
        jobs_install_rc=$?
        problems="$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$JOBS_LOG";
                    grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ WARNING [^ ]+ (odoo\.addons\.oms_integration|[^ ]+: .*oms[._]integration)' "$JOBS_LOG")"
        if [ "$jobs_install_rc" != 0 ] || [ -n "$problems" ]; then
            printf '%s\n' "$problems"
            tail -n 25 "$JOBS_LOG"
            odoo_rc=1
            odoo_summary="$odoo_summary; FAILED: installing the job queue bridge into $JOBS_DB (see $JOBS_LOG)"
        else
            say "Job queue bridge suite (pytest-odoo) on $JOBS_DB"
            PYTHONPATH="$ODOO${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m pytest -p no:cacheprovider \
                --rootdir="$OMS_ROOT" --odoo-database="$JOBS_DB" --odoo-config="$JOBS_CONF" --odoo-http \
                oms_integration_queue_job/tests 2>&1 | tee "$OMS_CACHE/jobs-tests.log"
            jobs_rc=${PIPESTATUS[0]}
            [ "$jobs_rc" = 5 ] && jobs_rc=0
            [ "$jobs_rc" = 0 ] || odoo_rc=$jobs_rc
            jobs_summary="$(summary "$OMS_CACHE/jobs-tests.log")"
        fi

        say "End-to-end suite (tests/e2e: Odoo with 2 workers on $DB)"
        OMS_ODOO_SRC="$ODOO" OMS_ODOO_CONF="$CONF" OMS_E2E_DB="$DB" \
            OMS_E2E_JOBS_DB="${jobs_rc:+$JOBS_DB}" OMS_ODOO_JOBS_CONF="${jobs_rc:+$JOBS_CONF}" \
            "$PY" -m pytest -p no:odoo -p no:cacheprovider tests/e2e 2>&1 | tee "$OMS_CACHE/e2e-tests.log"
        e2e_rc=${PIPESTATUS[0]}
        [ "$e2e_rc" = 5 ] && e2e_rc=0
        e2e_summary="$(summary "$OMS_CACHE/e2e-tests.log")"
        [ "$e2e_rc" = 0 ] || odoo_rc=$e2e_rc
    fi
fi

count() { grep -hoE "[0-9]+ $1" "$OMS_CACHE"/*-tests.log.last 2>/dev/null | awk '{s += $1} END {print s + 0}'; }
rm -f "$OMS_CACHE"/*-tests.log.last
printf '%s\n' "$plain_summary" > "$OMS_CACHE/no-odoo-tests.log.last"
[ -n "$ODOO" ] && printf '%s\n' "$odoo_summary" | sed 's/(Odoo 18.0 at.*//' > "$OMS_CACHE/odoo-tests.log.last"
[ -n "${e2e_summary:-}" ] && printf '%s\n' "$e2e_summary" > "$OMS_CACHE/e2e-tests.log.last"
[ -n "${jobs_summary:-}" ] && printf '%s\n' "$jobs_summary" > "$OMS_CACHE/jobs-tests.log.last"
echo
echo "No-Odoo suite: ${plain_summary:-no summary (exit code $plain_rc)}"
echo "Odoo suite:    $odoo_summary"
[ -n "${tour_summary:-}" ] && echo "Tours:         $tour_summary"
[ -n "$ODOO" ] && echo "Job queue:     ${jobs_summary:-NOT RUN (its installation failed)} (database ${JOBS_DB:-})"
[ -n "$ODOO" ] && echo "E2E suite:     ${e2e_summary:-NOT RUN (the Odoo suite failed first)}"
echo "Total: $(count passed) passed, $(( $(count failed) + $(count error) )) failed"
[ "$plain_rc" = 0 ] && [ "$odoo_rc" = 0 ]
