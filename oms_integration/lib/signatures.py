"""Webhook signature schemes, as small pure functions.

Every ``verify`` function compares in constant time, fails closed (no secret,
no header: refused) and explains a refusal in plain words without ever
including a secret or an expected signature.
"""

import base64
import binascii
import functools
import hmac
import secrets as _secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

STANDARD_WEBHOOKS_PREFIX = "whsec_"
# A Unix time in seconds has 10 digits until 2286; 12 is the bound read (a
# longer value is refused before int(), which would take time on thousands
# of digits, and whose result would overflow a float in ``now - sent_at``).
MAX_TIMESTAMP_DIGITS = 12
# 9999-12-31T23:59:59Z: every accepted timestamp converts to a datetime.
MAX_TIMESTAMP = 253_402_300_799


@dataclass(frozen=True)
class VerificationResult:
    ok: bool
    reason: str = ""


ACCEPTED = VerificationResult(True)


def _refused(reason):
    return VerificationResult(False, reason)


def header(headers, name):
    """Case-insensitive header lookup on any mapping. A dict whose keys are
    lower case (the webhook route's) is read directly, without a scan."""
    if not headers or not name:
        return None
    wanted = name.lower()
    if type(headers) is dict:
        value = headers.get(wanted)
        if value is not None:
            return value
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def request_headers(environ):
    """The headers of a WSGI request as a dict, names in lower case: what
    werkzeug's ``request.headers`` holds, read straight from ``environ``
    (that object title-cases every name again on each pass)."""
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
        and key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _as_bytes(data):
    return data.encode() if isinstance(data, str) else bytes(data or b"")


def _hmac_sha256(key, message):
    return hmac.digest(_as_bytes(key), _as_bytes(message), "sha256")


def _any_equal(candidates, expected_values):
    """Constant-time comparison of every candidate with every expected value."""
    matched = False
    for candidate in candidates:
        for expected in expected_values:
            # No early exit: the time taken does not tell which one matched.
            matched |= hmac.compare_digest(_as_bytes(candidate), _as_bytes(expected))
    return matched


# --- Standard Webhooks (https://www.standardwebhooks.com) ---------------------


def new_standard_webhooks_secret():
    """A new secret in the ``whsec_<base64>`` form (192 random bits)."""
    raw = _secrets.token_bytes(24)
    return STANDARD_WEBHOOKS_PREFIX + base64.b64encode(raw).decode()


@functools.lru_cache(maxsize=64)
def _standard_webhooks_key(secret):
    """The HMAC key of a ``whsec_<base64>`` (or bare base64) secret, or None.

    Unpadded base64 is accepted, as the reference implementation does. An
    empty key is refused: anyone could sign with it. Remembered for the
    process, like the secrets themselves (``secretbox.unseal_cached``): a
    secret is decoded once, not on every delivery.
    """
    if not isinstance(secret, str):
        return None
    value = secret.strip()
    if value.startswith(STANDARD_WEBHOOKS_PREFIX):
        value = value[len(STANDARD_WEBHOOKS_PREFIX) :]
    value += "=" * (-len(value) % 4)
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def standard_webhooks_sign(secret, msg_id, timestamp, body):
    """The ``webhook-signature`` value (``v1,<base64>``) of one message."""
    key = _standard_webhooks_key(secret)
    if key is None:
        raise ValueError(
            "The signing secret is empty or not valid base64 (whsec_<base64>)."
        )
    content = b"%s.%s.%s" % (
        _as_bytes(msg_id),
        str(int(timestamp)).encode(),
        _as_bytes(body),
    )
    return "v1," + base64.b64encode(_hmac_sha256(key, content)).decode()


def parse_timestamp(value):
    """A Unix time in seconds (``webhook-timestamp``) as an int, or None.

    Only plain ASCII digits (``int()`` would also take ``"+1"``, ``" 1"``,
    ``"1_0"`` or ``"١"``), at most :data:`MAX_TIMESTAMP_DIGITS` of them, from
    0 to :data:`MAX_TIMESTAMP`; an int in that range is also taken (a header
    mapping built by hand). Never raises: a scheme reading a timestamp
    refuses the delivery on None.
    """
    if type(value) is int:
        return value if 0 <= value <= MAX_TIMESTAMP else None
    if not isinstance(value, str) or len(value) > MAX_TIMESTAMP_DIGITS:
        return None
    if not (value.isascii() and value.isdigit()):
        return None
    timestamp = int(value)
    return timestamp if timestamp <= MAX_TIMESTAMP else None


def standard_webhooks_verify(secrets, headers, body, tolerance=300, now=None):
    """Verify a Standard Webhooks delivery against any of ``secrets``."""
    secrets = [s for s in (secrets or []) if s]
    if not secrets:
        return _refused("no signing secret is configured")
    msg_id = header(headers, "webhook-id")
    timestamp = header(headers, "webhook-timestamp")
    signature = header(headers, "webhook-signature")
    if not (msg_id and timestamp and signature):
        return _refused("missing signature headers")
    sent_at = parse_timestamp(str(timestamp))
    if sent_at is None:
        return _refused("the timestamp is not a Unix time in seconds")
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        return _refused("timestamp outside tolerance")
    candidates = []
    for part in signature.split():
        version, _sep, value = part.partition(",")
        if version == "v1" and value:
            candidates.append(value)
    if not candidates:
        return _refused("no v1 signature in the header")
    expected = []
    for secret in secrets:
        try:
            expected.append(standard_webhooks_sign(secret, msg_id, sent_at, body)[3:])
        except ValueError:
            continue
    if _any_equal(candidates, expected):
        return ACCEPTED
    return _refused("no signature matched")


# --- HMAC-SHA256 of the body in a named header (Shopify, Shopline) -----------


HMAC_BODY_ENCODINGS = ("hex", "base64")


def _encode(digest, encoding):
    if encoding == "hex":
        return digest.hex()
    if encoding == "base64":
        return base64.b64encode(digest).decode()
    raise ValueError(f"unknown signature encoding {encoding!r}")


def hmac_body_sign(secret, body, encoding="hex"):
    return _encode(_hmac_sha256(secret, body), encoding)


def hmac_body_verify(secrets, header_value, body, encoding="hex"):
    if encoding not in HMAC_BODY_ENCODINGS:
        raise ValueError(f"unknown signature encoding {encoding!r}")
    secrets = [s for s in (secrets or []) if s]
    if not secrets:
        return _refused("no signing secret is configured")
    if not header_value:
        return _refused("missing signature header")
    candidate = header_value.strip()
    if encoding == "hex":
        candidate = candidate.lower()
    expected = [hmac_body_sign(secret, body, encoding) for secret in secrets]
    if _any_equal([candidate], expected):
        return ACCEPTED
    return _refused("no signature matched")


# --- HMAC of url + "|" + body (Shopee push) -----------------------------------


def hmac_url_body_sign(secret, url, body):
    return _hmac_sha256(secret, _as_bytes(url) + b"|" + _as_bytes(body)).hex()


def hmac_url_body_verify(secrets, header_value, url, body):
    secrets = [s for s in (secrets or []) if s]
    if not secrets:
        return _refused("no signing secret is configured")
    if not header_value:
        return _refused("missing signature header")
    expected = [hmac_url_body_sign(secret, url, body) for secret in secrets]
    if _any_equal([header_value.strip().lower()], expected):
        return ACCEPTED
    return _refused("no signature matched")


# --- Static token header (Mobiwork's tokenkey): the weakest -------------------


def static_token_verify(tokens, header_value):
    tokens = [t for t in (tokens or []) if t]
    if not tokens:
        return _refused("no token is configured")
    if not header_value:
        return _refused("missing token header")
    if _any_equal([header_value.strip()], tokens):
        return ACCEPTED
    return _refused("the token does not match")


# --- One calling convention for the controller --------------------------------
# Every entry of SCHEMES takes the same arguments; each uses the ones it needs.
# A misspelled option is a TypeError, not a silently ignored setting.


def _verify_standard_webhooks(
    secrets, headers, body, *, url=None, tolerance=300, now=None, header_name=None
):
    return standard_webhooks_verify(
        secrets, headers, body, tolerance=tolerance, now=now
    )


def _verify_hmac_body_hex(
    secrets, headers, body, *, url=None, tolerance=300, now=None, header_name=None
):
    return hmac_body_verify(secrets, header(headers, header_name), body, "hex")


def _verify_hmac_body_base64(
    secrets, headers, body, *, url=None, tolerance=300, now=None, header_name=None
):
    return hmac_body_verify(secrets, header(headers, header_name), body, "base64")


def _verify_hmac_url_body(
    secrets, headers, body, *, url=None, tolerance=300, now=None, header_name=None
):
    if callable(url):
        url = url()
    if not url:
        return _refused("the request URL is unknown")
    return hmac_url_body_verify(secrets, header(headers, header_name), url, body)


def _verify_static_token(
    secrets, headers, body, *, url=None, tolerance=300, now=None, header_name=None
):
    return static_token_verify(secrets, header(headers, header_name))


# verify(secrets, headers, body, *, url=None, tolerance=300, now=None,
#        header_name=None) -> VerificationResult
# ``url``: the request URL, or a function returning it (building it costs
# more than verifying a signature; only the schemes that sign it call it).
SCHEMES = {
    "standard_webhooks": _verify_standard_webhooks,
    "hmac_body_hex": _verify_hmac_body_hex,
    "hmac_body_base64": _verify_hmac_body_base64,
    "hmac_url_body": _verify_hmac_url_body,
    "static_token": _verify_static_token,
}


def verify(scheme, secrets, headers, body, **options):
    """Verify a delivery with the named scheme; unknown schemes are refused."""
    verifier = SCHEMES.get(scheme)
    if verifier is None:
        return _refused("unknown signature scheme")
    if not isinstance(headers, Mapping):
        headers = dict(headers or {})
    return verifier(secrets, headers, body, **options)
