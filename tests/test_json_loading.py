"""Decoding a delivery once at receipt and loading its JSON safely: UTF-8
only, NUL refused, depth and numbers bounded before they cost time."""

import codecs
import json
import pathlib
from decimal import Decimal

import pytest
from oms_lib import normalize

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "compatible"
MiB = 1 << 20


def _order_body():
    return (FIXTURES / "order_created.json").read_text()


def _compatible(body):
    """parse_compatible, checked to agree with the webhook route's check."""
    full = normalize.parse_compatible(body)
    check = normalize.parse_compatible(body, check_only=True)
    assert [(e.path, e.message) for e in check.errors] == [
        (e.path, e.message) for e in full.errors
    ]
    return full


def _issue(result):
    return [(issue.path, issue.message) for issue in result.errors]


# --- decode_body --------------------------------------------------------------


def test_utf8_bodies_are_decoded_once():
    body = '{"name": "Tạp hóa Minh Anh"}'
    for raw in (body.encode(), bytearray(body.encode()), memoryview(body.encode())):
        assert normalize.decode_body(raw) == (body, None)
    assert normalize.decode_body(body) == (body, None)


def test_a_utf8_byte_order_mark_is_accepted_and_stripped():
    text, issue = normalize.decode_body(codecs.BOM_UTF8 + b'{"a": 1}')
    assert (text, issue) == ('{"a": 1}', None)
    assert normalize.parse_compatible(codecs.BOM_UTF8 + _order_body().encode()).ok


@pytest.mark.parametrize(
    "raw",
    [
        '{"a": 1}'.encode("utf-16"),  # with its byte order mark
        '{"a": 1}'.encode("utf-16-le"),
        '{"a": 1}'.encode("utf-16-be"),
        '{"a": 1}'.encode("utf-32"),
        '{"a": 1}'.encode("utf-32-le"),
        b'{"a": "\xff"}',  # not a UTF-8 sequence
        b'{"a": "\xc0\xaf"}',  # an overlong "/"
        b'{"a": "\xed\xa0\x80"}',  # a surrogate
        b'{"name": "T\xe1p h\xf3a"}',  # Latin-1
        b"\xff\xfe",
    ],
)
def test_bodies_that_are_not_utf8_are_refused(raw):
    text, issue = normalize.decode_body(raw)
    assert text is None
    assert issue.path == "$"
    assert "not UTF-8" in issue.message
    # The parser says the same, rather than reading UTF-16 as json.loads does.
    assert _issue(_compatible(raw)) == [("$", issue.message)]


def test_a_utf16_order_is_refused_though_json_loads_would_read_it():
    raw = _order_body().encode("utf-16")
    assert json.loads(raw)["order"]["id"] == "EXT-1001"
    assert "not UTF-8" in _compatible(raw).errors[0].message


@pytest.mark.parametrize("body", [b'{"a": 1}\x00', '{"a": "b\x00"}', b"\x00"])
def test_a_raw_nul_character_is_refused(body):
    text, issue = normalize.decode_body(body)
    assert text is None and issue.path == "$"
    assert issue.message.startswith(normalize.NUL_MESSAGE)
    assert _issue(_compatible(body))[0][0] == "$"


def test_decode_body_refuses_what_is_not_a_body():
    for body in (None, 42, {"a": 1}):
        assert normalize.decode_body(body) == (
            None,
            normalize.ValidationIssue("$", normalize.NOT_JSON_MESSAGE),
        )


# --- load_json: depth -----------------------------------------------------------


def _nested(depth, opening="[", closing="]"):
    return opening * depth + closing * depth


@pytest.mark.parametrize(
    "text",
    [
        _nested(100_000),
        "[" * MiB,  # never closed
        '{"a":' * 100_000 + "1" + "}" * 100_000,
        "[{" * 50_000 + '"x"' + "}]" * 50_000,
        _nested(normalize.MAX_JSON_DEPTH + 1),
        '{"a":' * (normalize.MAX_JSON_DEPTH + 1) + "1" + "}" * 65,
        # Brackets of both kinds alternate: still one level each.
        '[{"a":' * 33 + "1" + "}]" * 33,
    ],
)
def test_deep_nesting_is_refused_without_recursion(text):
    assert normalize.load_json(text) == (
        None,
        normalize.ValidationIssue("$", normalize.TOO_DEEP_MESSAGE),
    )
    assert _issue(_compatible(text)) == [("$", normalize.TOO_DEEP_MESSAGE)]


def test_nesting_up_to_the_limit_is_read():
    depth = normalize.MAX_JSON_DEPTH
    data, issue = normalize.load_json(_nested(depth))
    assert issue is None
    for _level in range(depth - 1):
        [data] = data
    assert data == []
    text = '[{"a":' * 32 + "1" + "}]" * 32  # arrays and objects: 64 levels
    assert normalize.load_json(text)[1] is None
    # Many containers side by side are not deep.
    wide = json.dumps({"lines": [{"product": {"sku": "x"}}] * 20_000})
    assert normalize.load_json(wide)[1] is None


def test_brackets_inside_strings_do_not_count():
    for text in (
        json.dumps(["[" * 10_000, "{" * 10_000]),
        json.dumps({"note": 'a "quoted" [[[[' * 1000}),
        json.dumps(["\\" * 99 + "[[[[" * 100]),
        json.dumps(["", "[" * 200, "", "x", "]" * 200, "", ""]),
        json.dumps({"": ["", {"": "{" * 100}], "a": '\\"[' * 100}),
    ):
        data, issue = normalize.load_json(text)
        assert issue is None and data == json.loads(text)


def test_brackets_inside_strings_do_not_hide_real_depth():
    depth = normalize.MAX_JSON_DEPTH + 1
    for text in (
        '["]", ' * depth + "1" + "]" * depth,
        '[{"a": "]}", "b": ' * depth + "1" + "}]" * depth,
        '["\\\\", ' * depth + "1" + "]" * depth,  # a string of one backslash
    ):
        assert json.loads(text)  # valid JSON, just too deep
        assert normalize.load_json(text)[1].message == normalize.TOO_DEEP_MESSAGE


def test_a_delivery_with_many_lines_is_read_as_before():
    payload = json.loads(_order_body())
    payload["order"]["lines"] = payload["order"]["lines"] * 200
    body = json.dumps(payload)
    data, issue = normalize.load_json(body)
    assert issue is None and data == json.loads(body)
    assert _compatible(body).ok


# --- load_json: numbers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ('{"a": ' + "1" * (MiB - 10) + "}", "a", "NUMBER_TOO_LONG_MESSAGE"),
        ('{"a": -' + "1" * 4000 + "}", "a", "NUMBER_TOO_LONG_MESSAGE"),
        ('{"a": 1.' + "1" * (MiB - 10) + "}", "a", "NUMBER_TOO_LONG_MESSAGE"),
        ('{"a": 1e' + "9" * (MiB - 10) + "}", "a", "NUMBER_TOO_LONG_MESSAGE"),
        ('{"a": 1E+999999999}', "a", "NOT_FINITE_MESSAGE"),
        ('{"a": -1e999}', "a", "NOT_FINITE_MESSAGE"),
        ('{"a": NaN}', "a", "NOT_FINITE_MESSAGE"),
        ('{"a": [1, Infinity]}', "a[1]", "NOT_FINITE_MESSAGE"),
        ("[1, -Infinity]", "$[1]", "NOT_FINITE_MESSAGE"),
        ("NaN", "$", "NOT_FINITE_MESSAGE"),
        (
            '{"order": {"lines": [{}, {}, {"quantity": 1' + "0" * 5000 + "}]}}",
            "order.lines[2].quantity",
            "NUMBER_TOO_LONG_MESSAGE",
        ),
    ],
)
def test_numbers_too_long_or_not_finite_are_refused_with_their_path(
    text, path, message
):
    expected = normalize.ValidationIssue(path, getattr(normalize, message))
    assert normalize.load_json(text) == (None, expected)
    assert normalize.load_json(text.encode()) == (None, expected)


def test_numbers_up_to_the_length_limit_are_read_as_json_loads_reads_them():
    longest = "1" * normalize.MAX_NUMBER_LENGTH
    text = f"[{longest}, -{longest[1:]}, 0.{longest[2:]}, 1e308, -0, 2.5, 1E-999]"
    assert normalize.load_json(text) == (json.loads(text), None)
    assert normalize.load_json(f"[{longest}1]")[1].path == "$[0]"


def test_a_mebibyte_number_in_an_order_is_refused():
    """A delivery of 1 MiB holding one number is refused (in milliseconds:
    nothing converts the number)."""
    payload = json.loads(_order_body())
    payload["order"]["amount_total"] = 1
    body = json.dumps(payload).replace(
        '"amount_total": 1', '"amount_total": 1' + "0" * MiB
    )
    assert _issue(_compatible(body.encode())) == [
        ("order.amount_total", normalize.NUMBER_TOO_LONG_MESSAGE)
    ]
    body = json.dumps(payload).replace('"amount_total": 1', '"amount_total": 1e999')
    assert _issue(_compatible(body)) == [
        ("order.amount_total", normalize.NOT_FINITE_MESSAGE)
    ]


# --- parse_amount: size ---------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "1E+999999",
        "1E+1000000000",
        "-1e13",
        "9" * 33,
        10**normalize.MAX_INTEGER_DIGITS,
        -(10**normalize.MAX_INTEGER_DIGITS),
        10**4000,
        1e300,
        Decimal("1E+999999"),
        Decimal("0E+999999"),
        "1E-999999",
        "0E-999999",
        Decimal("1e-21"),
    ],
)
def test_amounts_out_of_range_are_refused(value):
    with pytest.raises(normalize.NumberOutOfRange):
        normalize.parse_amount(value)


def test_amounts_within_range_are_read():
    largest = 10**normalize.MAX_INTEGER_DIGITS - 1
    assert normalize.parse_amount(largest) == Decimal(largest)
    assert normalize.parse_amount(str(-largest)) == Decimal(-largest)
    assert normalize.parse_amount("9999999999999.99") == Decimal("9999999999999.99")
    assert normalize.parse_amount(0.30000000000000004) == Decimal("0.30000000000000004")
    assert normalize.parse_amount("1e-20") == Decimal("1e-20")
    assert normalize.parse_amount("1E+3") == Decimal(1000)
    assert normalize.parse_amount("0.00") == Decimal("0.00")


def test_an_amount_out_of_range_is_an_issue_of_its_field():
    payload = json.loads(_order_body())
    line = payload["order"]["lines"][0]
    line["quantity"] = "1E+999999"  # short text, a million digits as an int
    line["price_unit"] = 10**14  # a whole JSON number: read without Decimal
    payload["order"]["shipping_amount"] = "1e-999999"
    result = _compatible(json.dumps(payload))
    assert _issue(result) == [
        ("order.lines[0].quantity", normalize.TOO_LARGE_MESSAGE),
        ("order.lines[0].price_unit", normalize.TOO_LARGE_MESSAGE),
        ("order.shipping_amount", normalize.TOO_PRECISE_MESSAGE),
    ]


def test_field_reader_refuses_amounts_out_of_range():
    reader = normalize.FieldReader()
    assert reader.vnd({"x": "1E+999999"}, "x", "o.x") is None
    assert reader.vnd({"x": "9" * 40}, "x", "o.y") is None
    assert reader.vat_rate("1E+999999", "o.vat") is None
    assert [(issue.path, issue.message) for issue in reader.errors] == [
        ("o.x", normalize.TOO_LARGE_MESSAGE),
        ("o.y", normalize.NUMBER_TOO_LONG_MESSAGE),
        ("o.vat", normalize.FieldReader.VAT_RATE_MESSAGE),
    ]


# --- load_json: NUL characters -----------------------------------------------------


def test_a_nul_escape_is_refused_with_the_path_of_its_value():
    payload = json.loads(_order_body())
    payload["order"]["customer"]["name"] = "Tap hoa\u0000"
    body = json.dumps(payload)
    assert "\\u0000" in body
    expected = normalize.ValidationIssue("order.customer.name", normalize.NUL_MESSAGE)
    assert normalize.load_json(body) == (None, expected)
    assert _issue(_compatible(body)) == [(expected.path, expected.message)]
    payload["order"]["customer"]["name"] = "Tap hoa"
    payload["order"]["lines"][1]["\u0000"] = 1
    assert normalize.load_json(json.dumps(payload))[1] == normalize.ValidationIssue(
        "order.lines[1].\\u0000", normalize.NUL_MESSAGE
    )


def test_an_escaped_backslash_before_u0000_is_not_a_nul():
    text = json.dumps({"note": "C:\\u0000"})  # a backslash, then "u0000"
    assert "\\\\u0000" in text
    assert normalize.load_json(text) == ({"note": "C:\\u0000"}, None)
    text = json.dumps({"note": "\\\u0000"})  # a backslash, then a NUL
    assert normalize.load_json(text)[1].path == "note"


def test_nul_escapes_may_be_left_to_the_caller():
    text = json.dumps([{"id": "A"}, {"id": "B\u0000"}])
    data, issue = normalize.load_json(text, refuse_nul=False)
    assert issue is None and data == json.loads(text)
    assert normalize.has_nul_escape(text)
    assert normalize.find_nul(data[0], "$[0]") is None
    assert normalize.find_nul(data[1], "$[1]") == normalize.ValidationIssue(
        "$[1].id", normalize.NUL_MESSAGE
    )
    assert normalize.find_nul("\u0000") == normalize.ValidationIssue(
        "$", normalize.NUL_MESSAGE
    )


def test_paths_show_keys_that_cannot_be_shown_as_they_are():
    assert normalize.json_path("", "type") == "type"
    assert normalize.json_path("$", "type") == "type"
    assert normalize.json_path("", 0) == "$[0]"
    assert normalize.json_path("order.lines", 2) == "order.lines[2]"
    assert normalize.json_path("order", "a\nb") == "order.a\\nb"
    assert normalize.json_path("order", "k" * 1000) == "order." + "k" * 64 + "…"
