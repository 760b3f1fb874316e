import json

from oms_lib import redaction


def test_secret_named_keys_are_masked_at_any_depth():
    data = {
        "order": {"id": "EXT-1", "lines": [{"token": "t1", "sku": "SP001"}]},
        "Authorization": "Bearer abc",
        "tokenkey": "zzz",
        "client_secret": "s",
        "webhook-signature": "v1,xyz",
        "password": "",
    }
    redacted = redaction.redact_mapping(data)
    assert redacted["order"]["id"] == "EXT-1"
    assert redacted["order"]["lines"][0] == {"token": "***", "sku": "SP001"}
    assert redacted["Authorization"] == "***"
    assert redacted["tokenkey"] == "***"
    assert redacted["client_secret"] == "***"
    assert redacted["webhook-signature"] == "***"
    # Empty values stay visible: there is nothing to hide, and it helps triage.
    assert redacted["password"] == ""
    # The input is not modified.
    assert data["tokenkey"] == "zzz"


def test_known_secret_values_are_masked_in_text():
    text = "401 from provider: token abcd1234 refused (whsec_Zm9vYmFy)"
    out = redaction.redact_text(text, ["abcd1234", "whsec_Zm9vYmFy", "", None])
    assert "abcd1234" not in out and "whsec_Zm9vYmFy" not in out
    assert out.count("***") == 2


def test_short_values_are_not_masked_everywhere():
    # A 1-3 character "secret" would mask random letters all over the text.
    assert redaction.redact_text("a b c", ["a"]) == "a b c"


def test_pretty_payload_json_is_indented_and_redacted():
    raw = json.dumps({"order": {"id": "X"}, "api_key": "k", "note": "key=SECRETVALUE"})
    out = redaction.pretty_payload(raw, ["SECRETVALUE"])
    assert '"id": "X"' in out
    assert '"api_key": "***"' in out
    assert "SECRETVALUE" not in out
    assert "\n" in out


def test_pretty_payload_non_json_kept_as_text_redacted():
    assert (
        redaction.pretty_payload("not json SECRETVALUE", ["SECRETVALUE"])
        == "not json ***"
    )
    assert redaction.pretty_payload("", []) == ""
    assert redaction.pretty_payload(None, []) == ""


def test_vietnamese_text_is_kept_readable():
    raw = json.dumps({"name": "Tạp hóa Minh Anh"})
    assert "Tạp hóa Minh Anh" in redaction.pretty_payload(raw)


def test_redact_json_text_masks_secret_keys_and_keeps_other_text():
    text = (
        '{"order": "EXT-1", "access_token": "tok-123456", "nested": {"password": "pw"}}'
    )
    redacted = redaction.redact_json_text(text)
    assert "tok-123456" not in redacted
    assert '"pw"' not in redacted
    assert '"order": "EXT-1"' in redacted
    assert redaction.redact_json_text("not json token=abc") == "not json token=abc"


def test_headers_text_is_indented_json_with_secrets_masked():
    headers = {
        "Content-Type": "application/json",
        "webhook-signature": "v1,abc",
        "X-Note": 'quote " and Tạp hóa',
        "Authorization": "",
    }
    text = redaction.headers_text(headers)
    assert text == json.dumps(
        redaction.redact_mapping(headers), ensure_ascii=False, indent=1
    )
    assert json.loads(text)["webhook-signature"] == "***"
    assert "Tạp hóa" in text
    assert redaction.headers_text({}) == "{}" == redaction.headers_text(None)
    # Not only text (a number, say): the same JSON all the same.
    assert redaction.headers_text({"X-Count": 3}) == '{\n "X-Count": 3\n}'


def test_redact_json_text_masks_keys_written_with_escapes():
    text = '{"\\u0074oken": "tok-123456", "id": "EXT-1"}'
    assert json.loads(redaction.redact_json_text(text)) == {
        "token": "***",
        "id": "EXT-1",
    }
    # Without a secret-named key the JSON is made compact all the same.
    assert redaction.redact_json_text('{"id":  "EXT-1",\n "n": [1, 2]}') == (
        '{"id": "EXT-1", "n": [1, 2]}'
    )


def test_every_secret_name_is_caught_by_the_quick_check():
    names = [
        "password",
        "PASS",
        "client_secret",
        "access_token",
        "tokenkey",
        "apikey",
        "X-Api-Key",
        "api_key",
        "Authorization",
        "authorisation",
        "webhook-signature",
        "Cookie",
        "session_id",
        "SessionId",
        "credentials",
        "private_key",
    ]
    for name in names:
        assert redaction.is_secret_key(name), name
        text = json.dumps({"a": {name: "value-1234"}})
        assert "value-1234" not in redaction.redact_json_text(text), name
    # Not ASCII: the pattern's own case folding (a long s is an s) decides.
    text = json.dumps({"paſſword": "value-1234"}, ensure_ascii=False)
    assert "value-1234" not in redaction.redact_json_text(text)


# --- redacted, then cut ----------------------------------------------------------

SECRET = "tok-redaction-5f9a8b7c6d5e4f3a"


def test_a_secret_across_the_cut_is_not_kept_as_a_prefix():
    text = "error: " + "x" * 90 + SECRET + " refused " + "y" * 100
    limit = 100
    # Cut first, the secret's start is kept and no longer recognized.
    assert SECRET[:3] in redaction.redact_text(text[:limit], [SECRET])
    out = redaction.redact_and_cut(text, [SECRET], limit)
    assert len(out) <= limit
    for size in range(3, len(SECRET) + 1):
        assert SECRET[:size] not in out
    assert out.startswith("error: xxx")
    assert out.endswith("…")  # it says it was cut


def test_every_cut_position_leaks_nothing():
    text = "a" * 20 + SECRET + "b" * 20
    for limit in range(1, len(text) + 5):
        out = redaction.redact_and_cut(text, [SECRET], limit)
        assert len(out) <= limit
        assert SECRET[:3] not in out, limit


def test_secret_named_keys_of_long_json_are_masked_before_the_cut():
    text = json.dumps({"access_token": "tok-4a7b9c1d", "items": ["x" * 50] * 40})
    # Whole, the JSON parses: its keys are masked as JSON, not found in text.
    out = redaction.redact_and_cut(text, [], 200)
    assert "tok-4a7b9c1d" not in out and '"access_token": "***"' in out
    assert len(out) <= 200


def test_short_text_is_redacted_and_not_cut():
    assert redaction.redact_and_cut(f"token {SECRET}", [SECRET], 100) == "token ***"
    assert redaction.redact_and_cut('{"id":  1}', [], 100) == '{"id": 1}'
    assert redaction.redact_and_cut("", [SECRET], 10) == ""
    assert redaction.redact_and_cut(None, [SECRET], 10) is None
    # Bytes (an answer as received) are read as stored text first.
    assert redaction.redact_and_cut(SECRET.encode() + b"\x00", [SECRET], 10) == (
        "***\ufffd"
    )


# --- JSON that does not parse, or would not without recursing -----------------------


def test_deeply_nested_json_is_shown_as_text_without_recursion():
    deep = "[" * 100_000 + "]" * 100_000
    assert redaction.pretty_payload(deep) == deep
    assert redaction.redact_json_text(deep) == deep
    assert redaction.redact_and_cut(deep, [], 50) == deep[:49] + "…"


def test_secret_named_string_values_are_masked_in_json_that_does_not_parse():
    cut = '{"order": "EXT-1", "access_token": "tok-4a7b9c1d", "password" : "p\\"w1", "n'
    out = redaction.redact_json_text(cut)
    assert "tok-4a7b9c1d" not in out and 'p\\"w1' not in out
    assert out == ('{"order": "EXT-1", "access_token": "***", "password" : "***", "n')
    deep = "[" * 100 + '{"Authorization": "Bearer abc.def"}' + "]" * 100
    assert "abc.def" not in redaction.pretty_payload(deep)
    assert "abc.def" not in redaction.redact_and_cut(deep, [], 10_000)
    # Plain text that is not JSON is kept as it is.
    assert redaction.redact_json_text("not json token=abc") == "not json token=abc"


def test_escaped_secret_names_are_found_in_json_that_does_not_parse():
    cut = '{"\\u0074oken": "tok-4a7b9c1d", "id": "EXT-1", "\\uZZ": "x", "n'
    out = redaction.redact_json_text(cut)
    assert out == '{"\\u0074oken": "***", "id": "EXT-1", "\\uZZ": "x", "n'
