"""Cloudify's session login and OAuth2 tokens: requests, answers, expiry."""

import base64
import importlib.util
import json
import pathlib
from datetime import datetime, timedelta, timezone
from http.client import HTTPMessage

import pytest
from cloudify_lib import auth
from oms_lib import redaction

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=timezone.utc)
PASSWORD = "S3cret-pass"
CLIENT_SECRET = "cl1ent-s3cret"


def _load_const():
    """The addon's const.py, a plain module (its package imports Odoo)."""
    path = ROOT / "oms_integration_cloudify" / "const.py"
    spec = importlib.util.spec_from_file_location("cloudify_const", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


const = _load_const()


def _rpc(result=None, error=None):
    body = {"jsonrpc": "2.0", "id": None}
    if error is not None:
        body["error"] = error
    else:
        body["result"] = result
    return json.dumps(body).encode()


LOGIN_OK = _rpc({"uid": 2, "db": "tenant", "username": "api@example.vn"})
COOKIE = (
    "session_id=abc123def; Expires=Sun, 29 Nov 2026 02:00:00 GMT; Max-Age=604800; "
    "HttpOnly; Path=/"
)


def test_auth_modes_agree_with_const():
    assert [mode for mode, _label in const.AUTH_MODES] == list(auth.MODES)
    assert (const.AUTH_MODE_SESSION, const.AUTH_MODE_OAUTH) == (
        auth.SESSION,
        auth.OAUTH,
    )
    assert const.DEFAULT_AUTH_MODE in auth.MODES


# --- session login -----------------------------------------------------------


def test_session_login_request():
    request = auth.session_login_request(
        "https://tenant.cloudify.vn/", "tenant", "api@example.vn", PASSWORD
    )
    assert request == {
        "method": "POST",
        "url": "https://tenant.cloudify.vn/web/session/authenticate",
        "json": {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "db": "tenant",
                "login": "api@example.vn",
                "password": PASSWORD,
            },
        },
    }
    # The core's redaction masks it wherever the request is logged.
    assert PASSWORD not in json.dumps(redaction.redact_mapping(request))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("tenant.cloudify.vn", "db", "u", "p"), "The Cloudify URL must be a full URL"),
        (("ftp://tenant.cloudify.vn", "db", "u", "p"), "The Cloudify URL must be"),
        (("https://t.cloudify.vn", "", "u", "p"), "The Cloudify database is required"),
        (("https://t.cloudify.vn", "db", " ", "p"), "The Cloudify login is required"),
        (
            ("https://t.cloudify.vn", "db", "u", None),
            "The Cloudify password is required",
        ),
    ],
)
def test_session_login_request_refuses_missing_settings(args, message):
    with pytest.raises(ValueError, match=message):
        auth.session_login_request(*args)


def test_read_session_login_takes_the_cookie_and_a_one_hour_session():
    token = auth.read_session_login(200, {"Set-Cookie": COOKIE}, LOGIN_OK, now=NOW)
    assert token.value == "abc123def"
    # Odoo's cookie lives 7 days; the session is taken to live one hour.
    assert token.expires_at == NOW + timedelta(hours=1)
    assert "abc123def" not in repr(token)
    assert auth.DEFAULT_SESSION_LIFETIME == 3600


def test_a_shorter_max_age_wins_and_the_lifetime_is_configurable():
    headers = {"set-cookie": "session_id=s1; Max-Age=600; Path=/"}
    token = auth.read_session_login(200, headers, LOGIN_OK, now=NOW)
    assert token.expires_at == NOW + timedelta(minutes=10)
    token = auth.read_session_login(
        200, {"Set-Cookie": COOKIE}, LOGIN_OK, now=NOW, lifetime_seconds=120
    )
    assert token.expires_at == NOW + timedelta(minutes=2)


def test_several_cookies_joined_by_requests_and_other_header_shapes():
    joined = (
        "frontend_lang=vi_VN; Expires=Mon, 22 Nov 2027 02:00:00 GMT; Path=/, "
        "session_id=xyz789; Expires=Sun, 29 Nov 2026 02:00:00 GMT; Max-Age=900; "
        "HttpOnly; Path=/"
    )
    token = auth.read_session_login(200, {"Set-Cookie": joined}, LOGIN_OK, now=NOW)
    assert (token.value, token.expires_at) == ("xyz789", NOW + timedelta(minutes=15))
    pairs = [("Set-Cookie", "tz=Asia/Ho_Chi_Minh"), ("Set-Cookie", COOKIE)]
    assert auth.read_session_login(200, pairs, LOGIN_OK, now=NOW).value == "abc123def"
    message = HTTPMessage()
    message["Set-Cookie"] = "tz=UTC; Path=/"
    message["Set-Cookie"] = COOKIE
    assert auth.read_session_login(200, message, LOGIN_OK, now=NOW).value == (
        "abc123def"
    )


def test_an_older_odoo_sending_the_session_in_the_result():
    body = _rpc({"uid": 2, "session_id": "legacy42"})
    token = auth.read_session_login(200, {}, body, now=NOW)
    assert (token.value, token.expires_at) == ("legacy42", NOW + timedelta(hours=1))


def test_a_refused_login_is_readable_and_never_echoes_the_password():
    error = {
        "code": 200,
        "message": "Odoo Server Error",
        "data": {
            "name": "odoo.exceptions.AccessDenied",
            "message": f"Access Denied for password {PASSWORD}",
            "debug": "Traceback (most recent call last): ...",
        },
    }
    with pytest.raises(auth.AuthError) as raised:
        auth.read_session_login(200, {}, _rpc(error=error), secrets=[PASSWORD])
    message = str(raised.value)
    assert message == (
        "Cloudify refused the login: Access Denied for password ***. Check the "
        "database, login and password of the source, then try again."
    )
    assert PASSWORD not in message and "Traceback" not in message
    assert raised.value.retryable is False


@pytest.mark.parametrize(
    ("status", "headers", "body", "message", "retryable"),
    [
        (
            200,
            {"Set-Cookie": COOKIE},
            _rpc({"uid": False}),
            "Cloudify refused the login: wrong database, login or password.",
            False,
        ),
        (
            503,
            {},
            b"<html>Service Unavailable</html>",
            "Cloudify answered the login with HTTP 503. The server is unavailable",
            True,
        ),
        (
            404,
            {},
            b"<html>Not Found</html>",
            "Cloudify answered the login with HTTP 404. Check the Cloudify URL",
            False,
        ),
        (
            200,
            {},
            b"<html>login</html>",
            "Cloudify answered the login with something that is not JSON-RPC",
            False,
        ),
        (
            200,
            {"Set-Cookie": "tz=UTC"},
            LOGIN_OK,
            "Cloudify accepted the login but sent no session_id cookie",
            False,
        ),
        (
            502,
            {},
            _rpc(error={"code": 500, "message": "Bad Gateway"}),
            "Cloudify refused the login (HTTP 502): Bad Gateway.",
            True,
        ),
    ],
)
def test_login_failures(status, headers, body, message, retryable):
    with pytest.raises(auth.AuthError) as raised:
        auth.read_session_login(status, headers, body, now=NOW)
    assert str(raised.value).startswith(message)
    assert raised.value.retryable is retryable


# --- OAuth2 ------------------------------------------------------------------


def test_oauth_token_request_uses_http_basic_and_a_form():
    request = auth.oauth_token_request(
        "https://tenant.cloudify.vn/oauth/token", "odoo-client", CLIENT_SECRET
    )
    assert request["method"] == "POST"
    assert request["url"] == "https://tenant.cloudify.vn/oauth/token"
    assert request["data"] == {"grant_type": "client_credentials"}
    headers = request["headers"]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    scheme, value = headers["Authorization"].split(" ")
    assert scheme == "Basic"
    assert base64.b64decode(value).decode() == f"odoo-client:{CLIENT_SECRET}"
    assert CLIENT_SECRET not in json.dumps(request["data"])
    assert CLIENT_SECRET not in json.dumps(redaction.redact_mapping(request))


def test_oauth_credentials_are_form_encoded_and_scope_is_sent():
    request = auth.oauth_token_request(
        "https://t.cloudify.vn/oauth/token", "id:1", "a b/c", scope="sale.read"
    )
    value = request["headers"]["Authorization"].split(" ")[1]
    assert base64.b64decode(value).decode() == "id%3A1:a+b%2Fc"
    assert request["data"] == {"grant_type": "client_credentials", "scope": "sale.read"}


def test_oauth_token_request_refuses_missing_settings():
    with pytest.raises(ValueError, match="The client secret is required"):
        auth.oauth_token_request("https://t.cloudify.vn/oauth/token", "id", "")
    with pytest.raises(ValueError, match="The token URL must be a full URL"):
        auth.oauth_token_request("/oauth/token", "id", "secret")


def test_read_oauth_token():
    body = {"access_token": "at-1", "token_type": "bearer", "expires_in": 1800}
    token = auth.read_oauth_token(200, json.dumps(body), now=NOW)
    assert (token.value, token.expires_at) == ("at-1", NOW + timedelta(minutes=30))
    assert "at-1" not in repr(token)
    body = {"access_token": "at-2", "expires_in": "600"}
    assert auth.read_oauth_token(200, body, now=NOW).expires_at == NOW + timedelta(
        minutes=10
    )


def test_a_token_without_expires_in_lives_one_hour():
    token = auth.read_oauth_token(200, b'{"access_token": "at-3"}', now=NOW)
    assert token.expires_at == NOW + timedelta(seconds=auth.DEFAULT_TOKEN_LIFETIME)
    assert auth.DEFAULT_TOKEN_LIFETIME == 3600


def test_the_clock_is_used_without_now():
    before = datetime.now(timezone.utc)
    token = auth.read_oauth_token(200, {"access_token": "a", "expires_in": 60})
    assert before + timedelta(seconds=59) <= token.expires_at
    assert token.expires_at.tzinfo is not None


@pytest.mark.parametrize(
    ("status", "body", "message", "retryable"),
    [
        (
            401,
            {
                "error": "invalid_client",
                "error_description": "Client authentication failed",
            },
            "Cloudify refused the token request (HTTP 401): invalid_client (Client "
            "authentication failed). Check the client ID and secret of the source",
            False,
        ),
        (
            400,
            {"error": "invalid_scope"},
            "Cloudify refused the token request (HTTP 400): invalid_scope. Check the "
            "scope",
            False,
        ),
        (
            400,
            {"error": "unsupported_grant_type"},
            "Cloudify refused the token request (HTTP 400): unsupported_grant_type. "
            "The Cloudify client must allow the client credentials grant.",
            False,
        ),
        (
            503,
            {"error": "temporarily_unavailable"},
            "Cloudify refused the token request (HTTP 503): temporarily_unavailable.",
            True,
        ),
        (
            500,
            "<html>Internal Server Error</html>",
            "Cloudify answered the token request with HTTP 500. The server is "
            "unavailable",
            True,
        ),
        (
            200,
            "<html>ok</html>",
            "Cloudify answered the token request with something that is not JSON",
            False,
        ),
        (
            200,
            {"token_type": "Bearer"},
            "Cloudify's token answer has no access_token.",
            False,
        ),
        (
            200,
            {"access_token": "x", "token_type": "mac"},
            "Cloudify gave a token of type 'mac': only Bearer tokens are supported.",
            False,
        ),
        (
            200,
            {"access_token": "x", "expires_in": "soon"},
            "Cloudify's token answer has an expires_in that is not a number",
            False,
        ),
        (
            200,
            {"access_token": "x", "expires_in": 0},
            "Cloudify's token answer says the token already expired.",
            False,
        ),
    ],
)
def test_token_failures(status, body, message, retryable):
    with pytest.raises(auth.AuthError) as raised:
        auth.read_oauth_token(status, body, now=NOW)
    assert str(raised.value).startswith(message)
    assert raised.value.retryable is retryable


def test_a_token_error_echoing_the_secret_is_masked():
    body = {
        "error": "invalid_client",
        "error_description": f"bad secret {CLIENT_SECRET}",
    }
    with pytest.raises(auth.AuthError) as raised:
        auth.read_oauth_token(401, body, secrets=[CLIENT_SECRET])
    assert CLIENT_SECRET not in str(raised.value)
    assert "bad secret ***" in str(raised.value)


# --- expiry --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires_at", "now", "margin", "expected"),
    [
        (NOW + timedelta(minutes=10), NOW, 300, False),
        (NOW + timedelta(minutes=5), NOW, 300, True),  # exactly at the margin
        (NOW + timedelta(minutes=4), NOW, 300, True),
        (NOW - timedelta(seconds=1), NOW, 0, True),
        (NOW + timedelta(seconds=1), NOW, 0, False),
        (None, NOW, 300, True),  # no token yet
        # Naive datetimes are UTC, as Odoo stores them.
        (datetime(2026, 11, 22, 2, 10), NOW, 300, False),
        (NOW + timedelta(minutes=10), datetime(2026, 11, 22, 2, 6), 300, True),
        # Aware datetimes in any zone.
        (
            datetime(2026, 11, 22, 9, 10, tzinfo=timezone(timedelta(hours=7))),
            NOW,
            300,
            False,
        ),
    ],
)
def test_needs_refresh(expires_at, now, margin, expected):
    assert auth.needs_refresh(expires_at, now, margin) is expected


def test_needs_refresh_refuses_bad_arguments():
    with pytest.raises(ValueError):
        auth.needs_refresh(NOW, NOW, -1)
    with pytest.raises(TypeError):
        auth.needs_refresh(NOW, "now", 300)
    with pytest.raises(TypeError):
        auth.needs_refresh(NOW, NOW, "300")
    assert auth.needs_refresh(NOW, NOW, const.DEFAULT_REFRESH_MARGIN) is True


SESSION_EXPIRED = {
    "jsonrpc": "2.0",
    "id": None,
    "error": {
        "code": 100,
        "message": "Odoo Session Expired",
        "data": {
            "name": "odoo.http.SessionExpiredException",
            "message": "Session expired",
        },
    },
}


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (401, {}, b""),
        (401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, b"{}"),
        (200, {}, json.dumps(SESSION_EXPIRED).encode()),
        (200, {}, SESSION_EXPIRED),
        (200, {}, {"error": {"code": 100, "message": "whatever"}}),
        (200, {}, {"error": {"data": {"name": "odoo.http.SessionExpiredException"}}}),
        (200, {}, {"error": {"code": 200, "message": "Odoo Session Expired"}}),
        (400, {}, {"error": "SessionExpiredException"}),
        (400, {}, {"error": "invalid_token"}),
        (500, {}, b"odoo.http.SessionExpiredException: Session expired"),
        (303, {"Location": "/web/login?redirect=%2Frest_api%2F"}, b""),
        (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            b'<form class="oe_login_form" action="/web/login" method="post">',
        ),
    ],
)
def test_expired_answers(status, headers, body):
    assert auth.is_expired_answer(status, headers, body) is True


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (200, {}, {"data": []}),
        (200, {}, b"[]"),
        (403, {}, {"error": "Access denied to sale_document"}),
        (200, {}, {"error": {"code": 200, "message": "Odoo Server Error"}}),
        (302, {"Location": "/odoo/sales"}, b""),
        (500, {}, b"Internal Server Error"),
        (200, {"Content-Type": "application/json"}, b'{"note": "/web/login"}'),
    ],
)
def test_other_answers_are_not_expired(status, headers, body):
    assert auth.is_expired_answer(status, headers, body) is False


# --- headers -------------------------------------------------------------------


def test_auth_headers():
    token = auth.Token("abc123def", NOW)
    assert auth.auth_headers("session", token) == {"Cookie": "session_id=abc123def"}
    assert auth.auth_headers("oauth", "at-1.x~y") == {
        "Authorization": "Bearer at-1.x~y"
    }


@pytest.mark.parametrize(
    ("mode", "value", "message"),
    [
        ("session", "", "There is no Cloudify session or token"),
        ("oauth", None, "There is no Cloudify session or token"),
        ("session", "abc; other=1", "characters a cookie cannot hold"),
        ("oauth", "abc\r\nX-Evil: 1", "characters a header cannot hold"),
        ("basic", "abc", "Unknown Cloudify authentication mode 'basic'"),
    ],
)
def test_auth_headers_refusals_never_show_the_value(mode, value, message):
    with pytest.raises(ValueError) as raised:
        auth.auth_headers(mode, value)
    assert message in str(raised.value)
    if value:
        assert value not in str(raised.value)
