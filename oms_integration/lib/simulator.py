"""A small provider simulator: plays a ``compatible`` order source.

It serves polling pages, records the status callbacks it receives, and
signs and pushes orders to a running Odoo. Tests start it on a free loopback
port; ``setup/demo_provider.py`` runs it for the live demo.

Polling API (the compatible provider's, documented in docs/how-to-add-a-provider.md):
``GET /orders?updated_since=<ISO 8601>&page=<n>&page_size=<m>`` with
``Authorization: Bearer <token>`` answers
``{"orders": [<canonical order>...], "next_page": <n + 1> | null}``, orders
sorted by ``updated_at`` then ``id``. Any ``POST`` is recorded as a
callback.

Provider addons subclass it to play their provider: they override
:meth:`ProviderSimulator.handle_get` and :meth:`ProviderSimulator.handle_post`
(scripted answers and the recording of requests and callbacks stay here).
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import normalize, signatures


class ProviderSimulator:
    def __init__(self, token="sim-token", host="127.0.0.1", port=0):
        self.token = token
        self.orders = {}  # external id -> canonical order (latest version)
        self.callbacks = []  # every POST received: dict(path, headers, body)
        self.requests = []  # every request: (method, path with query)
        # Scripted answers, consumed first: (status, body dict, headers dict).
        self.scripted = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = None

    # --- lifecycle ---------------------------------------------------------

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- data ----------------------------------------------------------------

    def put_order(self, order):
        """Add or replace the latest version of one canonical order."""
        with self.lock:
            self.orders[order["id"]] = order

    def script(self, status, body=None, headers=None, times=1):
        """Answer the next ``times`` requests with ``status`` and ``body`` (a
        JSON value, or bytes sent as they are)."""
        with self.lock:
            self.scripted.extend([(status, body or {}, headers or {})] * times)

    def page(self, updated_since=None, page=1, page_size=50):
        since = normalize.parse_datetime(updated_since) if updated_since else None
        with self.lock:
            orders = sorted(
                self.orders.values(),
                key=lambda o: (normalize.parse_datetime(o["updated_at"]), o["id"]),
            )
        if since:
            orders = [
                o for o in orders if normalize.parse_datetime(o["updated_at"]) >= since
            ]
        start = (page - 1) * page_size
        chunk = orders[start : start + page_size]
        more = start + page_size < len(orders)
        return {"orders": chunk, "next_page": page + 1 if more else None}

    # --- answering (what a subclass overrides) -------------------------------

    def handle_get(self, path, query, headers):
        """Answer a GET that no scripted answer took: ``(status, body dict,
        headers dict)``. ``query`` maps each parameter to its last value;
        ``headers`` is case-insensitive. Serves the compatible polling API."""
        if path.rstrip("/") != "/orders":
            return 404, {"error": "not found"}, {}
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "invalid token"}, {}
        try:
            page = self.page(
                query.get("updated_since"),
                int(query.get("page", 1)),
                int(query.get("page_size", 50)),
            )
        except ValueError as exc:
            return 400, {"error": str(exc)}, {}
        return 200, page, {}

    def handle_post(self, path, headers, body):
        """Answer a POST that no scripted answer took (it is recorded in
        ``callbacks`` either way): ``(status, body dict, headers dict)``."""
        return 200, {"ok": True}, {}

    # --- pushing to Odoo -----------------------------------------------------

    @staticmethod
    def standard_webhooks_headers(secret, body, msg_id=None):
        """The Standard Webhooks headers signing ``body`` (bytes) now."""
        msg_id = msg_id or f"msg_{time.time_ns()}"
        sent_at = int(time.time())
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(sent_at),
            "webhook-signature": signatures.standard_webhooks_sign(
                secret, msg_id, sent_at, body
            ),
        }

    @staticmethod
    def push(webhook_url, secret, payload, msg_id=None, timeout=10):
        """Sign ``payload`` with Standard Webhooks and POST it to Odoo."""
        import requests

        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            **ProviderSimulator.standard_webhooks_headers(secret, body, msg_id),
        }
        return requests.post(webhook_url, data=body, headers=headers, timeout=timeout)

    # --- HTTP ----------------------------------------------------------------

    def _handler_class(self):
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def _answer(self, status, body, headers=None):
                # Bytes go as they are (a provider's malformed answers).
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def _scripted(self):
                with simulator.lock:
                    simulator.requests.append((self.command, self.path))
                    return simulator.scripted.pop(0) if simulator.scripted else None

            def do_GET(self):
                scripted = self._scripted()
                if scripted:
                    return self._answer(*scripted)
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                return self._answer(
                    *simulator.handle_get(parts.path, query, self.headers)
                )

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                answer = self._scripted() or simulator.handle_post(
                    urlsplit(self.path).path, self.headers, raw
                )
                with simulator.lock:
                    simulator.callbacks.append(
                        {
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": raw,
                            "status": answer[0],
                        }
                    )
                return self._answer(*answer)

        return Handler
