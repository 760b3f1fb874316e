"""The kinds of errors the hints catalogue words (``lib.hints``), recognised
from what ``requests`` really raises and answers: a local HTTP server for
the statuses, a socket that never answers, a TLS handshake with a plain
HTTP server, a host name that cannot exist, a closed port."""

import http.server
import socket
import threading

import pytest
import requests
from oms_lib import hints, sending

TIMEOUTS = (2, 0.5)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        status = int(self.path.strip("/") or 200)
        body = b"<html>not json</html>"
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "https://elsewhere.example/api")
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _get(url):
    return requests.get(url, timeout=TIMEOUTS, allow_redirects=False)


def _raised(url):
    with pytest.raises(requests.RequestException) as caught:
        _get(url)
    return caught.value


@pytest.mark.parametrize(
    ("status", "key"),
    [
        (401, hints.UNAUTHORIZED),
        (403, hints.FORBIDDEN),
        (404, hints.NOT_FOUND),
        (429, hints.RATE_LIMITED),
        (500, hints.SERVER_ERROR),
        (503, hints.SERVER_ERROR),
        (301, hints.REDIRECT),
        (302, hints.REDIRECT),
        (400, hints.CLIENT_ERROR),
        (422, hints.CLIENT_ERROR),
    ],
)
def test_each_http_answer_has_its_kind(server, status, key):
    response = _get(f"http://{server}/{status}")
    assert response.status_code == status
    assert hints.classify_status(response.status_code) == key


@pytest.mark.parametrize("status", [200, 201, 204])
def test_a_success_is_no_error(status):
    assert hints.classify_status(status) is None


def test_an_answer_that_is_not_json_fails_as_callers_catch_it(server):
    # A success whose body cannot be read: callers catch ValueError from
    # .json() and report hints.NOT_JSON.
    response = _get(f"http://{server}/200")
    assert hints.classify_status(response.status_code) is None
    with pytest.raises(ValueError):
        response.json()


def test_a_timeout(silent_port):
    exc = _raised(f"http://127.0.0.1:{silent_port}/orders")
    assert isinstance(exc, requests.Timeout)
    assert hints.classify_exception(exc) == hints.TIMEOUT


def test_tls_with_a_server_that_speaks_plain_http(server):
    exc = _raised(f"https://{server}/200")
    assert isinstance(exc, requests.exceptions.SSLError)
    assert hints.classify_exception(exc) == hints.TLS


def test_a_host_name_that_does_not_exist():
    # .invalid never resolves (RFC 2606).
    exc = _raised("http://no-such-provider.invalid/orders")
    assert isinstance(exc, requests.ConnectionError)
    assert hints.classify_exception(exc) == hints.DNS


def test_dns_failure_found_in_the_causes_of_a_connection_error():
    # As urllib3 wraps it: the gaierror is the cause, the text says nothing.
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as cause:
            raise requests.ConnectionError("connection failed") from cause
    except requests.ConnectionError as exc:
        assert hints.classify_exception(exc) == hints.DNS


def test_a_closed_port_is_unreachable(closed_port):
    exc = _raised(f"http://127.0.0.1:{closed_port}/orders")
    assert isinstance(exc, requests.ConnectionError)
    assert not isinstance(exc, requests.exceptions.SSLError)
    assert hints.classify_exception(exc) == hints.UNREACHABLE


def test_the_transport_errors_of_lib_sending(server, silent_port, closed_port):
    session = requests.Session()
    cases = [
        (f"http://127.0.0.1:{silent_port}/", hints.TIMEOUT),
        (f"https://{server}/200", hints.TLS),
        ("http://no-such-provider.invalid/", hints.DNS),
        (f"http://127.0.0.1:{closed_port}/", hints.UNREACHABLE),
    ]
    for url, key in cases:
        response, error, _duration = sending.send(
            session, {"method": "GET", "url": url, "headers": {}}, TIMEOUTS
        )
        assert response is None
        assert hints.classify_error_text(error) == key, (url, error)


def test_a_test_connection_state_per_kind():
    assert hints.CONNECTION_STATE_OF[hints.UNAUTHORIZED] == "refused"
    assert hints.CONNECTION_STATE_OF[hints.FORBIDDEN] == "refused"
    for key in (hints.TIMEOUT, hints.TLS, hints.DNS, hints.UNREACHABLE):
        assert hints.CONNECTION_STATE_OF[key] == "unreachable"
    assert hints.NOT_FOUND not in hints.CONNECTION_STATE_OF  # a setting to fix


def test_health_score():
    weights = {"blocking": 30, "warning": 10}
    assert hints.health_score(0, 0, weights) == 100
    assert hints.health_score(1, 2, weights) == 50
    assert hints.health_score(4, 0, weights) == 0
