"""What went wrong in a request to a provider, as a key of the hints
catalogue (``oms.integration.hints`` words each key for an operator), and
the health score of a source's readiness findings. No database in here.

The classification is pure (an HTTP status, a ``requests`` exception or the
transport error text of ``lib.sending``), so it is tested without Odoo; the
words are Odoo's (translated, extended by provider addons).
"""

import socket
from dataclasses import dataclass

import requests

# HTTP answers.
UNAUTHORIZED = "http_unauthorized"  # 401
FORBIDDEN = "http_forbidden"  # 403
NOT_FOUND = "http_not_found"  # 404
RATE_LIMITED = "http_rate_limited"  # 429
SERVER_ERROR = "http_server_error"  # 5xx
REDIRECT = "http_redirect"  # 3xx, never followed
CLIENT_ERROR = "http_client_error"  # any other 4xx
NOT_JSON = "not_json"
# No answer.
TIMEOUT = "timeout"
TLS = "tls"
DNS = "dns"
UNREACHABLE = "unreachable"
# Ours.
RATE_LIMIT_REACHED = "rate_limit_reached"
STATUS_RETRY = "status_retry"
STATUS_REFUSED = "status_refused"
UNEXPECTED = "unexpected"

# What a Test Connection found, by key (const.CONNECTION_STATES).
CONNECTION_STATE_OF = {
    UNAUTHORIZED: "refused",
    FORBIDDEN: "refused",
    TIMEOUT: "unreachable",
    TLS: "unreachable",
    DNS: "unreachable",
    UNREACHABLE: "unreachable",
    RATE_LIMITED: "unreachable",
    SERVER_ERROR: "unreachable",
}

_DNS_MARKERS = (
    "NameResolutionError",
    "Failed to resolve",
    "Name or service not known",
    "nodename nor servname",
    "Temporary failure in name resolution",
    "getaddrinfo failed",
)
_TLS_MARKERS = ("SSLError", "CERTIFICATE_VERIFY_FAILED", "certificate verify failed")


@dataclass(frozen=True)
class ConnectionResult:
    """One check of a Test Connection: ``scope`` (polling, outbound),
    ``state`` (ok, refused, unreachable, failed), what was found and what to
    do next, in plain words."""

    scope: str
    state: str
    message: str
    hint: str = ""

    @property
    def ok(self):
        return self.state == "ok"


def classify_status(status_code):
    """The key of an HTTP answer that is not a success, or None for 2xx."""
    if 200 <= status_code < 300:
        return None
    if 300 <= status_code < 400:
        return REDIRECT
    return {401: UNAUTHORIZED, 403: FORBIDDEN, 404: NOT_FOUND, 429: RATE_LIMITED}.get(
        status_code, SERVER_ERROR if status_code >= 500 else CLIENT_ERROR
    )


def classify_exception(exc):
    """The key of a transport failure raised by ``requests``."""
    if isinstance(exc, requests.Timeout):
        return TIMEOUT
    if isinstance(exc, requests.exceptions.SSLError):
        return TLS
    if isinstance(exc, requests.ConnectionError) and _is_name_resolution(exc):
        return DNS
    return classify_error_text(f"{exc.__class__.__name__}: {exc}")


def classify_error_text(error):
    """The key of a transport error as ``lib.sending.send`` reports it."""
    text = error or ""
    if text.startswith("Timeout") or "timed out" in text:
        return TIMEOUT
    if any(marker in text for marker in _TLS_MARKERS):
        return TLS
    if any(marker in text for marker in _DNS_MARKERS):
        return DNS
    return UNREACHABLE


def _is_name_resolution(exc):
    """Whether a ``ConnectionError`` comes from a host name not found: its
    cause (urllib3 wraps it as ``NameResolutionError`` in a
    ``MaxRetryError``'s reason) is a ``socket.gaierror``."""
    seen, pending = set(), [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return True
        if current.__class__.__name__ == "NameResolutionError":
            return True
        pending.extend(
            [current.__cause__, current.__context__, getattr(current, "reason", None)]
        )
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return any(marker in str(exc) for marker in _DNS_MARKERS)


def health_score(blocking, warnings, weights):
    """100 without a finding, minus ``weights[severity]`` per finding, never
    below 0."""
    score = 100 - blocking * weights["blocking"] - warnings * weights["warning"]
    return max(0, score)
