import json

import pytest
import requests
from oms_lib import signatures
from oms_lib.simulator import ProviderSimulator
from standardwebhooks.webhooks import Webhook


def _order(order_id, updated_at):
    return {
        "id": order_id,
        "updated_at": updated_at,
        "currency": "VND",
        "customer": {"id": "C-1", "name": "Shop"},
        "lines": [{"product": {"sku": "SP001"}, "quantity": 1, "price_unit": 1000}],
    }


@pytest.fixture
def sim():
    with ProviderSimulator(token="tok") as simulator:
        yield simulator


def _get(sim, token="tok", **params):
    return requests.get(
        f"{sim.url}/orders",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def test_pages_are_sorted_filtered_and_paginated(sim):
    sim.put_order(_order("B", "2026-11-22T10:00:00Z"))
    sim.put_order(_order("A", "2026-11-22T10:00:00Z"))
    sim.put_order(_order("C", "2026-11-22T09:00:00Z"))
    first = _get(sim, page=1, page_size=2).json()
    assert [o["id"] for o in first["orders"]] == ["C", "A"]
    assert first["next_page"] == 2
    second = _get(sim, page=2, page_size=2).json()
    assert [o["id"] for o in second["orders"]] == ["B"]
    assert second["next_page"] is None
    since = _get(sim, updated_since="2026-11-22T09:30:00Z").json()
    assert [o["id"] for o in since["orders"]] == ["A", "B"]


def test_wrong_token_is_refused(sim):
    assert _get(sim, token="nope").status_code == 401


def test_scripted_answers_come_first_then_normal_service(sim):
    sim.script(503, {"error": "down"}, {"Retry-After": "7"}, times=2)
    first = _get(sim)
    assert first.status_code == 503
    assert first.headers["Retry-After"] == "7"
    assert _get(sim).status_code == 503
    assert _get(sim).status_code == 200


def test_callbacks_are_recorded(sim):
    response = requests.post(
        f"{sim.url}/status", json={"status": "approved"}, timeout=5
    )
    assert response.status_code == 200
    [callback] = sim.callbacks
    assert callback["path"] == "/status"
    assert json.loads(callback["body"]) == {"status": "approved"}


def test_push_signs_with_standard_webhooks(sim):
    secret = signatures.new_standard_webhooks_secret()
    payload = {"type": "order.created", "order": _order("A", "2026-11-22T10:00:00Z")}
    response = ProviderSimulator.push(f"{sim.url}/receiver", secret, payload)
    assert response.status_code == 200
    [callback] = sim.callbacks
    headers = {k.lower(): v for k, v in callback["headers"].items()}
    verified = Webhook(secret).verify(callback["body"], headers)
    assert verified["order"]["id"] == "A"
