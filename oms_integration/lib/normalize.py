"""The normalized order every provider adapter produces, and the parser of the
canonical ("compatible") payload of the inbound webhook contract.

Adapters turn their own format into these plain dataclasses before any Odoo
data is touched; invalid input gives :class:`ValidationIssue` objects with
field paths (``order.lines[1].quantity``), all of them, not only the first.

Where the contract is silent, the compatible parser decides:

- amounts are JSON numbers or numeric strings (``"250000.50"``), read through
  ``Decimal(str(x))``; booleans, NaN, infinities and other text are refused;
- ``price_unit`` is required on every line, as the contract lists it; a free
  line (``is_free: true``) must carry ``price_unit: 0``, a price on it is an
  error rather than silently dropped;
- a cancellation still names its customer and currency (they are listed as
  required) but may have no lines;
- date-times need a time zone (``Z`` or an offset); a bare date is midnight
  UTC; a naive date-time is refused, its time zone would be a guess;
- numeric tax rates are written without trailing zeros (``8.0`` -> ``"8"``)
  so they match tax mappings; other rates (``"KCT"``) are kept as text;
- ``shipping_address`` (contract 1.1) is optional (null or absent); when
  sent it is an object with an ``id`` (the provider's address id) or at
  least one address field (``street``, ``street2``, ``city``, ``zip``,
  ``state_code``, ``country_code``), else it is an error at
  ``order.shipping_address`` ("needs an id or an address"). Its ``name``,
  ``phone`` and ``email`` are optional too. The state is ``state_code`` (the
  contract's key), or ``state`` when ``state_code`` is not given, and goes
  to ``NormalizedCustomer.state``; ``country_code`` is upper-cased. Its
  text fields must be text (or numbers), not objects, lists or booleans;
- a line's ``uom``, ``warehouse`` and ``promotion_code`` are codes, like
  the ids: stripped, NFC, at most :data:`MAX_ID_LENGTH` characters;
- ``NormalizedOrder.pricelist_code`` is the provider's price list (customer
  group) code; the canonical format has none, so it stays empty here.
"""

import codecs
import json
import math
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

EVENT_TYPES = ("order.created", "order.updated", "order.cancelled")

# --- limits of what a delivery may hold (our decisions; the contract only
# bounds the body, 1 MiB by default) ------------------------------------------

# Arrays and objects nested deeper than this are refused before json.loads
# (which recurses): no order needs more than a handful of levels.
MAX_JSON_DEPTH = 64
# A JSON number or a numeric string longer than this is refused before it is
# converted (int() and Decimal() of thousands of digits take time).
MAX_NUMBER_LENGTH = 32
# An amount or a quantity is below 10**13 (ten trillion đồng): a quantity
# times a price then stays within Decimal's 28 digits, which quantize()
# needs, and every accepted number converts to an Odoo float exactly enough.
MAX_INTEGER_DIGITS = 13
# A float's repr has at most 17 significant digits (0.30000000000000004).
MAX_FRACTION_DIGITS = 20
# Ids and codes the database indexes and compares (webhook-id, order id,
# customer id, product id and SKU, the codes of the Mapping Center): the
# contract sets no length, this is ours.
MAX_ID_LENGTH = 255
DELIVERY_ID_PATH = "headers.webhook-id"


@dataclass
class ValidationIssue:
    path: str
    message: str

    def as_dict(self):
        return {"path": self.path, "message": self.message}


@dataclass
class NormalizedCustomer:
    external_id: str
    name: str
    phone: str = ""
    email: str = ""
    vat: str = ""
    street: str = ""
    street2: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country_code: str = ""


@dataclass
class NormalizedLine:
    external_id: str
    product_external_id: str
    sku: str
    product_name: str
    quantity: Decimal
    # None: no price given, use the pricelist's.
    price_unit: Decimal | None
    discount_amount: Decimal = Decimal(0)
    tax_rate: str | None = None
    is_free: bool = False
    promotion_code: str = ""
    uom_name: str = ""
    warehouse_code: str = ""
    note: str = ""


@dataclass
class NormalizedOrder:
    event_type: str
    external_id: str
    name: str = ""
    updated_at: datetime | None = None
    date_order: datetime | None = None
    commitment_date: datetime | None = None
    currency: str = ""
    customer: NormalizedCustomer | None = None
    shipping_address: NormalizedCustomer | None = None
    salesperson_code: str = ""
    salesperson_name: str = ""
    # The provider's carrier code (Mapping Center, kind carrier), if any.
    carrier_code: str = ""
    # The provider's price list or customer group code, if any (Mobiwork's
    # ma_nhom, Cloudify's pricelist_code); the canonical format has none.
    pricelist_code: str = ""
    # None only from a check (``parse_compatible(check_only=True)``): the
    # lines were checked, not built.
    lines: list[NormalizedLine] | None = field(default_factory=list)
    shipping_amount: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    amount_total: Decimal | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class ParseResult:
    orders: list[NormalizedOrder] = field(default_factory=list)
    errors: list[ValidationIssue] = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


@dataclass
class DeliveryItem:
    """One order of a delivery, to be stored as an event of its own.

    ``raw`` is what the event keeps as its payload and what the provider's
    parser gets again when the queue processes it: the whole delivery when it
    carries one order, that order alone when it carries several (so that one
    invalid order never blocks the valid ones).
    """

    raw: str
    result: ParseResult
    index: int = 0
    external_id: str | None = None


# --- decoding and loading a delivery -----------------------------------------

NOT_JSON_MESSAGE = "the body is not valid JSON"
NOT_UTF8_MESSAGE = (
    "the body is not UTF-8 text: send the JSON encoded in UTF-8 (RFC 8259)"
)
NUL_MESSAGE = (
    "contains a NUL character (U+0000), which cannot be stored: remove it, "
    "then send the delivery again"
)
TOO_DEEP_MESSAGE = f"nests arrays or objects more than {MAX_JSON_DEPTH} levels deep"
NUMBER_TOO_LONG_MESSAGE = f"is a number of more than {MAX_NUMBER_LENGTH} characters"
NOT_FINITE_MESSAGE = "must be a finite number (not NaN or Infinity)"

# Every byte but quotes and brackets, deleted by _too_deep.
_NOT_QUOTE_OR_BRACKET = bytes(set(range(256)) - set(b'"[]{}'))
# Brackets as parentheses: their kind does not change the depth.
_AS_PARENTHESES = bytes.maketrans(b"[{]}", b"(())")
_TOO_DEEP_RUN = b"(" * (MAX_JSON_DEPTH + 1)


def decode_body(body):
    """A delivery's body as text, once, at receipt: ``(text, None)``, or
    ``(None, issue)`` with a :class:`ValidationIssue` at ``$``.

    - ``bytes`` (``bytearray``, ``memoryview``) must be strict UTF-8 (RFC
      8259). A UTF-8 byte order mark is accepted and stripped (as
      ``json.loads`` does with bytes); a UTF-16 or UTF-32 body, with or
      without its mark, and any invalid byte sequence give
      :data:`NOT_UTF8_MESSAGE`.
    - ``str`` is taken as it is.
    - A NUL character (U+0000) anywhere is refused (:data:`NUL_MESSAGE`,
      with its position): PostgreSQL cannot store it in text. The same rule
      holds for ``\\u0000`` escapes inside JSON strings, refused by
      :func:`load_json` with the path of the value.
    - ``None`` or any other type is :data:`NOT_JSON_MESSAGE`.
    """
    if isinstance(body, bytearray | memoryview):
        body = bytes(body)
    if isinstance(body, bytes):
        if body.startswith(codecs.BOM_UTF8):
            body = body[len(codecs.BOM_UTF8) :]
        elif json.detect_encoding(body) != "utf-8":
            # A UTF-16 or UTF-32 mark, or NUL bytes among the first four (JSON
            # starts with an ASCII character), as json.loads reads bytes.
            return None, ValidationIssue("$", NOT_UTF8_MESSAGE)
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return None, ValidationIssue("$", NOT_UTF8_MESSAGE)
    elif not isinstance(body, str):
        return None, ValidationIssue("$", NOT_JSON_MESSAGE)
    position = body.find("\x00")
    if position >= 0:
        return None, ValidationIssue("$", f"{NUL_MESSAGE} (character {position + 1})")
    return body, None


def _too_deep(text):
    """Whether ``text`` nests arrays or objects deeper than
    :data:`MAX_JSON_DEPTH`, told without recursion and without a Python loop
    over its characters: the brackets outside strings, then the innermost
    pairs removed once per level. Text that is not JSON may be told either
    way: json.loads refuses it after (without recursing much deeper than
    the bound)."""
    if "\\" in text:
        # Escaped backslashes, then escaped quotes: what is left of a
        # backslash can no longer hide the quote that ends a string.
        text = text.replace("\\\\", "").replace('\\"', "")
    quotes_and_brackets = text.encode("utf-8", "surrogatepass").translate(
        None, _NOT_QUOTE_OR_BRACKET
    )
    opening = quotes_and_brackets.count(b"[") + quotes_and_brackets.count(b"{")
    if opening <= MAX_JSON_DEPTH:
        return False  # the common case: too few brackets to be too deep
    # Two quotes side by side hold no bracket between them, inside a string
    # or outside: dropped, the others still alternate (start, end, start).
    quoted = quotes_and_brackets.replace(b'""', b"")
    # Strings alternate with what is outside them: keep the even parts.
    brackets = b"".join(quoted.split(b'"')[::2]) if b'"' in quoted else quoted
    brackets = brackets.translate(_AS_PARENTHESES)
    for _level in range(MAX_JSON_DEPTH):
        if _TOO_DEEP_RUN in brackets:
            return True
        shorter = brackets.replace(b"()", b"")
        if not shorter or len(shorter) == len(brackets):
            return False  # every level removed, or what is left is not JSON
        brackets = shorter
    return True


class _RefusedNumber:
    """What the number hooks of :func:`load_json` put in place of a number
    they refuse, so that the refusal is reported with the value's path."""

    __slots__ = ("message",)

    def __init__(self, message):
        self.message = message


def _number_hooks():
    """``(parse_int, parse_float, parse_constant, refused)`` for one
    ``json.loads``; ``refused`` is a list, not empty once a number was."""
    refused = []

    def refuse(message):
        number = _RefusedNumber(message)
        refused.append(number)
        return number

    def parse_int(token):
        if len(token) > MAX_NUMBER_LENGTH:
            return refuse(NUMBER_TOO_LONG_MESSAGE)
        return int(token)

    def parse_float(token):
        if len(token) > MAX_NUMBER_LENGTH:
            return refuse(NUMBER_TOO_LONG_MESSAGE)
        number = float(token)
        if not math.isfinite(number):  # 1e999 is read as infinity
            return refuse(NOT_FINITE_MESSAGE)
        return number

    def parse_constant(token):  # NaN, Infinity, -Infinity
        return refuse(NOT_FINITE_MESSAGE)

    return parse_int, parse_float, parse_constant, refused


def json_path(prefix, key):
    """The path of ``key`` (an object's key, or an int: an array's index)
    under ``prefix``, as the parsers write them: ``order.lines[0].sku``;
    at the root ``type``, or ``$[0]`` for an array. A key that could not be
    shown as it is (control characters, very long) is escaped and cut."""
    if isinstance(key, int):
        return f"{prefix or '$'}[{key}]"
    key = str(key)
    if len(key) > 64:
        key = key[:64] + "…"
    if not key.isprintable():
        key = json.dumps(key, ensure_ascii=False)[1:-1]
    return f"{prefix}.{key}" if prefix and prefix != "$" else key


def _find(data, matches, prefix=""):
    """The path of the first value (or object key, at its value's path)
    under ``data`` for which ``matches`` is true, depth first, or None.
    Without recursion; a path is only written out for the one found."""
    stack = [(data, None)]
    while stack:
        value, trail = stack.pop()
        if matches(value):
            return _trail_path(trail, prefix)
        if isinstance(value, dict):
            for key in value:
                if matches(key):
                    return _trail_path((trail, key), prefix)
            stack.extend((item, (trail, key)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend(
                (value[index], (trail, index)) for index in reversed(range(len(value)))
            )
    return None


def _trail_path(trail, prefix):
    keys = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    path = prefix
    for key in reversed(keys):
        path = json_path(path, key)
    return path or "$"


def _holds_nul(value):
    return isinstance(value, str) and "\x00" in value


def _is_refused_number(value):
    return isinstance(value, _RefusedNumber)


def has_nul_escape(text):
    """Whether the JSON ``text`` holds a ``\\u0000`` escape (a NUL inside a
    string), told from the text alone."""
    position = text.find("\\u0000")
    while position >= 0:
        # An escape when preceded by an even number of backslashes: "\\\\u0000"
        # is a backslash followed by the text u0000.
        start = position
        while start and text[start - 1] == "\\":
            start -= 1
        if (position - start) % 2 == 0:
            return True
        position = text.find("\\u0000", position + 1)
    return False


def find_nul(data, prefix=""):
    """A :class:`ValidationIssue` at the first value (or object key) of the
    decoded JSON ``data`` holding a NUL character, or None. ``prefix``
    starts the paths (``"data[1]"`` gives ``data[1].ten_kh``). A parser of
    several orders per delivery calls it per order, after
    ``load_json(..., refuse_nul=False)``, when :func:`has_nul_escape` says
    there is one: the other orders still go through."""
    path = _find(data, _holds_nul, prefix)
    return None if path is None else ValidationIssue(path, NUL_MESSAGE)


def load_json(text, refuse_nul=True):
    """Decode one JSON document safely: ``(data, None)``, or ``(None,
    issue)`` with one :class:`ValidationIssue`.

    ``text`` is ``str``, or bytes first read by :func:`decode_body` (its
    issues come back as they are). Refused, fast, whatever the body's size:

    - not JSON (:data:`NOT_JSON_MESSAGE`, path ``$``);
    - arrays or objects nested deeper than :data:`MAX_JSON_DEPTH`
      (``$``), checked before ``json.loads``, which recurses;
    - a number written with more than :data:`MAX_NUMBER_LENGTH` characters,
      one too large for a float (``1e999``), ``NaN`` and ``Infinity``: the
      issue names the value's path (``order.lines[0].quantity``). The
      numbers kept are ``int`` and ``float``, as ``json.loads`` gives them;
      :func:`parse_amount` bounds an amount's size with its field's path;
    - a NUL character, raw (``$``) or as a ``\\u0000`` escape (the path of
      the value or key holding it), unless ``refuse_nul`` is false: then a
      parser of several orders checks each one with :func:`find_nul`.
    """
    if not isinstance(text, str):
        text, issue = decode_body(text)
        if issue:
            return None, issue
    elif "\x00" in text:
        return decode_body(text)
    if _too_deep(text):
        return None, ValidationIssue("$", TOO_DEEP_MESSAGE)
    parse_int, parse_float, parse_constant, refused = _number_hooks()
    try:
        data = json.loads(
            text,
            parse_int=parse_int,
            parse_float=parse_float,
            parse_constant=parse_constant,
        )
    except RecursionError:  # not JSON in a way _too_deep let through
        return None, ValidationIssue("$", TOO_DEEP_MESSAGE)
    except ValueError:
        return None, ValidationIssue("$", NOT_JSON_MESSAGE)
    if refused:
        # Found in the order json.loads read them: refused[0] is that one.
        path = _find(data, _is_refused_number)
        return None, ValidationIssue(path, refused[0].message)
    if refuse_nul and has_nul_escape(text):
        issue = find_nul(data)
        if issue:
            return None, issue
    return data, None


ID_TOO_LONG_MESSAGE = (
    f"is longer than {MAX_ID_LENGTH} characters: an id or a code is kept "
    "and compared as it is, so it cannot be cut"
)


def check_delivery_id(value):
    """None when ``value``, the delivery's ``webhook-id`` header (or None
    when it has none), can be stored and compared as the delivery's id;
    else a :class:`ValidationIssue` at :data:`DELIVERY_ID_PATH`: longer than
    :data:`MAX_ID_LENGTH` characters, or holding a control character (NUL,
    a line break ...). An empty or missing id is not checked here: whether
    it is required is the signature scheme's decision (Standard Webhooks
    refuses a delivery without one)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return ValidationIssue(DELIVERY_ID_PATH, "must be text")
    if len(value) > MAX_ID_LENGTH:
        return ValidationIssue(DELIVERY_ID_PATH, ID_TOO_LONG_MESSAGE)
    if not value.isprintable():
        return ValidationIssue(
            DELIVERY_ID_PATH,
            "must not contain control characters (NUL, line breaks) or other "
            "invisible ones",
        )
    return None


def text(value):
    """Stripped text in Unicode NFC (Vietnamese arrives as NFC or NFD),
    without NUL characters (meaningless in a name or a code, and refused by
    PostgreSQL)."""
    if value is None:
        return ""
    value = str(value)
    # ASCII text is NFC already: normalizing it would only cost time.
    if not value.isascii():
        value = unicodedata.normalize("NFC", value)
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value.strip()


# --- the values a customer is matched on (exact equality, once normalized) --

# Deleted from a tax code or a phone number: the ways people group digits.
_DIGIT_GROUPING = str.maketrans("", "", " \t\u00a0.-")
_PHONE_GROUPING = str.maketrans("", "", " \t\u00a0.-()")
# Country calling codes of the countries whose national numbers are read.
COUNTRY_CALLING_CODES = {"VN": "84"}


def normalize_email(value):
    """An e-mail address as compared: stripped, lower-case (NFC); None when
    empty or not text. Nothing else is checked or changed."""
    if not isinstance(value, str):
        return None
    return text(value).lower() or None


def normalize_vat(value):
    """A tax code (mã số thuế) as compared: spaces, dots and dashes removed,
    upper-case (``"0312.345.678-001"`` is ``"0312345678001"``, ``"vn 0312"``
    is ``"VN0312"``); None when nothing is left or not text (an int is read
    as its digits)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return text(value).translate(_DIGIT_GROUPING).upper() or None


def _vietnam_number(national):
    """``+84`` and the national significant number of a Vietnamese mobile
    (9 digits from 3, 5, 7, 8 or 9) or landline (10 digits from 2) number,
    or None. One trunk 0 is dropped (``+84 (0) 90 ...``)."""
    if national.startswith("0"):
        national = national[1:]
    mobile = len(national) == 9 and national[0] in "35789"
    landline = len(national) == 10 and national[0] == "2"
    return "+84" + national if mobile or landline else None


def normalize_phone(value, default_country="VN"):
    """A phone number in E.164 (``+84901234567``), or None when ``value``
    is not one phone number.

    ``0901234567``, ``+84901234567``, ``0084 901 234 567``, ``84 901 234
    567``, ``(090) 123-4567`` and ``901234567`` (a spreadsheet dropped the 0)
    all give ``+84901234567``: spaces, dots, dashes and parentheses are
    dropped; ``+`` or ``00`` starts an international number. A Vietnamese
    number must be a mobile (9 digits after 0 or +84, from 3, 5, 7, 8 or 9)
    or a landline (10 digits, from 2) number; another country's number is
    taken as written in full (8 to 15 digits after its ``+``). A national
    number is only read for ``default_country`` VN (the one whose rules are
    known here); text with letters, several numbers or other signs is None.
    """
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    compact = text(value).translate(_PHONE_GROUPING)
    international = compact.startswith(("+", "00"))
    digits = compact[1:] if compact.startswith("+") else compact
    if compact.startswith("00"):
        digits = compact[2:]
    if not (digits.isascii() and digits.isdigit()):
        return None
    vietnam = COUNTRY_CALLING_CODES["VN"]
    if international:
        if digits.startswith(vietnam):
            return _vietnam_number(digits[len(vietnam) :])
        if digits.startswith("0") or not 8 <= len(digits) <= 15:
            return None
        return "+" + digits
    if (default_country or "").upper() != "VN":
        return None
    if digits.startswith(vietnam) and len(digits) in (11, 12):
        return _vietnam_number(digits[len(vietnam) :])  # 84 without its +
    return _vietnam_number(digits)


def storable_text(data):
    """A delivery or an answer as text a database column can hold: bytes
    decoded as UTF-8, and what cannot be kept (bytes that are not UTF-8, NUL
    characters, which PostgreSQL refuses) as U+FFFD."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    return data.replace("\x00", "\ufffd")


def parse_datetime(value):
    """An ISO 8601 date-time (``Z`` or an offset) as an aware UTC datetime.

    A bare date is midnight UTC. Raises ValueError on anything else, and on a
    naive date-time (its time zone would be a guess).
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        if raw.endswith(("Z", "z")):
            raw = raw[:-1] + "+00:00"
        if len(raw) == 10:
            parsed = datetime.fromisoformat(raw).replace(tzinfo=timezone.utc)
        else:
            parsed = datetime.fromisoformat(raw)
    else:
        raise ValueError("not a date-time")
    if parsed.tzinfo is None:
        raise ValueError("a date-time needs a time zone (Z or +07:00)")
    return parsed.astimezone(timezone.utc)


class NumberOutOfRange(ValueError):
    """A number :func:`parse_amount` refuses for its size; its text is the
    message for the field's issue (``must be less than ...``)."""


_INTEGER_LIMIT = 10**MAX_INTEGER_DIGITS
TOO_LARGE_MESSAGE = f"must be less than {_INTEGER_LIMIT} in absolute value"
TOO_PRECISE_MESSAGE = f"must have at most {MAX_FRACTION_DIGITS} decimals"


def parse_amount(value):
    """A decimal amount from a JSON number or a numeric string; ValueError else.

    :class:`NumberOutOfRange` (a ValueError) when the number, however
    written, has :data:`MAX_INTEGER_DIGITS` digits or more before the
    decimal point or more than :data:`MAX_FRACTION_DIGITS` after it, or its
    text more than :data:`MAX_NUMBER_LENGTH` characters: ``"1E+999999"`` is
    short, but the int or the product it would become is not.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if type(value) is int:
        if -_INTEGER_LIMIT < value < _INTEGER_LIMIT:
            return Decimal(value)  # exact, as its text would be
        raise NumberOutOfRange(TOO_LARGE_MESSAGE)
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))  # 0.1 is "0.1", not its binary expansion
    elif isinstance(value, str) and value.strip():
        raw = value.strip()
        if len(raw) > MAX_NUMBER_LENGTH:
            raise NumberOutOfRange(NUMBER_TOO_LONG_MESSAGE)
        try:
            number = Decimal(raw)
        except InvalidOperation as exc:
            raise ValueError("not a number") from exc
    else:
        raise ValueError("not a number")
    if not number.is_finite():
        raise ValueError("not a finite number")
    exponent = number.as_tuple().exponent
    if exponent > MAX_INTEGER_DIGITS or (
        number and number.adjusted() >= MAX_INTEGER_DIGITS
    ):
        raise NumberOutOfRange(TOO_LARGE_MESSAGE)
    if exponent < -MAX_FRACTION_DIGITS:
        raise NumberOutOfRange(TOO_PRECISE_MESSAGE)
    return number


def number_error(exc, message="must be a number"):
    """The message of an issue for the ValueError of :func:`parse_amount`:
    its own for a number out of range, else ``message``."""
    return str(exc) if isinstance(exc, NumberOutOfRange) else message


def present(data, key):
    """Whether ``key`` of ``data`` holds something: absent, null and "" (or
    blanks) are nothing."""
    value = data.get(key)
    return value is not None and not (isinstance(value, str) and not value.strip())


class FieldReader:
    """Reads values out of a provider's JSON while collecting every problem
    with its path, so that one answer lists them all.

    The provider parsers subclass it with their own rules (dates, flags,
    quantities); what is the same for all of them is here. ``NOT_TEXT``: the
    JSON types refused where text is expected.
    """

    NOT_TEXT = (bool, dict, list)
    VAT_RATE_MESSAGE = "must be a VAT rate: 10, 8, 5, 0 or KCT"

    def __init__(self):
        self.errors = []

    def error(self, path, message):
        self.errors.append(ValidationIssue(path, message))

    def text(self, data, key, path, required=False):
        raw = data.get(key)
        if isinstance(raw, self.NOT_TEXT):
            self.error(path, "must be text")
            return ""
        value = text(raw)
        if required and not value:
            self.error(path, "is required")
        return value

    def code(self, data, key, path, required=False):
        """Text that is an id or a code (the database indexes and compares
        it): as :meth:`text`, and at most :data:`MAX_ID_LENGTH` characters
        (a longer one is an error, and "")."""
        value = self.text(data, key, path, required)
        if len(value) > MAX_ID_LENGTH:
            self.error(path, ID_TOO_LONG_MESSAGE)
            return ""
        return value

    def vnd(self, data, key, path, default=None):
        """A whole, non-negative amount of đồng; ``default`` when empty."""
        if not present(data, key):
            return default
        try:
            amount = parse_amount(data[key])
        except ValueError as exc:
            self.error(path, number_error(exc, "must be an amount in đồng"))
            return default
        if amount != amount.to_integral_value():
            self.error(path, "must be a whole number of đồng (VND has no decimals)")
            return default
        if amount < 0:
            self.error(path, "must be 0 or more")
            return default
        return Decimal(int(amount))

    def vat_rate(self, value, path):
        """A VAT rate as the core's text (8, 8.0 and "8.00" are all "8"; a
        category such as KCT, not subject to VAT, in capitals), or None
        after recording why not."""
        if isinstance(value, bool | dict | list):
            self.error(path, self.VAT_RATE_MESSAGE)
            return None
        raw = text(value).rstrip("%").strip()
        try:
            rate = parse_amount(raw)
        except ValueError:
            if raw.isascii() and raw.isalpha():
                return raw.upper()
            self.error(path, self.VAT_RATE_MESSAGE)
            return None
        if not 0 <= rate <= 100:
            self.error(path, "must be a rate between 0 and 100 (or KCT)")
            return None
        return f"{rate.normalize():f}"


class _Collector:
    """Reads values out of a JSON object while collecting every problem.

    ``where`` is the path of the object read; a value's path (``where.key``)
    is only written out for an error. ``check_only``: the values are checked
    and not kept, so a whole JSON number is not made a ``Decimal``.
    """

    def __init__(self, check_only=False):
        self.errors = []
        self.check_only = check_only

    def error(self, path, message):
        self.errors.append(ValidationIssue(path, message))

    def required_text(self, data, key, where):
        raw = data.get(key) if isinstance(data, dict) else None
        if isinstance(raw, bool | dict | list):
            self.error(f"{where}.{key}", "must be text")
            return ""
        value = text(raw)
        if not value:
            self.error(f"{where}.{key}", "is required")
        return value

    def amount(self, data, key, where, default=None, minimum=None, strict_min=False):
        raw = data.get(key) if isinstance(data, dict) else None
        if raw is None:
            return default
        if (
            type(raw) is int
            and self.check_only
            and -_INTEGER_LIMIT < raw < _INTEGER_LIMIT
        ):
            number = raw  # an exact whole number (not a bool): nothing to parse
        else:
            try:
                number = parse_amount(raw)
            except ValueError as exc:
                self.error(f"{where}.{key}", number_error(exc))
                return default
        if minimum is not None and (
            number <= minimum if strict_min else number < minimum
        ):
            self.error(
                f"{where}.{key}",
                f"must be greater than {minimum}"
                if strict_min
                else f"must be {minimum} or more",
            )
        return number

    def code(self, value, where, key):
        """``value`` (text already read) when it fits an indexed id or code,
        else "" after recording why (:data:`MAX_ID_LENGTH`) at
        ``where.key``."""
        if len(value) > MAX_ID_LENGTH:
            self.error(f"{where}.{key}", ID_TOO_LONG_MESSAGE)
            return ""
        return value

    def check_codes(self, data, keys, where):
        """The checks of :meth:`code` on ``data``'s ``keys``, for a check
        that does not keep them: ASCII text within the bound is not even
        read as text (text() would only strip it)."""
        for key in keys:
            raw = data.get(key)
            if raw is not None and not (
                type(raw) is str and len(raw) <= MAX_ID_LENGTH and raw.isascii()
            ):
                self.code(text(raw), where, key)

    def when(self, data, key, where):
        if not isinstance(data, dict) or data.get(key) in (None, ""):
            return None
        try:
            return parse_datetime(data[key])
        except (TypeError, ValueError):
            self.error(
                f"{where}.{key}", "must be an ISO 8601 date-time with a time zone"
            )
            return None


def _customer(collector, data, path, required=True, build=True):
    if data is None and not required:
        return None
    if not isinstance(data, dict):
        message = "is required (an object)" if data is None else "must be an object"
        collector.error(path, message)
        return None
    if required:
        external_id = collector.required_text(data, "id", path)
        name = collector.required_text(data, "name", path)
    else:
        external_id, name = text(data.get("id")), text(data.get("name"))
    external_id = collector.code(external_id, path, "id")
    if not build:
        return None
    return NormalizedCustomer(
        external_id=external_id,
        name=name,
        phone=text(data.get("phone")),
        email=text(data.get("email")),
        vat=text(data.get("vat")),
        street=text(data.get("street")),
        street2=text(data.get("street2")),
        city=text(data.get("city")),
        state=text(data.get("state")),
        zip=text(data.get("zip")),
        country_code=text(data.get("country_code")).upper(),
    )


# The fields of a delivery address besides its id: without an id, one of
# them must be given (``state`` is read when ``state_code`` is not).
SHIPPING_ADDRESS_FIELDS = (
    "street",
    "street2",
    "city",
    "zip",
    "state_code",
    "country_code",
)
_SHIPPING_ADDRESS_TEXT = (
    "id",
    "name",
    "phone",
    "email",
    *SHIPPING_ADDRESS_FIELDS,
    "state",
)
SHIPPING_ADDRESS_EMPTY_MESSAGE = "needs an id or an address"


def _shipping_address(collector, data, path, build=True):
    """The order's ``shipping_address`` (contract 1.1): None when absent or
    null, else a ``NormalizedCustomer`` (None too when only checked)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        collector.error(path, "must be an object")
        return None
    values = {}
    for key in _SHIPPING_ADDRESS_TEXT:
        raw = data.get(key)
        if isinstance(raw, bool | dict | list):
            collector.error(f"{path}.{key}", "must be text")
            raw = None
        values[key] = text(raw)
    state = values.pop("state")
    values["state_code"] = values["state_code"] or state
    if not values["id"] and not any(values[key] for key in SHIPPING_ADDRESS_FIELDS):
        collector.error(path, SHIPPING_ADDRESS_EMPTY_MESSAGE)
    external_id = collector.code(values["id"], path, "id")
    if not build:
        return None
    return NormalizedCustomer(
        external_id=external_id,
        name=values["name"],
        phone=values["phone"],
        email=values["email"],
        street=values["street"],
        street2=values["street2"],
        city=values["city"],
        state=values["state_code"],
        zip=values["zip"],
        country_code=values["country_code"].upper(),
    )


def _tax_rate(value):
    """``8``, ``8.0`` and ``"8.00"`` are all ``"8"``; ``"KCT"`` stays text."""
    try:
        rate = parse_amount(value)
    except ValueError:
        return text(value)
    return f"{rate.normalize():f}"


# The codes of a line the Mapping Center looks up (and its id): bounded.
_LINE_CODES = ("id", "uom", "warehouse", "promotion_code")


def _line(collector, data, path, index, build=True):
    """One line of an order: a ``NormalizedLine``, or None when it is not an
    object or when only checked (``build`` false: the same checks, nothing
    built)."""
    if not isinstance(data, dict):
        collector.error(path, "must be an object")
        return None
    product = data.get("product")
    product_id = sku = ""
    if not isinstance(product, dict):
        collector.error(f"{path}.product", "is required (an object with id or sku)")
    else:
        product_id, sku = text(product.get("id")), text(product.get("sku"))
        if not product_id and not sku:
            collector.error(f"{path}.product", "needs an id or a sku")
        product_id = collector.code(product_id, f"{path}.product", "id")
        sku = collector.code(sku, f"{path}.product", "sku")
    quantity = collector.amount(data, "quantity", path, minimum=0, strict_min=True)
    if quantity is None and data.get("quantity") is None:
        collector.error(f"{path}.quantity", "is required")
    price = collector.amount(data, "price_unit", path, minimum=0)
    if price is None and data.get("price_unit") is None:
        collector.error(f"{path}.price_unit", "is required")
    discount = collector.amount(data, "discount_amount", path, Decimal(0), minimum=0)
    is_free = data.get("is_free", False)
    if not isinstance(is_free, bool):
        collector.error(f"{path}.is_free", "must be true or false")
        is_free = False
    if is_free and price:
        collector.error(f"{path}.price_unit", "must be 0 on a free line")
    tax_rate = data.get("tax_rate")
    if isinstance(tax_rate, bool | dict | list):
        collector.error(f"{path}.tax_rate", "must be a rate such as 8 or 10")
        tax_rate = None
    if not build:
        collector.check_codes(data, _LINE_CODES, path)
        return None
    codes = {key: collector.code(text(data.get(key)), path, key) for key in _LINE_CODES}
    return NormalizedLine(
        external_id=codes["id"] or str(index + 1),
        product_external_id=product_id,
        sku=sku,
        product_name=text(product.get("name")) if isinstance(product, dict) else "",
        quantity=quantity if quantity is not None else Decimal(0),
        price_unit=price,
        discount_amount=discount,
        tax_rate=(_tax_rate(tax_rate) or None) if tax_rate is not None else None,
        is_free=is_free,
        promotion_code=codes["promotion_code"],
        uom_name=codes["uom"],
        warehouse_code=codes["warehouse"],
        note=text(data.get("note")),
    )


def parse_compatible(body, check_only=False):
    """Parse one delivery in the canonical format (one order per delivery).

    ``check_only``: the same checks and the same errors, but an order
    carries only what storing it reads (``event_type``, ``external_id``,
    ``updated_at``), with ``lines`` None and no customer: what the webhook
    route needs, at less than half the cost. The queue parses the stored
    payload again in full.
    """
    build = not check_only
    collector = _Collector(check_only)
    payload, issue = load_json(body)
    if issue:
        return ParseResult(errors=[issue])
    if not isinstance(payload, dict):
        collector.error("$", "must be a JSON object")
        return ParseResult(errors=collector.errors)

    event_type = text(payload.get("type"))
    if not event_type:
        collector.error("type", "is required")
    elif event_type not in EVENT_TYPES:
        collector.error("type", f"must be one of {', '.join(EVENT_TYPES)}")
    order = payload.get("order")
    if not isinstance(order, dict):
        collector.error("order", "is required (an object)")
        return ParseResult(errors=collector.errors)

    currency = collector.required_text(order, "currency", "order").upper()
    if currency and not (
        len(currency) == 3 and currency.isascii() and currency.isalpha()
    ):
        collector.error("order.currency", "must be a 3-letter ISO code such as VND")
    lines_data = order.get("lines")
    lines = []
    if lines_data is None:
        lines_data = []
    if not isinstance(lines_data, list):
        collector.error("order.lines", "must be a list")
        lines_data = []
    if not lines_data and event_type != "order.cancelled":
        collector.error("order.lines", "needs at least one line")
    for index, line_data in enumerate(lines_data):
        line = _line(collector, line_data, f"order.lines[{index}]", index, build)
        if line:
            lines.append(line)

    # Read in this order, so that the errors come in it.
    external_id = collector.code(
        collector.required_text(order, "id", "order"), "order", "id"
    )
    updated_at = collector.when(order, "updated_at", "order")
    date_order = collector.when(order, "date_order", "order")
    commitment_date = collector.when(order, "commitment_date", "order")
    customer = _customer(
        collector, order.get("customer"), "order.customer", build=build
    )
    shipping_address = _shipping_address(
        collector, order.get("shipping_address"), "order.shipping_address", build
    )
    salesperson = order.get("salesperson")
    salesperson = salesperson if isinstance(salesperson, dict) else {}
    salesperson_code = collector.code(
        text(salesperson.get("id")), "order.salesperson", "id"
    )
    carrier_code = collector.code(text(order.get("carrier")), "order", "carrier")
    shipping_amount = collector.amount(
        order, "shipping_amount", "order", Decimal(0), minimum=0
    )
    discount_amount = collector.amount(
        order, "discount_amount", "order", Decimal(0), minimum=0
    )
    amount_total = collector.amount(order, "amount_total", "order", minimum=0)
    if collector.errors:
        return ParseResult(errors=collector.errors)
    if check_only:
        return ParseResult(
            orders=[
                NormalizedOrder(
                    event_type=event_type,
                    external_id=external_id,
                    updated_at=updated_at,
                    lines=None,
                )
            ]
        )
    return ParseResult(
        orders=[
            NormalizedOrder(
                event_type=event_type,
                external_id=external_id,
                name=text(order.get("name")),
                updated_at=updated_at,
                date_order=date_order,
                commitment_date=commitment_date,
                currency=currency,
                customer=customer,
                shipping_address=shipping_address,
                salesperson_code=salesperson_code,
                salesperson_name=text(salesperson.get("name")),
                carrier_code=carrier_code,
                lines=lines,
                shipping_amount=shipping_amount,
                discount_amount=discount_amount,
                amount_total=amount_total,
                note=text(order.get("note")),
            )
        ]
    )
