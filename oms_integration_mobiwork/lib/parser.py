"""Mobiwork orders into the core's normalized orders.

Two entry points:

- :func:`parse_delivery` for a webhook delivery. It may carry several orders;
  each one is parsed on its own, so one invalid order does not reject the
  valid ones (see :class:`DeliveryParse`).
- :func:`parse_read_api_page` for one page of the read API
  (``GET /OpenAPI/V1/Sale``), queried with :func:`read_api_params`.

What a delivery may look like (anything else is a delivery-level error):

- ``{"event": "sales_order_create", "data": [<order>, ...]}``, Mobiwork's own
  shape (``data`` may also be a single order object);
- ``{"data": [...]}`` without ``event``, a top-level list ``[<order>, ...]``,
  or a bare order object ``{"ma_phieu": ...}``: taken as
  ``sales_order_create``. The bare object is also the form in which one order
  is stored on its own (:attr:`OrderParse.raw`), so it parses the same again.

How an order is read, where Mobiwork publishes nothing (our decisions):

- ``ma_phieu`` (the DMS order number) is required and becomes both the
  external id and the order name; ``ma_kh`` and ``ten_kh`` are required,
  except on a cancellation, which needs only ``ma_phieu``.
- ``trang_thai`` (if sent) marks a cancellation when it reads "Hủy",
  "Đã hủy", "Bị hủy" or "Hủy đơn", with or without accents and in either
  accent placement ("huỷ"), or "cancelled": the order becomes
  ``order.cancelled``; anything else, or no ``trang_thai``, is
  ``order.created`` (the core updates an order it already has).
- Dates are ISO 8601 with a time zone (Mobiwork sends UTC with ``Z``) and
  become aware UTC datetimes. ``updated_at`` comes from ``ngay_cap_nhat`` or
  ``updated_at`` when Mobiwork sends one, else it is None (the core then
  tells versions apart by payload).
- Currency is always VND: Mobiwork is a Vietnamese DMS and its payloads
  carry no currency. Every amount must be a whole number of đồng (JSON number
  or numeric string); a fraction is an error, not rounded. Discounts
  (``chiet_khau``, ``ck_don_hang``) may be empty: no discount.
- ``don_gia`` empty (or absent) gives ``price_unit = None``: Odoo uses its
  pricelist price. A ``san_pham`` line flagged ``is_km`` without a price (or
  at 0) is a free line; with a price it stays a paid line of the promotion.
- ``chiet_khau`` is the discount of the whole line, in đồng (not per unit);
  ``tong_ck_sp``, when sent, must equal the sum of the lines' ``chiet_khau``:
  otherwise the order is rejected with the path ``…tong_ck_sp``, as one of
  the two is wrong and Odoo cannot tell which. It is kept in
  ``extra["line_discount_total"]``.
- VAT per line from ``vat`` (or ``thue_suat``): ``10``, ``8``, ``5``, ``0``,
  ``"10%"``, ``8.0`` ... become ``"10"``, ``"8"``, ``"5"``, ``"0"``; text codes
  such as ``"KCT"`` (not subject to VAT) are kept upper-case; a number below 0
  or above 100 is an error; no rate keeps the product's taxes.
- Line ids: ``stt`` when sent (it must be unique in the order), else the
  line's position (1, 2, ...); free goods are ``km1``, ``km2``, ...
- A free good (``san_pham_km``) is linked to the first promotion whose
  ``product[]`` lists it (``ma_san_pham``), else to no promotion
  (``promotion_code = ""``).
- ``promotion[].ptype`` is a JSON *string* holding ``{"value": ...}``; it
  must parse (an object is also accepted). Promotions are kept as plain,
  JSON-ready dicts in ``extra["promotions"]``:
  ``{"id", "name", "value", "products": [{"code", "name", "quantity"}]}``.
- ``ma_nhom`` (the sales group) is a code: it is the order's
  ``pricelist_code`` (the Mapping Center may map it to a price list) and is
  also kept in ``extra["sales_group"]``; ``extra`` also holds ``status``
  (``trang_thai`` as sent).
- Units, warehouses and notes (inbound contract 1.1): ``ten_dvt`` /
  ``ten_dvt_km`` are the line's ``uom_name`` and ``ma_kho_xuat`` /
  ``ma_kho_xuat_km`` its ``warehouse_code``, as codes: the Vietnamese text
  as sent (``"Thùng"``), stripped and in Unicode NFC (a decomposed "Thùng"
  gives the same code), at most 255 characters; ``ghi_chu`` / ``ghi_chu_km``
  are the line's ``note``.
- Mobiwork documents no delivery address on an order push. When an order
  carries ``dia_chi_giao_hang`` (text), it is the order's
  ``shipping_address`` with only ``street`` set (no id, no name); without
  it there is none (the customer's own address, ``dia_chi``, is the
  customer's street).
- Two orders of one delivery with the same ``ma_phieu`` are both rejected:
  which one is right cannot be told.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal

from odoo.addons.oms_integration.lib import normalize

from . import callbacks, vietnam

ORDER_EVENT = "sales_order_create"
# Mobiwork's event names -> the core's event types.
EVENT_TYPES = {ORDER_EVENT: "order.created"}
# Other events Mobiwork is known to send to the same kind of URL.
NON_ORDER_EVENTS = ("customers_create", "employee_create", "purchase_order_create")
# ``trang_thai`` values that mean a cancellation, compared by vietnam.fold().
CANCELLED_STATUSES = (
    "huy",
    "da huy",
    "bi huy",
    "huy don",
    "cancelled",
    "canceled",
)
CURRENCY = "VND"
# Mobiwork's own fields of a newer version of an order, first found wins.
UPDATED_AT_FIELDS = ("ngay_cap_nhat", "updated_at")
VAT_FIELDS = ("vat", "thue_suat")

READ_API_SALE_PATH = "/OpenAPI/V1/Sale"
READ_API_DATE_KIND = "cdate"  # kieu_ngay: filter by the order's creation date


class ReadApiError(ValueError):
    """A read-API page that cannot be used at all (not JSON, ``status``
    false, no ``data`` list); its message is plain language. ``refused``:
    Mobiwork answered with its own error (``successful: false`` or
    ``status`` false), not with something that is not a page."""

    def __init__(self, message, refused=False):
        super().__init__(message)
        self.refused = refused


# --- results -----------------------------------------------------------------


@dataclass
class OrderParse:
    """One order of a delivery, accepted or rejected.

    ``index`` is its position in the delivery, ``external_id`` its
    ``ma_phieu`` (None when unreadable), ``raw`` the order object alone as
    JSON text (what to store for this order: :func:`parse_delivery` reads it
    back to the same order), ``result`` a ``ParseResult`` holding either the
    one ``NormalizedOrder`` or the order's ``ValidationIssue``s (paths from
    the delivery's root, ``data[1].san_pham[0].so_luong``).
    """

    index: int
    external_id: str | None
    raw: str
    result: normalize.ParseResult

    @property
    def ok(self):
        return self.result.ok

    @property
    def order(self):
        return self.result.orders[0] if self.result.ok else None

    @property
    def errors(self):
        return self.result.errors


@dataclass
class DeliveryParse:
    """The outcome of one webhook delivery.

    ``errors`` are delivery-level problems (not JSON, not an order event, no
    orders): then ``items`` is empty and nothing can be imported. Otherwise
    ``items`` holds one :class:`OrderParse` per order, in delivery order;
    :attr:`orders` are the valid ones and :attr:`rejected` the others.
    """

    event: str = ""  # Mobiwork's event name as sent ("" when none was)
    items: list[OrderParse] = field(default_factory=list)
    errors: list[normalize.ValidationIssue] = field(default_factory=list)

    @property
    def orders(self):
        """The valid orders: ``NormalizedOrder`` objects."""
        return [item.order for item in self.items if item.ok]

    @property
    def rejected(self):
        """The invalid orders: ``OrderParse`` with ``index``, ``external_id``
        and ``errors``."""
        return [item for item in self.items if not item.ok]

    @property
    def ok(self):
        """Nothing wrong at all: every order of the delivery is valid."""
        return not self.errors and not self.rejected

    def as_parse_result(self):
        """All or nothing, as one ``ParseResult``: every order when all are
        valid, else every error of the delivery and of its orders (for a
        caller that must accept or refuse a delivery as a whole)."""
        errors = list(self.errors)
        for item in self.rejected:
            errors.extend(item.errors)
        if errors:
            return normalize.ParseResult(errors=errors)
        return normalize.ParseResult(orders=self.orders)


# --- reading values ----------------------------------------------------------


def _path(prefix, key):
    return f"{prefix}.{key}" if prefix else key


_present = normalize.present


class _Reader(normalize.FieldReader):
    """Reads values out of Mobiwork's JSON while collecting every problem."""

    def quantity(self, data, key, path, required=True):
        """A quantity: required and above 0, or optional and 0 or more."""
        if not _present(data, key):
            if required:
                self.error(path, "is required")
                return Decimal(0)
            return None
        try:
            number = normalize.parse_amount(data[key])
        except ValueError as exc:
            self.error(path, normalize.number_error(exc))
            return Decimal(0) if required else None
        if required and number <= 0:
            self.error(path, "must be greater than 0")
        elif number < 0:
            self.error(path, "must be 0 or more")
        return number

    def when(self, data, key, path):
        if not _present(data, key):
            return None
        try:
            return normalize.parse_datetime(data[key])
        except (TypeError, ValueError):
            self.error(
                path, "must be an ISO 8601 date-time with a time zone (…T10:00:00Z)"
            )
            return None

    def flag(self, data, key, path):
        raw = data.get(key)
        if raw in (None, "", False, 0):
            return False
        if raw is True or raw == 1:
            return True
        if isinstance(raw, str) and raw.strip().lower() in ("0", "false"):
            return False
        if isinstance(raw, str) and raw.strip().lower() in ("1", "true"):
            return True
        self.error(path, "must be true or false (or 1 or 0)")
        return False

    def vat(self, data, prefix):
        """The line's VAT rate as normalized text, or None when not given."""
        rates = {}
        for key in VAT_FIELDS:
            if _present(data, key):
                rates[key] = self.vat_rate(data[key], _path(prefix, key))
        values = {rate for rate in rates.values() if rate is not None}
        if len(values) > 1:
            self.error(_path(prefix, VAT_FIELDS[1]), f"disagrees with {VAT_FIELDS[0]}")
        return next(iter(rates.values()), None)


# --- an order ----------------------------------------------------------------


def _list(reader, data, key, path):
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        reader.error(path, "must be a list")
        return []
    return value


def _promotions(reader, data, prefix):
    promotions = []
    path = _path(prefix, "promotion")
    for index, promo in enumerate(_list(reader, data, "promotion", path)):
        promo_path = f"{path}[{index}]"
        if not isinstance(promo, dict):
            reader.error(promo_path, "must be an object")
            continue
        products = []
        products_path = f"{promo_path}.product"
        for p_index, product in enumerate(
            _list(reader, promo, "product", products_path)
        ):
            product_path = f"{products_path}[{p_index}]"
            if not isinstance(product, dict):
                reader.error(product_path, "must be an object")
                continue
            # A discount promotion lists its products with no quantity or 0.
            quantity = reader.quantity(
                product, "so_luong", f"{product_path}.so_luong", required=False
            )
            products.append(
                {
                    "code": reader.code(
                        product, "ma_san_pham", f"{product_path}.ma_san_pham"
                    ),
                    "name": reader.text(
                        product, "ten_san_pham", f"{product_path}.ten_san_pham"
                    ),
                    "quantity": _json_number(quantity),
                }
            )
        promotions.append(
            {
                "id": reader.code(promo, "id", f"{promo_path}.id"),
                "name": reader.text(
                    promo, "ten_khuyen_mai", f"{promo_path}.ten_khuyen_mai"
                ),
                "value": _ptype_value(
                    reader, promo.get("ptype"), f"{promo_path}.ptype"
                ),
                "products": products,
            }
        )
    return promotions


def _ptype_value(reader, ptype, path):
    """The ``value`` of ``ptype``, a JSON string such as ``'{"value": "CKSP"}'``."""
    if ptype is None or (isinstance(ptype, str) and not ptype.strip()):
        return None
    if isinstance(ptype, str):
        ptype, issue = normalize.load_json(ptype)
        if issue:
            reader.error(
                path,
                'is not valid JSON: expected text like {"value": ...}'
                if issue.message == normalize.NOT_JSON_MESSAGE
                else f"holds JSON that cannot be read: {issue.message}",
            )
            return None
    if not isinstance(ptype, dict):
        reader.error(path, 'must hold a JSON object like {"value": ...}')
        return None
    value = ptype.get("value")
    return normalize.text(value) if isinstance(value, str) else value


def _json_number(number):
    """A Decimal as a JSON-ready number (int when whole), None stays None."""
    if number is None:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


def _promotion_of(promotions, product_code):
    for promotion in promotions:
        if any(p["code"] == product_code for p in promotion["products"]):
            return promotion
    return None


def _line(reader, data, path, index, promotions):
    if not isinstance(data, dict):
        reader.error(path, "must be an object")
        return None
    code = reader.code(data, "ma_sp", f"{path}.ma_sp", required=True)
    quantity = reader.quantity(data, "so_luong", f"{path}.so_luong")
    price = reader.vnd(data, "don_gia", f"{path}.don_gia")
    discount = reader.vnd(data, "chiet_khau", f"{path}.chiet_khau", Decimal(0))
    if price is not None and quantity > 0 and discount > quantity * price:
        reader.error(
            f"{path}.chiet_khau",
            f"is more than the line's amount ({_json_number(quantity * price)})",
        )
    is_promotion = reader.flag(data, "is_km", f"{path}.is_km")
    is_free = is_promotion and not price
    promotion = _promotion_of(promotions, code) if is_promotion else None
    return normalize.NormalizedLine(
        external_id=reader.code(data, "stt", f"{path}.stt") or str(index + 1),
        product_external_id=code,
        sku=code,
        product_name="",
        quantity=quantity,
        price_unit=Decimal(0) if is_free else price,
        discount_amount=discount,
        tax_rate=reader.vat(data, path),
        is_free=is_free,
        promotion_code=promotion["id"] if promotion else "",
        uom_name=reader.code(data, "ten_dvt", f"{path}.ten_dvt"),
        warehouse_code=reader.code(data, "ma_kho_xuat", f"{path}.ma_kho_xuat"),
        note=reader.text(data, "ghi_chu", f"{path}.ghi_chu"),
    )


def _free_line(reader, data, path, index, promotions):
    if not isinstance(data, dict):
        reader.error(path, "must be an object")
        return None
    code = reader.code(data, "ma_sp_km", f"{path}.ma_sp_km", required=True)
    promotion = _promotion_of(promotions, code)
    listed = next(
        (p for p in (promotion or {}).get("products", []) if p["code"] == code), {}
    )
    return normalize.NormalizedLine(
        external_id=f"km{index + 1}",
        product_external_id=code,
        sku=code,
        product_name=listed.get("name", ""),
        quantity=reader.quantity(data, "so_luong_km", f"{path}.so_luong_km"),
        price_unit=Decimal(0),
        is_free=True,
        promotion_code=promotion["id"] if promotion else "",
        uom_name=reader.code(data, "ten_dvt_km", f"{path}.ten_dvt_km"),
        warehouse_code=reader.code(data, "ma_kho_xuat_km", f"{path}.ma_kho_xuat_km"),
        note=reader.text(data, "ghi_chu_km", f"{path}.ghi_chu_km"),
    )


def is_cancelled_status(label):
    """Whether a ``trang_thai`` label means the order is cancelled."""
    return vietnam.fold(label) in CANCELLED_STATUSES


def _check_line_discounts(reader, data, prefix, lines, line_errors_before):
    """``tong_ck_sp`` must be the sum of the lines' ``chiet_khau``."""
    path = _path(prefix, "tong_ck_sp")
    total = reader.vnd(data, "tong_ck_sp", path)
    if total is None or len(reader.errors) > line_errors_before:
        return total  # a line's discount is already wrong: no second error
    lines_total = sum((line.discount_amount for line in lines), Decimal(0))
    if total != lines_total:
        reader.error(
            path,
            f"is {total} but the lines' discounts (chiet_khau) add up to {lines_total}",
        )
    return total


def _check_line_ids(reader, lines, prefix):
    seen = {}
    for index, line in enumerate(lines):
        if line.external_id in seen:
            reader.error(
                f"{_path(prefix, 'san_pham')}[{index}].stt",
                f"{line.external_id} is already the stt of "
                f"san_pham[{seen[line.external_id]}]",
            )
        seen.setdefault(line.external_id, index)


def parse_order(data, prefix=""):
    """Parse one Mobiwork order object into a ``ParseResult`` holding one
    ``NormalizedOrder`` or its errors. ``prefix`` starts the error paths
    (``"data[1]"`` gives ``data[1].san_pham[0].so_luong``)."""
    reader = _Reader()
    if not isinstance(data, dict):
        reader.error(prefix or "$", "must be an order object")
        return normalize.ParseResult(errors=reader.errors)

    status = reader.text(data, "trang_thai", _path(prefix, "trang_thai"))
    cancelled = is_cancelled_status(status)
    external_id = reader.code(data, "ma_phieu", _path(prefix, "ma_phieu"), True)
    customer_code = reader.code(data, "ma_kh", _path(prefix, "ma_kh"), not cancelled)
    customer_name = reader.text(data, "ten_kh", _path(prefix, "ten_kh"), not cancelled)
    promotions = _promotions(reader, data, prefix)

    lines = []
    lines_path = _path(prefix, "san_pham")
    errors_before_lines = len(reader.errors)
    for index, line_data in enumerate(_list(reader, data, "san_pham", lines_path)):
        line = _line(reader, line_data, f"{lines_path}[{index}]", index, promotions)
        if line:
            lines.append(line)
    _check_line_ids(reader, lines, prefix)
    line_discount_total = _check_line_discounts(
        reader, data, prefix, lines, errors_before_lines
    )
    free_path = _path(prefix, "san_pham_km")
    free_lines = []
    for index, line_data in enumerate(_list(reader, data, "san_pham_km", free_path)):
        line = _free_line(reader, line_data, f"{free_path}[{index}]", index, promotions)
        if line:
            free_lines.append(line)
    if not (data.get("san_pham") or data.get("san_pham_km")) and not cancelled:
        reader.error(lines_path, "needs at least one product line")

    updated_at = None
    for key in UPDATED_AT_FIELDS:
        if _present(data, key):
            updated_at = reader.when(data, key, _path(prefix, key))
            break
    shipping_street = reader.text(
        data, "dia_chi_giao_hang", _path(prefix, "dia_chi_giao_hang")
    )
    shipping_address = None
    if shipping_street:
        shipping_address = normalize.NormalizedCustomer(
            external_id="", name="", street=shipping_street
        )
    sales_group = reader.code(data, "ma_nhom", _path(prefix, "ma_nhom"))
    customer = None
    if customer_code or customer_name:
        customer = normalize.NormalizedCustomer(
            external_id=customer_code,
            name=customer_name,
            phone=reader.text(data, "sdt", _path(prefix, "sdt")),
            street=reader.text(data, "dia_chi", _path(prefix, "dia_chi")),
        )
    order = normalize.NormalizedOrder(
        event_type="order.cancelled" if cancelled else EVENT_TYPES[ORDER_EVENT],
        external_id=external_id,
        name=external_id,
        updated_at=updated_at,
        date_order=reader.when(data, "ngay_dat", _path(prefix, "ngay_dat")),
        commitment_date=reader.when(data, "ngay_giao", _path(prefix, "ngay_giao")),
        currency=CURRENCY,
        customer=customer,
        shipping_address=shipping_address,
        salesperson_code=reader.code(data, "ma_nv_dat", _path(prefix, "ma_nv_dat")),
        salesperson_name=reader.text(
            data, "ten_nguoi_dat", _path(prefix, "ten_nguoi_dat")
        ),
        pricelist_code=sales_group,
        lines=lines + free_lines,
        discount_amount=reader.vnd(
            data, "ck_don_hang", _path(prefix, "ck_don_hang"), Decimal(0)
        ),
        extra={
            "sales_group": sales_group,
            "line_discount_total": _json_number(line_discount_total),
            "promotions": promotions,
            "status": status,
        },
    )
    if reader.errors:
        return normalize.ParseResult(errors=reader.errors)
    return normalize.ParseResult(orders=[order])


# --- a webhook delivery ------------------------------------------------------


def _delivery_error(path, message, event=""):
    return DeliveryParse(event=event, errors=[normalize.ValidationIssue(path, message)])


def _load_json(body):
    """``(payload, issue, has_nul)`` of a delivery or a page: decoded and
    loaded by the core (UTF-8, depth and numbers bounded), NUL characters
    left for each order to refuse (``has_nul``: there is one), so that they
    do not block the other orders."""
    text, issue = normalize.decode_body(body)
    if issue:
        return None, issue, False
    payload, issue = normalize.load_json(text, refuse_nul=False)
    return payload, issue, not issue and normalize.has_nul_escape(text)


def _with_nul_issue(result, data, prefix):
    """``result`` with the issue of the first NUL character of the order
    ``data`` added, if it holds one."""
    issue = normalize.find_nul(data, prefix)
    if issue is None:
        return result
    return normalize.ParseResult(errors=[*result.errors, issue])


def _order_objects(payload):
    """``(event, root, orders)`` of a decoded delivery (``root`` starts the
    orders' error paths, None for a bare order), or a DeliveryParse holding
    the delivery-level error."""
    if isinstance(payload, list):
        return "", "$", payload
    if not isinstance(payload, dict):
        return _delivery_error("$", "must be a JSON object or a list of orders")
    if "event" not in payload and "data" not in payload:
        return "", None, [payload]  # one bare order object
    event = payload.get("event")
    if event is not None and not isinstance(event, str):
        return _delivery_error("event", "must be text such as sales_order_create")
    event = normalize.text(event)
    if event and event not in EVENT_TYPES:
        if event in NON_ORDER_EVENTS:
            message = (
                f"{event} is not an order event: only {ORDER_EVENT} is imported. "
                "Turn this event off in Mobiwork for this webhook URL."
            )
        else:
            message = f"unknown event {event!r}: Mobiwork orders come as {ORDER_EVENT}"
        return _delivery_error("event", message, event)
    data = payload.get("data")
    if data is None:
        return _delivery_error("data", "is required (the list of orders)", event)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return _delivery_error("data", "must be a list of orders", event)
    return event, "data", data


def parse_delivery(body):
    """Parse one Mobiwork webhook delivery (``bytes`` or ``str``).

    Returns a :class:`DeliveryParse`: delivery-level ``errors`` (path ``$``,
    ``event`` or ``data``), or one :class:`OrderParse` per order, each valid
    or rejected on its own. See the module's docstring for the accepted
    shapes and the mapping.
    """
    payload, issue, has_nul = _load_json(body)
    if issue:
        return DeliveryParse(errors=[issue])
    found = _order_objects(payload)
    if isinstance(found, DeliveryParse):
        return found
    event, root, orders = found
    if not orders:
        return _delivery_error(
            root or "$", "is empty: the delivery has no order", event
        )

    items = []
    for index, data in enumerate(orders):
        prefix = f"{root}[{index}]" if root else ""
        result = parse_order(data, prefix)
        if has_nul:
            result = _with_nul_issue(result, data, prefix)
        items.append(
            OrderParse(
                index=index,
                external_id=_external_id(data),
                raw=json.dumps(data, ensure_ascii=False),
                result=result,
            )
        )
    if root:
        _reject_duplicates(items, root)
    return DeliveryParse(event=event, items=items)


def _external_id(data):
    """The ``ma_phieu`` of an order object as text, None when unreadable
    (or longer than an id may be: it is not kept)."""
    raw = data.get("ma_phieu") if isinstance(data, dict) else None
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        return None
    value = normalize.text(raw)
    return value if value and len(value) <= normalize.MAX_ID_LENGTH else None


def _reject_duplicates(items, root):
    """Orders of one delivery sharing a ``ma_phieu`` are all rejected."""
    by_id = {}
    for item in items:
        if item.external_id:
            by_id.setdefault(item.external_id, []).append(item)
    for same in by_id.values():
        if len(same) < 2:
            continue
        positions = ", ".join(f"{root}[{item.index}]" for item in same)
        for item in same:
            issue = normalize.ValidationIssue(
                f"{root}[{item.index}].ma_phieu",
                f"{item.external_id} appears more than once in the delivery "
                f"({positions})",
            )
            item.result = normalize.ParseResult(errors=[*item.errors, issue])


# --- the read API (polling) --------------------------------------------------


def read_api_params(since, until, page_number=1, page_size=100):
    """The query of ``GET /OpenAPI/V1/Sale`` for orders created from
    ``since`` to ``until`` (datetimes; naive ones are UTC, as in Odoo).

    The read API filters by whole Vietnam days (``dd/mm/YYYY``, both days
    included), by creation date (``kieu_ngay=cdate``). ``since`` None asks for
    ``until``'s day only: a first poll does not import the whole history.
    """
    if not isinstance(page_number, int) or page_number < 1:
        raise ValueError("page_number must be 1 or more")
    if not isinstance(page_size, int) or page_size < 1:
        raise ValueError("page_size must be 1 or more")
    last_day = vietnam.local_date(until)
    first_day = vietnam.local_date(since) if since is not None else last_day
    if first_day > last_day:
        first_day = last_day
    return {
        "tu_ngay": first_day.strftime(vietnam.DATE_FORMAT),
        "den_ngay": last_day.strftime(vietnam.DATE_FORMAT),
        "page_number": page_number,
        "page_size": page_size,
        "kieu_ngay": READ_API_DATE_KIND,
    }


def parse_read_api_page(body):
    """Parse one read-API answer ``{"status": true, "data": [...], "total": N}``.

    Returns ``(results, total)``: one ``(raw, ParseResult)`` per order, where
    ``raw`` is the order object alone as JSON text (store it: the webhook
    parser reads it back to the same order) and the ParseResult holds the
    order or its errors (paths relative to that order, ``san_pham[0].so_luong``);
    ``total`` is the number of orders of the whole query (None when not
    sent). Raises :class:`ReadApiError` when the page cannot be used at all.
    """
    payload, issue, has_nul = _load_json(body)
    if issue:
        if issue.message == normalize.NOT_JSON_MESSAGE:
            raise ReadApiError("Mobiwork's read API answered with something not JSON.")
        raise ReadApiError(
            "Mobiwork's read API answered JSON that cannot be read "
            f"({issue.path}: {issue.message})."
        )
    if not isinstance(payload, dict):
        raise ReadApiError("Mobiwork's read API answered with an unexpected shape.")
    # The error shape of the write API; a page without "status" is accepted.
    if payload.get("successful") is False or (
        "status" in payload and not payload["status"]
    ):
        raise ReadApiError(
            callbacks.read_error(200, payload)
            or "Mobiwork's read API answered status false.",
            refused=True,
        )
    data = payload.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise ReadApiError("Mobiwork's read API answered data that is not a list.")
    total = payload.get("total")
    if total in (None, ""):
        total = None
    else:
        try:
            total = int(str(total).strip())
        except ValueError as exc:
            raise ReadApiError(
                "Mobiwork's read API answered a total that is not a number."
            ) from exc
    results = []
    for order in data:
        result = parse_order(order)
        if has_nul:
            result = _with_nul_issue(result, order, "")
        results.append((json.dumps(order, ensure_ascii=False), result))
    return results, total


def read_api_next_page(page_number, page_size, count, total=None):
    """The next page number to ask for, or None after the last page.

    ``count`` is the number of orders the page held. With ``total`` known the
    pages stop once ``page_number * page_size`` reaches it; without it, at
    the first page not full.
    """
    if count == 0:
        return None
    if total is not None:
        return page_number + 1 if page_number * page_size < total else None
    return page_number + 1 if count >= page_size else None
