"""End-to-end tests against a real Odoo server with worker processes.

``setup/test.sh`` runs them when an Odoo 18.0 is found, on the database it
has just tested (the addons and demo data installed), with:
``OMS_ODOO_SRC`` (the Odoo tree), ``OMS_ODOO_CONF`` (its configuration) and
``OMS_E2E_DB`` (the database).
"""

import configparser
import os
import signal
import socket
import subprocess
import sys
import time
import xmlrpc.client

import pytest
import requests

REQUIRED = ("OMS_ODOO_SRC", "OMS_ODOO_CONF", "OMS_E2E_DB")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    def __init__(self, url, db, login="admin", password="admin"):
        self.url, self.db, self.login, self.password = url, db, login, password
        common = xmlrpc.client.ServerProxy(f"{url}/xmlrpc/2/common")
        self.uid = common.authenticate(db, login, password, {})
        assert self.uid, "admin/admin must log in to the test database"
        self.models = xmlrpc.client.ServerProxy(
            f"{url}/xmlrpc/2/object", allow_none=True
        )

    def call(self, model, method, *args, **kwargs):
        return self.models.execute_kw(
            self.db, self.uid, self.password, model, method, list(args), kwargs
        )


def database(odoo):
    """A connection to the test database, as the Odoo configuration says."""
    import psycopg2

    parser = configparser.ConfigParser()
    parser.read(os.environ["OMS_ODOO_CONF"])
    options = {}
    for key in ("host", "port", "user", "password"):
        value = parser.get("options", f"db_{key}", fallback="False")
        if value and value != "False":
            options[key] = value
    return psycopg2.connect(dbname=odoo.db, **options)


@pytest.fixture(scope="session")
def odoo_server(tmp_path_factory):
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "The end-to-end tests need a real Odoo: run them through "
            f"setup/test.sh (missing {', '.join(missing)})."
        )
    port = _free_port()
    db = os.environ["OMS_E2E_DB"]
    log = tmp_path_factory.mktemp("odoo") / "odoo.log"
    command = [
        sys.executable,
        os.path.join(os.environ["OMS_ODOO_SRC"], "odoo-bin"),
        "-c",
        os.environ["OMS_ODOO_CONF"],
        "-d",
        db,
        f"--db-filter=^{db}$",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        "--workers=2",
        # Odoo's default: two cron threads, so two runners work one backlog.
        "--max-cron-threads=2",
        "--limit-time-real=120",
        # The webhook route answers 503 even while the database is down.
        "--load=base,web,oms_integration",
        f"--logfile={log}",
    ]
    # Its own process group: the workers go with the master at the end.
    process = subprocess.Popen(command, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{url}/web/login", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"Odoo did not start; see {log}")
            time.sleep(0.5)
        yield OdooServer(url, db)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Wait for the workers too, so that the database can be dropped next.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
