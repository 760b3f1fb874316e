"""The live demo's provider (setup/demo_provider.py), without Odoo.

Its Odoo side (the company, taxes and source set up over XML-RPC) is tried
for real by running ``bash setup/run.sh``; here: the orders it makes (tax
rates, totals, delivery addresses, units), what it prints, its HTTP side
against a real local server, and its set-up against an in-memory stand-in
for Odoo's XML-RPC (what it creates, and that a second run creates nothing).
"""

import importlib.util
import json
import pathlib
import random
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
import requests
from oms_lib import normalize, signatures, status
from oms_lib.simulator import ProviderSimulator

ROOT = pathlib.Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "demo_provider", ROOT / "setup" / "demo_provider.py"
)
demo_provider = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(demo_provider)

SECRET = signatures.new_standard_webhooks_secret()


DEMO_XML = ROOT / "oms_integration" / "demo" / "oms_integration_demo.xml"


def _demo_records(model):
    """{xml id: {field name: element}} of the addon's demo records of ``model``."""
    tree = ET.parse(DEMO_XML)
    return {
        record.get("id"): {field.get("name"): field for field in record.iter("field")}
        for record in tree.iter("record")
        if record.get("model") == model
    }


def _demo_products():
    """default code -> list price of the products in the addon's demo data."""
    return {
        fields["default_code"].text: float(fields["list_price"].get("eval"))
        for fields in _demo_records("product.product").values()
    }


def _demo_packagings():
    """(default code, packaging name) -> contained quantity, from the demo data."""
    products = {
        xml_id: fields["default_code"].text
        for xml_id, fields in _demo_records("product.product").items()
    }
    return {
        (products[fields["product_id"].get("ref")], fields["name"].text): float(
            fields["qty"].get("eval")
        )
        for fields in _demo_records("product.packaging").values()
    }


def _expected_total(order):
    """The total Odoo computes, worked out again here: per line, quantity
    times price less the line's discount, plus its VAT rounded to the đồng
    (halves up); less the order's discount."""
    percent = {"8": 8, "10": 10, "5": 5, "0": 0, "KCT": 0}
    total = Decimal(0)
    for line in order["lines"]:
        untaxed = Decimal(line["quantity"]) * Decimal(line["price_unit"])
        untaxed -= Decimal(line.get("discount_amount", 0))
        tax = untaxed * percent[str(line["tax_rate"])] / 100
        total += untaxed + tax.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return total - Decimal(order.get("discount_amount", 0))


def _orders(count=300, seed=7):
    rng = random.Random(seed)
    return [demo_provider.make_order(n, rng=rng) for n in range(1, count + 1)]


@pytest.fixture
def lines():
    return []


@pytest.fixture
def provider(lines):
    with demo_provider.LiveDemoProvider(lines.append, token="tok") as simulator:
        simulator.secret = SECRET
        yield simulator


def test_orders_follow_the_canonical_contract():
    demo = _demo_products()
    packagings = _demo_packagings()
    ids = set()
    for order in _orders(200):
        body = json.dumps({"type": "order.created", "order": order})
        result = normalize.parse_compatible(body)
        assert result.ok, result.errors
        [parsed] = result.orders
        assert parsed.currency == "VND"
        assert parsed.updated_at and parsed.customer.country_code == "VN"
        assert {line.sku for line in parsed.lines} <= set(demo)
        for line in parsed.lines:
            if line.is_free:
                assert line.price_unit == 0
            elif line.uom_name:
                # A case costs what its bottles cost one by one.
                sku, name = demo_provider.UNIT_PACKAGING[line.uom_name]
                assert sku == line.sku
                assert line.price_unit == demo[sku] * packagings[(sku, name)]
            else:
                assert line.price_unit == demo[line.sku]
        ids.add(parsed.external_id)
    assert len(ids) == 200, "two orders of one run share an id"


def test_every_line_has_a_tax_rate_and_the_order_its_total():
    rates = set()
    for order in _orders():
        for line in order["lines"]:
            assert "tax_rate" in line
            rates.add(line["tax_rate"])
        assert order["amount_total"] == _expected_total(order)
        assert demo_provider.order_total(order) == order["amount_total"]
        [parsed] = normalize.parse_compatible(
            json.dumps({"type": "order.created", "order": order})
        ).orders
        assert parsed.amount_total == _expected_total(order)
        assert all(line.tax_rate in {"8", "10", "KCT"} for line in parsed.lines)
    assert rates == {8, 10, "KCT"}, "each rate shows up in 300 orders"


def test_total_rounds_the_tax_of_each_line_to_the_dong():
    order = {
        "lines": [
            # 12.345 ₫ at 10 %: 1.234,5 ₫ of VAT, 1.235 ₫ on each line, so
            # 2.470 ₫ for both (2.469 ₫ were the tax rounded on the sum).
            {"quantity": 1, "price_unit": 12345, "tax_rate": 10},
            {"quantity": 1, "price_unit": 12345, "tax_rate": 10},
            # 5 cases at 96.000 ₫ less 24.000 ₫: 456.000 ₫, VAT 36.480 ₫.
            {
                "quantity": 5,
                "price_unit": 96000,
                "discount_amount": 24000,
                "tax_rate": 8,
                "uom": "THUNG",
            },
            {"quantity": 3, "price_unit": 12000, "tax_rate": "KCT"},
            {"quantity": 6, "price_unit": 0, "is_free": True, "tax_rate": 8},
        ],
        "discount_amount": 10000,
    }
    expected = 2 * (12345 + 1235) + (456000 + 36480) + 36000 - 10000
    assert demo_provider.order_total(order) == expected == 545640
    assert demo_provider.line_tax(order["lines"][0]) == 1235
    assert demo_provider.line_tax(order["lines"][3]) == 0


def test_shipping_addresses_come_back_the_same():
    orders = _orders()
    with_address = [order for order in orders if order.get("shipping_address")]
    # About one order in three.
    assert len(orders) / 5 < len(with_address) < len(orders) / 2
    seen = defaultdict(list)
    for order in with_address:
        address = order["shipping_address"]
        assert set(address) >= {"id", "name", "phone", "street", "city"}
        assert address["country_code"] == "VN"
        seen[address["id"]].append((order["customer"]["id"], address))
    assert any(len(uses) > 1 for uses in seen.values()), "no address came back"
    for address_id, uses in seen.items():
        # Always the same shop's, with the same fields.
        assert len({shop for shop, _address in uses}) == 1, address_id
        assert all(address == uses[0][1] for _shop, address in uses), address_id
    # Each shop's addresses are its own.
    for shop_id, addresses in demo_provider.SHIPPING_ADDRESSES.items():
        assert addresses and all(a["id"].startswith("DC-") for a in addresses)
        assert shop_id in {shop["id"] for shop in demo_provider.SHOPS}


def test_lines_by_the_case_carry_the_unit_and_the_price_per_case():
    lines = [line for order in _orders() for line in order["lines"] if line.get("uom")]
    assert lines, "no line by the case in 300 orders"
    demo = _demo_products()
    for line in lines:
        assert line["uom"] == "THUNG"
        assert line["product"]["sku"] == "SP002"
        assert line["price_unit"] == 96000 == demo["SP002"] * 24
        assert 1 <= line["quantity"] <= 10
    # The bottles are sold one by one too, in the product's unit.
    assert any(
        line["product"]["sku"] == "SP002" and "uom" not in line
        for order in _orders()
        for line in order["lines"]
    )


def test_the_case_is_a_demo_packaging_of_the_bottle():
    assert _demo_products()["SP002"] == 4000
    assert _demo_packagings() == {("SP002", "Thùng"): 24}
    for sku, _name, uom, contains, _quantities in demo_provider.UNITS:
        assert demo_provider.UNIT_PACKAGING[uom][0] == sku
        assert _demo_packagings()[demo_provider.UNIT_PACKAGING[uom]] == contains


def test_products_and_shops_are_the_demo_ones_with_diacritics():
    demo = _demo_products()
    for sku, name, price, _quantities in demo_provider.PRODUCTS:
        assert demo.get(sku) == price, f"{sku} is not a demo product at {price}"
        assert not name.isascii()
    for shop in demo_provider.SHOPS:
        assert not shop["name"].isascii()
        assert unicodedata.is_normalized("NFC", shop["name"])
    for addresses in demo_provider.SHIPPING_ADDRESSES.values():
        for address in addresses:
            assert unicodedata.is_normalized("NFC", address["name"])


def test_amounts_are_written_as_vietnamese_shops_do():
    assert demo_provider.vnd(1234000) == "1.234.000 ₫"
    order = demo_provider.make_order(1, rng=random.Random(3))
    assert demo_provider.vnd(order["amount_total"]) in demo_provider.describe_order(
        order
    )
    assert "incl. VAT" in demo_provider.describe_order(order)


def _post_status(provider, secret, order_status="approved", path="/status"):
    body = status.dumps_status_body(
        status.build_status_body(
            "SIM-1", "DH-1", order_status, datetime.now(timezone.utc), "S00042"
        )
    )
    headers = ProviderSimulator.standard_webhooks_headers(secret, body, "status_1")
    headers["Content-Type"] = "application/json"
    return requests.post(provider.url + path, data=body, headers=headers, timeout=5)


def test_a_signed_status_callback_is_printed_with_its_status(provider, lines):
    assert _post_status(provider, SECRET).status_code == 200
    [line] = lines
    assert "order SIM-1 (Odoo S00042) is approved" in line
    assert "signature valid" in line


def test_a_callback_signed_with_another_secret_is_flagged(provider, lines):
    other = signatures.new_standard_webhooks_secret()
    assert _post_status(provider, other, "cancelled").status_code == 200
    assert "is cancelled; signature NOT valid" in lines[0]


def test_a_post_elsewhere_is_refused(provider, lines):
    assert _post_status(provider, SECRET, path="/elsewhere").status_code == 404
    assert "HTTP 404" in lines[0]


def test_orders_for_polling_are_served_and_the_poll_printed(provider, lines):
    demo = demo_provider.LiveDemo(provider, lines.append, "http://unused", SECRET)
    order = demo.tick(3)  # every third order goes to the polling pages only
    assert "polling pages only" in lines[0]
    answer = requests.get(
        provider.url + "/orders",
        headers={"Authorization": "Bearer tok"},
        timeout=5,
    ).json()
    assert [o["id"] for o in answer["orders"]] == [order["id"]]
    assert f"1 order served: {order['id']}" in lines[1]


def test_a_pushed_order_is_signed_and_its_answer_printed(provider, lines):
    # Odoo's webhook played by a second simulator: it records the delivery.
    with ProviderSimulator() as odoo:
        odoo.script(202, {"status": "queued", "event_id": 7})
        demo = demo_provider.LiveDemo(
            provider, lines.append, odoo.url + "/oms/webhook/KEY", SECRET
        )
        demo.tick(1)
        [delivery] = odoo.callbacks
    assert signatures.standard_webhooks_verify(
        [SECRET], delivery["headers"], delivery["body"], now=time.time()
    ).ok
    payload = json.loads(delivery["body"])
    assert normalize.parse_compatible(delivery["body"]).ok
    [line] = lines
    assert f"Order pushed by webhook: {payload['order']['id']}" in line
    assert "HTTP 202 queued as event 7" in line
    assert SECRET not in line and SECRET[6:] not in line


def test_odoo_down_is_reported_not_raised(provider, lines):
    with ProviderSimulator() as gone:
        url = gone.url  # a port nobody listens on any more
    demo = demo_provider.LiveDemo(
        provider, lines.append, url + "/oms/webhook/K", SECRET
    )
    assert demo.push_new_order() is None
    assert "Odoo does not answer" in lines[0]


# --- the set-up in Odoo, against a stand-in for its XML-RPC -------------------


class FakeOdoo:
    """Just enough of Odoo's XML-RPC for ``setup_source``: records in
    memory, domains of ``=`` and ``not in``, what a new company brings with
    it (its creator's access, no warehouse), and the source's fields as an
    older or a newer version of the addon has them."""

    MANY2ONE = {"company_id", "currency_id", "country_id"}

    def __init__(self, new_fields=True):
        self.url = "http://odoo.test"
        self.uid = 2
        self.new_fields = new_fields
        self.calls = []
        self.records = defaultdict(dict)
        self.add("res.currency", name="VND", active=False)
        self.add("res.currency", name="USD", active=True)
        self.add("res.country", code="VN", name="Vietnam")
        self.add("res.company", name="YourCompany", currency_id=2)
        self.add("res.users", company_ids=[1])
        self.records["res.users"][2] = self.records["res.users"].pop(1)
        self.add("stock.warehouse", company_id=1, name="YourCompany")
        water = self.add("product.product", default_code="SP002")
        self.add("product.packaging", product_id=water, name="Thùng", qty=24)

    def add(self, model, **vals):
        record_id = max(self.records[model], default=0) + 1
        self.records[model][record_id] = {"id": record_id, **vals}
        return record_id

    def authenticate(self):
        pass

    def _match(self, record, domain):
        for name, operator, value in domain:
            if operator == "=" and record.get(name) != value:
                return False
            if operator == "not in" and record.get(name) in value:
                return False
        return True

    def _display(self, model, name, value):
        target = {"company_id": "res.company", "currency_id": "res.currency"}.get(name)
        if target and value:
            return [value, self.records[target][value]["name"]]
        return value

    def call(self, model, method, *args, **kwargs):
        self.calls.append((model, method, args, kwargs))
        table = self.records[model]
        if method == "search":
            found = [i for i, r in table.items() if self._match(r, args[0])]
            return found[: kwargs.get("limit") or None]
        if method == "create":
            vals = args[0]
            record_id = self.add(model, **vals)
            if model == "res.company":  # no warehouse, as in Odoo 18
                self.records["res.users"][self.uid]["company_ids"].append(record_id)
            if model == "oms.integration.source":
                table[record_id]["webhook_key"] = f"key{record_id}"
            return record_id
        if method == "write":
            for record_id in args[0]:
                vals = dict(args[1])
                if "company_ids" in vals:
                    ids = table[record_id]["company_ids"]
                    for _command, linked in vals.pop("company_ids"):
                        ids += [] if linked in ids else [linked]
                table[record_id].update(vals)
            return True
        if method == "read":
            return [
                {
                    "id": i,
                    **{
                        f: self._display(model, f, table[i].get(f))
                        for f in kwargs["fields"]
                    },
                }
                for i in args[0]
            ]
        if method == "unlink":
            for record_id in args[0]:
                del table[record_id]
            return True
        if method == "fields_get":
            return self._fields_get(model)
        if method in ("action_confirm", "action_activate"):
            return True
        raise AssertionError(f"unexpected call {model}.{method}")

    def _fields_get(self, model):
        if model == "oms.integration.source":
            fields = {"name": {"type": "char"}, "company_id": {"type": "many2one"}}
            if self.new_fields:
                fields |= {
                    "price_include_tax": {"type": "boolean"},
                    "no_rate_tax_policy": {
                        "type": "selection",
                        "selection": [["none", "No tax"], ["product", "Product's"]],
                    },
                    "warehouse_policy": {
                        "type": "selection",
                        "selection": [["refuse", "Fail"], ["split", "Split"]],
                    },
                }
            return fields
        kinds = [["partner", "Customer"], ["product", "Product"], ["tax", "Tax"]]
        fields = {"kind": {"type": "selection", "selection": kinds}}
        if self.new_fields:
            kinds.append(["uom", "Unit"])
            fields |= {
                "uom_id": {"type": "many2one"},
                "packaging_id": {"type": "many2one"},
            }
        return fields

    def created(self, model):
        return [c for c in self.calls if c[0] == model and c[1] == "create"]


def _setup(odoo):
    simulator = ProviderSimulator(token="tok")
    return demo_provider.setup_source(odoo, simulator, SECRET, 1, 60)


def test_setup_makes_the_company_taxes_source_and_mappings_once():
    odoo = FakeOdoo()
    source_id, url, existed, notes = _setup(odoo)
    assert not existed and url == "http://odoo.test/oms/webhook/key1"
    [(_m, _c, (company_vals,), company_kwargs)] = odoo.created("res.company")
    assert company_vals["name"] == demo_provider.COMPANY["name"]
    assert company_vals["currency_id"] == 1 and company_vals["country_id"] == 1
    # No localisation module installed behind the demo's back.
    assert company_kwargs["context"] == {"chart_template_load": True}
    assert odoo.records["res.currency"][1]["active"] is True
    company_id = 2
    assert company_id in odoo.records["res.users"][2]["company_ids"]
    # The sales taxes, price excluded, in a tax group of the company.
    [group] = odoo.records["account.tax.group"].values()
    assert group["company_id"] == company_id and group["country_id"] == 1
    taxes = {t["name"]: t for t in odoo.records["account.tax"].values()}
    assert set(taxes) == {"GTGT 10%", "GTGT 8%", "GTGT 5%", "GTGT 0%", "KCT"}
    for tax in taxes.values():
        assert tax["company_id"] == company_id and tax["tax_group_id"] == group["id"]
        assert tax["type_tax_use"] == "sale" and tax["amount_type"] == "percent"
        assert tax["price_include_override"] == "tax_excluded"
    assert taxes["GTGT 8%"]["amount"] == 8 and taxes["KCT"]["amount"] == 0
    assert taxes["GTGT 0%"]["sequence"] < taxes["KCT"]["sequence"]
    # The source, in the company and its warehouse, with the new settings.
    source = odoo.records["oms.integration.source"][source_id]
    [warehouse] = [
        w
        for w in odoo.records["stock.warehouse"].values()
        if w["company_id"] == company_id
    ]
    assert warehouse["code"] == "MAHCM"
    assert source["company_id"] == company_id
    assert source["warehouse_id"] == warehouse["id"]
    assert source["pricelist_id"] is False
    assert source["price_include_tax"] is False
    assert source["no_rate_tax_policy"] == "none"
    assert source["warehouse_policy"] == "split"
    mappings = {
        (m["kind"], m["external_code"]): m
        for m in odoo.records["oms.integration.mapping"].values()
    }
    assert mappings[("tax", "KCT")]["tax_id"] == taxes["KCT"]["id"]
    assert mappings[("uom", "THUNG")]["packaging_id"] == 1
    assert all(m["state"] == "mapped" for m in mappings.values())
    assert (
        "Sales taxes of the company, price excluded: GTGT 10%, GTGT 8%, "
        "GTGT 5%, GTGT 0%, KCT created" in notes
    )

    # A second run finds all of it (and gives consent again, as each start
    # does: its wizard is the only new record).
    def counts():
        return {
            model: len(table)
            for model, table in odoo.records.items()
            if model != "oms.integration.consent.wizard"
        }

    before = counts()
    again_id, _url, existed, notes = _setup(odoo)
    assert existed and again_id == source_id
    assert counts() == before
    assert any(note.endswith("KCT found") for note in notes)
    assert any(
        note.startswith(
            f"Company '{demo_provider.COMPANY['name']}' (VND, Vietnam) found"
        )
        for note in notes
    )
    assert not odoo.created("res.company")[1:]


def test_setup_on_an_older_addon_leaves_out_what_it_lacks():
    odoo = FakeOdoo(new_fields=False)
    source_id, _url, _existed, notes = _setup(odoo)
    source = odoo.records["oms.integration.source"][source_id]
    for name in demo_provider.OPTIONAL_SOURCE_VALUES:
        assert name not in source
    kinds = {m["kind"] for m in odoo.records["oms.integration.mapping"].values()}
    assert kinds == {"tax"}
    assert any("no units yet" in note for note in notes)


def test_a_source_of_an_earlier_demo_moves_to_the_company():
    odoo = FakeOdoo()
    old = odoo.add(
        "oms.integration.source", name=demo_provider.SOURCE_NAME, company_id=1
    )
    odoo.records["oms.integration.source"][old]["webhook_key"] = "old"
    for kind, code in (("partner", "KH-0002"), ("product", "SP001"), ("tax", "8")):
        odoo.add(
            "oms.integration.mapping", source_id=old, kind=kind, external_code=code
        )
    source_id, _url, existed, notes = _setup(odoo)
    assert existed and source_id == old
    assert odoo.records["oms.integration.source"][old]["company_id"] == 2
    codes = {
        (m["kind"], m["external_code"])
        for m in odoo.records["oms.integration.mapping"].values()
    }
    # The customer matched in the other company goes, the product stays.
    assert codes == {("product", "SP001"), ("tax", "KCT"), ("uom", "THUNG")}
    assert any("moved from the company YourCompany" in note for note in notes)
