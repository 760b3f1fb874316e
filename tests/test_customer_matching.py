"""The values a customer is matched on, normalized so that exact equality
finds the same customer however the provider wrote them."""

import pytest
from oms_lib import normalize

# --- e-mail ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("minhanh@example.com", "minhanh@example.com"),
        ("  MinhAnh@Example.COM \n", "minhanh@example.com"),
        ("TAPHOA@EXAMPLE.VN", "taphoa@example.vn"),
        ("", None),
        ("   ", None),
        (None, None),
        (False, None),
        ({"email": "a@b.c"}, None),
    ],
)
def test_normalize_email(value, expected):
    assert normalize.normalize_email(value) == expected


# --- tax code (mã số thuế) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0312345678", "0312345678"),
        (" 0312 345 678 ", "0312345678"),
        ("0312.345.678", "0312345678"),
        ("0312345678-001", "0312345678001"),  # a branch
        ("vn0312345678", "VN0312345678"),
        (312345678, "312345678"),
        ("", None),
        (" - . ", None),
        (None, None),
        (True, None),
    ],
)
def test_normalize_vat(value, expected):
    assert normalize.normalize_vat(value) == expected


# --- phone ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "0901234567",
        "+84901234567",
        "84 901 234 567",
        "(090) 123-4567",
        "090.123.4567",
        " 0901 234 567 ",
        "+84 (0) 901 234 567",  # the trunk 0 written after the country code
        "0084901234567",
        "+84-90-123-4567",
        901234567,  # a spreadsheet dropped the leading 0
        "901234567",
    ],
)
def test_vietnamese_mobile_numbers_are_one_number(value):
    assert normalize.normalize_phone(value) == "+84901234567"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("028 3822 1234", "+842838221234"),  # a Ho Chi Minh City landline
        ("(024) 3825-1234", "+842438251234"),
        ("+84 24 3825 1234", "+842438251234"),
        ("0389 999 999", "+84389999999"),
        ("+65 6123 4567", "+6561234567"),  # another country, written in full
        ("0065 6123 4567", "+6561234567"),
    ],
)
def test_other_phone_numbers(value, expected):
    assert normalize.normalize_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "abc",
        "090 123 456a",
        "0901234567 ext. 12",
        "123",
        "090123456",  # one digit short
        "09012345678",  # one digit too many for a mobile number
        "0123456789",  # an old 11-digit prefix, retired in 2018
        "1900 1234",  # a service number, not a customer's phone
        "+84 123",
        "+",
        "+0901234567",
        "++84901234567",
        "+84901234567+",
        "0901234567 / 0907654321",  # two numbers: which one?
        "+1234567890123456",  # longer than E.164 allows
        True,
        12.5,
        ["0901234567"],
        "٠٩٠١٢٣٤٥٦٧",  # digits, but not ASCII ones
    ],
)
def test_what_is_not_a_phone_number_is_none(value):
    assert normalize.normalize_phone(value) is None


def test_national_numbers_of_another_default_country_are_not_guessed():
    assert normalize.normalize_phone("+84901234567", default_country="TH") == (
        "+84901234567"
    )
    assert normalize.normalize_phone("0812345678", default_country="TH") is None
    assert normalize.normalize_phone("0901234567", default_country="vn") == (
        "+84901234567"
    )
