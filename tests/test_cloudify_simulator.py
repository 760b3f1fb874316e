"""The Cloudify simulator over real HTTP: session login and OAuth2 tokens,
tokens expiring in the middle of a poll, polling pages, status callbacks,
and signed webhook events."""

import json
import pathlib
import threading
from datetime import datetime, timezone

import pytest
import requests
from cloudify_lib import auth, callbacks, parser
from cloudify_lib.simulator import CloudifySimulator, webhook_event
from oms_lib import signatures
from oms_lib.simulator import ProviderSimulator
from standardwebhooks.webhooks import Webhook

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "cloudify"
PASSWORD = "mật-khẩu-42"
STATE_MAP = {
    "approved": "confirmed",
    "processing": "picking",
    "delivered": "done",
    "cancelled": "cancel",
}


def _load(name):
    return json.loads((FIXTURES / name).read_bytes())


def _utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def _sim_server():
    with CloudifySimulator(
        db="tenant",
        login="api@example.vn",
        password=PASSWORD,
        client_id="odoo-client",
        client_secret="cl1ent-s3cret",
    ) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def _receiver_server():
    with ProviderSimulator() as simulator:
        yield simulator


@pytest.fixture
def sim(_sim_server):
    return _sim_server.reset()


@pytest.fixture
def receiver(_receiver_server):
    """Plays Odoo's webhook URL: records every POST."""
    with _receiver_server.lock:
        _receiver_server.callbacks.clear()
    return _receiver_server


def _send(request):
    return requests.request(**request, timeout=5)


def _session_login(sim, password=PASSWORD):
    request = auth.session_login_request(sim.url, "tenant", "api@example.vn", password)
    response = _send(request)
    return auth.read_session_login(
        response.status_code, response.headers, response.content, secrets=[password]
    )


def _oauth_token(sim, secret="cl1ent-s3cret"):
    request = auth.oauth_token_request(f"{sim.url}/oauth/token", "odoo-client", secret)
    response = _send(request)
    return auth.read_oauth_token(
        response.status_code, response.content, secrets=[secret]
    )


def _search(sim, mode, token, since=None, page=1, page_size=2, **extra):
    return requests.get(
        f"{sim.url}{parser.SEARCH_PATH}",
        params={**parser.poll_params(since, page, page_size), **extra},
        headers=auth.auth_headers(mode, token),
        timeout=5,
    )


def _put_documents(sim):
    """Five orders changed from 01:00 to 05:00 UTC on 22/11/2026."""
    base = _load("poll_page_array.json")[0]
    for hour in range(1, 6):
        order = dict(base, external_id=f"cf_9000{hour}")
        order["updated_at"] = f"2026-11-22T{hour + 7:02d}:00:00+07:00"
        sim.put_document(order)
    # The same moment as cf_90003 (Odoo's write_date, UTC): sorted before it.
    order = dict(base, external_id="cf_90000", write_date="2026-11-22 03:00:00")
    del order["updated_at"]
    sim.put_document(order)


# --- session login -----------------------------------------------------------


def test_session_login_gives_a_cookie_session_for_the_search(sim):
    token = _session_login(sim)
    assert token.value in sim.tokens
    assert sim.login_count == 1
    sim.put_document(_load("poll_page_array.json")[0])
    response = _search(sim, "session", token)
    assert response.status_code == 200
    assert auth.is_expired_answer(200, response.headers, response.content) is False
    results, following = parser.parse_poll_page(response.content, 1, 2)
    assert [r.orders[0].external_id for _raw, r in results] == ["cf_90001"]
    assert following is None


def test_the_session_cookie_is_odoos_and_its_expiry_one_hour(sim):
    request = auth.session_login_request(sim.url, "tenant", "api@example.vn", PASSWORD)
    response = _send(request)
    assert "Max-Age=604800" in response.headers["Set-Cookie"]
    assert response.json()["result"]["uid"] == 2
    now = datetime.now(timezone.utc)
    token = auth.read_session_login(200, response.headers, response.content, now=now)
    assert (token.expires_at - now).total_seconds() == auth.DEFAULT_SESSION_LIFETIME


def test_a_wrong_password_is_odoos_access_denied(sim):
    with pytest.raises(auth.AuthError) as raised:
        _session_login(sim, password="wrong-pass")
    assert str(raised.value) == (
        "Cloudify refused the login: Access Denied. Check the database, login and "
        "password of the source, then try again."
    )
    assert raised.value.retryable is False
    assert (sim.login_attempts, sim.login_count) == (1, 0)


def test_scripted_login_failures_come_first(sim):
    sim.fail_logins(times=1, message=f"Access Denied ({PASSWORD})")
    sim.fail_logins(times=1, status=503)
    with pytest.raises(auth.AuthError) as first:
        _session_login(sim)
    assert PASSWORD not in str(first.value)
    assert "Access Denied (***)" in str(first.value)
    with pytest.raises(auth.AuthError) as second:
        _session_login(sim)
    assert second.value.retryable is True
    assert "HTTP 503" in str(second.value)
    assert _session_login(sim).value
    assert (sim.login_attempts, sim.login_count) == (3, 1)


def test_the_session_may_be_sent_in_the_query_as_the_public_client_does(sim):
    token = _session_login(sim)
    response = requests.get(
        f"{sim.url}{parser.SEARCH_PATH}",
        params={"db": "tenant", "session_id": token.value, "limit": 5},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json() == {"data": [], "total": 0}


# --- OAuth2 ------------------------------------------------------------------


def test_oauth_client_credentials(sim):
    token = _oauth_token(sim)
    assert sim.token_grant_count == 1
    assert (token.expires_at - datetime.now(timezone.utc)).total_seconds() > 3590
    response = _search(sim, "oauth", token)
    assert response.status_code == 200
    [request] = [c for c in sim.callbacks if c["path"] == "/oauth/token"]
    assert request["body"] == b"grant_type=client_credentials"
    assert b"cl1ent-s3cret" not in request["body"]  # the secret is in Basic only


def test_a_wrong_client_secret_is_invalid_client(sim):
    with pytest.raises(auth.AuthError) as raised:
        _oauth_token(sim, secret="nope-nope")
    assert str(raised.value) == (
        "Cloudify refused the token request (HTTP 401): invalid_client (Client "
        "authentication failed). Check the client ID and secret of the source, then "
        "try again."
    )
    assert (sim.token_requests, sim.token_grant_count) == (1, 0)


def test_client_credentials_in_the_form_and_a_wrong_grant(sim):
    form = {
        "grant_type": "password",
        "client_id": "odoo-client",
        "client_secret": "cl1ent-s3cret",
    }
    response = requests.post(f"{sim.url}/oauth/token", data=form, timeout=5)
    assert response.status_code == 400
    with pytest.raises(auth.AuthError, match="unsupported_grant_type"):
        auth.read_oauth_token(response.status_code, response.content)
    form["grant_type"] = "client_credentials"
    response = requests.post(f"{sim.url}/oauth/token", data=form, timeout=5)
    assert auth.read_oauth_token(response.status_code, response.content).value


def test_the_token_lifetime_is_configurable(sim):
    sim.token_lifetime = 90
    token = _oauth_token(sim)
    assert 80 < (token.expires_at - datetime.now(timezone.utc)).total_seconds() <= 90
    assert auth.needs_refresh(token.expires_at, datetime.now(timezone.utc), 300)


# --- expiry --------------------------------------------------------------------


def test_an_expired_session_is_odoos_json_rpc_error(sim):
    token = _session_login(sim)
    sim.expire_all_tokens()
    response = _search(sim, "session", token)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == 100
    assert response.json()["error"]["message"] == "Odoo Session Expired"
    assert auth.is_expired_answer(200, response.headers, response.content)
    with pytest.raises(parser.PollError) as raised:
        parser.parse_poll_page(response.content)
    assert raised.value.session_expired is True


def test_an_expired_token_is_http_401(sim):
    token = _oauth_token(sim)
    sim.expire_all_tokens()
    response = _search(sim, "oauth", token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert auth.is_expired_answer(401, response.headers, response.content)
    assert callbacks.read_error(401, response.content) == (
        "Cloudify refused the request (HTTP 401): invalid_token; The token expired"
    )


def test_unknown_or_missing_credentials_are_refused(sim):
    response = _search(sim, "oauth", "never-granted")
    assert response.status_code == 401
    response = requests.get(f"{sim.url}{parser.SEARCH_PATH}", timeout=5)
    assert auth.is_expired_answer(response.status_code, {}, response.content)
    # A session id is no bearer token.
    token = _session_login(sim)
    assert _search(sim, "oauth", token).status_code == 401


def _poll(sim, mode, get_token, since, page_size=2):
    """A poll as the Odoo side will run it: pages until the last one; on an
    expired answer, a new token once, then the same page again."""
    token, collected, page = get_token(sim), [], 1
    while page:
        response = _search(sim, mode, token, since, page, page_size)
        if auth.is_expired_answer(
            response.status_code, response.headers, response.content
        ):
            token = get_token(sim)
            response = _search(sim, mode, token, since, page, page_size)
        results, page = parser.parse_poll_page(response.content, page, page_size)
        collected += [result.orders[0] for _raw, result in results]
    return collected


@pytest.mark.parametrize(
    ("mode", "get_token", "counter"),
    [
        ("session", _session_login, "login_count"),
        ("oauth", _oauth_token, "token_grant_count"),
    ],
)
def test_a_token_expiring_mid_poll_is_renewed_once(sim, mode, get_token, counter):
    _put_documents(sim)
    sim.expire_after_requests = 2  # each token serves two pages
    orders = _poll(sim, mode, get_token, _utc(2026, 11, 22, 2, 0))
    assert [o.external_id for o in orders] == [
        "cf_90002",
        "cf_90000",
        "cf_90003",
        "cf_90004",
        "cf_90005",
    ]
    assert [o.updated_at.hour for o in orders] == [2, 3, 3, 4, 5]
    # Three pages; the token expired before the third: one renewal.
    assert getattr(sim, counter) == 2
    pages = [path for method, path in sim.requests if method == "GET"]
    assert len(pages) == 4  # page 3 asked twice
    assert "offset=4" in pages[-1] and "offset=4" in pages[-2]


def test_concurrent_requests_after_an_expiry_renew_once_with_a_lock(sim):
    """What the counters are for: N workers finding the session expired
    renew it once when they share a lock and check the token again."""
    cache = {"token": _session_login(sim)}
    lock = threading.Lock()
    sim.expire_all_tokens()

    def worker():
        seen = cache["token"]
        response = _search(sim, "session", seen)
        if auth.is_expired_answer(200, response.headers, response.content):
            with lock:
                if cache["token"] is seen:  # nobody renewed it meanwhile
                    cache["token"] = _session_login(sim)
            response = _search(sim, "session", cache["token"])
        assert response.json() == {"data": [], "total": 0}

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sim.login_count == 2  # the first login, and one renewal


# --- polling -------------------------------------------------------------------


def test_the_search_filters_by_updated_since_and_sorts(sim):
    _put_documents(sim)
    token = _oauth_token(sim)
    response = _search(sim, "oauth", token, _utc(2026, 11, 22, 3, 0), 1, 10)
    answer = response.json()
    assert answer["total"] == 4
    assert [o["external_id"] for o in answer["data"]] == [
        "cf_90000",
        "cf_90003",
        "cf_90004",
        "cf_90005",
    ]
    everything = _search(sim, "oauth", token, None, 1, 10).json()
    assert everything["total"] == 6


@pytest.mark.parametrize("shape", ["data", "result", "records", "array", "odoo"])
def test_every_answer_shape_parses(sim, shape):
    _put_documents(sim)
    sim.page_shape = shape
    orders = _poll(sim, "oauth", _oauth_token, _utc(2026, 11, 22, 4, 0), page_size=1)
    assert [o.external_id for o in orders] == ["cf_90004", "cf_90005"]
    pages = [path for method, path in sim.requests if method == "GET"]
    # With a total, the pages stop at it; a bare list needs an empty page.
    assert len(pages) == (3 if shape in ("array", "result") else 2)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"updated_since": "hôm qua"}, "updated_since, limit or offset is not valid"),
        ({"limit": "0"}, "limit must be 1 or more, offset 0 or more"),
        ({"db": "other"}, "database other does not exist"),
    ],
)
def test_bad_searches_are_refused(sim, params, message):
    token = _oauth_token(sim)
    response = requests.get(
        f"{sim.url}{parser.SEARCH_PATH}",
        params=params,
        headers=auth.auth_headers("oauth", token),
        timeout=5,
    )
    assert response.status_code == 400
    assert callbacks.read_error(400, response.content) == (
        f"Cloudify refused the request (HTTP 400): {message}"
    )


def test_unknown_paths_are_not_found(sim):
    assert requests.get(f"{sim.url}/orders", timeout=5).status_code == 404
    assert requests.post(f"{sim.url}/rest_api/x", timeout=5).status_code == 404


# --- status callbacks ----------------------------------------------------------


def test_status_callbacks_are_recorded(sim):
    token = _session_login(sim)
    body = callbacks.build_status(
        "delivered",
        "cf_88421",
        tracking_ref="GHN-123456",
        lines=[{"seq": 1, "product_code": "SP001", "qty": 5}],
        state_map=STATE_MAP,
    )
    response = requests.post(
        f"{sim.url}{callbacks.DEFAULT_STATUS_PATH}",
        data=callbacks.dumps(body),
        headers={
            "Content-Type": "application/json",
            **auth.auth_headers("session", token),
        },
        timeout=5,
    )
    assert response.status_code == 200
    assert callbacks.read_error(response.status_code, response.content) is None
    assert sim.statuses == [body]


def test_status_callbacks_with_an_expired_token_or_a_bad_body(sim):
    token = _oauth_token(sim)
    headers = auth.auth_headers("oauth", token)
    url = f"{sim.url}{callbacks.DEFAULT_STATUS_PATH}"
    bad = {"external_id": "cf_1", "state": "shipped"}
    response = requests.post(url, data=json.dumps(bad), headers=headers, timeout=5)
    assert callbacks.read_error(response.status_code, response.content) == (
        "Cloudify refused the request (HTTP 400): Unknown state 'shipped'"
    )
    sim.expire_all_tokens()
    body = callbacks.build_status("approved", "cf_1", state_map=STATE_MAP)
    response = requests.post(
        url, data=callbacks.dumps(body), headers=headers, timeout=5
    )
    assert auth.is_expired_answer(
        response.status_code, response.headers, response.content
    )
    # Every status received is recorded, refused or not.
    assert sim.statuses == [bad, body]
    assert [c["status"] for c in sim.callbacks if c["path"] == url[len(sim.url) :]] == [
        400,
        401,
    ]


# --- webhooks ------------------------------------------------------------------


def test_push_a_signed_webhook_event(receiver):
    secret = signatures.new_standard_webhooks_secret()
    event = _load("event_order_created.json")
    response = CloudifySimulator.push(
        f"{receiver.url}/oms/webhook/abc", secret, event, msg_id="msg_cf_1"
    )
    assert response.status_code == 200
    [received] = receiver.callbacks
    headers = {k.lower(): v for k, v in received["headers"].items()}
    assert headers["webhook-id"] == "msg_cf_1"
    assert Webhook(secret).verify(received["body"], headers)["id"] == "evt_0001"
    assert signatures.standard_webhooks_verify([secret], headers, received["body"]).ok
    [order] = parser.parse_delivery(received["body"]).orders
    assert (order.external_id, order.amount_total) == ("cf_88421", 1274400)
    assert order.customer.name == "Tạp hóa Minh Anh"


def test_webhook_event_builds_the_envelope():
    order = _load("event_order_cancelled.json")["order"]
    event = webhook_event(order, "order.cancelled", "evt_9")
    assert event["type"] == "order.cancelled" and event["id"] == "evt_9"
    assert event["created_at"].endswith("+07:00")
    [parsed] = parser.parse_delivery(json.dumps(event)).orders
    assert parsed.event_type == "order.cancelled"
    assert webhook_event(order)["id"].startswith("evt_")


def test_page_shape_must_be_known():
    with pytest.raises(ValueError, match="page_shape must be one of"):
        CloudifySimulator(page_shape="xml")
