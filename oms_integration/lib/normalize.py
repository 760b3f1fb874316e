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
- ``shipping_address`` is optional (null or absent), and so is its name.
"""

import json
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

EVENT_TYPES = ("order.created", "order.updated", "order.cancelled")


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


def parse_amount(value):
    """A decimal amount from a JSON number or a numeric string; ValueError else."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if isinstance(value, int | Decimal):
        number = Decimal(value)  # exact, as its text would be
    elif isinstance(value, float):
        number = Decimal(str(value))  # 0.1 is "0.1", not its binary expansion
    elif isinstance(value, str) and value.strip():
        try:
            number = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError("not a number") from exc
    else:
        raise ValueError("not a number")
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


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

    def vnd(self, data, key, path, default=None):
        """A whole, non-negative amount of đồng; ``default`` when empty."""
        if not present(data, key):
            return default
        try:
            amount = parse_amount(data[key])
        except ValueError:
            self.error(path, "must be an amount in đồng")
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
        if type(raw) is int and self.check_only:
            number = raw  # an exact whole number (not a bool): nothing to parse
        else:
            try:
                number = parse_amount(raw)
            except ValueError:
                self.error(f"{where}.{key}", "must be a number")
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


def _tax_rate(value):
    """``8``, ``8.0`` and ``"8.00"`` are all ``"8"``; ``"KCT"`` stays text."""
    try:
        rate = parse_amount(value)
    except ValueError:
        return text(value)
    return f"{rate.normalize():f}"


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
        return None
    return NormalizedLine(
        external_id=text(data.get("id")) or str(index + 1),
        product_external_id=product_id,
        sku=sku,
        product_name=text(product.get("name")) if isinstance(product, dict) else "",
        quantity=quantity if quantity is not None else Decimal(0),
        price_unit=price,
        discount_amount=discount,
        tax_rate=(_tax_rate(tax_rate) or None) if tax_rate is not None else None,
        is_free=is_free,
        promotion_code=text(data.get("promotion_code")),
        uom_name=text(data.get("uom")),
        warehouse_code=text(data.get("warehouse")),
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
    try:
        payload = json.loads(body)
    except (TypeError, ValueError, UnicodeDecodeError):
        collector.error("$", "the body is not valid JSON")
        return ParseResult(errors=collector.errors)
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
    external_id = collector.required_text(order, "id", "order")
    updated_at = collector.when(order, "updated_at", "order")
    date_order = collector.when(order, "date_order", "order")
    commitment_date = collector.when(order, "commitment_date", "order")
    customer = _customer(
        collector, order.get("customer"), "order.customer", build=build
    )
    shipping_address = _customer(
        collector,
        order.get("shipping_address"),
        "order.shipping_address",
        required=False,
        build=build,
    )
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
    salesperson = order.get("salesperson")
    salesperson = salesperson if isinstance(salesperson, dict) else {}
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
                salesperson_code=text(salesperson.get("id")),
                salesperson_name=text(salesperson.get("name")),
                carrier_code=text(order.get("carrier")),
                lines=lines,
                shipping_amount=shipping_amount,
                discount_amount=discount_amount,
                amount_total=amount_total,
                note=text(order.get("note")),
            )
        ]
    )
