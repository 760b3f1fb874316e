"""Live demo: a simulated ``compatible`` provider talking to a running Odoo.

``bash setup/run.sh`` starts it next to Odoo (``OMS_DEMO_PROVIDER=0`` turns
it off); it also runs on its own, with the project's virtualenv:

    ~/.cache/oms_integration/venv/bin/python setup/demo_provider.py --help

It starts the provider simulator of ``oms_integration/lib`` (loaded without
Odoo, as ``tests/conftest.py`` does) on http://127.0.0.1:8070, waits for
Odoo, then over XML-RPC creates or updates the source "Provider Simulator
(live demo)" (a new signing secret and API token at each start), gives the
administrator's consent for webhooks, polling and status callbacks, and
activates it. Then, every few seconds, it pushes a signed order to Odoo's
webhook, or now and then only adds one to its polling pages (Odoo's polling
cron brings it), and prints what happens: each push and Odoo's answer, each
poll, each status callback Odoo sends when a user confirms, delivers or
cancels one of these orders. Secrets are never printed. Ctrl+C stops it.
"""

import argparse
import importlib
import importlib.util
import itertools
import json
import os
import random
import secrets
import signal
import sys
import threading
import time
import xmlrpc.client
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def _load_oms_lib():
    """The core's pure-Python ``lib`` as the package ``oms_lib`` (no Odoo)."""
    if "oms_lib" not in sys.modules:
        path = ROOT / "oms_integration" / "lib"
        spec = importlib.util.spec_from_file_location(
            "oms_lib", path / "__init__.py", submodule_search_locations=[str(path)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["oms_lib"] = module
        spec.loader.exec_module(module)
    return sys.modules["oms_lib"]


_load_oms_lib()
signatures = importlib.import_module("oms_lib.signatures")
ProviderSimulator = importlib.import_module("oms_lib.simulator").ProviderSimulator

SOURCE_NAME = "Provider Simulator (live demo)"
CALLBACK_PATH = "/status"
PRICELIST_NAME = "Bảng giá VND (live demo)"
VIETNAM = timezone(timedelta(hours=7))

# The demo products of oms_integration/demo/oms_integration_demo.xml: default
# code, name, list price in VND and a usual quantity range (cartons of water,
# cans of tea and coffee). tests/test_demo_provider.py checks them there.
PRODUCTS = (
    ("SP001", "Nước suối 500ml (thùng 24 chai)", 96000, (1, 10)),
    ("SP009", "Trà xanh 330ml", 10000, (24, 96)),
    ("SP010", "Cà phê sữa lon 235ml", 12000, (24, 72)),
)
# Shops ordering from the provider. The first one has the VAT number of the
# demo customer "Tap hoa Minh Anh", so Odoo matches it instead of creating it.
SHOPS = (
    {
        "id": "KH-0001",
        "name": "Tạp hóa Minh Anh",
        "vat": "0312345673",
        "phone": "+84 28 3823 4567",
        "street": "12 Nguyễn Trãi, Quận 1",
        "city": "Hồ Chí Minh",
    },
    {
        "id": "KH-0002",
        "name": "Cửa hàng Bà Tư",
        "phone": "+84 28 3855 1020",
        "street": "45 Hải Thượng Lãn Ông, Quận 5",
        "city": "Hồ Chí Minh",
    },
    {
        "id": "KH-0003",
        "name": "Siêu thị mini Hưng Phát",
        "phone": "+84 24 3942 7788",
        "street": "88 Phố Huế, Hai Bà Trưng",
        "city": "Hà Nội",
    },
    {
        "id": "KH-0004",
        "name": "Tạp hóa Cô Ba Ninh Kiều",
        "phone": "+84 292 3821 456",
        "street": "23 Đường 30 Tháng 4, Ninh Kiều",
        "city": "Cần Thơ",
    },
    {
        "id": "KH-0005",
        "name": "Đại lý nước giải khát Phúc Lộc",
        "phone": "+84 236 3565 909",
        "street": "150 Lê Duẩn, Hải Châu",
        "city": "Đà Nẵng",
    },
    {
        "id": "KH-0006",
        "name": "Cửa hàng tiện lợi Ánh Dương",
        "phone": "+84 225 3747 212",
        "street": "7 Lạch Tray, Ngô Quyền",
        "city": "Hải Phòng",
    },
)
NOTES = ("Giao hàng trước 10 giờ sáng", "Gọi điện trước khi giao", "", "", "")
STATUS_WORDS = {
    "approved": "approved (confirmed in Odoo)",
    "processing": "processing (delivery being prepared)",
    "delivered": "delivered",
    "cancelled": "cancelled",
}


class DemoError(Exception):
    """A problem the demo cannot go on with until someone fixes it."""


# --- orders -------------------------------------------------------------------


def vnd(amount):
    """``1234000`` as ``1.234.000 ₫``, as Vietnamese shops write it."""
    return f"{amount:,.0f}".replace(",", ".") + " ₫"


def _iso(moment):
    return moment.isoformat(timespec="seconds")


def make_order(number, now=None, rng=None):
    """A realistic order in the canonical format (the ``order`` object).

    ``number`` makes the id unique within one run; the time makes it unique
    across runs.
    """
    rng = rng or random.Random()
    now = (now or datetime.now(timezone.utc)).astimezone(VIETNAM)
    now = now.replace(microsecond=0)
    shop = rng.choice(SHOPS)
    lines = []
    for sku, name, price, (low, high) in rng.sample(PRODUCTS, rng.randint(1, 3)):
        line = {
            "id": str(len(lines) + 1),
            "product": {"sku": sku, "name": name},
            "quantity": rng.randint(low, high),
            "price_unit": price,
        }
        if rng.random() < 0.2:  # a 5 % discount on a large line
            line["discount_amount"] = round(line["quantity"] * price * 0.05)
        lines.append(line)
    if rng.random() < 0.25:  # the promotion: 6 cans of tea offered
        lines.append(
            {
                "id": str(len(lines) + 1),
                "product": {"sku": "SP009", "name": "Trà xanh 330ml (khuyến mãi)"},
                "quantity": 6,
                "price_unit": 0,
                "is_free": True,
                "promotion_code": "KM-TRAXANH-6",
            }
        )
    delivery = (now + timedelta(days=1)).replace(hour=8, minute=0, second=0)
    order = {
        "id": f"SIM-{now:%y%m%d-%H%M%S}-{number:03d}",
        "name": f"ĐH{now:%y%m%d}-{number:03d}",
        "updated_at": _iso(now),
        "date_order": _iso(now),
        "commitment_date": _iso(delivery),
        "currency": "VND",
        "customer": {**shop, "country_code": "VN"},
        "lines": lines,
    }
    note = rng.choice(NOTES)
    if note:
        order["note"] = note
    return order


def order_total(order):
    return sum(
        line["quantity"] * line["price_unit"] - line.get("discount_amount", 0)
        for line in order["lines"]
    )


def describe_order(order):
    lines = len(order["lines"])
    return (
        f"{order['id']} from {order['customer']['name']}, "
        f"{lines} line{'s' if lines > 1 else ''}, {vnd(order_total(order))}"
    )


# --- what the provider sees -----------------------------------------------------


def describe_answer(response):
    """Odoo's answer to a pushed order, in plain language."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    status = body.get("status", "")
    meaning = {
        202: f"queued as event {body.get('event_id')}: a sale order follows shortly",
        200: f"already received ({status}), nothing new stored",
        401: "signature refused: was the signing secret changed in Odoo? "
        "Restart the demo provider",
        403: "refused: the source is not active or has no consent; activate it "
        "in Odoo (OMS Integration > Sources)",
        404: "unknown webhook key: was the source's webhook key regenerated? "
        "Restart the demo provider",
        422: "rejected as invalid: "
        + "; ".join(
            f"{error.get('path')}: {error.get('message')}"
            for error in body.get("errors") or []
        ),
    }.get(response.status_code, status or "unexpected answer")
    return f"HTTP {response.status_code} {meaning}"


def describe_callback(body, headers, secret, tolerance=300):
    """One status callback received from Odoo, in plain language."""
    verified = signatures.standard_webhooks_verify(
        [secret] if secret else [], headers, body, tolerance=tolerance
    )
    check = (
        "signature valid" if verified.ok else f"signature NOT valid ({verified.reason})"
    )
    try:
        data = json.loads(body)
        order = data["order"]
        status = data["status"]
    except (ValueError, TypeError, KeyError):
        return f"Received a callback that is not a status ({len(body)} bytes), {check}"
    words = STATUS_WORDS.get(status, status)
    if status == "delivered" and "complete" in data:
        words += " in full" if data["complete"] else ", partly"
    sale_order = (data.get("odoo") or {}).get("sale_order") or "?"
    return (
        f"Status callback received: order {order.get('id')} "
        f"(Odoo {sale_order}) is {words}; {check}"
    )


class LiveDemoProvider(ProviderSimulator):
    """The simulator, telling what Odoo asks of it and sends to it."""

    def __init__(self, report, **kwargs):
        super().__init__(**kwargs)
        self.report = report
        self.secret = None  # the source's signing secret, to check callbacks

    def handle_get(self, path, query, headers):
        status, body, extra = super().handle_get(path, query, headers)
        if status == 200:
            ids = [order["id"] for order in body["orders"]]
            served = f": {', '.join(ids)}" if ids else ""
            self.report(
                f"Odoo polled the order list (page {query.get('page', 1)}), "
                f"{len(ids)} order{'' if len(ids) == 1 else 's'} served{served}"
            )
        else:
            self.report(f"Refused a request GET {path}: HTTP {status} {body}")
        return status, body, extra

    def handle_post(self, path, headers, body):
        if path.rstrip("/") != CALLBACK_PATH:
            self.report(f"Refused a request POST {path}: HTTP 404")
            return 404, {"error": "not found"}, {}
        self.report(describe_callback(body, headers, self.secret))
        return 200, {"ok": True}, {}


class LiveDemo:
    """Pushes orders to Odoo, or puts them on the polling pages only."""

    def __init__(self, simulator, report, webhook_url, secret, polling_every=3):
        self.simulator = simulator
        self.report = report
        self.webhook_url = webhook_url
        self.secret = secret
        self.polling_every = polling_every
        self.numbers = itertools.count(1)
        self.pushed = self.polled = 0

    def push_new_order(self, order=None):
        order = order or make_order(next(self.numbers))
        payload = {"type": "order.created", "order": order}
        try:
            response = self.simulator.push(self.webhook_url, self.secret, payload)
        except requests.RequestException as exc:
            self.report(
                f"Could not push order {order['id']}: Odoo does not answer "
                f"({type(exc).__name__}); the next order is tried as usual"
            )
            return None
        self.pushed += 1
        self.report(
            f"Order pushed by webhook: {describe_order(order)} -> "
            f"{describe_answer(response)}"
        )
        return response

    def add_polling_order(self, order=None):
        order = order or make_order(next(self.numbers))
        self.simulator.put_order(order)
        self.polled += 1
        self.report(
            f"Order added to the polling pages only (no webhook): "
            f"{describe_order(order)}; Odoo's polling brings it within a minute "
            "or two"
        )
        return order

    def tick(self, tick_number):
        """One step of the demo: every ``polling_every``-th order for polling."""
        if self.polling_every and tick_number % self.polling_every == 0:
            return self.add_polling_order()
        return self.push_new_order()


# --- Odoo -------------------------------------------------------------------------


class OdooClient:
    def __init__(self, url, db, login, password):
        self.url, self.db, self.login, self.password = (
            url.rstrip("/"),
            db,
            login,
            password,
        )
        self.uid = None

    def is_up(self):
        try:
            return requests.get(f"{self.url}/web/login", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def authenticate(self):
        common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common")
        self.uid = common.authenticate(self.db, self.login, self.password, {})
        if not self.uid:
            raise DemoError(
                f"Odoo refused the login {self.login} on the database {self.db}: "
                "pass the right one with --login and --password"
            )

    def call(self, model, method, *args, **kwargs):
        models = xmlrpc.client.ServerProxy(
            f"{self.url}/xmlrpc/2/object", allow_none=True
        )
        return models.execute_kw(
            self.db, self.uid, self.password, model, method, list(args), kwargs
        )


def _fault_text(fault):
    """The useful line of an XML-RPC fault (Odoo sends a whole traceback)."""
    lines = [line.strip() for line in str(fault.faultString).splitlines()]
    lines = [line for line in lines if line]
    return (lines[-1] if lines else "unknown error")[:300]


def ensure_vnd_pricelist(odoo):
    """A pricelist in VND when the company's currency is another one, else
    False: Odoo prices an order in the company's currency without one."""
    [user] = odoo.call("res.users", "read", [odoo.uid], fields=["company_id"])
    [company] = odoo.call(
        "res.company", "read", [user["company_id"][0]], fields=["currency_id"]
    )
    if company["currency_id"][1] == "VND":
        return False
    found = odoo.call(
        "product.pricelist", "search", [("currency_id.name", "=", "VND")], limit=1
    )
    if found:
        return found[0]
    [currency_id] = odoo.call(
        "res.currency",
        "search",
        [("name", "=", "VND")],
        limit=1,
        context={"active_test": False},
    )
    odoo.call("res.currency", "write", [currency_id], {"active": True})
    return odoo.call(
        "product.pricelist",
        "create",
        {"name": PRICELIST_NAME, "currency_id": currency_id},
    )


def setup_source(odoo, simulator, secret, poll_interval, rate_limit):
    """Create or update the demo source, give consent, activate it; return
    its id and webhook URL."""
    odoo.authenticate()
    Source = "oms.integration.source"
    vals = {
        "name": SOURCE_NAME,
        "active": True,
        "provider": "compatible",
        "mode": "both",
        "signing_secret": secret,
        "api_token": simulator.token,
        "api_base_url": simulator.url,
        "callback_url": simulator.url + CALLBACK_PATH,
        "outbound_enabled": True,
        "rate_limit": rate_limit,
        "poll_interval": poll_interval,
        "partner_policy": "match_create",
        "product_policy": "match",
        "pricelist_id": ensure_vnd_pricelist(odoo),
    }
    found = odoo.call(
        Source,
        "search",
        [("name", "=", SOURCE_NAME)],
        limit=1,
        context={"active_test": False},
    )
    if found:
        source_id = found[0]
        odoo.call(Source, "write", [source_id], vals)
    else:
        source_id = odoo.call(Source, "create", vals)
    wizard_id = odoo.call(
        "oms.integration.consent.wizard",
        "create",
        {
            "source_id": source_id,
            "scope_inbound": True,
            "scope_polling": True,
            "scope_outbound": True,
            "confirmed": True,
        },
    )
    odoo.call("oms.integration.consent.wizard", "action_confirm", [wizard_id])
    odoo.call(Source, "action_activate", [source_id])
    [source] = odoo.call(Source, "read", [source_id], fields=["webhook_key"])
    return source_id, f"{odoo.url}/oms/webhook/{source['webhook_key']}", bool(found)


def connect(odoo, simulator, secret, args, report):
    """Wait for Odoo and set the source up, retrying until it works."""
    waited_since = None
    while True:
        if not odoo.is_up():
            now = time.monotonic()
            if waited_since is None or now - waited_since >= 60:
                report(
                    f"Waiting for Odoo at {odoo.url} to answer (setup/run.sh "
                    "starts it; its first run installs the addons and takes a few "
                    "minutes)"
                )
                waited_since = now
            time.sleep(3)
            continue
        try:
            return setup_source(
                odoo, simulator, secret, args.poll_interval, args.rate_limit
            )
        except xmlrpc.client.Fault as fault:
            problem = f"Odoo refused to set up the source: {_fault_text(fault)}"
        except (DemoError, OSError, xmlrpc.client.ProtocolError) as exc:
            problem = f"Could not set up the source: {exc}"
        report(f"{problem}. Trying again in 30 s (Ctrl+C to stop).")
        time.sleep(30)


# --- the program ------------------------------------------------------------------


def make_reporter(log_file=None, stream=None):
    """A thread-safe ``report(message)`` printing one dated line, also
    appended to ``log_file`` when given."""
    lock = threading.Lock()
    log = open(log_file, "a", encoding="utf-8", buffering=1) if log_file else None

    def report(message):
        line = f"[demo provider {datetime.now():%H:%M:%S}] {message}"
        with lock:
            print(line, file=stream or sys.stdout, flush=True)
            if log:
                log.write(line + "\n")

    return report


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Live demo: a simulated provider pushing orders to Odoo and "
        "printing the status callbacks it receives."
    )
    env = os.environ.get
    parser.add_argument(
        "--odoo-url",
        default=env("OMS_ODOO_URL", "http://localhost:8069"),
        help="the running Odoo",
    )
    parser.add_argument("--db", default=env("OMS_DB", "oms_demo"), help="its database")
    parser.add_argument("--login", default="admin", help="an OMS administrator")
    parser.add_argument("--password", default="admin", help="the login's password")
    parser.add_argument("--host", default="127.0.0.1", help="the simulator's address")
    parser.add_argument("--port", type=int, default=8070, help="the simulator's port")
    parser.add_argument(
        "--interval", type=float, default=20, help="seconds between two orders"
    )
    parser.add_argument(
        "--polling-every",
        type=int,
        default=3,
        help="every n-th order goes to the polling pages only (0: never)",
    )
    parser.add_argument(
        "--poll-interval", type=int, default=1, help="the source's polling minutes"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=60, help="requests per minute to it"
    )
    parser.add_argument("--log-file", help="also append the lines to this file")
    return parser.parse_args(argv)


def _stop_on_sigterm(_signum, _frame):
    raise KeyboardInterrupt


def main(argv=None):
    args = parse_args(argv)
    report = make_reporter(args.log_file)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    secret = signatures.new_standard_webhooks_secret()
    try:
        simulator = LiveDemoProvider(
            report, token=secrets.token_urlsafe(24), host=args.host, port=args.port
        )
    except OSError as exc:
        report(
            f"Cannot listen on {args.host}:{args.port} ({exc.strerror}): stop what "
            "uses this port, or choose another one with --port"
        )
        return 1
    simulator.secret = secret
    simulator.start()
    demo = None
    try:
        report(
            f"Provider simulator listening on {simulator.url}: polling pages "
            f"GET /orders, status callbacks POST {CALLBACK_PATH}"
        )
        odoo = OdooClient(args.odoo_url, args.db, args.login, args.password)
        source_id, webhook_url, existed = connect(odoo, simulator, secret, args, report)
        report(
            f"Source '{SOURCE_NAME}' (id {source_id}) "
            f"{'updated' if existed else 'created'} in the database {args.db}: "
            "new signing secret and API token, consent for webhooks, polling and "
            "status callbacks, active. Its webhook: "
            f"{odoo.url}/oms/webhook/<key>"
        )
        report(
            f"A new order every {args.interval:g} s. Open a sale order of this "
            "source in Odoo and confirm, deliver or cancel it: its status "
            "callback is printed here (the cron sends it within a minute)."
        )
        demo = LiveDemo(simulator, report, webhook_url, secret, args.polling_every)
        for tick_number in itertools.count(1):
            demo.tick(tick_number)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
        if demo:
            report(
                f"Stopped: {demo.pushed} orders pushed, {demo.polled} put on the "
                f"polling pages, {len(simulator.callbacks)} callbacks received."
            )
        else:
            report("Stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
