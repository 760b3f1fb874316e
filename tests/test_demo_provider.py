"""The live demo's provider (setup/demo_provider.py), without Odoo.

Its Odoo side (the source set up over XML-RPC) is tried by running
``bash setup/run.sh``; here: the orders it makes, what it prints, and its
HTTP side against a real local server.
"""

import importlib.util
import json
import pathlib
import random
import time
import unicodedata
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

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


def _demo_products():
    """default code -> list price of the products in the addon's demo data."""
    tree = ET.parse(ROOT / "oms_integration" / "demo" / "oms_integration_demo.xml")
    products = {}
    for record in tree.iter("record"):
        if record.get("model") != "product.product":
            continue
        fields = {field.get("name"): field for field in record.iter("field")}
        products[fields["default_code"].text] = float(fields["list_price"].get("eval"))
    return products


@pytest.fixture
def lines():
    return []


@pytest.fixture
def provider(lines):
    with demo_provider.LiveDemoProvider(lines.append, token="tok") as simulator:
        simulator.secret = SECRET
        yield simulator


def test_orders_follow_the_canonical_contract():
    rng = random.Random(7)
    demo = _demo_products()
    ids = set()
    for number in range(1, 201):
        order = demo_provider.make_order(number, rng=rng)
        body = json.dumps({"type": "order.created", "order": order})
        result = normalize.parse_compatible(body)
        assert result.ok, result.errors
        [parsed] = result.orders
        assert parsed.currency == "VND"
        assert parsed.updated_at and parsed.customer.country_code == "VN"
        assert {line.sku for line in parsed.lines} <= set(demo)
        for line in parsed.lines:
            assert line.price_unit == (0 if line.is_free else demo[line.sku])
        ids.add(parsed.external_id)
    assert len(ids) == 200, "two orders of one run share an id"


def test_products_and_shops_are_the_demo_ones_with_diacritics():
    demo = _demo_products()
    for sku, name, price, _quantities in demo_provider.PRODUCTS:
        assert demo.get(sku) == price, f"{sku} is not a demo product at {price}"
        assert not name.isascii()
    for shop in demo_provider.SHOPS:
        assert not shop["name"].isascii()
        assert unicodedata.is_normalized("NFC", shop["name"])


def test_amounts_are_written_as_vietnamese_shops_do():
    assert demo_provider.vnd(1234000) == "1.234.000 ₫"
    order = demo_provider.make_order(1, rng=random.Random(3))
    assert demo_provider.order_total(order) == sum(
        line["quantity"] * line["price_unit"] - line.get("discount_amount", 0)
        for line in order["lines"]
    )


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
