import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import pytest
from freezegun import freeze_time
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


def test_header_lookup_reads_lower_case_dicts_directly_and_scans_others():
    assert signatures.header({"webhook-id": "a"}, "Webhook-Id") == "a"
    # A dict whose names are not lower case is scanned.
    assert signatures.header({"Webhook-Id": "b"}, "webhook-id") == "b"
    assert signatures.header({"webhook-id": "c"}, "webhook-timestamp") is None


def test_request_headers_of_a_wsgi_environ():
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/oms/webhook/k",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "12",
        "HTTP_HOST": "odoo.example",
        "HTTP_WEBHOOK_ID": "msg_1",
        "HTTP_X_SHOPIFY_HMAC_SHA256": "abc=",
        # What some servers add besides CONTENT_TYPE: not a second header.
        "HTTP_CONTENT_TYPE": "text/plain",
        "wsgi.input": object(),
    }
    assert signatures.request_headers(environ) == {
        "content-type": "application/json",
        "content-length": "12",
        "host": "odoo.example",
        "webhook-id": "msg_1",
        "x-shopify-hmac-sha256": "abc=",
    }
    # An empty body has no length header, as werkzeug's headers say.
    environ["CONTENT_LENGTH"] = ""
    assert "content-length" not in signatures.request_headers(environ)


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


def test_url_may_be_given_as_a_function_read_only_by_the_url_scheme():
    url = "https://h/x"
    sig = signatures.hmac_url_body_sign("k", url, BODY)
    calls = []

    def request_url():
        calls.append(1)
        return url

    assert signatures.verify(
        "hmac_url_body",
        ["k"],
        {"Authorization": sig},
        BODY,
        url=request_url,
        header_name="authorization",
    ).ok
    assert calls == [1]
    assert not signatures.verify(
        "hmac_url_body",
        ["k"],
        {"Authorization": sig},
        BODY,
        url=lambda: "https://h/other",
        header_name="authorization",
    ).ok
    # A function returning nothing is an unknown URL: refused.
    assert not signatures.verify(
        "hmac_url_body", ["k"], {"Authorization": sig}, BODY, url=lambda: None
    ).ok
    # The other schemes never build the URL.
    assert signatures.verify(
        "static_token",
        ["tok"],
        {"tokenkey": "tok"},
        BODY,
        url=lambda: pytest.fail("the URL was built"),
        header_name="tokenkey",
    ).ok


# --- More against the reference, with the clock frozen -----------------------


def _moment(unix):
    return datetime.fromtimestamp(unix, tz=timezone.utc)


@pytest.mark.parametrize("offset", [-300, -1, 0, 1, 300])
def test_reference_and_ours_agree_inside_the_tolerance(secret, offset):
    sent_at = NOW + offset
    ours = signatures.standard_webhooks_sign(secret, "msg_3", sent_at, BODY)
    theirs = Webhook(secret).sign("msg_3", _moment(sent_at), BODY.decode())
    assert ours == theirs
    headers = _headers("msg_3", sent_at, ours)
    with freeze_time(_moment(NOW)):
        assert Webhook(secret).verify(BODY, headers)["order"]["id"] == "EXT-1001"
        assert signatures.standard_webhooks_verify([secret], headers, BODY).ok


@pytest.mark.parametrize("offset", [-301, 301, -86400, 86400])
def test_reference_and_ours_agree_outside_the_tolerance(secret, offset):
    sent_at = NOW + offset  # positive: from the future
    headers = _headers(
        "msg_4",
        sent_at,
        signatures.standard_webhooks_sign(secret, "msg_4", sent_at, BODY),
    )
    with freeze_time(_moment(NOW)):
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(BODY, headers)
        result = signatures.standard_webhooks_verify([secret], headers, BODY)
    assert not result.ok
    assert result.reason == "timestamp outside tolerance"


def test_tolerance_is_configurable(secret):
    sent_at = NOW - 60
    headers = _headers(
        "m", sent_at, signatures.standard_webhooks_sign(secret, "m", sent_at, BODY)
    )
    assert signatures.standard_webhooks_verify(
        [secret], headers, BODY, tolerance=60, now=NOW
    ).ok
    assert not signatures.standard_webhooks_verify(
        [secret], headers, BODY, tolerance=59, now=NOW
    ).ok


def test_reference_signatures_under_rotation(secret):
    previous = signatures.new_standard_webhooks_secret()
    # The provider still signs with the previous secret and adds a second
    # signature made with a key we do not hold; the reference sends v1 only.
    theirs = Webhook(previous).sign("msg_5", _moment(NOW), BODY.decode())
    stranger = Webhook(signatures.new_standard_webhooks_secret()).sign(
        "msg_5", _moment(NOW), BODY.decode()
    )
    headers = _headers("msg_5", NOW, f"{stranger} {theirs}")
    assert signatures.standard_webhooks_verify(
        [secret, previous], headers, BODY, now=NOW
    ).ok
    # Once the previous secret is retired, the same delivery is refused.
    assert not signatures.standard_webhooks_verify([secret], headers, BODY, now=NOW).ok


def test_reference_accepts_a_header_with_several_of_our_signatures(secret):
    previous = signatures.new_standard_webhooks_secret()
    now = int(time.time())
    both = " ".join(
        signatures.standard_webhooks_sign(s, "msg_6", now, BODY)
        for s in (secret, previous)
    )
    headers = _headers("msg_6", now, both)
    assert Webhook(previous).verify(BODY, headers)
    assert Webhook(secret).verify(BODY, headers)


def test_non_ascii_body_is_signed_as_utf8(secret):
    body = json.dumps({"note": "Giao buổi sáng"}, ensure_ascii=False).encode()
    theirs = Webhook(secret).sign("msg_7", _moment(NOW), body.decode())
    assert signatures.standard_webhooks_verify(
        [secret], _headers("msg_7", NOW, theirs), body, now=NOW
    ).ok
    # A str body is the same content as its UTF-8 bytes.
    assert (
        signatures.standard_webhooks_sign(secret, "msg_7", NOW, body.decode()) == theirs
    )


@pytest.mark.parametrize(
    "stamp", ["", "1.5e9", f"{NOW}.0", f" {NOW}", f"+{NOW}", "1_795_000_000", "-1"]
)
def test_timestamps_that_are_not_plain_integers_are_refused(secret, stamp):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    result = signatures.standard_webhooks_verify(
        [secret], _headers("m", stamp, signature), BODY, now=NOW
    )
    assert not result.ok
    assert result.reason in (
        "missing signature headers",
        "the timestamp is not a Unix time in seconds",
    )


def test_unpadded_and_invalid_secrets(secret):
    encoded = base64.b64encode(b"0123456789abcdefghijkl").decode()
    assert encoded.endswith("==")
    unpadded = "whsec_" + encoded.rstrip("=")
    reference = Webhook(unpadded).sign("m", _moment(NOW), BODY.decode())
    assert signatures.standard_webhooks_verify(
        [unpadded], _headers("m", NOW, reference), BODY, now=NOW
    ).ok
    # An empty or invalid secret signs nothing and matches nothing, even next
    # to a valid one.
    for bad in ("whsec_", "", "whsec_***", "whsec_=="):
        with pytest.raises(ValueError):
            signatures.standard_webhooks_sign(bad or "whsec_", "m", NOW, BODY)
    empty_key = base64.b64encode(
        hmac.new(b"", f"m.{NOW}.".encode() + BODY, hashlib.sha256).digest()
    ).decode()
    result = signatures.standard_webhooks_verify(
        ["whsec_", "whsec_***"], _headers("m", NOW, "v1," + empty_key), BODY, now=NOW
    )
    assert not result.ok
    assert signatures.standard_webhooks_verify(
        ["whsec_***", secret],
        _headers("m", NOW, signatures.standard_webhooks_sign(secret, "m", NOW, BODY)),
        BODY,
        now=NOW,
    ).ok


def test_malformed_signature_entries_do_not_crash(secret):
    good = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    for header_value in ("v1", "v1,", ",,,", "garbage", f"v1a,{good[3:]}"):
        result = signatures.standard_webhooks_verify(
            [secret], _headers("m", NOW, header_value), BODY, now=NOW
        )
        assert not result.ok
    assert signatures.standard_webhooks_verify(
        [secret], _headers("m", NOW, f"garbage v1, {good}"), BODY, now=NOW
    ).ok


def test_new_secret_shape():
    first, second = (signatures.new_standard_webhooks_secret() for _ in range(2))
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first[len("whsec_") :], validate=True)) == 24
    Webhook(first)  # the reference implementation accepts it


# --- The other schemes, more ------------------------------------------------


def test_shopify_style_base64_header():
    key = "shpss_secret"
    body = b'{"id": 820982911946154508}'
    sent = base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest())
    headers = {"X-Shopify-Hmac-Sha256": sent.decode()}
    assert signatures.verify(
        "hmac_body_base64", [key], headers, body, header_name="x-shopify-hmac-sha256"
    ).ok
    # Hex of the same digest is not the base64 scheme.
    hexed = {
        "X-Shopify-Hmac-Sha256": hmac.new(key.encode(), body, "sha256").hexdigest()
    }
    assert not signatures.verify(
        "hmac_body_base64", [key], hexed, body, header_name="X-Shopify-Hmac-Sha256"
    ).ok


def test_hmac_body_rotation_and_sign_round_trip():
    body = b"{}"
    for encoding in ("hex", "base64"):
        sig = signatures.hmac_body_sign("old", body, encoding)
        assert signatures.hmac_body_verify(["new", "old"], sig, body, encoding).ok
        assert not signatures.hmac_body_verify(["new"], sig, body, encoding).ok
    with pytest.raises(ValueError):
        signatures.hmac_body_sign("k", body, "base32")
    with pytest.raises(ValueError):
        signatures.hmac_body_verify(["k"], "x", body, "base32")


def test_hmac_url_body_details():
    url = "https://erp.example.com/oms/webhook/abc"
    sig = signatures.hmac_url_body_sign("k", url, BODY)
    assert signatures.hmac_url_body_verify(["k"], sig.upper(), url, BODY).ok
    assert not signatures.hmac_url_body_verify(["k"], sig, url, BODY + b" ").ok
    assert not signatures.hmac_url_body_verify([], sig, url, BODY).ok
    assert not signatures.hmac_url_body_verify(["k"], None, url, BODY).ok
    # The registry refuses when the controller could not give the URL.
    result = signatures.verify(
        "hmac_url_body",
        ["k"],
        {"Authorization": sig},
        BODY,
        header_name="Authorization",
    )
    assert (result.ok, result.reason) == (False, "the request URL is unknown")


def test_static_token_is_exact():
    assert not signatures.static_token_verify(["tok-1"], "TOK-1").ok
    assert not signatures.static_token_verify(["tok-1"], "tok-").ok
    assert not signatures.static_token_verify(["tok-1"], "tok-1x").ok
    result = signatures.static_token_verify(["s3cr3t-token"], "guess")
    assert "s3cr3t" not in result.reason


@pytest.mark.parametrize("scheme", sorted(signatures.SCHEMES))
def test_every_scheme_fails_closed(scheme, secret):
    headers = {
        "webhook-id": "m",
        "webhook-timestamp": str(NOW),
        "webhook-signature": signatures.standard_webhooks_sign(secret, "m", NOW, BODY),
        "x-sig": "anything",
    }
    options = {"url": "https://h/x", "now": NOW, "header_name": "x-sig"}
    for empty in ([], [""], None):
        result = signatures.SCHEMES[scheme](empty, headers, BODY, **options)
        assert not result.ok
    # No header at all: refused too.
    assert not signatures.SCHEMES[scheme]([secret], {}, BODY, **options).ok
    # A header name the scheme reads but the provider addon forgot: refused.
    if scheme != "standard_webhooks":
        assert not signatures.SCHEMES[scheme](
            [secret], headers, BODY, url="https://h/x", now=NOW
        ).ok


@pytest.mark.parametrize("scheme", sorted(signatures.SCHEMES))
def test_every_scheme_takes_the_uniform_options(scheme):
    # The same call works for all; a misspelled option is an error, not ignored.
    signatures.SCHEMES[scheme](
        ["k"], {}, BODY, url=None, tolerance=300, now=NOW, header_name=None
    )
    with pytest.raises(TypeError):
        signatures.SCHEMES[scheme](["k"], {}, BODY, header_nmae="x")


def test_registry_accepts_header_lists():
    sig = signatures.hmac_body_sign("k", BODY)
    assert signatures.verify(
        "hmac_body_hex", ["k"], [("X-Sig", sig)], BODY, header_name="x-sig"
    ).ok


@pytest.mark.parametrize(
    "stamp",
    [
        "9" * 13,  # one digit over the bound
        "1" * 400,  # int() takes it, but now - it overflows a float
        "1" * 5000,  # int() refuses it (more than 4300 digits)
        "9" * 1_000_000,
        "0" * 13 + str(NOW),  # leading zeros do not make it shorter
        "-" + str(NOW),
        "١٧٩٥٠٠٠٠٠٠",  # Arabic-Indic digits: isdigit() says yes
        f"{NOW}\x00",
        "999999999999",  # 12 digits, but after the year 9999
    ],
)
def test_out_of_range_timestamps_are_refused_not_raised(secret, stamp):
    signature = signatures.standard_webhooks_sign(secret, "m", NOW, BODY)
    headers = _headers("m", stamp, signature)
    for tolerance in (300, 10**30):  # even a tolerance that lets anything in
        result = signatures.standard_webhooks_verify(
            [secret], headers, BODY, tolerance=tolerance, now=NOW
        )
        assert result == signatures.VerificationResult(
            False, "the timestamp is not a Unix time in seconds"
        )
        assert not signatures.verify(
            "standard_webhooks", [secret], headers, BODY, tolerance=tolerance, now=NOW
        ).ok


def test_parse_timestamp():
    assert signatures.parse_timestamp(str(NOW)) == NOW
    assert signatures.parse_timestamp("0") == 0
    assert signatures.parse_timestamp(NOW) == NOW  # a header read as a number
    last = signatures.MAX_TIMESTAMP
    assert len(str(last)) <= signatures.MAX_TIMESTAMP_DIGITS
    assert signatures.parse_timestamp(str(last)) == last
    # Every accepted value converts to a datetime.
    assert datetime.fromtimestamp(last, tz=timezone.utc).year == 9999
    for bad in (None, "", str(last + 1), "9" * 400, "-1", "1.5", " 1", True, -1):
        assert signatures.parse_timestamp(bad) is None, bad
