import pytest
from cryptography.fernet import Fernet
from oms_lib import secretbox


@pytest.fixture
def key():
    return Fernet.generate_key().decode()


def test_seal_encrypts_and_unseal_decrypts(key):
    stored = secretbox.seal("tok-123456", [key])
    assert stored.startswith(secretbox.ENCRYPTED_PREFIX)
    assert "tok-123456" not in stored
    assert secretbox.is_encrypted(stored)
    assert secretbox.unseal(stored, [key]) == "tok-123456"


def test_seal_is_randomised(key):
    assert secretbox.seal("same", [key]) != secretbox.seal("same", [key])


def test_empty_secret_is_nothing(key):
    assert secretbox.seal("", [key]) is False
    assert secretbox.unseal(False, [key]) == ""


def test_without_key_falls_back_to_marked_plaintext():
    stored = secretbox.seal("abc", [])
    assert stored == "plain:abc"
    assert not secretbox.is_encrypted(stored)
    assert secretbox.unseal(stored, []) == "abc"


def test_rotation_old_key_still_decrypts_and_reseal_moves_to_new(key):
    old = key
    new = Fernet.generate_key().decode()
    stored = secretbox.seal("rotate-me", [old])
    keys = secretbox.parse_keys(f"{new}, {old}")
    assert keys == [new, old]
    assert secretbox.unseal(stored, keys) == "rotate-me"
    resealed = secretbox.reseal(stored, keys)
    assert secretbox.unseal(resealed, [new]) == "rotate-me"
    with pytest.raises(secretbox.SecretKeyError):
        secretbox.unseal(resealed, [old])


def test_reseal_encrypts_plaintext_fallback(key):
    resealed = secretbox.reseal("plain:abc", [key])
    assert secretbox.is_encrypted(resealed)
    assert secretbox.unseal(resealed, [key]) == "abc"


def test_wrong_key_error_names_neither_key_nor_secret(key):
    stored = secretbox.seal("very-secret-value", [key])
    other = Fernet.generate_key().decode()
    with pytest.raises(secretbox.SecretKeyError) as info:
        secretbox.unseal(stored, [other])
    message = str(info.value)
    assert other not in message and key not in message
    assert "very-secret-value" not in message


def test_tampered_token_is_refused(key):
    stored = secretbox.seal("abc", [key])
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(secretbox.SecretKeyError):
        secretbox.unseal(tampered, [key])


def test_malformed_key_is_a_clear_error():
    with pytest.raises(secretbox.SecretKeyError) as info:
        secretbox.seal("abc", ["not-a-fernet-key"])
    assert "not-a-fernet-key" not in str(info.value)


def test_unknown_format_is_refused(key):
    with pytest.raises(secretbox.SecretKeyError):
        secretbox.unseal("abc", [key])


def test_parse_keys_ignores_blanks():
    assert secretbox.parse_keys(None) == []
    assert secretbox.parse_keys(" , a ,, b ") == ["a", "b"]


def test_generate_key_is_usable():
    key = secretbox.generate_key()
    assert secretbox.unseal(secretbox.seal("x", [key]), [key]) == "x"


def test_unseal_cached_reads_like_unseal_and_never_caches_a_failure(key):
    stored = secretbox.seal("tok-cached", [key])
    assert secretbox.unseal_cached(stored, [key]) == "tok-cached"
    assert secretbox.unseal_cached(stored, (key,)) == "tok-cached"
    # Another key list is another entry: the wrong key fails, every time.
    other = Fernet.generate_key().decode()
    for _attempt in range(2):
        with pytest.raises(secretbox.SecretKeyError):
            secretbox.unseal_cached(stored, [other])
    # Rotation: the new key first, the old one kept, reads the old secret.
    assert secretbox.unseal_cached(stored, [other, key]) == "tok-cached"
    # A new secret is a new stored value: decrypted afresh.
    assert secretbox.unseal_cached(secretbox.seal("new", [key]), [key]) == "new"
