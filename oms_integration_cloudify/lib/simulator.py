"""A local Cloudify, for tests and demos: the core's provider simulator
playing Cloudify's side of our proposed API.

- Session login: ``POST /web/session/authenticate`` (JSON-RPC) with the
  simulator's ``db``, ``login`` and ``password`` answers
  ``{"result": {"uid": 2, ...}}`` and a ``session_id`` cookie (``Max-Age``
  of Odoo's 7 days); wrong credentials answer Odoo's ``AccessDenied``
  JSON-RPC error (HTTP 200). :meth:`CloudifySimulator.fail_logins` makes the
  next logins fail (credentials refused, or an HTTP error).
- OAuth2: ``POST /oauth/token`` with ``grant_type=client_credentials`` and
  the client in HTTP Basic (or in the form) answers ``{"access_token",
  "token_type": "Bearer", "expires_in"}``, else an RFC 6749 error.
- Sessions and tokens live ``token_lifetime`` seconds, or until
  :meth:`CloudifySimulator.expire_all_tokens`, or for ``expire_after_requests``
  authenticated requests each (to expire one in the middle of a poll). An
  expired or unknown session is answered as Odoo answers a JSON-RPC call
  with an expired session: HTTP 200 ``{"error": {"code": 100, "message":
  "Odoo Session Expired", "data": {"name":
  "odoo.http.SessionExpiredException"}}}``; an expired or unknown bearer
  token with HTTP 401 and ``WWW-Authenticate: Bearer error="invalid_token"``.
  :attr:`login_count` and :attr:`token_grant_count` count what was granted
  (to test that a refresh happens once, not in a storm).
- Polling: ``GET /rest_api/private/sale_document/search?updated_since=
  &limit=&offset=`` answers the orders put with
  :meth:`CloudifySimulator.put_document` changed at or after
  ``updated_since``, sorted by ``updated_at`` then ``external_id``, in the
  shape chosen by ``page_shape`` (``data``, ``result``, ``records``,
  ``array`` or ``odoo``: ``{"result": {"records", "length"}}``).
- Status callback: ``POST /rest_api/private/sale_document/status`` is
  recorded (:attr:`statuses`, decoded) and answered ``{"success": true}``.
- Pushing signed webhooks: the core's :meth:`ProviderSimulator.push`, with
  :func:`webhook_event` to build the event.
"""

import base64
import binascii
import json
import secrets
import time
from datetime import datetime
from email.utils import formatdate
from urllib.parse import parse_qs, unquote_plus

from odoo.addons.oms_integration.lib import normalize
from odoo.addons.oms_integration.lib.simulator import ProviderSimulator

from . import auth, callbacks, parser

TOKEN_PATH = "/oauth/token"
# Odoo's session cookie lifetime (odoo.http.SESSION_LIFETIME, 7 days).
SESSION_COOKIE_MAX_AGE = 7 * 24 * 3600
PAGE_SHAPES = ("data", "result", "records", "array", "odoo")

SESSION_EXPIRED_ERROR = {
    "code": auth.SESSION_EXPIRED_CODE,
    "message": "Odoo Session Expired",
    "data": {
        "name": "odoo.http.SessionExpiredException",
        "debug": "Traceback (most recent call last): ...",
        "message": "Session expired",
        "arguments": ["Session expired"],
        "context": {},
    },
}
ACCESS_DENIED_ERROR = {
    "code": 200,
    "message": "Odoo Server Error",
    "data": {
        "name": "odoo.exceptions.AccessDenied",
        "debug": "Traceback (most recent call last): ...",
        "message": "Access Denied",
        "arguments": ["Access Denied"],
        "context": {},
    },
}


def _rpc(result=None, error=None):
    answer = {"jsonrpc": "2.0", "id": None}
    if error is not None:
        answer["error"] = error
    else:
        answer["result"] = result
    return answer


def webhook_event(order, event_type="order.created", event_id=None, created_at=None):
    """A webhook event of our proposal: ``{"type", "id", "created_at",
    "order"}`` (``created_at`` defaults to now, in Vietnam time)."""
    if created_at is None:
        created_at = datetime.now(parser.VIETNAM_TZ).replace(microsecond=0).isoformat()
    return {
        "type": event_type,
        "id": event_id or f"evt_{time.time_ns()}",
        "created_at": created_at,
        "order": order,
    }


class CloudifySimulator(ProviderSimulator):
    def __init__(
        self,
        db="cloudify",
        login="api@example.vn",
        password="sim-password",
        client_id="sim-client",
        client_secret="sim-secret",
        token_lifetime=3600,
        expire_after_requests=None,
        page_shape="data",
        host="127.0.0.1",
        port=0,
    ):
        if page_shape not in PAGE_SHAPES:
            raise ValueError(f"page_shape must be one of {', '.join(PAGE_SHAPES)}")
        super().__init__(host=host, port=port)
        self.db = db
        self.login = login
        self.password = password
        self.client_id = client_id
        self.client_secret = client_secret
        # What reset() restores; tests may change them on a running simulator.
        self._settings = {
            "token_lifetime": token_lifetime,
            "expire_after_requests": expire_after_requests,
            "page_shape": page_shape,
        }
        self.token_lifetime = token_lifetime
        self.expire_after_requests = expire_after_requests
        self.page_shape = page_shape
        # value -> {"kind": session|oauth, "expires_at": epoch, "uses": n}
        self.tokens = {}
        self.documents = {}  # external_id -> (updated_at, aware UTC; order)
        self.login_count = 0  # sessions granted
        self.login_attempts = 0
        self.token_grant_count = 0  # access tokens granted
        self.token_requests = 0
        self.failed_logins = []  # scripted login failures: (status, error)

    # --- data ----------------------------------------------------------------

    def reset(self):
        """Forget everything received and granted (one server, many tests)."""
        with self.lock:
            for recorded in (self.callbacks, self.requests, self.scripted):
                recorded.clear()
            self.tokens.clear()
            self.documents.clear()
            self.failed_logins.clear()
            self.login_count = self.login_attempts = 0
            self.token_grant_count = self.token_requests = 0
            for name, value in self._settings.items():
                setattr(self, name, value)
        return self

    def put_document(self, order, updated_at=None):
        """Add or replace an order of the search API. ``updated_at`` (a
        datetime or text) defaults to the order's ``updated_at`` or
        ``write_date`` (naive: UTC, as Odoo's)."""
        when = updated_at or order.get("updated_at") or order.get("write_date")
        if isinstance(when, str):
            when = parser.parse_moment(when, naive_is_utc=True)
        when = normalize.parse_datetime(when)
        with self.lock:
            self.documents[order["external_id"]] = (when, order)

    def expire_all_tokens(self):
        """Every session and token given so far expires now."""
        with self.lock:
            for token in self.tokens.values():
                token["expires_at"] = 0

    def fail_logins(self, times=1, status=200, message="Access Denied"):
        """The next ``times`` logins fail: with Odoo's AccessDenied error
        (``status`` 200, as Odoo answers), or with HTTP ``status``."""
        error = json.loads(json.dumps(ACCESS_DENIED_ERROR))
        error["data"]["message"] = message
        with self.lock:
            self.failed_logins.extend([(status, error)] * times)

    def _posted(self, path):
        with self.lock:
            recorded = [c for c in self.callbacks if c["path"].split("?")[0] == path]
        return [json.loads(c["body"]) for c in recorded]

    @property
    def statuses(self):
        """The bodies of every status callback received, decoded."""
        return self._posted(callbacks.DEFAULT_STATUS_PATH)

    def search_page(self, updated_since=None, limit=80, offset=0):
        """The orders of one search, as a list (before its answer shape)."""
        with self.lock:
            documents = sorted(
                self.documents.values(), key=lambda d: (d[0], d[1]["external_id"])
            )
        if updated_since is not None:
            documents = [d for d in documents if d[0] >= updated_since]
        chosen = [order for _when, order in documents[offset : offset + limit]]
        return chosen, len(documents)

    # --- tokens --------------------------------------------------------------

    def _grant(self, kind):
        value = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[value] = {
                "kind": kind,
                "expires_at": time.time() + self.token_lifetime,
                "uses": 0,
            }
            if kind == auth.SESSION:
                self.login_count += 1
            else:
                self.token_grant_count += 1
        return value

    def _token_of(self, headers, query):
        """``(kind, value)`` of the credentials a request carries."""
        scheme, _sep, value = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return auth.OAUTH, value.strip()
        for cookie in (headers.get("Cookie") or "").split(";"):
            name, _sep, value = cookie.strip().partition("=")
            if name == auth.SESSION_COOKIE and value:
                return auth.SESSION, value
        if query.get(auth.SESSION_COOKIE):  # as the public client sends it
            return auth.SESSION, query[auth.SESSION_COOKIE]
        return None, None

    def _authenticate(self, headers, query):
        """None when the request may go on, else the answer refusing it."""
        kind, value = self._token_of(headers, query)
        with self.lock:
            token = self.tokens.get(value) if value else None
            valid = (
                token is not None
                and token["kind"] == kind
                and token["expires_at"] > time.time()
                and (
                    self.expire_after_requests is None
                    or token["uses"] < self.expire_after_requests
                )
            )
            if valid:
                token["uses"] += 1
                return None
        if kind == auth.OAUTH:
            return (
                401,
                {"error": "invalid_token", "error_description": "The token expired"},
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return 200, _rpc(error=SESSION_EXPIRED_ERROR), {}

    # --- answering -----------------------------------------------------------

    def handle_get(self, path, query, headers):
        if path.rstrip("/") != parser.SEARCH_PATH:
            return 404, {"error": "Not found"}, {}
        refused = self._authenticate(headers, query)
        if refused:
            return refused
        try:
            since = query.get("updated_since")
            since = normalize.parse_datetime(since) if since else None
            limit = int(query.get("limit", 80))
            offset = int(query.get("offset", 0))
        except ValueError:
            return 400, {"error": "updated_since, limit or offset is not valid"}, {}
        if limit < 1 or offset < 0:
            return 400, {"error": "limit must be 1 or more, offset 0 or more"}, {}
        if query.get("db") not in (None, self.db):
            return 400, {"error": f"database {query['db']} does not exist"}, {}
        orders, total = self.search_page(since, limit, offset)
        shapes = {
            "array": orders,
            "data": {"data": orders, "total": total},
            "records": {"records": orders, "count": total},
            "result": _rpc(orders),
            "odoo": _rpc({"length": total, "records": orders}),
        }
        return 200, shapes[self.page_shape], {}

    def handle_post(self, path, headers, body):
        if path == auth.LOGIN_PATH:
            return self._login(body)
        if path == TOKEN_PATH:
            return self._token(headers, body)
        if path != callbacks.DEFAULT_STATUS_PATH:
            return 404, {"error": "Not found"}, {}
        refused = self._authenticate(headers, {})
        if refused:
            return refused
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict) or not data.get("external_id"):
            return 400, {"error": "The body must be a JSON object with external_id"}, {}
        if data.get("state") not in callbacks.STATES:
            return 400, {"error": f"Unknown state {data.get('state')!r}"}, {}
        return 200, {"success": True, "external_id": data["external_id"]}, {}

    def _login(self, body):
        with self.lock:
            self.login_attempts += 1
            failure = self.failed_logins.pop(0) if self.failed_logins else None
        if failure:
            status, error = failure
            if status != 200:
                return status, {"error": "Service Unavailable"}, {}
            return 200, _rpc(error=error), {}
        try:
            params = json.loads(body).get("params") or {}
        except (ValueError, UnicodeDecodeError, AttributeError):
            params = {}
        if not isinstance(params, dict) or (
            params.get("db"),
            params.get("login"),
            params.get("password"),
        ) != (self.db, self.login, self.password):
            return 200, _rpc(error=ACCESS_DENIED_ERROR), {}
        value = self._grant(auth.SESSION)
        expires = formatdate(time.time() + SESSION_COOKIE_MAX_AGE, usegmt=True)
        cookie = (
            f"{auth.SESSION_COOKIE}={value}; Expires={expires}; "
            f"Max-Age={SESSION_COOKIE_MAX_AGE}; HttpOnly; Path=/"
        )
        result = {
            "uid": 2,
            "db": self.db,
            "username": self.login,
            "server_version": "18.0",
            "user_context": {"lang": "vi_VN", "tz": "Asia/Ho_Chi_Minh"},
        }
        return 200, _rpc(result), {"Set-Cookie": cookie}

    def _client_of(self, headers, form):
        scheme, _sep, value = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            client_id, _sep, client_secret = decoded.partition(":")
            return unquote_plus(client_id), unquote_plus(client_secret)
        return form.get("client_id"), form.get("client_secret")

    def _token(self, headers, body):
        with self.lock:
            self.token_requests += 1
        form = {
            key: values[-1]
            for key, values in parse_qs(body.decode("utf-8", "replace")).items()
        }
        client_id, client_secret = self._client_of(headers, form)
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return (
                401,
                {
                    "error": "invalid_client",
                    "error_description": "Client authentication failed",
                },
                {"WWW-Authenticate": 'Basic realm="cloudify"'},
            )
        if form.get("grant_type") != auth.GRANT_TYPE:
            return 400, {"error": "unsupported_grant_type"}, {}
        value = self._grant(auth.OAUTH)
        answer = {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        }
        if form.get("scope"):
            answer["scope"] = form["scope"]
        return 200, answer, {"Cache-Control": "no-store"}
