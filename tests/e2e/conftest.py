"""End-to-end tests against a real Odoo server with worker processes.

``setup/test.sh`` runs them when an Odoo 18.0 is found, on the database it
has just tested (the addons and demo data installed), with:
``OMS_ODOO_SRC`` (the Odoo tree), ``OMS_ODOO_CONF`` (its configuration) and
``OMS_E2E_DB`` (the database).
"""

import configparser
import contextlib
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


def _require(*names):
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "The end-to-end tests need a real Odoo: run them through "
            f"setup/test.sh (missing {', '.join(missing)})."
        )


@contextlib.contextmanager
def running_odoo(tmp_path_factory, db, conf, options, env=None):
    """An Odoo server on ``db`` with ``options``, its own process group (the
    workers go with the master at the end); yields an ``OdooServer``."""
    port = _free_port()
    log = tmp_path_factory.mktemp("odoo") / "odoo.log"
    command = [
        sys.executable,
        os.path.join(os.environ["OMS_ODOO_SRC"], "odoo-bin"),
        "-c",
        conf,
        "-d",
        db,
        f"--db-filter=^{db}$",
        "--http-interface=127.0.0.1",
        f"--http-port={port}",
        *options,
        f"--logfile={log}",
    ]
    environ = dict(os.environ, **(env or {}))
    for key, value in list(environ.items()):
        environ[key] = value.replace("{port}", str(port))
    process = subprocess.Popen(command, start_new_session=True, env=environ)
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
        server = OdooServer(url, db)
        server.pid = process.pid  # the master: its children are the workers
        yield server
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


@pytest.fixture(scope="session")
def odoo_server(tmp_path_factory):
    _require(*REQUIRED)
    options = [
        "--workers=2",
        # Odoo's default: two cron threads, so two runners work one backlog.
        "--max-cron-threads=2",
        "--limit-time-real=120",
        # The webhook route answers 503 even while the database is down.
        "--load=base,web,oms_integration",
    ]
    with running_odoo(
        tmp_path_factory,
        os.environ["OMS_E2E_DB"],
        os.environ["OMS_ODOO_CONF"],
        options,
    ) as odoo:
        yield odoo


@pytest.fixture(scope="module")
def odoo_jobs_server(tmp_path_factory):
    """A server on the job queue bridge's database: queue_job loaded
    server-wide (its job runner in the master process), two workers, the
    channels' capacities from the environment as queue_job reads them."""
    _require("OMS_ODOO_SRC", "OMS_E2E_JOBS_DB", "OMS_ODOO_JOBS_CONF")
    options = [
        "--workers=2",
        # The backstop and queue_job's own scheduled actions.
        "--max-cron-threads=1",
        "--limit-time-real=120",
        "--load=base,web,queue_job,oms_integration",
    ]
    env = {
        "ODOO_QUEUE_JOB_CHANNELS": "root:2,root.oms.inbound:2,root.oms.outbound:1",
        "ODOO_QUEUE_JOB_HOST": "127.0.0.1",
        "ODOO_QUEUE_JOB_PORT": "{port}",
    }
    with running_odoo(
        tmp_path_factory,
        os.environ["OMS_E2E_JOBS_DB"],
        os.environ["OMS_ODOO_JOBS_CONF"],
        options,
        env,
    ) as odoo:
        yield odoo
