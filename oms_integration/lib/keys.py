"""Webhook keys and URL helpers."""

import secrets
from urllib.parse import urlsplit

WEBHOOK_KEY_BYTES = 24  # 192 bits of entropy, above the contract's 128.


def new_webhook_key():
    """A random, URL-safe key identifying a source in its webhook URL."""
    return secrets.token_urlsafe(WEBHOOK_KEY_BYTES)


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
