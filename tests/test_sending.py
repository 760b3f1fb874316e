import threading

import pytest
import requests
from oms_lib import sending
from oms_lib.simulator import ProviderSimulator


@pytest.fixture
def sim():
    with ProviderSimulator() as simulator:
        yield simulator


def _request(sim, number):
    return {
        "method": "POST",
        "url": f"{sim.url}/status",
        "headers": {"Content-Type": "application/json"},
        "body": f'{{"n": {number}}}'.encode(),
    }


def test_send_answers_or_tells_the_transport_error(sim):
    response, error, duration = sending.send(
        requests.Session(), _request(sim, 1), (5, 15)
    )
    assert response.status_code == 200 and error is None and duration >= 0
    response, error, _duration = sending.send(
        requests.Session(), {"url": "http://127.0.0.1:9/nothing"}, (1, 1)
    )
    assert response is None and error.startswith("Connection error")


def test_thread_session_is_per_thread_and_key():
    sessions = {}

    def take(name):
        sessions[name] = (sending.thread_session("a"), sending.thread_session("a"))

    threads = [threading.Thread(target=take, args=(n,)) for n in ("x", "y")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sessions["x"][0] is sessions["x"][1]
    assert sessions["x"][0] is not sessions["y"][0]
    assert sending.thread_session("a") is not sending.thread_session("b")


def test_sessions_read_proxies_and_ca_bundle_from_the_environment_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company-ca.pem")
    session = sending.new_session()
    assert session.trust_env is False
    options = sending._environment_options(session, "https://api.example/status")
    assert options["proxies"]["https"] == "http://proxy.example:3128"
    assert options["verify"] == "/etc/ssl/company-ca.pem"
    internal = sending._environment_options(session, "https://internal.example/x")
    assert "https" not in internal["proxies"]
    # Read once per host: a later change of the environment is not seen.
    monkeypatch.setenv("HTTPS_PROXY", "http://other.example:3128")
    again = sending._environment_options(session, "https://api.example/other")
    assert again["proxies"]["https"] == "http://proxy.example:3128"
    # A plain session reads the environment itself.
    assert sending._environment_options(requests.Session(), "https://a.example") == {}


def test_sessions_verify_certificates_by_default(monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    session = sending.new_session()
    assert sending._environment_options(session, "https://a.example")["verify"] is True


def _received(sim, index=-1):
    callback = sim.callbacks[index]
    headers = {name.lower(): value for name, value in callback["headers"].items()}
    return callback["path"], headers, callback["body"]


def test_the_adapter_path_sends_what_session_send_sends(sim):
    # A session of new_session() sends through its transport adapter; a
    # plain session through Session.send: the provider gets the same request.
    request = {
        "method": "POST",
        "url": f"{sim.url}/status?tenant=7",
        "headers": {"Content-Type": "application/json", "X-Key": "abc"},
        "body": b'{"n": 1}',
    }
    for session in (requests.Session(), sending.new_session()):
        response, error, _duration = sending.send(session, request, (5, 15))
        assert error is None and response.status_code == 200
        assert response.content  # read: the connection is free again
    (path_a, headers_a, body_a), (path_b, headers_b, body_b) = (
        _received(sim, 0),
        _received(sim, 1),
    )
    assert (path_a, body_a) == (path_b, body_b) == ("/status?tenant=7", b'{"n": 1}')
    assert headers_a == headers_b
    assert headers_b["content-length"] == "8"
    assert headers_b["x-key"] == "abc"
    assert headers_b["user-agent"].startswith("python-requests/")


def test_request_headers_override_the_sessions_whatever_their_case(sim):
    session = sending.new_session()
    session.headers["X-Tenant"] = "shop"
    request = dict(
        _request(sim, 1),
        headers={"user-agent": "oms/1.0", "x-tenant": None, "X-Key": "k"},
    )
    sending.send(session, request, (5, 15))
    _path, headers, _body = _received(sim)
    assert headers["user-agent"] == "oms/1.0"
    assert "x-tenant" not in headers, "None removes the session's header"
    assert headers["x-key"] == "k"
    assert "accept-encoding" in headers, "the session's other headers stay"


def test_each_request_is_prepared_afresh_on_a_known_url(sim):
    # The URL is parsed once per session; headers and bodies never carry over.
    session = sending.new_session()
    first = dict(_request(sim, 1), headers={"X-One": "1"})
    second = dict(_request(sim, 2), headers={"X-Two": "2"})
    for request in (first, second):
        sending.send(session, request, (5, 15))
    _path, headers, body = _received(sim)
    assert body == b'{"n": 2}' and headers["content-length"] == "8"
    assert "x-one" not in headers and headers["x-two"] == "2"


def test_credentials_in_the_url_become_basic_authentication(sim):
    session = sending.new_session()
    url = sim.url.replace("http://", "http://user:p%40ss@") + "/status"
    sending.send(session, dict(_request(sim, 1), url=url), (5, 15))
    _path, headers, _body = _received(sim)
    assert headers["authorization"] == requests.auth._basic_auth_str("user", "p@ss")
