import base64
import re

import pytest
from oms_lib import keys


def test_webhook_key_is_url_safe_and_has_enough_entropy():
    key = keys.new_webhook_key()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", key)
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    assert len(raw) * 8 >= 128


def test_webhook_keys_differ():
    assert len({keys.new_webhook_key() for _ in range(1000)}) == 1000


def test_webhook_url():
    assert (
        keys.webhook_url("https://erp.example.com/", "abc")
        == "https://erp.example.com/oms/webhook/abc"
    )


def test_host_of():
    assert (
        keys.host_of("https://API.Example.com:8443/v1/orders") == "api.example.com:8443"
    )
    assert keys.host_of("https://api.example.com/other") == "api.example.com"
    assert keys.host_of("") == ""
    assert keys.host_of(None) == ""
    assert keys.host_of("not a url") == ""


def test_generated_keys_are_plausible():
    for _ in range(200):
        assert keys.is_plausible_webhook_key(keys.new_webhook_key())


def test_key_length_bounds():
    shortest = "a" * keys.WEBHOOK_KEY_MIN_LENGTH
    longest = "a" * keys.WEBHOOK_KEY_MAX_LENGTH
    assert keys.is_plausible_webhook_key(shortest)
    assert keys.is_plausible_webhook_key(longest)
    assert not keys.is_plausible_webhook_key(shortest[1:])
    assert not keys.is_plausible_webhook_key(longest + "a")
    assert not keys.is_plausible_webhook_key("a" * 1_000_000)
    # The generated length lies within the bounds (and 128 bits above the
    # shortest, as the contract asks).
    assert keys.WEBHOOK_KEY_MIN_LENGTH * 6 >= 128
    assert (
        keys.WEBHOOK_KEY_MIN_LENGTH
        <= len(keys.new_webhook_key())
        <= keys.WEBHOOK_KEY_MAX_LENGTH
    )


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        b"a" * 32,
        32,
        "a" * 31 + "\x00",
        "\x00" + "a" * 31,
        "a" * 16 + " " + "a" * 15,
        " " + "a" * 32,
        "a" * 32 + "\n",
        "a" * 31 + "é",
        "a" * 31 + "٣",  # a digit, but not an ASCII one
        "a" * 31 + "=",  # padding: token_urlsafe never writes it
        "a" * 31 + "/",
        "a" * 31 + "+",
        "a" * 31 + ".",
        "a" * 31 + "%",
    ],
)
def test_implausible_keys_are_refused(key):
    assert not keys.is_plausible_webhook_key(key)
