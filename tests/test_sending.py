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


def test_pool_sends_every_request_with_a_session_per_thread(sim):
    futures = [
        sending.submit(("db", 1), _request(sim, number), (5, 15), 4)
        for number in range(12)
    ]
    answers = [future.result() for future in futures]
    assert [response.status_code for response, _e, _d in answers] == [200] * 12
    assert sorted(c["body"] for c in sim.callbacks) == sorted(
        f'{{"n": {number}}}'.encode() for number in range(12)
    )


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
