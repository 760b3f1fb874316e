import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import pytest
from oms_lib import signatures
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

NOW = 1_795_000_000  # a fixed Unix time
BODY = json.dumps({"type": "order.created", "order": {"id": "EXT-1001"}}).encode()


def _headers(msg_id, timestamp, signature):
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


@pytest.fixture
def secret():
    return signatures.new_standard_webhooks_secret()


# --- Standard Webhooks, against the independent reference implementation ----


def test_reference_signature_is_accepted(secret):
    stamp = datetime.fromtimestamp(NOW, tz=timezone.utc)
    signature = Webhook(secret).sign("msg_1", stamp, BODY.decode())
    result = signatures.standard_webhooks_verify(
        [secret], _headers("msg_1", NOW, signature), BODY, now=NOW
    )
    assert result.ok, result.reason


def test_our_signature_is_accepted_by_the_reference(secret):

    now = int(time.time())
    signature = signatures.standard_webhooks_sign(secret, "msg_2", now, BODY)
    payload = Webhook(secret).verify(BODY, _headers("msg_2", now, signature))
    assert payload["order"]["id"] == "EXT-1001"


def test_reference_refuses_a_tampered_signature_of_ours(secret):

    now = int(time.time())
    signature = signatures.standard_webhooks_sign(secret, "msg_2", now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY + b" ", _headers("msg_2", now, signature))


def test_secret_without_prefix_is_accepted(secret):
    bare = secret[len("whsec_") :]
    signature = signatures.standard_webhooks_sign(bare, "m", NOW, BODY)
    assert signatures.standard_webhooks_verify(
        [secret], _headers("m", NOW, signature), BODY, now=NOW
    ).ok


def test_rotation_any_secret_and_any_signature_wins(secret):
    old = signatures.new_standard_webhooks_secret()
    other = signatures.new_standard_webhooks_secret()
    sig_old = signatures.standard_webhooks_sign(old, "m", NOW, BODY)
    sig_other = signatures.standard_webhooks_sign(other, "m", NOW, BODY)
    # The provider signs with the old secret only; we hold current and previous.
    assert signatures.standard_webhooks_verify(
        [secret, old], _headers("m", NOW, sig_old), BODY, now=NOW
    ).ok
    # Several space-separated signatures: one matching is enough.
    header = f"{sig_other} {sig_old}"
    assert signatures.standard_webhooks_verify(
        [secret, old], _headers("m", NOW, header), BODY, now=NOW
    ).ok
    # Neither of ours: refused.
    result = signatures.standard_webhooks_verify(
        [secret], _headers("m", NOW, header), BODY, now=NOW
    )
    assert not result.ok
    assert result.reason == "no signature matched"


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(0, True), (300, True), (-300, True), (301, False), (-301, False)],
)
def test_timestamp_tolerance_edges(secret, offset, accepted):
    sent_at = NOW - offset
    signature = signatures.standard_webhooks_sign(secret, "m", sent_at, BODY)
    result = signatures.standard_webhooks_verify(
        [secret], _headers("m", sent_at, signature), BODY, tolerance=300, now=NOW
    )
    assert result.ok is accepted
    if not accepted:
        assert result.reason == "timestamp outside tolerance"


def test_tampered_body_and_wrong_secret_are_refused(secret):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    assert not signatures.standard_webhooks_verify(
        [secret], _headers("m", NOW, signature), BODY + b"x", now=NOW
    ).ok
    other = signatures.new_standard_webhooks_secret()
    assert not signatures.standard_webhooks_verify(
        [other], _headers("m", NOW, signature), BODY, now=NOW
    ).ok
    # The id is signed too: replaying the signature under another id fails.
    assert not signatures.standard_webhooks_verify(
        [secret], _headers("m2", NOW, signature), BODY, now=NOW
    ).ok


@pytest.mark.parametrize(
    "missing", ["webhook-id", "webhook-timestamp", "webhook-signature"]
)
def test_missing_headers_are_refused(secret, missing):
    headers = _headers(
        "m", NOW, signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    )
    del headers[missing]
    result = signatures.standard_webhooks_verify([secret], headers, BODY, now=NOW)
    assert not result.ok
    assert result.reason == "missing signature headers"


def test_headers_are_case_insensitive(secret):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    headers = {
        "Webhook-Id": "m",
        "WEBHOOK-TIMESTAMP": str(NOW),
        "Webhook-Signature": signature,
    }
    assert signatures.standard_webhooks_verify([secret], headers, BODY, now=NOW).ok


def test_bad_timestamp_and_versions_are_refused(secret):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    assert not signatures.standard_webhooks_verify(
        [secret], _headers("m", "yesterday", signature), BODY, now=NOW
    ).ok
    v2 = "v2," + signature[3:]
    result = signatures.standard_webhooks_verify(
        [secret], _headers("m", NOW, v2), BODY, now=NOW
    )
    assert not result.ok


def test_fail_closed_without_secret(secret):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    for empty in ([], [""], None):
        result = signatures.standard_webhooks_verify(
            empty, _headers("m", NOW, signature), BODY, now=NOW
        )
        assert not result.ok
        assert result.reason == "no signing secret is configured"


def test_reasons_never_leak_secrets_or_signatures(secret):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    other = signatures.new_standard_webhooks_secret()
    result = signatures.standard_webhooks_verify(
        [other], _headers("m", NOW, signature), BODY, now=NOW
    )
    for value in (secret, other, signature, signature[3:]):
        assert value not in result.reason


def test_invalid_secret_cannot_sign():
    with pytest.raises(ValueError):
        signatures.standard_webhooks_sign("whsec_***not base64***", "m", NOW, BODY)


# --- The other schemes --------------------------------------------------------


def test_hmac_body_hex_and_base64_match_an_independent_computation():
    key = "shpss_test_secret"
    digest = hmac.new(key.encode(), BODY, hashlib.sha256).digest()
    assert signatures.hmac_body_verify([key], digest.hex().upper(), BODY, "hex").ok
    assert signatures.hmac_body_verify(
        [key], base64.b64encode(digest).decode(), BODY, "base64"
    ).ok
    assert not signatures.hmac_body_verify([key], digest.hex(), BODY + b"x", "hex").ok
    assert not signatures.hmac_body_verify(["other"], digest.hex(), BODY, "hex").ok
    assert not signatures.hmac_body_verify([key], "", BODY, "hex").ok
    assert not signatures.hmac_body_verify([], digest.hex(), BODY, "hex").ok


def test_hmac_url_body_matches_shopee_style_computation():
    key = "partner-key"
    url = "https://erp.example.com/oms/webhook/abc"
    expected = hmac.new(key.encode(), url.encode() + b"|" + BODY, hashlib.sha256)
    assert signatures.hmac_url_body_verify([key], expected.hexdigest(), url, BODY).ok
    assert not signatures.hmac_url_body_verify(
        [key], expected.hexdigest(), url + "x", BODY
    ).ok


def test_static_token():
    assert signatures.static_token_verify(["tok-1", "tok-0"], "tok-0").ok
    assert not signatures.static_token_verify(["tok-1"], "tok-2").ok
    assert not signatures.static_token_verify(["tok-1"], None).ok
    assert not signatures.static_token_verify([], "tok-1").ok


def test_scheme_registry_uniform_calls(secret):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    assert signatures.verify(
        "standard_webhooks", [secret], _headers("m", NOW, signature), BODY, now=NOW
    ).ok
    sig = signatures.hmac_body_sign("k", BODY, "base64")
    assert signatures.verify(
        "hmac_body_base64", ["k"], {"X-Sig": sig}, BODY, header_name="x-sig"
    ).ok
    assert signatures.verify(
        "static_token", ["tok"], {"tokenkey": "tok"}, BODY, header_name="TokenKey"
    ).ok
    url = "https://h/x"
    sig = signatures.hmac_url_body_sign("k", url, BODY)
    assert signatures.verify(
        "hmac_url_body",
        ["k"],
        {"Authorization": sig},
        BODY,
        url=url,
        header_name="authorization",
    ).ok
    assert not signatures.verify("nope", ["k"], {}, BODY).ok
