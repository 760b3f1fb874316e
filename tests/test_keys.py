import base64
import re

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
