"""Redaction of secrets in headers, payloads and messages shown to users."""

import json
import re

REDACTED = "***"

# Keys whose values are credentials, whatever the provider calls them.
SECRET_KEY_PATTERN = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authori[sz]ation|signature|"
    r"cookie|session[_-]?id|tokenkey|client[_-]?secret|credential|private)",
    re.IGNORECASE,
)


def is_secret_key(key):
    """Whether a header or field name holds a credential."""
    return bool(SECRET_KEY_PATTERN.search(str(key)))


def redact_mapping(data):
    """Return a deep copy of ``data`` (dicts, lists, scalars) with secrets masked."""
    if isinstance(data, dict):
        return {
            key: (
                REDACTED
                if is_secret_key(key) and value not in (None, "")
                else redact_mapping(value)
            )
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [redact_mapping(item) for item in data]
    return data


def redact_text(text, secrets=()):
    """Mask every occurrence of the given secret values in ``text``."""
    if not text:
        return text
    for secret in sorted(
        (s for s in secrets if s and len(s) >= 4), key=len, reverse=True
    ):
        text = text.replace(secret, REDACTED)
    return text


def pretty_payload(raw, secrets=()):
    """Readable, redacted rendering of a raw payload for the event form.

    JSON is re-indented with secret-named keys masked; anything else is shown
    as text. Known secret values are masked in both cases.
    """
    if raw in (None, ""):
        return ""
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return redact_text(str(raw), secrets)
    rendered = json.dumps(
        redact_mapping(parsed), indent=2, ensure_ascii=False, sort_keys=False
    )
    return redact_text(rendered, secrets)


def redact_json_text(text):
    """``text`` with secret-named keys masked when it is JSON (compact, key
    order kept); any other text is returned as it is."""
    if not text:
        return text
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return text
    return json.dumps(redact_mapping(parsed), ensure_ascii=False)
