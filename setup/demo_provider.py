"""Live demo: a simulated ``compatible`` provider talking to a running Odoo.

``bash setup/run.sh`` starts it next to Odoo (``OMS_DEMO_PROVIDER=0`` turns
it off); it also runs on its own, with the project's virtualenv:

    ~/.cache/oms_integration/venv/bin/python setup/demo_provider.py --help

It starts the provider simulator of ``oms_integration/lib`` (loaded without
Odoo, as ``tests/conftest.py`` does) on http://127.0.0.1:8070, waits for
Odoo, then over XML-RPC sets up what a Vietnamese distributor would have (see
``setup_source``): a company in VND with its warehouse and its sales taxes
(VAT 10 %, 8 %, 5 %, 0 % and KCT), and in it the source "Provider Simulator
(live demo)" (a new signing secret and API token at each start) with its tax
and unit mappings, the administrator's consent for webhooks, polling and
status callbacks, active. Then, every few seconds, it pushes a signed order
(tax rate on every line, total with VAT) to Odoo's
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
from decimal import ROUND_HALF_UP, Decimal
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
VIETNAM = timezone(timedelta(hours=7))

# The company the demo source sells from: a Vietnamese distributor, in VND.
COMPANY = {
    "name": "Công ty TNHH Phân phối Minh Anh (demo)",
    "street": "25 Nguyễn Thị Minh Khai, Quận 1",
    "city": "Hồ Chí Minh",
    "phone": "+84 28 3822 0000",
}
# Its warehouse (a code is at most 5 characters).
WAREHOUSE = {"name": "Kho Minh Anh (demo)", "code": "MAHCM"}
# Its sales taxes (name, percentage, description): VAT at each rate, price
# excluded, and KCT (not subject to VAT), which has no rate to be found by:
# the source maps it (Mapping Center, kind tax). The order builder finds
# the others by their rate in the source's company.
TAX_GROUP_NAME = "Thuế GTGT"
TAXES = (
    ("10", "GTGT 10%", 10, "Thuế GTGT 10%"),
    ("8", "GTGT 8%", 8, "Thuế GTGT 8% (giảm thuế)"),
    ("5", "GTGT 5%", 5, "Thuế GTGT 5%"),
    ("0", "GTGT 0%", 0, "Thuế GTGT 0%"),
    ("KCT", "KCT", 0, "Không chịu thuế GTGT (not subject to VAT)"),
)
# The rate a line carries and the percentage it stands for.
TAX_PERCENT = {8: 8, 10: 10, 5: 5, 0: 0, "KCT": 0}
# How often a line carries each rate: mostly 8 % (the reduced VAT on most
# goods) or 10 %, sometimes KCT. Random per line, to show every case.
LINE_TAX_RATES = ((8, 6), (10, 3), ("KCT", 1))

# The demo products of oms_integration/demo/oms_integration_demo.xml: default
# code, name, list price in VND and a usual quantity range (cartons of water,
# bottles, cans of tea and coffee). tests/test_demo_provider.py checks them
# there.
PRODUCTS = (
    ("SP001", "Nước suối 500ml (thùng 24 chai)", 96000, (1, 10)),
    ("SP002", "Nước suối 500ml", 4000, (24, 120)),
    ("SP009", "Trà xanh 330ml", 10000, (24, 96)),
    ("SP010", "Cà phê sữa lon 235ml", 12000, (24, 72)),
)
# Products the provider also sells in another unit: default code, name, the
# provider's unit code, how many of the product's unit it holds and its
# quantity range. The price is per case (24 bottles at 4.000 ₫: 96.000 ₫).
# In Odoo, the product's packaging "Thùng" of 24 (demo data), which the
# source's unit mapping THUNG points at.
UNITS = (("SP002", "Nước suối 500ml", "THUNG", 24, (1, 10)),)
UNIT_PACKAGING = {"THUNG": ("SP002", "Thùng")}
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
# The delivery addresses of each shop (another branch, its store room): the
# provider's address ids stay the same from one order to the next, so Odoo
# finds the delivery contact again. About one order in three goes there.
SHIPPING_ADDRESSES = {
    "KH-0001": (
        {
            "id": "DC-0001-1",
            "name": "Kho Tạp hóa Minh Anh",
            "phone": "+84 28 3823 4568",
            "street": "45 Nguyễn Trãi, Phường Bến Thành, Quận 1",
            "city": "Hồ Chí Minh",
        },
        {
            "id": "DC-0001-2",
            "name": "Tạp hóa Minh Anh - Chi nhánh Quận 3",
            "phone": "+84 28 3930 1122",
            "street": "210 Võ Văn Tần, Quận 3",
            "city": "Hồ Chí Minh",
        },
    ),
    "KH-0002": (
        {
            "id": "DC-0002-1",
            "name": "Kho Bà Tư",
            "phone": "+84 28 3855 1021",
            "street": "12 Phùng Hưng, Quận 5",
            "city": "Hồ Chí Minh",
        },
    ),
    "KH-0003": (
        {
            "id": "DC-0003-1",
            "name": "Hưng Phát - Cửa hàng Cầu Giấy",
            "phone": "+84 24 3793 5566",
            "street": "19 Trần Thái Tông, Cầu Giấy",
            "city": "Hà Nội",
        },
        {
            "id": "DC-0003-2",
            "name": "Kho Hưng Phát Long Biên",
            "phone": "+84 24 3872 0909",
            "street": "5 Nguyễn Văn Cừ, Long Biên",
            "city": "Hà Nội",
        },
    ),
    "KH-0004": (
        {
            "id": "DC-0004-1",
            "name": "Cô Ba - Sạp chợ Xuân Khánh",
            "phone": "+84 292 3821 457",
            "street": "Chợ Xuân Khánh, Ninh Kiều",
            "city": "Cần Thơ",
        },
    ),
    "KH-0005": (
        {
            "id": "DC-0005-1",
            "name": "Kho Phúc Lộc Sơn Trà",
            "phone": "+84 236 3941 808",
            "street": "34 Ngô Quyền, Sơn Trà",
            "city": "Đà Nẵng",
        },
    ),
    "KH-0006": (
        {
            "id": "DC-0006-1",
            "name": "Ánh Dương - Cửa hàng Lê Chân",
            "phone": "+84 225 3856 313",
            "street": "101 Tô Hiệu, Lê Chân",
            "city": "Hải Phòng",
        },
    ),
}
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


def _line_tax_rate(rng):
    rates, weights = zip(*LINE_TAX_RATES, strict=True)
    return rng.choices(rates, weights)[0]


def make_order(number, now=None, rng=None):
    """A realistic order in the canonical format (the ``order`` object),
    with a tax rate on every line and its total (``amount_total``).

    ``number`` makes the id unique within one run; the time makes it unique
    across runs.
    """
    rng = rng or random.Random()
    now = (now or datetime.now(timezone.utc)).astimezone(VIETNAM)
    now = now.replace(microsecond=0)
    shop = rng.choice(SHOPS)
    # What can be ordered: each product in its own unit, and the products
    # sold by the case (unit code, price per case).
    choices = [
        (sku, name, price, quantities, None)
        for sku, name, price, quantities in PRODUCTS
    ]
    prices = {sku: price for sku, _name, price, _quantities in PRODUCTS}
    choices += [
        (sku, f"{name} (thùng {contains})", prices[sku] * contains, quantities, uom)
        for sku, name, uom, contains, quantities in UNITS
    ]
    lines = []
    for sku, name, price, (low, high), uom in rng.sample(choices, rng.randint(1, 3)):
        line = {
            "id": str(len(lines) + 1),
            "product": {"sku": sku, "name": name},
            "quantity": rng.randint(low, high),
            "price_unit": price,
            "tax_rate": _line_tax_rate(rng),
        }
        if uom:
            line["uom"] = uom
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
                "tax_rate": _line_tax_rate(rng),
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
    if rng.random() < 1 / 3:  # delivered to another address of the shop
        address = rng.choice(SHIPPING_ADDRESSES[shop["id"]])
        order["shipping_address"] = {**address, "country_code": "VN"}
    note = rng.choice(NOTES)
    if note:
        order["note"] = note
    order["amount_total"] = order_total(order)
    return order


def _whole_vnd(amount):
    """Rounded to the đồng, halves up, as Odoo rounds VND amounts."""
    return int(Decimal(amount).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def line_untaxed(line):
    """The line's amount before tax: quantity times price, less its discount."""
    return Decimal(str(line["quantity"])) * Decimal(str(line["price_unit"])) - Decimal(
        str(line.get("discount_amount", 0))
    )


def line_tax(line):
    """The line's VAT in whole đồng: Odoo rounds the tax of each line (the
    company's default, "round per line"), then adds them up."""
    percent = TAX_PERCENT[line.get("tax_rate", 0)]
    return _whole_vnd(line_untaxed(line) * percent / 100)


def order_total(order):
    """The total Odoo computes for the order: each line before tax plus its
    tax rounded to the đồng, less the order's discount (taken off untaxed:
    the demo sends none, and no shipping either)."""
    total = sum(
        _whole_vnd(line_untaxed(line)) + line_tax(line) for line in order["lines"]
    )
    return total - _whole_vnd(Decimal(str(order.get("discount_amount", 0))))


def describe_order(order):
    lines = len(order["lines"])
    text = (
        f"{order['id']} from {order['customer']['name']}, "
        f"{lines} line{'s' if lines > 1 else ''}, {vnd(order_total(order))} incl. VAT"
    )
    cases = sum(1 for line in order["lines"] if line.get("uom"))
    if cases:
        text += f", {cases} line{'s' if cases > 1 else ''} by the case"
    if order.get("shipping_address"):
        text += f", to be delivered to {order['shipping_address']['name']}"
    return text


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


def _find(odoo, model, domain, context=None):
    """The id of the first record of ``model`` matching ``domain``, archived
    ones included, or None."""
    found = odoo.call(
        model,
        "search",
        domain,
        limit=1,
        context={**(context or {}), "active_test": False},
    )
    return found[0] if found else None


def _find_or_create(odoo, model, domain, vals, context=None):
    """(id, created): the record matching ``domain``, or a new one made of
    ``vals``. An existing record is left as it is (a tax already used, a
    company with entries must not change)."""
    record_id = _find(odoo, model, domain, context)
    if record_id:
        return record_id, False
    return odoo.call(model, "create", vals, context=context), True


def _selection(fields, name):
    return {key for key, _label in (fields.get(name) or {}).get("selection") or ()}


def ensure_company(odoo, notes):
    """The demo's Vietnamese company (VND, Vietnam, its warehouse), which the
    administrator may switch to; returns (company id, warehouse id, the id of
    Vietnam, the context to work in the company)."""
    vnd = _find(odoo, "res.currency", [("name", "=", "VND")])
    if not vnd:
        raise DemoError("Odoo has no currency VND")
    odoo.call("res.currency", "write", [vnd], {"active": True})
    [vietnam] = odoo.call("res.country", "search", [("code", "=", "VN")], limit=1)
    company_id, created = _find_or_create(
        odoo,
        "res.company",
        [("name", "=", COMPANY["name"])],
        {**COMPANY, "currency_id": vnd, "country_id": vietnam},
        # Given a country, Odoo installs its localisation (l10n_vn) and
        # loads its chart of accounts into the new company: a module
        # install in the middle of the demo. The flag Odoo's chart loading
        # sets turns that off; the demo makes the taxes it needs itself.
        context={"chart_template_load": True},
    )
    odoo.call("res.users", "write", [odoo.uid], {"company_ids": [(4, company_id)]})
    [user] = odoo.call("res.users", "read", [odoo.uid], fields=["company_ids"])
    others = [cid for cid in user["company_ids"] if cid != company_id]
    context = {"allowed_company_ids": [company_id, *others]}
    [company] = odoo.call(
        "res.company", "read", [company_id], fields=["currency_id"], context=context
    )
    if company["currency_id"][1] != "VND":
        raise DemoError(
            f"the company {COMPANY['name']} is in {company['currency_id'][1]}, "
            "not VND: rename it in Odoo, the demo then makes a new one"
        )
    # Odoo 18 gives a new company no warehouse (only its tests do): the
    # demo makes one, or takes the one the company has.
    warehouse, _created = _find_or_create(
        odoo,
        "stock.warehouse",
        [("company_id", "=", company_id)],
        {**WAREHOUSE, "company_id": company_id},
        context,
    )
    notes.append(
        f"Company '{COMPANY['name']}' (VND, Vietnam) "
        f"{'created' if created else 'found'}; the administrator can switch to it"
    )
    return company_id, warehouse, vietnam, context


def ensure_taxes(odoo, company_id, vietnam, context, notes):
    """The company's sales taxes, {rate code: tax id}. A company without a
    chart of accounts has no tax group, and a tax needs one (Odoo picks a
    group of the tax's company and country): the demo makes one."""
    group, _created = _find_or_create(
        odoo,
        "account.tax.group",
        [("company_id", "=", company_id), ("name", "=", TAX_GROUP_NAME)],
        {"name": TAX_GROUP_NAME, "company_id": company_id, "country_id": vietnam},
        context,
    )
    taxes, made = {}, []
    for sequence, (code, name, percent, description) in enumerate(TAXES, 1):
        taxes[code], created = _find_or_create(
            odoo,
            "account.tax",
            [
                ("company_id", "=", company_id),
                ("name", "=", name),
                ("type_tax_use", "=", "sale"),
            ],
            {
                "name": name,
                "description": description,
                "invoice_label": name,
                "amount": percent,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": company_id,
                "country_id": vietnam,
                "tax_group_id": group,
                # KCT last: a search for a 0 % tax finds "GTGT 0%" first.
                "sequence": sequence,
            },
            context,
        )
        if created:
            made.append(name)
    names = [name for _code, name, _percent, _description in TAXES]
    found = [name for name in names if name not in made]
    notes.append(
        "Sales taxes of the company, price excluded: "
        + "; ".join(
            f"{', '.join(group)} {word}"
            for group, word in ((made, "created"), (found, "found"))
            if group
        )
    )
    return taxes


def _set_mapping(odoo, source_id, kind, code, vals, context):
    Mapping = "oms.integration.mapping"
    domain = [
        ("source_id", "=", source_id),
        ("kind", "=", kind),
        ("external_code", "=", code),
    ]
    vals = {**vals, "state": "mapped"}
    mapping = _find(odoo, Mapping, domain, context)
    if mapping:
        odoo.call(Mapping, "write", [mapping], vals, context=context)
    else:
        odoo.call(
            Mapping,
            "create",
            {"source_id": source_id, "kind": kind, "external_code": code, **vals},
            context=context,
        )


def ensure_mappings(odoo, source_id, taxes, context, notes):
    """KCT -> the company's KCT tax; THUNG -> the packaging "Thùng" of 24,
    when Odoo's Mapping Center knows units (kind ``uom``)."""
    _set_mapping(
        odoo,
        source_id,
        "tax",
        "KCT",
        {"tax_id": taxes["KCT"], "external_name": "Không chịu thuế GTGT"},
        context,
    )
    mapped = ["tax KCT"]
    fields = odoo.call(
        "oms.integration.mapping", "fields_get", attributes=["type", "selection"]
    )
    if "uom" in _selection(fields, "kind") and "packaging_id" in fields:
        for code, (sku, packaging_name) in UNIT_PACKAGING.items():
            product = _find(
                odoo, "product.product", [("default_code", "=", sku)], context
            )
            packaging = product and _find(
                odoo,
                "product.packaging",
                [("product_id", "=", product), ("name", "=", packaging_name)],
                context,
            )
            if not packaging:
                notes.append(
                    f"No packaging '{packaging_name}' of {sku} in Odoo (the demo "
                    "data of oms_integration; bash setup/run.sh updates the "
                    f"addons): the unit {code} stays unmapped"
                )
                continue
            _set_mapping(
                odoo,
                source_id,
                "uom",
                code,
                {
                    "packaging_id": packaging,
                    "external_name": f"{packaging_name} ({sku})",
                },
                context,
            )
            mapped.append(f"unit {code} -> {sku} '{packaging_name}'")
    else:
        notes.append(
            "This Odoo's Mapping Center has no units yet: the unit THUNG is not "
            "mapped (lines by the case are read in the product's unit)"
        )
    notes.append("Mappings of the source: " + ", ".join(mapped))


# The source's settings that came with tax rates and several warehouses: set
# when this Odoo has them (fields_get), so that the demo runs on older ones.
OPTIONAL_SOURCE_VALUES = {
    "price_include_tax": False,
    "no_rate_tax_policy": "none",
    "warehouse_policy": "split",
}


def _optional_source_vals(fields):
    vals = {}
    for name, value in OPTIONAL_SOURCE_VALUES.items():
        field = fields.get(name)
        if not field:
            continue
        if field.get("type") == "selection" and value not in _selection(fields, name):
            continue
        vals[name] = value
    return vals


def setup_source(odoo, simulator, secret, poll_interval, rate_limit):
    """Set up the demo in Odoo, idempotently (a second run finds what the
    first made):

    - the Vietnamese company (VND), which the administrator may switch to,
      with its warehouse;
    - its sales taxes VAT 10/8/5/0 % and KCT, price excluded;
    - the source, in that company and its warehouse, with a new secret and
      token, consent given and activated;
    - its mappings: KCT to the KCT tax, THUNG to the packaging "Thùng".

    Returns the source's id, its webhook URL, whether it existed, and lines
    saying what was done.
    """
    odoo.authenticate()
    notes = []
    company_id, warehouse_id, vietnam, context = ensure_company(odoo, notes)
    taxes = ensure_taxes(odoo, company_id, vietnam, context, notes)
    Source = "oms.integration.source"
    vals = {
        "name": SOURCE_NAME,
        "active": True,
        "company_id": company_id,
        "warehouse_id": warehouse_id,
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
        # The company's currency is VND, the orders' too: no pricelist.
        "pricelist_id": False,
    }
    vals.update(
        _optional_source_vals(
            odoo.call(Source, "fields_get", attributes=["type", "selection"])
        )
    )
    source_id = _find(odoo, Source, [("name", "=", SOURCE_NAME)], context)
    existed = bool(source_id)
    if existed:
        [before] = odoo.call(
            Source, "read", [source_id], fields=["company_id"], context=context
        )
        odoo.call(Source, "write", [source_id], vals, context=context)
        if before["company_id"][0] != company_id:
            # Moved from another company (a database of an earlier demo):
            # what it had matched there (customers, warehouses, taxes) is not
            # for this company; it is matched again. Products are shared.
            Mapping = "oms.integration.mapping"
            stale = odoo.call(
                Mapping,
                "search",
                [("source_id", "=", source_id), ("kind", "not in", ["product", "uom"])],
                context=context,
            )
            if stale:
                odoo.call(Mapping, "unlink", stale, context=context)
            notes.append(
                f"Source moved from the company {before['company_id'][1]}: "
                f"{len(stale)} of its mappings there dropped, matched again"
            )
    else:
        source_id = odoo.call(Source, "create", vals, context=context)
    if vals.keys() >= OPTIONAL_SOURCE_VALUES.keys():
        notes.append(
            "Source settings: prices before tax, no tax for lines without a "
            "rate, one sale order per warehouse"
        )
    ensure_mappings(odoo, source_id, taxes, context, notes)
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
        context=context,
    )
    odoo.call(
        "oms.integration.consent.wizard", "action_confirm", [wizard_id], context=context
    )
    odoo.call(Source, "action_activate", [source_id], context=context)
    [source] = odoo.call(
        Source, "read", [source_id], fields=["webhook_key"], context=context
    )
    webhook_url = f"{odoo.url}/oms/webhook/{source['webhook_key']}"
    return source_id, webhook_url, existed, notes


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
        source_id, webhook_url, existed, notes = connect(
            odoo, simulator, secret, args, report
        )
        for note in notes:
            report(note)
        report(
            f"Source '{SOURCE_NAME}' (id {source_id}) "
            f"{'updated' if existed else 'created'} in the database {args.db}, "
            f"company {COMPANY['name']}: new signing secret and API token, "
            "consent for webhooks, polling and status callbacks, active. Its "
            f"webhook: {odoo.url}/oms/webhook/<key>"
        )
        report(
            f"A new order every {args.interval:g} s, with VAT on every line and "
            "its total, which Odoo checks. Its sale orders are in the company "
            f"{COMPANY['name']}: switch to it in Odoo (company menu, top right). "
            "Confirm, deliver or cancel one: its status callback is printed "
            "here (the cron sends it within a minute)."
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
