"""Cloudify orders into the core's normalized orders.

No public specification of a Cloudify order API exists: the shapes below are
our proposal (English keys in Odoo style, as the platform looks Odoo-based).
Two entry points:

- :func:`parse_delivery` for one webhook event,
  ``{"type": "order.created", "id": "evt_0001", "created_at": "...",
  "order": {...}}``: one order per event, so it returns the core's
  ``ParseResult`` (the order, or every error with its field path such as
  ``order.lines[1].qty``);
- :func:`parse_poll_page` for one page of the polling API, queried with
  :func:`poll_params`.

The polling API (our design)::

    GET <base URL>/rest_api/private/sale_document/search
        ?updated_since=2026-11-22T02:10:00Z&limit=100&offset=200[&db=<db>]

``updated_since`` (UTC, ``Z``) keeps the orders changed at or after that
moment (left out: every order), ``limit`` is the page size and ``offset``
the number of orders to skip (``(page - 1) * limit``). Orders come sorted by
their ``updated_at`` (Odoo's ``write_date``), then ``external_id``, oldest
first, so that the core's cursor (the newest ``updated_at`` stored) only
moves forward. The answer is a bare list of order objects, or an object
holding that list under ``data``, ``result`` or ``records`` (also Odoo's
``{"result": {"records": [...], "length": N}}``), optionally with the number
of orders of the whole query under ``total``, ``length`` or ``count``. The
session goes in a ``Cookie`` header or the token in ``Authorization``
(:func:`.auth.auth_headers`), never in the URL.

A known limit of offset pages: when an order already read is changed while
the next pages are read, it moves to the end of the list and every order
after it shifts back by one, so the first order of the next page slips
into the page already read and is missed by this poll (the overlap window
does not bring it back, as it is older than the new cursor). A keyset
query (the next page asks for ``updated_since`` = the last order's version
and ``after_id`` = its ``external_id``) would not miss it, but needs the
core's poll loop to carry such a cursor instead of a page number.

How an order is read (our decisions):

- ``external_id`` is required. ``state`` is required and one of
  :data:`STATES`. The event type: ``state`` ``cancel`` always means
  ``order.cancelled`` (an update that cancels is a cancellation); a webhook
  ``type`` ``order.cancelled`` on an order whose state is not ``cancel`` is
  refused (one of the two is wrong); otherwise the webhook's ``type``
  (``order.created`` or ``order.updated``) is kept as sent; without a
  ``type`` (a polled order) ``draft`` gives ``order.created`` and the other
  states ``order.updated``. The core creates or updates the order either way.
- A cancellation needs only ``external_id`` and ``state``; other orders
  need the ``outlet`` (``code`` and ``name``) and at least one line.
- ``currency`` may be left out; it must be ``VND`` when sent. Every amount
  is a whole number of đồng (JSON number or numeric string): a fraction is
  an error, not rounded. Amounts may not be negative.
- Dates: a date-time needs its offset (``+07:00`` or ``Z``) and becomes an
  aware UTC datetime; a bare date (``"2026-11-23"``, as ``commitment_date``
  is sent) is midnight in Vietnam (Asia/Ho_Chi_Minh), so 2026-11-22 17:00
  UTC, which Odoo shows as the 23rd to Vietnamese users. Only ``write_date``
  may come without an offset: Odoo's server format (``2026-11-22
  02:10:00``) is UTC.
- The version of an order (``updated_at``, which Odoo uses to never apply an
  older version over a newer one, and which moves the polling cursor) is the
  order's own ``updated_at``, else its ``write_date``, else the event's
  ``created_at``. A polled order must carry ``updated_at`` or
  ``write_date``: polling cannot move forward without it.
- ``outlet`` is the customer: ``code`` is its external id; ``ward`` goes to
  street2; ``province`` goes to both the city and the state (since 2025
  Vietnam has two levels, province and ward; the province is the
  first-level division Odoo lists as a state, and the city is what Odoo
  prints on an address); the country is VN.
- ``salesman_code`` is the salesperson's code; ``distributor_code``,
  ``route_code``, ``state``, the event's ``id`` and the ``amount_untaxed``
  and ``amount_tax`` sent are kept in ``extra``.
- Lines: ``seq`` is the line's external id (unique in the order; the
  position 1, 2, ... when not sent); ``product_code`` is both the SKU and the
  product's external id; ``qty`` is above 0 (decimals allowed);
  ``price_unit`` is required on a paid line and must be 0 (or left out) on a
  free line (``is_free: true``); ``discount_amount`` is the discount of the
  whole line in đồng, never more than ``qty × price_unit``; ``tax_rate``
  ``"10"``, ``"8"``, ``"5"``, ``"0"``, ``8``, ``"8%"`` become ``"10"``,
  ``"8"``, ``"5"``, ``"0"``, text codes (``"KCT"``: not subject to VAT) are
  kept upper-case, no rate keeps the product's taxes.
- Inbound contract 1.1 fields. On a line: ``uom`` is the unit code
  (``uom_name``) and ``warehouse`` the warehouse code (``warehouse_code``),
  both codes as sent (``"Thùng"``), stripped and in Unicode NFC (a
  decomposed "Thùng" gives the same code), at most 255 characters, as the
  other codes; ``note`` is the line's note and ``promotion_code`` its
  promotion. On the order: ``pricelist_code`` (optional) is the price list
  or customer group code (``pricelist_code``); ``shipping_address``
  (optional, null or absent: none) is an object read as the outlet is, with
  ``id`` (the address id in Cloudify), ``name``, ``phone``, ``street``,
  ``ward`` (street2), ``province`` (city and state), ``zip`` and
  ``country_code`` (upper-cased; VN when not sent). It needs an ``id`` or an
  address (``street``, ``ward``, ``province``, ``zip`` or
  ``country_code``), else it is an error at ``order.shipping_address``
  ("needs an id or an address"). ``promotions`` (optional) is a list of
  ``{"code", "name", "amount"}`` (``code`` required, ``amount`` a whole
  number of đồng, 0 or more, or left out), kept as JSON-ready dicts in
  ``extra["promotions"]`` (an empty list when not sent).
- ``order_discount`` is the order's discount amount. The totals are checked
  where they can be without knowing Odoo's taxes: ``amount_untaxed`` must be
  the lines' amounts (``qty × price_unit - discount_amount``, each rounded to
  the đồng) less ``order_discount`` (which may not be more than them), and
  ``amount_total`` must be ``amount_untaxed + amount_tax``; a mismatch
  refuses the order (Odoo cannot tell which figure is wrong). ``amount_tax``
  itself is not recomputed (VAT rounding and the spreading of the order
  discount over rates are Cloudify's); Odoo compares its own total with
  ``amount_total``.
- Text is stripped and in Unicode NFC (Vietnamese may arrive decomposed).
"""

import json
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo.addons.oms_integration.lib import normalize

from . import auth, callbacks

try:
    VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # no tz database: Vietnam is UTC+7, no DST since 1975
    VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")

EVENT_CREATED = "order.created"
EVENT_UPDATED = "order.updated"
EVENT_CANCELLED = "order.cancelled"
EVENT_TYPES = (EVENT_CREATED, EVENT_UPDATED, EVENT_CANCELLED)

# Cloudify's order states (our proposal).
STATES = callbacks.STATES
STATE_DRAFT = "draft"
STATE_CANCEL = "cancel"

STATE_KEY = "state"

CURRENCY = "VND"
COUNTRY_CODE = "VN"
# The order's own version, first found wins; naive write_date is Odoo's UTC.
UPDATED_AT_FIELDS = ("updated_at", "write_date")
NAIVE_UTC_FIELDS = ("write_date",)

SEARCH_PATH = "/rest_api/private/sale_document/search"
DEFAULT_PAGE_SIZE = 100
# Where the list of orders may be in a polling answer, and its total.
PAGE_LIST_KEYS = ("data", "result", "records")
PAGE_TOTAL_KEYS = ("total", "length", "count")

_DATE_LENGTH = len("2026-11-23")


class PollError(ValueError):
    """A polling answer that cannot be used at all (not JSON, an error, no
    list of orders). Its message is plain language; ``session_expired`` says
    that the answer is an expired session or token (log in again, then ask
    for the same page)."""

    def __init__(self, message, session_expired=False):
        super().__init__(message)
        self.session_expired = session_expired


# --- reading values ----------------------------------------------------------


_present = normalize.present


def vietnam_midnight(day):
    """Midnight of the Vietnam calendar day ``day`` (a ``date``), in UTC."""
    local = datetime(day.year, day.month, day.day, tzinfo=VIETNAM_TZ)
    return local.astimezone(timezone.utc)


def parse_moment(value, naive_is_utc=False):
    """A Cloudify date or date-time as an aware UTC datetime.

    ``2026-11-22T09:05:00+07:00`` is 02:05 UTC; a bare date ``2026-11-23`` is
    midnight in Vietnam (2026-11-22 17:00 UTC). A date-time without an offset
    is refused (ValueError), unless ``naive_is_utc`` (Odoo's ``write_date``).
    """
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a date")
    raw = value.strip()
    if len(raw) == _DATE_LENGTH:
        return vietnam_midnight(datetime.strptime(raw, "%Y-%m-%d").date())
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise ValueError("a date-time needs its offset")
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def _round_vnd(value):
    return value.quantize(Decimal(1), rounding=ROUND_HALF_UP)


class _Reader(normalize.FieldReader):
    """Reads values out of Cloudify's JSON while collecting every problem.

    A number with a decimal point where text is expected is refused (an id
    or a code is never 12.5); whole numbers are read as text.
    """

    NOT_TEXT = (bool, dict, list, float)

    def quantity(self, data, key, path):
        """A required quantity above 0 (decimals allowed); 0 when wrong."""
        if not _present(data, key):
            self.error(path, "is required")
            return Decimal(0)
        try:
            number = normalize.parse_amount(data[key])
        except ValueError as exc:
            self.error(path, normalize.number_error(exc))
            return Decimal(0)
        if number <= 0:
            self.error(path, "must be greater than 0")
            return Decimal(0)
        return number

    def when(self, data, key, path):
        if not _present(data, key):
            return None
        try:
            return parse_moment(data[key], naive_is_utc=key in NAIVE_UTC_FIELDS)
        except (TypeError, ValueError):
            self.error(
                path,
                "must be an ISO 8601 date-time with its offset "
                "(2026-11-22T09:05:00+07:00) or a date (2026-11-23)",
            )
            return None

    def flag(self, data, key, path):
        raw = data.get(key, False)
        if raw is None:
            return False
        if not isinstance(raw, bool):
            self.error(path, "must be true or false")
            return False
        return raw

    def tax_rate(self, data, key, path):
        """The VAT rate as normalized text, or None when not given."""
        if not _present(data, key):
            return None
        return self.vat_rate(data[key], path)

    def line_id(self, data, key, path, index):
        raw = data.get(key)
        if raw is None or raw == "":
            return str(index + 1)
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            self.error(path, "must be a line number or text")
            return str(index + 1)
        value = normalize.text(raw)
        if len(value) > normalize.MAX_ID_LENGTH:
            self.error(path, normalize.ID_TOO_LONG_MESSAGE)
            return str(index + 1)
        return value or str(index + 1)


# --- an order ----------------------------------------------------------------


def _outlet(reader, data, path, required):
    if data is None and not required:
        return None
    if not isinstance(data, dict):
        reader.error(
            path, "is required (an object)" if data is None else "must be an object"
        )
        return None
    province = reader.text(data, "province", f"{path}.province")
    return normalize.NormalizedCustomer(
        external_id=reader.code(data, "code", f"{path}.code", required),
        name=reader.text(data, "name", f"{path}.name", required),
        phone=reader.text(data, "phone", f"{path}.phone"),
        email=reader.text(data, "email", f"{path}.email"),
        vat=reader.text(data, "vat", f"{path}.vat"),
        street=reader.text(data, "street", f"{path}.street"),
        street2=reader.text(data, "ward", f"{path}.ward"),
        city=province,
        state=province,
        country_code=COUNTRY_CODE,
    )


# The keys of a shipping address besides its id: without an id, one of them
# must be given.
SHIPPING_ADDRESS_FIELDS = ("street", "ward", "province", "zip", "country_code")


def _shipping_address(reader, data, path):
    """The order's ``shipping_address``: None when absent or null."""
    if data is None:
        return None
    if not isinstance(data, dict):
        reader.error(path, "must be an object")
        return None
    external_id = reader.code(data, "id", f"{path}.id")
    values = {
        key: reader.text(data, key, f"{path}.{key}")
        for key in ("name", "phone", *SHIPPING_ADDRESS_FIELDS)
    }
    if not any(_present(data, key) for key in ("id", *SHIPPING_ADDRESS_FIELDS)):
        reader.error(path, normalize.SHIPPING_ADDRESS_EMPTY_MESSAGE)
    return normalize.NormalizedCustomer(
        external_id=external_id,
        name=values["name"],
        phone=values["phone"],
        street=values["street"],
        street2=values["ward"],
        city=values["province"],
        state=values["province"],
        zip=values["zip"],
        country_code=values["country_code"].upper() or COUNTRY_CODE,
    )


def _promotions(reader, data, path):
    """The order's ``promotions`` as JSON-ready dicts ``{"code", "name",
    "amount"}`` (``amount`` None when not sent)."""
    raw = data.get("promotions")
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.error(path, "must be a list")
        return []
    promotions = []
    for index, promotion in enumerate(raw):
        item_path = f"{path}[{index}]"
        if not isinstance(promotion, dict):
            reader.error(item_path, "must be an object")
            continue
        promotions.append(
            {
                "code": reader.code(promotion, "code", f"{item_path}.code", True),
                "name": reader.text(promotion, "name", f"{item_path}.name"),
                "amount": _json_number(
                    reader.vnd(promotion, "amount", f"{item_path}.amount")
                ),
            }
        )
    return promotions


def _line(reader, data, path, index):
    if not isinstance(data, dict):
        reader.error(path, "must be an object")
        return None
    quantity = reader.quantity(data, "qty", f"{path}.qty")
    is_free = reader.flag(data, "is_free", f"{path}.is_free")
    price = reader.vnd(data, "price_unit", f"{path}.price_unit")
    if is_free:
        if price:
            reader.error(f"{path}.price_unit", "must be 0 on a free line (is_free)")
        price = Decimal(0)
    elif price is None and not _present(data, "price_unit"):
        reader.error(f"{path}.price_unit", "is required on a paid line")
    discount = reader.vnd(
        data, "discount_amount", f"{path}.discount_amount", Decimal(0)
    )
    if price is not None and quantity > 0 and discount > quantity * price:
        reader.error(
            f"{path}.discount_amount",
            f"is more than the line's amount ({_json_number(quantity * price)})",
        )
    code = reader.code(data, "product_code", f"{path}.product_code", required=True)
    return normalize.NormalizedLine(
        external_id=reader.line_id(data, "seq", f"{path}.seq", index),
        product_external_id=code,
        sku=code,
        product_name=reader.text(data, "product_name", f"{path}.product_name"),
        quantity=quantity,
        price_unit=price,
        discount_amount=discount,
        tax_rate=reader.tax_rate(data, "tax_rate", f"{path}.tax_rate"),
        is_free=is_free,
        promotion_code=reader.code(data, "promotion_code", f"{path}.promotion_code"),
        uom_name=reader.code(data, "uom", f"{path}.uom"),
        warehouse_code=reader.code(data, "warehouse", f"{path}.warehouse"),
        note=reader.text(data, "note", f"{path}.note"),
    )


def _lines(reader, data, path):
    raw = data.get("lines")
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.error(path, "must be a list")
        return []
    lines, seen = [], {}
    for index, line_data in enumerate(raw):
        line = _line(reader, line_data, f"{path}[{index}]", index)
        if line is None:
            continue
        if line.external_id in seen:
            first = seen[line.external_id]
            reader.error(
                f"{path}[{index}].seq",
                f"{line.external_id} is already the seq of {path}[{first}]",
            )
        seen.setdefault(line.external_id, index)
        lines.append(line)
    return lines


def _state(reader, data, path):
    raw = data.get(STATE_KEY)
    if isinstance(raw, str) and normalize.text(raw).lower() in STATES:
        return normalize.text(raw).lower()
    if not _present(data, STATE_KEY):
        reader.error(path, f"is required: one of {', '.join(STATES)}")
    else:
        reader.error(path, f"must be one of {', '.join(STATES)}")
    return ""


def event_type_for(state, webhook_type=""):
    """The core's event type of an order in ``state``, sent with the webhook
    ``type`` (empty for a polled order); None when they contradict each
    other (``order.cancelled`` for an order that is not cancelled)."""
    if state == STATE_CANCEL:
        return EVENT_CANCELLED
    if webhook_type == EVENT_CANCELLED:
        return None
    if webhook_type:
        return webhook_type
    return EVENT_CREATED if state == STATE_DRAFT else EVENT_UPDATED


def _check_totals(reader, data, prefix, lines, order_discount, errors_before):
    """``amount_untaxed`` and ``amount_total`` against the lines (see the
    module's docstring); nothing is checked once an amount is already wrong."""
    untaxed = reader.vnd(data, "amount_untaxed", f"{prefix}.amount_untaxed")
    tax = reader.vnd(data, "amount_tax", f"{prefix}.amount_tax")
    total = reader.vnd(data, "amount_total", f"{prefix}.amount_total")
    if len(reader.errors) > errors_before:
        return untaxed, tax, total
    if lines:
        net = sum(
            (
                _round_vnd(line.quantity * line.price_unit) - line.discount_amount
                for line in lines
            ),
            Decimal(0),
        )
        expected = net - order_discount
        if expected < 0:
            reader.error(
                f"{prefix}.order_discount",
                f"is {order_discount}, more than the lines' amount ({net})",
            )
        elif untaxed is not None and untaxed != expected:
            reader.error(
                f"{prefix}.amount_untaxed",
                f"is {untaxed} but the lines ({net}) less order_discount "
                f"({order_discount}) come to {expected}",
            )
    if total is not None and untaxed is not None and tax is not None:
        if total != untaxed + tax:
            reader.error(
                f"{prefix}.amount_total",
                f"is {total} but amount_untaxed + amount_tax is {untaxed + tax}",
            )
    return untaxed, tax, total


def _json_number(value):
    """A Decimal as a JSON-ready number (int when whole), None stays None."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _currency(reader, data, path):
    if not _present(data, "currency"):
        return CURRENCY
    currency = reader.text(data, "currency", path).upper()
    if currency and currency != CURRENCY:
        reader.error(path, "must be VND: Cloudify orders are in đồng")
    return CURRENCY


def _version(reader, data, prefix, fallback):
    for key in UPDATED_AT_FIELDS:
        if _present(data, key):
            return reader.when(data, key, f"{prefix}.{key}")
    return fallback


def parse_order(data, webhook_type="", prefix="order", event=None):
    """Parse one Cloudify order object into a ``ParseResult`` holding one
    ``NormalizedOrder`` or all its errors.

    ``webhook_type`` is the event's ``type`` ("" for a polled order),
    ``prefix`` starts the error paths (``order.lines[1].qty``), ``event``
    holds what the envelope adds: ``{"id": ..., "created_at": <aware
    datetime or None>}``.
    """
    reader = _Reader()
    if not isinstance(data, dict):
        reader.error(
            prefix, "is required (an object)" if data is None else "must be an object"
        )
        return normalize.ParseResult(errors=reader.errors)
    event = event or {}
    state = _state(reader, data, f"{prefix}.{STATE_KEY}")
    cancelled = state == STATE_CANCEL
    event_type = event_type_for(state, webhook_type) if state else webhook_type
    if state and event_type is None:
        reader.error(
            "type",
            f"is {EVENT_CANCELLED} but {prefix}.state is {state}: one of them is wrong",
        )
    external_id = reader.code(data, "external_id", f"{prefix}.external_id", True)
    lines_path = f"{prefix}.lines"
    errors_before_lines = len(reader.errors)
    lines = _lines(reader, data, lines_path)
    line_errors = any(
        issue.path.startswith(lines_path)
        for issue in reader.errors[errors_before_lines:]
    )
    if not lines and not cancelled and not line_errors:
        reader.error(lines_path, "needs at least one line")
    order_discount = reader.vnd(
        data, "order_discount", f"{prefix}.order_discount", Decimal(0)
    )
    untaxed, tax, total = _check_totals(
        reader, data, prefix, lines, order_discount, errors_before_lines
    )
    order = normalize.NormalizedOrder(
        event_type=event_type or "",
        external_id=external_id,
        name=reader.text(data, "name", f"{prefix}.name"),
        updated_at=_version(reader, data, prefix, event.get("created_at")),
        date_order=reader.when(data, "date_order", f"{prefix}.date_order"),
        commitment_date=reader.when(
            data, "commitment_date", f"{prefix}.commitment_date"
        ),
        currency=_currency(reader, data, f"{prefix}.currency"),
        customer=_outlet(
            reader, data.get("outlet"), f"{prefix}.outlet", required=not cancelled
        ),
        shipping_address=_shipping_address(
            reader, data.get("shipping_address"), f"{prefix}.shipping_address"
        ),
        salesperson_code=reader.code(data, "salesman_code", f"{prefix}.salesman_code"),
        salesperson_name=reader.text(data, "salesman_name", f"{prefix}.salesman_name"),
        pricelist_code=reader.code(data, "pricelist_code", f"{prefix}.pricelist_code"),
        lines=lines,
        discount_amount=order_discount,
        amount_total=total,
        note=reader.text(data, "note", f"{prefix}.note"),
        extra={
            "state": state,
            "distributor_code": reader.text(
                data, "distributor_code", f"{prefix}.distributor_code"
            ),
            "route_code": reader.text(data, "route_code", f"{prefix}.route_code"),
            "event_id": event.get("id") or "",
            "amount_untaxed": _json_number(untaxed),
            "amount_tax": _json_number(tax),
            "promotions": _promotions(reader, data, f"{prefix}.promotions"),
        },
    )
    if reader.errors:
        return normalize.ParseResult(errors=reader.errors)
    return normalize.ParseResult(orders=[order])


# --- a webhook event ---------------------------------------------------------


def _envelope(reader, payload):
    """``(webhook type, event dict)`` of an event's envelope."""
    webhook_type = payload.get("type")
    if webhook_type is not None and not isinstance(webhook_type, str):
        reader.error("type", f"must be one of {', '.join(EVENT_TYPES)}")
        webhook_type = ""
    webhook_type = normalize.text(webhook_type)
    if webhook_type and webhook_type not in EVENT_TYPES:
        reader.error(
            "type",
            f"{webhook_type!r} is not an order event: must be one of "
            f"{', '.join(EVENT_TYPES)}",
        )
        webhook_type = ""
    event = {
        "id": reader.text(payload, "id", "id"),
        "created_at": reader.when(payload, "created_at", "created_at"),
    }
    return webhook_type, event


def parse_delivery(body):
    """Parse one Cloudify webhook event (``bytes`` or ``str``).

    The event is ``{"type", "id", "created_at", "order": {...}}``; ``type``,
    ``id`` and ``created_at`` may be left out (a polled order is stored as
    ``{"order": {...}}``, see :func:`wrap_order`). Returns a
    ``normalize.ParseResult`` with the one ``NormalizedOrder``, or every
    ``ValidationIssue`` of the event and of its order (``$``, ``type``,
    ``created_at``, ``order.lines[1].qty`` ...). See the module's docstring
    for the mapping.
    """
    reader = _Reader()
    payload, issue = normalize.load_json(body)
    if issue:
        return normalize.ParseResult(errors=[issue])
    if not isinstance(payload, dict):
        reader.error("$", "must be a JSON object")
        return normalize.ParseResult(errors=reader.errors)
    webhook_type, event = _envelope(reader, payload)
    result = parse_order(payload.get("order"), webhook_type, "order", event)
    errors = reader.errors + result.errors
    if errors:
        return normalize.ParseResult(errors=errors)
    return result


# --- polling -----------------------------------------------------------------


def format_since(moment):
    """``2026-11-22T02:10:00Z``: a datetime in UTC (naive ones are UTC, as
    Odoo stores them)."""
    if not isinstance(moment, datetime):
        raise TypeError("since must be a datetime")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def poll_params(since, page=1, page_size=DEFAULT_PAGE_SIZE, db=None):
    """The query of ``GET`` :data:`SEARCH_PATH` for page ``page`` (1, 2, ...)
    of the orders changed at or after ``since`` (a datetime, or None for
    every order): ``{"updated_since", "limit", "offset"}``, plus ``db`` when
    given (a tenant serving several databases needs it; it is not secret).
    """
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise ValueError("page must be 1 or more")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise ValueError("page_size must be 1 or more")
    params = {}
    if since is not None:
        params["updated_since"] = format_since(since)
    params["limit"] = page_size
    params["offset"] = (page - 1) * page_size
    if db:
        params["db"] = db
    return params


def wrap_order(order):
    """The raw text stored for one polled order: ``{"order": <order>}`` as
    JSON (Vietnamese left readable). :func:`parse_delivery` reads it back to
    the same order, with the same error paths as a webhook event."""
    return json.dumps({"order": order}, ensure_ascii=False)


def _page_list(payload):
    """``(orders, total)`` of a decoded answer; PollError when there is none."""
    if isinstance(payload, list):
        return payload, None
    if not isinstance(payload, dict):
        raise PollError("Cloudify's search answered with an unexpected shape.")
    if auth.is_expired_answer(200, {}, payload):
        raise PollError(
            "Cloudify's session or token has expired: log in again, then ask "
            "for the same page.",
            session_expired=True,
        )
    error = callbacks.read_error(200, payload)
    if error:
        raise PollError(error)
    for key in PAGE_LIST_KEYS:
        if key not in payload:
            continue
        found = payload[key]
        if key == "result" and isinstance(found, dict):
            return _page_list(found)  # Odoo's {"records": [...], "length": N}
        if found is None:
            found = []
        if not isinstance(found, list):
            raise PollError(
                f"Cloudify's search answered {key} that is not a list of orders."
            )
        return found, _total(payload)
    raise PollError(
        "Cloudify's search answered an object without a list of orders "
        f"(expected {', '.join(PAGE_LIST_KEYS)} or a bare list)."
    )


def _total(payload):
    for key in PAGE_TOTAL_KEYS:
        raw = payload.get(key)
        if raw in (None, ""):
            continue
        text = "" if isinstance(raw, bool) else normalize.text(raw)
        if not text.isascii() or not text.isdigit():
            raise PollError(f"Cloudify's search answered a {key} that is not a number.")
        return int(text)
    return None


def next_page(page, page_size, count, total=None):
    """The page to ask for after page ``page`` held ``count`` orders, or
    None after the last one: with ``total`` known, until ``page * page_size``
    reaches it; without it, until a page is not full."""
    if count == 0:
        return None
    if total is not None:
        return page + 1 if page * page_size < total else None
    return page + 1 if count >= page_size else None


def parse_poll_page(body, page=1, page_size=DEFAULT_PAGE_SIZE):
    """Parse one answer of the polling API (``bytes``, ``str`` or decoded).

    ``page`` and ``page_size`` are those of the request
    (:func:`poll_params`). Returns ``(results, next_page)``: one ``(raw,
    ParseResult)`` per order, in the answer's order, where ``raw`` is the
    text to store (:func:`wrap_order`, which :func:`parse_delivery` reads
    back to the same order) and the result holds the order or its errors
    (paths ``order.lines[0].qty``); ``next_page`` is the page number to ask
    for next, or None. Raises :class:`PollError` when the answer cannot be
    used at all (not JSON, an error, a session expired, no list of orders).
    """
    if isinstance(body, bytes | bytearray | memoryview | str):
        # NUL characters are left to each order (parse_delivery of its
        # wrap_order refuses it with its path): they do not block the page.
        payload, issue = normalize.load_json(body, refuse_nul=False)
        if issue and issue.message == normalize.NOT_JSON_MESSAGE:
            raise PollError(
                "Cloudify's search answered with something that is not JSON."
            )
        if issue:
            raise PollError(
                "Cloudify's search answered JSON that cannot be read "
                f"({issue.path}: {issue.message})."
            )
    else:
        payload = body
    orders, total = _page_list(payload)
    results = []
    for order in orders:
        raw = wrap_order(order)
        result = parse_delivery(raw)
        versioned = isinstance(order, dict) and any(
            _present(order, key) for key in UPDATED_AT_FIELDS
        )
        if not versioned and isinstance(order, dict):
            issue = normalize.ValidationIssue(
                "order.updated_at",
                "is required on a polled order (or write_date): polling moves "
                "forward with it",
            )
            result = normalize.ParseResult(errors=[*result.errors, issue])
        results.append((raw, result))
    return results, next_page(page, page_size, len(orders), total)
