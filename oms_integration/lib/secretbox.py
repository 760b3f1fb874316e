"""Encryption at rest for integration secrets (tokens, passwords, signing keys).

Secrets are encrypted with Fernet (AES-128-CBC + HMAC-SHA256, authenticated)
under a key held outside the database: the Odoo server option
``oms_integration_secret_key`` or the environment variable
``OMS_INTEGRATION_SECRET_KEY``. The value may hold several comma-separated
Fernet keys: the first one encrypts, all of them decrypt, so a key can be
rotated without losing the stored secrets.
"""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENCRYPTED_PREFIX = "fernet:"
PLAIN_PREFIX = "plain:"


class SecretKeyError(Exception):
    """The encryption key is missing, malformed, or cannot open a secret."""


def parse_keys(raw):
    """Return the list of Fernet keys in ``raw`` (comma separated), in order."""
    return [key.strip() for key in (raw or "").split(",") if key.strip()]


def generate_key():
    """Return a new Fernet key, as text, for the server configuration."""
    return Fernet.generate_key().decode()


def _multi_fernet(keys):
    return _multi_fernet_of(tuple(keys))


@functools.lru_cache(maxsize=8)
def _multi_fernet_of(keys):
    if not keys:
        raise SecretKeyError(
            "No encryption key is configured: set the server option "
            "oms_integration_secret_key (or the environment variable "
            "OMS_INTEGRATION_SECRET_KEY) to a Fernet key."
        )
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        # Never echo the key itself.
        raise SecretKeyError(
            "The configured encryption key is not a valid Fernet key "
            "(32 url-safe base64-encoded bytes): generate one with "
            "'python -c \"from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())\"'."
        ) from exc


def seal(plaintext, keys):
    """Return the stored form of ``plaintext``.

    With keys, the result is ``fernet:<token>``. Without keys, the result is
    ``plain:<text>``: callers only allow that for system administrators and
    warn about it. An empty secret is stored as ``False`` (nothing).
    """
    if not plaintext:
        return False
    if not keys:
        return PLAIN_PREFIX + plaintext
    token = _multi_fernet(keys).encrypt(plaintext.encode())
    return ENCRYPTED_PREFIX + token.decode()


def unseal(stored, keys):
    """Return the plaintext of a value made by :func:`seal` (``""`` if none)."""
    if not stored:
        return ""
    if stored.startswith(PLAIN_PREFIX):
        return stored[len(PLAIN_PREFIX) :]
    if not stored.startswith(ENCRYPTED_PREFIX):
        raise SecretKeyError(
            "This secret is stored in an unknown format: set it again."
        )
    try:
        return (
            _multi_fernet(keys)
            .decrypt(stored[len(ENCRYPTED_PREFIX) :].encode())
            .decode()
        )
    except InvalidToken as exc:
        raise SecretKeyError(
            "This secret cannot be decrypted with the configured key: the key "
            "was changed without keeping the old one. Add the old key after "
            "the new one (comma separated), or set the secret again."
        ) from exc


@functools.lru_cache(maxsize=256)
def _unseal_cached(stored, keys):
    return unseal(stored, keys)


def unseal_cached(stored, keys):
    """:func:`unseal`, remembered for this process (a secret is read on every
    webhook delivery and every status sent; decrypting it each time was most
    of the cost of checking a signature). The cache is keyed by the stored
    value and the keys, so a new secret or a new key is decrypted afresh; a
    failure is never cached."""
    return _unseal_cached(stored, tuple(keys))


def is_encrypted(stored):
    """Whether a stored value is encrypted (not a plaintext fallback)."""
    return bool(stored) and stored.startswith(ENCRYPTED_PREFIX)


def reseal(stored, keys):
    """Re-encrypt ``stored`` under the first key (rotation, or plaintext upgrade)."""
    if not stored:
        return stored
    return seal(unseal(stored, keys), keys)
