"""Webhook keys and URL helpers."""

import re
import secrets
from urllib.parse import urlsplit

WEBHOOK_KEY_BYTES = 24  # 192 bits of entropy, above the contract's 128.
# What is_plausible_webhook_key accepts: the URL-safe base64 alphabet of
# secrets.token_urlsafe (no padding), from 22 characters (128 bits, the
# contract's minimum) to 64 (room to raise WEBHOOK_KEY_BYTES to 48 without
# refusing the keys already handed out). Today's keys have 32.
WEBHOOK_KEY_MIN_LENGTH = 22
WEBHOOK_KEY_MAX_LENGTH = 64
_WEBHOOK_KEY_PATTERN = re.compile(
    r"[A-Za-z0-9_-]{%d,%d}" % (WEBHOOK_KEY_MIN_LENGTH, WEBHOOK_KEY_MAX_LENGTH)
)


def new_webhook_key():
    """A random, URL-safe key identifying a source in its webhook URL."""
    return secrets.token_urlsafe(WEBHOOK_KEY_BYTES)


def is_plausible_webhook_key(key):
    """Whether ``key`` (the ``<source_key>`` of a webhook URL) has the shape
    :func:`new_webhook_key` gives: text of ``A-Z a-z 0-9 _ -`` only, from
    :data:`WEBHOOK_KEY_MIN_LENGTH` to :data:`WEBHOOK_KEY_MAX_LENGTH`
    characters. Anything else (None, bytes, spaces, NUL or other control
    characters, non-ASCII, padding, too short or too long) is False: the
    route answers 404 without a query, as no source can have that key.
    """
    if not isinstance(key, str) or len(key) > WEBHOOK_KEY_MAX_LENGTH:
        return False
    # fullmatch, not match with "$": "$" also matches before a final newline.
    return _WEBHOOK_KEY_PATTERN.fullmatch(key) is not None


def host_of(url):
    """The host (with port) a URL points to, lower-cased; '' when none."""
    if not url:
        return ""
    try:
        return (urlsplit(url.strip()).netloc or "").lower()
    except ValueError:
        return ""


def webhook_url(base_url, key):
    """The full webhook URL for a source key, from Odoo's ``web.base.url``."""
    return "{}/oms/webhook/{}".format((base_url or "").rstrip("/"), key or "")
