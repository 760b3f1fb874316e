"""The Mobiwork simulator over real HTTP: read API, Bill and goods issue,
scripted errors, and deliveries pushed with tokenkey or Standard Webhooks."""

import json
import pathlib
from datetime import datetime, timezone

import pytest
import requests
from mobiwork_lib import callbacks, parser
from mobiwork_lib.simulator import MobiworkSimulator, delivery
from oms_lib import signatures
from oms_lib.simulator import ProviderSimulator
from requests.auth import HTTPBasicAuth
from standardwebhooks.webhooks import Webhook

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "mobiwork"
AUTH = HTTPBasicAuth("org-42", "read-tok")


def _load(name):
    return json.loads((FIXTURES / name).read_bytes())


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def _reset(simulator):
    with simulator.lock:
        for recorded in (simulator.callbacks, simulator.requests, simulator.scripted):
            recorded.clear()
        getattr(simulator, "sales", {}).clear()
    return simulator


# One server per module (stopping one takes half a second), fresh per test.
@pytest.fixture(scope="module")
def _sim_server():
    with MobiworkSimulator(token="tok", api_id="org-42", read_token="read-tok") as s:
        yield s


@pytest.fixture(scope="module")
def _receiver_server():
    with ProviderSimulator() as simulator:
        yield simulator


@pytest.fixture
def sim(_sim_server):
    return _reset(_sim_server)


@pytest.fixture
def receiver(_receiver_server):
    """Plays Odoo's webhook URL: records every POST."""
    return _reset(_receiver_server)


def _sales(sim, **params):
    return requests.get(
        f"{sim.url}{parser.READ_API_SALE_PATH}", params=params, auth=AUTH, timeout=5
    )


def _put_orders(sim):
    multi = _load("delivery_multi_orders.json")["data"]
    page = _load("read_api_sale_page.json")["data"]
    for order in multi + page:  # created 22/11 18:30 UTC (23/11 in Vietnam) ...
        sim.put_sale(order)
    sim.put_sale(_load("order_single_object.json"), created_at="2026-11-24T02:00:00Z")
    # 2026-11-22T16:00Z is still the 22nd in Vietnam.
    sim.put_sale({**page[0], "ma_phieu": "DH-2026-000100"}, _utc(2026, 11, 22, 16))


# --- read API ----------------------------------------------------------------


def test_read_api_serves_vietnam_days_in_pages(sim):
    _put_orders(sim)
    collected, page_number = [], 1
    while page_number:
        params = parser.read_api_params(
            _utc(2026, 11, 22, 17, 0), _utc(2026, 11, 23, 12, 0), page_number, 2
        )
        assert (params["tu_ngay"], params["den_ngay"]) == ("23/11/2026", "23/11/2026")
        response = _sales(sim, **params)
        assert response.status_code == 200
        assert callbacks.read_error(response.status_code, response.content) is None
        results, total = parser.parse_read_api_page(response.content)
        assert total == 4
        collected += [raw for raw, _result in results]
        page_number = parser.read_api_next_page(
            page_number, params["page_size"], len(results), total
        )
    ids = [json.loads(raw)["ma_phieu"] for raw in collected]
    # Sorted by creation time: 18:30 UTC on the 22nd comes first.
    assert ids == [
        "DH-2026-000123",
        "DH-2026-000140",
        "DH-2026-000124",
        "DH-2026-000141",
    ]
    pages = [path for method, path in sim.requests if method == "GET"]
    assert len(pages) == 2
    assert "tu_ngay=23%2F11%2F2026" in pages[0] and "kieu_ngay=cdate" in pages[0]


def test_read_api_days_are_inclusive(sim):
    _put_orders(sim)
    answer = _sales(sim, tu_ngay="22/11/2026", den_ngay="24/11/2026").json()
    assert answer["status"] is True
    assert answer["total"] == 6
    assert [o["ma_phieu"] for o in answer["data"]][0] == "DH-2026-000100"
    assert answer["data"][-1]["ma_phieu"] == "DH-2026-000130"
    only_22 = _sales(sim, tu_ngay="22/11/2026", den_ngay="22/11/2026").json()
    assert [o["ma_phieu"] for o in only_22["data"]] == ["DH-2026-000100"]


@pytest.mark.parametrize(
    ("auth", "params", "status", "message"),
    [
        (HTTPBasicAuth("org-42", "nope"), {}, 401, "Unauthorized"),
        (None, {}, 401, "Unauthorized"),
        (AUTH, {"tu_ngay": "2026-11-23"}, 400, "tu_ngay and den_ngay must be"),
        (AUTH, {"page_size": "0"}, 400, "page_number and page_size must be 1"),
        (AUTH, {"kieu_ngay": "udate"}, 400, "The simulator only filters by"),
    ],
)
def test_read_api_refusals_use_mobiwork_errors(sim, auth, params, status, message):
    query = {"tu_ngay": "23/11/2026", "den_ngay": "23/11/2026", **params}
    response = requests.get(
        f"{sim.url}{parser.READ_API_SALE_PATH}", params=query, auth=auth, timeout=5
    )
    assert response.status_code == status
    assert response.json()["successful"] is False
    error = callbacks.read_error(response.status_code, response.content)
    assert error.startswith(f"Mobiwork refused the request (HTTP {status}): {message}")


def test_unknown_paths_are_not_found(sim):
    response = requests.get(f"{sim.url}/OpenAPI/V1/Customer", auth=AUTH, timeout=5)
    assert response.status_code == 404
    assert response.json() == {
        "successful": False,
        "errors": [{"message": "Not found"}],
    }


# --- Bill and goods issue ----------------------------------------------------


def _bill():
    return callbacks.build_bill(
        {
            "bill_number": "INV/2026/00042",
            "order_number": "DH-2026-000123",
            "customer_code": "KH00457",
            "order_date": _utc(2026, 11, 22, 18, 30),
            "sale_date": _utc(2026, 11, 25, 3, 0),
            "amount_tax": 12500,
            "lines": [
                {
                    "product_code": "SP001",
                    "quantity": 1,
                    "price_unit": 125000,
                    "vat_rate": 10,
                }
            ],
            "free_lines": [{"product_code": "SP099", "quantity": 1}],
        }
    )


def _post(sim, path, body, token="tok"):
    return requests.post(
        f"{sim.url}{path}",
        data=callbacks.dumps(body),
        headers={"Content-Type": "application/json", callbacks.TOKEN_HEADER: token},
        timeout=5,
    )


def test_bill_and_goods_issue_are_recorded_and_accepted(sim):
    bill = _bill()
    response = _post(sim, callbacks.BILL_PATH, bill)
    assert response.status_code == 200
    assert response.json()["status"] is True
    assert callbacks.read_error(response.status_code, response.content) is None
    issue = callbacks.build_goods_issue(
        {
            "order_number": "DH-2026-000123",
            "warehouse_code": "KHO-HCM",
            "issue_date": _utc(2026, 11, 22, 18, 30),
            "lines": [{"product_code": "SP001", "quantity": 1, "price_unit": 125000}],
        }
    )
    response = _post(sim, callbacks.GOODS_ISSUE_PATH, issue)
    assert response.status_code == 200
    assert callbacks.read_error(response.status_code, response.content) is None
    assert sim.bills == [bill]
    assert sim.goods_issues == [issue]
    assert sim.bills[0]["ngay_dat"] == "23/11/2026"
    assert sim.goods_issues[0]["ngay_xuat"] == "2026-11-23"
    assert [c["status"] for c in sim.callbacks] == [200, 200]


def test_order_statuses_of_our_design_are_recorded_and_accepted(sim):
    status = {"ma_phieu": "DH-2026-000123", "trang_thai": "Đã duyệt"}
    response = _post(sim, callbacks.ORDER_STATUS_PATH, status)
    assert response.status_code == 200
    assert response.json()["ma_phieu"] == "DH-2026-000123"
    assert sim.order_statuses == [status]
    assert sim.bills == [] and sim.goods_issues == []


def test_a_wrong_tokenkey_is_refused_but_recorded(sim):
    response = _post(sim, callbacks.BILL_PATH, _bill(), token="nope")
    assert response.status_code == 401
    assert callbacks.read_error(401, response.content) == (
        "Mobiwork refused the request (HTTP 401): Invalid tokenkey"
    )
    assert [c["status"] for c in sim.callbacks] == [401]


def test_scripted_errors_come_first_then_normal_service(sim):
    sim.script_error("Mã phiếu INV/2026/00042 đã tồn tại", status=200, times=1)
    sim.script_error("Máy chủ bận", status=503)
    first = _post(sim, callbacks.BILL_PATH, _bill())
    assert first.status_code == 200
    assert callbacks.read_error(first.status_code, first.content) == (
        "Mobiwork refused the request: Mã phiếu INV/2026/00042 đã tồn tại"
    )
    second = _post(sim, callbacks.BILL_PATH, _bill())
    assert callbacks.read_error(second.status_code, second.content) == (
        "Mobiwork refused the request (HTTP 503): Máy chủ bận"
    )
    third = _post(sim, callbacks.BILL_PATH, _bill())
    assert callbacks.read_error(third.status_code, third.content) is None
    assert [c["status"] for c in sim.callbacks] == [200, 503, 200]
    assert len(sim.bills) == 3


def test_a_body_that_is_not_json_is_refused(sim):
    response = requests.post(
        f"{sim.url}{callbacks.BILL_PATH}",
        data=b"ma_phieu=1",
        headers={callbacks.TOKEN_HEADER: "tok"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "The body must be a JSON object" in callbacks.read_error(
        400, response.content
    )


# --- pushing deliveries ------------------------------------------------------


def test_push_with_tokenkey(receiver):
    orders = _load("delivery_multi_orders.json")["data"]
    response = MobiworkSimulator.push_delivery(
        f"{receiver.url}/oms/webhook/abc", delivery(*orders), token="tok"
    )
    assert response.status_code == 200
    [received] = receiver.callbacks
    assert received["path"] == "/oms/webhook/abc"
    headers = received["headers"]
    assert signatures.header(headers, "tokenkey") == "tok"
    assert signatures.static_token_verify(["tok"], headers.get("tokenkey")).ok
    assert signatures.header(headers, "webhook-signature") is None
    # Sent as UTF-8, NFD left as Mobiwork wrote it; parsed to NFC.
    assert "Bách hóa Đức Thành" not in received["body"].decode()
    parsed = parser.parse_delivery(received["body"])
    assert [o.external_id for o in parsed.orders] == [
        "DH-2026-000123",
        "DH-2026-000124",
    ]
    assert parsed.orders[1].customer.name == "Cửa hàng Bách hóa Đức Thành"


def test_push_signed_with_standard_webhooks(receiver):
    secret = signatures.new_standard_webhooks_secret()
    payload = delivery(_load("order_single_object.json"))
    MobiworkSimulator.push_delivery(
        f"{receiver.url}/hook", payload, secret=secret, msg_id="msg_mw_1"
    )
    [received] = receiver.callbacks
    headers = {k.lower(): v for k, v in received["headers"].items()}
    assert headers["webhook-id"] == "msg_mw_1"
    assert "tokenkey" not in headers
    assert Webhook(secret).verify(received["body"], headers)["event"] == (
        "sales_order_create"
    )
    assert signatures.standard_webhooks_verify([secret], headers, received["body"]).ok
    assert [o.external_id for o in parser.parse_delivery(received["body"]).orders] == [
        "DH-2026-000130"
    ]


def test_push_sends_raw_bodies_unchanged(receiver):
    raw = (FIXTURES / "invalid_not_json.txt").read_bytes()
    MobiworkSimulator.push_delivery(f"{receiver.url}/hook", raw, token="tok")
    MobiworkSimulator.push_delivery(f"{receiver.url}/hook", raw.decode())
    first, second = receiver.callbacks
    assert first["body"] == second["body"] == raw
    assert signatures.header(second["headers"], "tokenkey") is None
    assert parser.parse_delivery(first["body"]).errors[0].path == "$"


def test_the_compatible_polling_api_is_not_served(sim):
    response = requests.get(
        f"{sim.url}/orders", headers={"Authorization": "Bearer tok"}, timeout=5
    )
    assert response.status_code == 404
