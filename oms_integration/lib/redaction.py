"""Redaction of secrets in headers, payloads and messages shown to users."""

import functools
import json
import re

from . import normalize

REDACTED = "***"
# Ends a text redact_and_cut had to cut.
CUT_MARK = "…"

# Keys whose values are credentials, whatever the provider calls them.
SECRET_KEY_PATTERN = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|authori[sz]ation|signature|"
    r"cookie|session[_-]?id|tokenkey|client[_-]?secret|credential|private)",
    re.IGNORECASE,
)
# The same pattern without case folding, for text already lowercased: as
# quick as looking for plain words, where the case-insensitive search through
# a whole body cost more than the rest of the redaction.
_LOWERCASE_SECRET_KEY_PATTERN = re.compile(SECRET_KEY_PATTERN.pattern)
# A JSON "key": "value" pair, found in text that does not parse as a whole
# (cut, nested too deep, not quite JSON); a value left open at the end of
# the text (cut inside it) is one too.
_STRING_FIELD = re.compile(
    r'(?P<head>"(?P<key>[^"\\]*(?:\\.[^"\\]*)*)"\s*:\s*)'
    r'"(?P<value>[^"\\]*(?:\\.[^"\\]*)*)(?:"|\Z)'
)


def is_secret_key(key):
    """Whether a header or field name holds a credential."""
    return _is_secret_name(str(key))


@functools.lru_cache(maxsize=4096)
def _is_secret_name(name):
    # The same few names come in every header and payload: decided once.
    return bool(SECRET_KEY_PATTERN.search(name))


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
    parsed, issue = normalize.load_json(raw, refuse_nul=False)
    if issue:
        return redact_text(_mask_string_fields(str(raw)), secrets)
    rendered = json.dumps(
        redact_mapping(parsed), indent=2, ensure_ascii=False, sort_keys=False
    )
    return redact_text(rendered, secrets)


def redact_json_text(text):
    """``text`` with secret-named keys masked when it is JSON (compact, key
    order kept). Text that does not parse as JSON (cut, nested deeper than
    ``normalize.MAX_JSON_DEPTH``, not JSON) is returned as it is, but for
    the text values of secret-named ``"key": "value"`` pairs found in it."""
    if not text:
        return text
    parsed, issue = normalize.load_json(text, refuse_nul=False)
    if issue:
        return _mask_string_fields(text) if isinstance(text, str) else text
    if _may_name_a_secret(text):
        parsed = redact_mapping(parsed)
    return json.dumps(parsed, ensure_ascii=False)


def _mask_string_fields(text):
    """``text`` with the text value of every secret-named ``"key":
    "value"`` pair masked, found without parsing (best effort: for text
    that is not a whole JSON document)."""
    if not _may_name_a_secret(text):
        return text

    def mask(match):
        key = _decoded_key(match["key"])
        if not match["value"] or not is_secret_key(key):
            return match[0]
        return f'{match["head"]}"{REDACTED}"'

    return _STRING_FIELD.sub(mask, text)


def _decoded_key(raw):
    """A JSON key as written between its quotes, its escapes decoded
    (``\\u0074oken`` is ``token``) when they can be."""
    if "\\" not in raw:
        return raw
    try:
        return json.loads(f'"{raw}"')
    except ValueError:
        return raw  # a broken escape: the key as written


def redact_and_cut(text, secrets, limit):
    """``text`` as it may be stored or shown: redacted whole (secret-named
    JSON keys, as :func:`redact_json_text`, then the known ``secrets``
    values, as :func:`redact_text`), then cut to at most ``limit``
    characters, the last one :data:`CUT_MARK` when it was cut.

    In this order, a secret across the cut is masked before the cut, never
    kept as a prefix the redaction could no longer recognize, and a long
    JSON text still parses, so its secret-named keys are masked. Bytes (an
    answer as received) are read as ``normalize.storable_text``, and so are
    NUL characters in text. None and "" are returned as they are.
    """
    if limit < 1:
        raise ValueError("limit must be 1 or more")
    if not text:
        return text
    text = normalize.storable_text(
        bytes(text) if isinstance(text, bytearray | memoryview) else text
    )
    text = redact_text(redact_json_text(text), secrets)
    if len(text) <= limit:
        return text
    return text[: limit - 1] + CUT_MARK


def _may_name_a_secret(text):
    """Whether a key of the JSON ``text`` may be secret-named, told cheaply:
    a decoded key is a part of the text unless written with ``\\u`` escapes,
    and an ASCII one lowercases plainly (the pattern's case folding also
    matches a few other letters)."""
    if "\\u" in text or not text.isascii():
        return True
    return bool(_LOWERCASE_SECRET_KEY_PATTERN.search(text.lower()))


def headers_text(headers):
    """HTTP ``headers`` (a mapping) as JSON, one header a line, secret-named
    ones masked: ``json.dumps(..., indent=1)`` of ``redact_mapping``, without
    its slow indenting encoder when every name and value is text."""
    redacted = redact_mapping(dict(headers or {}))
    if not all(
        isinstance(name, str) and isinstance(value, str)
        for name, value in redacted.items()
    ):
        return json.dumps(redacted, ensure_ascii=False, indent=1)
    if not redacted:
        return "{}"
    encode = json.encoder.encode_basestring
    lines = ",\n".join(
        f" {encode(name)}: {encode(value)}" for name, value in redacted.items()
    )
    return "{\n" + lines + "\n}"
