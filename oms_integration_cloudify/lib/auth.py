"""Logging in to Cloudify and keeping a token fresh, as pure functions.

The functions build requests (plain dicts for ``requests.request(**req)``)
and read answers; sending them, caching the token on the source, locking
(one refresh at a time) and alerting belong to the Odoo side. Two modes
(``const.AUTH_MODES``):

- ``session``: Odoo's JSON-RPC login, ``POST /web/session/authenticate``
  with ``{"jsonrpc": "2.0", "method": "call", "params": {"db", "login",
  "password"}}``, answered with a ``session_id`` cookie; later requests send
  ``Cookie: session_id=...``. Odoo's own session cookie lives for days, but
  a server may end a session sooner (restart, password change, idle
  timeout): a session is taken to live :data:`DEFAULT_SESSION_LIFETIME`
  (one hour), or less when the cookie's ``Max-Age`` says so, and is renewed
  ahead of that; an expired answer before then means log in again, once.
- ``oauth``: OAuth2 client credentials (RFC 6749 §4.4), ``POST`` to the
  token URL with ``grant_type=client_credentials`` (and ``scope`` when
  set), form-encoded, the client id and secret in HTTP Basic (RFC 6749
  §2.3.1: every server must accept it, and the secret stays out of bodies
  that might be logged); later requests send ``Authorization: Bearer ...``.
  A token lives ``expires_in`` seconds, :data:`DEFAULT_TOKEN_LIFETIME` when
  the server does not say.

A failed login or token request raises :class:`AuthError`, whose message is
plain language with the next action, and never holds a password, secret or
token (values passed in ``secrets`` are masked even when the server echoes
them). :class:`Token` does not show its value in its ``repr``.
"""

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_plus, urlsplit

from odoo.addons.oms_integration.lib import normalize, redaction

SESSION = "session"
OAUTH = "oauth"
MODES = (SESSION, OAUTH)

LOGIN_PATH = "/web/session/authenticate"
SESSION_COOKIE = "session_id"
DEFAULT_SESSION_LIFETIME = 3600
DEFAULT_TOKEN_LIFETIME = 3600
GRANT_TYPE = "client_credentials"

# Odoo's JSON-RPC answer to a call made with an expired session.
SESSION_EXPIRED_CODE = 100
SESSION_EXPIRED_EXCEPTION = "SessionExpiredException"
LOGIN_PAGE_PATH = "/web/login"
MAX_MESSAGE_LENGTH = 300
# OAuth2 error codes worth trying again later (RFC 6749 §5.2, §4.1.2.1).
RETRYABLE_OAUTH_ERRORS = ("server_error", "temporarily_unavailable")
# The code of a login Cloudify refused (wrong database, login or password);
# a refused token request carries the OAuth2 error code (``invalid_client``).
LOGIN_REFUSED = "login_refused"


@dataclass(frozen=True)
class Token:
    """A session id or an access token, and when it stops being usable
    (an aware UTC datetime). Its ``repr`` hides the value."""

    value: str = field(repr=False)
    expires_at: datetime | None = None


class AuthError(ValueError):
    """A login or token request that failed. ``str(error)`` is a plain
    message without secrets; ``retryable`` is true when trying again later
    may work (the server is down or busy), false when a person must fix the
    credentials or settings first; ``code`` names what Cloudify answered
    (:data:`LOGIN_REFUSED`, an OAuth2 error code such as ``invalid_client``),
    when it says."""

    def __init__(self, message, retryable=False, code=None):
        super().__init__(message)
        self.retryable = retryable
        self.code = code


# --- helpers -----------------------------------------------------------------


def _utc(moment, what):
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime")
    if moment.tzinfo is None:  # Odoo's datetimes are naive UTC
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _now(now):
    return _utc(now, "now") if now is not None else datetime.now(timezone.utc)


def _check_url(url, what):
    parts = urlsplit(url if isinstance(url, str) else "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{what} must be a full URL such as https://tenant.cloudify.vn"
        )
    return url


def _required(value, what):
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is required")
    return value


def _decode(body):
    """The decoded JSON of ``body`` (bytes, text or already decoded), or
    None when it is not JSON."""
    if isinstance(body, bytes | bytearray | memoryview):
        body = bytes(body)
    if isinstance(body, bytes | str):
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
    return body


def _text(body):
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body).decode("utf-8", "replace")
    return body if isinstance(body, str) else ""


def _fail(message, secrets, retryable=False, code=None):
    message = redaction.redact_text(" ".join(message.split()), secrets)
    if len(message) > MAX_MESSAGE_LENGTH:
        message = message[: MAX_MESSAGE_LENGTH - 1] + "…"
    return AuthError(message, retryable=retryable, code=code)


def _retryable_status(status):
    return int(status) >= 500 or int(status) in (408, 429)


def _rpc_error_message(error):
    """The readable message of a JSON-RPC ``error`` (Odoo's ``data.message``
    first, never its debug traceback)."""
    if not isinstance(error, Mapping):
        return normalize.text(error) if isinstance(error, str) else ""
    data = error.get("data")
    if isinstance(data, Mapping):
        message = data.get("message")
        if isinstance(message, str) and message.strip():
            return normalize.text(message)
    message = error.get("message")
    return normalize.text(message) if isinstance(message, str) else ""


# --- session login -----------------------------------------------------------


def session_login_request(base_url, db, login, password):
    """The login request: ``{"method": "POST", "url", "json"}`` to send with
    ``requests.request(**request)``. It holds the password: log it only
    through the core's redaction (``password`` is a secret key there).
    Raises ValueError when an argument is missing."""
    _check_url(base_url, "The Cloudify URL")
    return {
        "method": "POST",
        "url": base_url.rstrip("/") + LOGIN_PATH,
        "json": {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {
                "db": _required(db, "The Cloudify database"),
                "login": _required(login, "The Cloudify login"),
                "password": _required(password, "The Cloudify password"),
            },
        },
    }


_COOKIE_SPLIT = re.compile(r",\s*(?=[^;,=\s]+=)")


def _set_cookie_headers(headers):
    """Every ``Set-Cookie`` value of ``headers``: a mapping (requests'
    headers, where several are joined by commas), an ``email.message`` style
    object (``get_all``) or a list of ``(name, value)`` pairs."""
    if headers is None:
        return []
    if hasattr(headers, "get_all"):
        return list(headers.get_all("Set-Cookie") or [])
    if isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    values = []
    for name, value in pairs:
        if str(name).lower() == "set-cookie":
            values.extend(value if isinstance(value, list | tuple) else [value])
    return values


def _cookies(headers):
    """``{name: (value, {attribute: value})}`` of the Set-Cookie headers."""
    cookies = {}
    for header in _set_cookie_headers(headers):
        for cookie in _COOKIE_SPLIT.split(str(header)):
            first, *attributes = [part.strip() for part in cookie.split(";")]
            name, _sep, value = first.partition("=")
            attrs = {}
            for attribute in attributes:
                key, _sep, attr_value = attribute.partition("=")
                attrs[key.strip().lower()] = attr_value.strip()
            cookies[name.strip()] = (value.strip().strip('"'), attrs)
    return cookies


def _max_age(attrs):
    try:
        return int(attrs.get("max-age", ""))
    except ValueError:
        return None


def read_session_login(
    status,
    headers,
    body,
    now=None,
    lifetime_seconds=DEFAULT_SESSION_LIFETIME,
    secrets=(),
):
    """The session of a login answer, as a :class:`Token`.

    ``status`` is the HTTP status, ``headers`` the answer's headers (to read
    the ``session_id`` cookie), ``body`` its body (bytes, text or decoded
    JSON), ``now`` the current time (default: the clock). The session expires
    ``lifetime_seconds`` after ``now``, or at the cookie's ``Max-Age`` when
    that comes first. Raises :class:`AuthError` on a refused login (a
    JSON-RPC ``error``, no user id) or an unusable answer; ``secrets`` (the
    password) are masked in its message.
    """
    payload = _decode(body)
    where = f" (HTTP {status})" if not 200 <= int(status) < 300 else ""
    if isinstance(payload, Mapping) and payload.get("error"):
        message = _rpc_error_message(payload["error"]) or "no reason given"
        raise _fail(
            f"Cloudify refused the login{where}: {message}. Check the database, "
            "login and password of the source, then try again.",
            secrets,
            retryable=bool(where) and _retryable_status(status),
            code=LOGIN_REFUSED,
        )
    if where:
        raise _fail(
            f"Cloudify answered the login with HTTP {status}. "
            + (
                "The server is unavailable: it will be tried again."
                if _retryable_status(status)
                else "Check the Cloudify URL of the source."
            ),
            secrets,
            retryable=_retryable_status(status),
        )
    if not isinstance(payload, Mapping):
        raise _fail(
            "Cloudify answered the login with something that is not JSON-RPC: "
            "check the Cloudify URL of the source.",
            secrets,
        )
    result = payload.get("result")
    if not isinstance(result, Mapping) or not result.get("uid"):
        raise _fail(
            "Cloudify refused the login: wrong database, login or password. "
            "Check them on the source, then try again.",
            secrets,
            code=LOGIN_REFUSED,
        )
    value, attrs = _cookies(headers).get(SESSION_COOKIE, ("", {}))
    if not value and isinstance(result.get(SESSION_COOKIE), str):
        value, attrs = result[SESSION_COOKIE], {}  # older Odoo put it here
    if not value:
        raise _fail(
            "Cloudify accepted the login but sent no session_id cookie: the "
            "session login cannot be used with this server; use OAuth2.",
            secrets,
        )
    lifetime = lifetime_seconds
    max_age = _max_age(attrs)
    if max_age is not None and 0 < max_age < lifetime:
        lifetime = max_age
    return Token(value, _now(now) + timedelta(seconds=lifetime))


# --- OAuth2 client credentials -----------------------------------------------


def oauth_token_request(token_url, client_id, client_secret, scope=None):
    """The client-credentials token request: ``{"method": "POST", "url",
    "headers", "data"}`` to send with ``requests.request(**request)``
    (``data`` is form-encoded by requests). The client id and secret go in
    HTTP Basic, each form-encoded first as RFC 6749 §2.3.1 asks; the
    ``Authorization`` header holds the secret: log it only redacted."""
    _check_url(token_url, "The token URL")
    credentials = "{}:{}".format(
        quote_plus(_required(client_id, "The client ID"), safe=""),
        quote_plus(_required(client_secret, "The client secret"), safe=""),
    )
    data = {"grant_type": GRANT_TYPE}
    if scope:
        data["scope"] = scope
    return {
        "method": "POST",
        "url": token_url,
        "headers": {
            "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        "data": data,
    }


def _expires_in(payload, secrets):
    raw = payload.get("expires_in")
    if raw in (None, ""):
        return DEFAULT_TOKEN_LIFETIME
    try:
        seconds = int(normalize.parse_amount(raw))
    except (ValueError, ArithmeticError) as exc:
        raise _fail(
            "Cloudify's token answer has an expires_in that is not a number of "
            "seconds.",
            secrets,
        ) from exc
    if seconds <= 0:
        raise _fail("Cloudify's token answer says the token already expired.", secrets)
    return seconds


def _oauth_error(status, payload, secrets):
    error = normalize.text(payload.get("error"))
    description = payload.get("error_description")
    detail = f" ({normalize.text(description)})" if isinstance(description, str) else ""
    if error in ("invalid_client", "unauthorized_client"):
        action = "Check the client ID and secret of the source, then try again."
    elif error == "invalid_scope":
        action = "Check the scope of the source, then try again."
    elif error == "unsupported_grant_type":
        action = "The Cloudify client must allow the client credentials grant."
    else:
        action = "Check the OAuth2 settings of the source, then try again."
    retryable = error in RETRYABLE_OAUTH_ERRORS or _retryable_status(status)
    return _fail(
        f"Cloudify refused the token request (HTTP {status}): {error}{detail}. "
        f"{action}",
        secrets,
        retryable=retryable,
        code=error or None,
    )


def read_oauth_token(status, body, now=None, secrets=()):
    """The access token of a token answer, as a :class:`Token` expiring
    ``expires_in`` seconds after ``now`` (default: the clock).

    Raises :class:`AuthError` on an OAuth2 error answer (``error`` and
    ``error_description`` made readable), on another HTTP error, or when the
    answer has no bearer ``access_token``; ``secrets`` (the client secret)
    are masked in its message.
    """
    payload = _decode(body)
    if isinstance(payload, Mapping) and isinstance(payload.get("error"), str):
        raise _oauth_error(status, payload, secrets)
    if not 200 <= int(status) < 300:
        raise _fail(
            f"Cloudify answered the token request with HTTP {status}. "
            + (
                "The server is unavailable: it will be tried again."
                if _retryable_status(status)
                else "Check the token URL of the source."
            ),
            secrets,
            retryable=_retryable_status(status),
        )
    if not isinstance(payload, Mapping):
        raise _fail(
            "Cloudify answered the token request with something that is not "
            "JSON: check the token URL of the source.",
            secrets,
        )
    value = payload.get("access_token")
    if not isinstance(value, str) or not value.strip():
        raise _fail("Cloudify's token answer has no access_token.", secrets)
    token_type = payload.get("token_type")
    if token_type not in (None, "") and str(token_type).lower() != "bearer":
        raise _fail(
            f"Cloudify gave a token of type {normalize.text(token_type)!r}: only "
            "Bearer tokens are supported.",
            secrets,
        )
    lifetime = _expires_in(payload, secrets)
    return Token(value.strip(), _now(now) + timedelta(seconds=lifetime))


# --- using a token -----------------------------------------------------------


def needs_refresh(token_expires_at, now, margin_seconds):
    """Whether a token expiring at ``token_expires_at`` must be renewed at
    ``now``: it expires within ``margin_seconds``, or no expiry is known (no
    token yet). Naive datetimes are UTC, as Odoo stores them."""
    if isinstance(margin_seconds, bool) or not isinstance(margin_seconds, int | float):
        raise TypeError("margin_seconds must be a number of seconds")
    if margin_seconds < 0:
        raise ValueError("margin_seconds must be 0 or more")
    now = _utc(now, "now")
    if token_expires_at is None:
        return True
    expires_at = _utc(token_expires_at, "token_expires_at")
    return now >= expires_at - timedelta(seconds=margin_seconds)


def _header(headers, name):
    if not headers:
        return ""
    if hasattr(headers, "get_all"):
        return str(headers.get(name) or "")
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return str(value or "")
    return ""


def _is_expired_error(error):
    if isinstance(error, str):
        lowered = error.lower()
        return (
            SESSION_EXPIRED_EXCEPTION.lower() in lowered
            or "session expired" in lowered
            or lowered == "invalid_token"
        )
    if not isinstance(error, Mapping):
        return False
    if error.get("code") == SESSION_EXPIRED_CODE:
        return True
    data = error.get("data")
    name = data.get("name") if isinstance(data, Mapping) else ""
    if isinstance(name, str) and name.endswith(SESSION_EXPIRED_EXCEPTION):
        return True
    return _is_expired_error(normalize.text(error.get("message") or ""))


def is_expired_answer(status, headers, body):
    """Whether an answer of Cloudify's API means "your session or token has
    expired" (log in or get a token again, once, then repeat the request):

    - HTTP 401;
    - Odoo's JSON-RPC error, HTTP 200 ``{"error": {"code": 100, "message":
      "Odoo Session Expired", "data": {"name":
      "odoo.http.SessionExpiredException"}}}`` (any of the three marks);
    - a REST error naming ``SessionExpiredException`` or ``invalid_token``;
    - Odoo's redirect to its login page (3xx to ``/web/login``), or that page
      itself (HTML with a ``/web/login`` form) when the redirect was followed.
    """
    status = int(status)
    if status == 401:
        return True
    if 300 <= status < 400:
        return LOGIN_PAGE_PATH in _header(headers, "Location")
    payload = _decode(body)
    if isinstance(payload, Mapping):
        return "error" in payload and _is_expired_error(payload["error"])
    text = _text(body)
    if SESSION_EXPIRED_EXCEPTION in text:
        return True
    return "html" in _header(headers, "Content-Type").lower() and (
        f'action="{LOGIN_PAGE_PATH}' in text
    )


_SESSION_VALUE = re.compile(r"^[A-Za-z0-9_\-.~+/=]+$")
_TOKEN_VALUE = re.compile(r"^[\x21-\x7e]+$")


def auth_headers(mode, token):
    """The headers authenticating a request to Cloudify: ``{"Cookie":
    "session_id=..."}`` in ``session`` mode, ``{"Authorization": "Bearer
    ..."}`` in ``oauth`` mode. ``token`` is a :class:`Token` or its value.
    Raises ValueError on an unknown mode or a value that cannot be sent in
    a header (the value is never in the message)."""
    value = token.value if isinstance(token, Token) else token
    if not isinstance(value, str) or not value:
        raise ValueError("There is no Cloudify session or token: log in first.")
    if mode == SESSION:
        if not _SESSION_VALUE.match(value):
            raise ValueError(
                "The Cloudify session id has characters a cookie cannot hold."
            )
        return {"Cookie": f"{SESSION_COOKIE}={value}"}
    if mode == OAUTH:
        if not _TOKEN_VALUE.match(value):
            raise ValueError("The Cloudify token has characters a header cannot hold.")
        return {"Authorization": f"Bearer {value}"}
    raise ValueError(
        f"Unknown Cloudify authentication mode {mode!r}: use {SESSION} or {OAUTH}."
    )
