"""What Odoo sends back to Mobiwork, and how Mobiwork answers.

- :func:`build_bill`: the body of ``POST /OpenAPI/V1/Bill`` (the sale is
  done), from a :class:`BillInfo`;
- :func:`build_goods_issue`: the body of
  ``POST /OpenAPI/V1/InventoryExportCustomer`` (goods left the warehouse),
  from a :class:`GoodsIssueInfo`;
- :func:`status_label`: our order status as Mobiwork's ``trang_thai``;
- :func:`read_error`: Mobiwork's answer as one readable line, or None when
  it is a success.

The inputs are plain dataclasses (or mappings with the same keys, lines
included) that the Odoo side fills from a sale order; nothing here reads
Odoo. Decisions where Mobiwork publishes nothing:

- Amounts are sent as whole đồng (JSON integers). Odoo computed them, so a
  fraction is a float artifact: it is rounded half-up, as Odoo's VND
  rounding does (whereas a fraction *received* from Mobiwork is an error).
- ``don_gia`` is the unit price before the line's discount, tax excluded;
  ``chiet_khau_sp`` the discount of the whole line in đồng, as ``chiet_khau``
  is read on incoming orders.
- ``tong_tien_hang`` is the sum of the lines' ``so_luong × don_gia`` (each
  rounded to the đồng), ``tong_ck_sp`` the sum of their ``chiet_khau_sp``.
  ``tong_tien_vat`` is given (Odoo's tax amount). ``phai_thanh_toan`` is
  given (what the customer pays in Odoo), or else computed as
  ``tong_tien_hang - tong_ck_sp - ck_don_hang + tong_tien_vat``.
- ``vat`` is a percentage number (10, 8, 5, 0); a line with no tax, not
  subject to VAT ("KCT") or not declared ("KKKNT") carries no VAT and is
  sent as 0; any other text is refused.
- Free goods go in ``san_pham_km`` with the names of incoming free goods
  (``ma_sp_km``, ``so_luong_km``, ``ma_kho_xuat_km``, ``ghi_chu_km``) and
  ``ma_dvt_km`` for the unit code, as ``ma_dvt`` on paid lines.
- The goods issue lists every product that left, free goods included at
  ``don_gia`` 0, each with ``ma_sp``, ``ma_dvt``, ``so_luong``, ``don_gia``,
  ``chiet_khau_sp`` and ``vat``, the fields of the Bill's lines; its
  warehouse is the header's ``kho_xuat``.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal

from odoo.addons.oms_integration.lib import normalize

from . import vietnam

BILL_PATH = "/OpenAPI/V1/Bill"
GOODS_ISSUE_PATH = "/OpenAPI/V1/InventoryExportCustomer"
# Our design (Mobiwork publishes no status endpoint): statuses other than the
# Bill and the goods issue are POSTed here as {"ma_phieu", "trang_thai"}.
ORDER_STATUS_PATH = "/OpenAPI/V1/OrderStatus"
# The header authenticating calls to Mobiwork's ERP API (and, by default,
# Mobiwork's webhooks to Odoo).
TOKEN_HEADER = "tokenkey"
# trang_thai of a Bill: the only Mobiwork status value ever published.
SOLD_LABEL = "Đã bán hàng"
MAX_ERROR_LENGTH = 500
# Vietnamese VAT categories that are not a rate: not subject to VAT (KCT),
# not declared (KKKNT). Such a line carries no VAT: sent as vat 0.
NO_VAT_CODES = ("KCT", "KKKNT")


# --- status labels -----------------------------------------------------------


def status_label(status, defaults, overrides=None):
    """Mobiwork's label (or code) of our order ``status``.

    ``defaults`` is the addon's ``const.DEFAULT_STATUS_LABELS``;
    ``overrides`` maps statuses to the tenant's own labels or codes and wins
    where it holds a non-empty value. Raises ValueError when neither has the
    status (a programming or configuration error, not a delivery problem).
    """
    for labels in (overrides or {}, defaults or {}):
        label = normalize.text(labels.get(status))
        if label:
            return label
    raise ValueError(
        f"No Mobiwork label for the order status {status!r}: add it to the "
        "status mapping of the source."
    )


# --- inputs ------------------------------------------------------------------


@dataclass
class ProductLine:
    """A product line of a Bill (``san_pham[]``) or of a goods issue
    (``data_san_pham[]``, where ``warehouse_code`` is not used)."""

    product_code: str  # ma_sp: Mobiwork's product code (the mapping's)
    quantity: Decimal | int | float | str  # so_luong, above 0
    price_unit: Decimal | int | float | str  # don_gia: VND, before discount, no tax
    uom_code: str = ""  # ma_dvt
    vat_rate: str | int | float | Decimal | None = None  # vat: 10, 8, 5, 0, "KCT"
    discount_amount: Decimal | int | float | str = 0  # chiet_khau_sp: whole line
    warehouse_code: str = ""  # ma_kho_xuat


@dataclass
class FreeLine:
    """A free good of a Bill (``san_pham_km[]``)."""

    product_code: str  # ma_sp_km
    quantity: Decimal | int | float | str  # so_luong_km, above 0
    uom_code: str = ""  # ma_dvt_km
    warehouse_code: str = ""  # ma_kho_xuat_km
    note: str = ""  # ghi_chu_km


@dataclass
class BillInfo:
    """What the Bill of one sale needs; amounts in VND."""

    bill_number: str  # ma_phieu: Odoo's document (invoice or sale order) name
    order_number: str  # ma_phieu_dat: the DMS order number (the external id)
    customer_code: str  # ma_kh: Mobiwork's customer code
    order_date: date | datetime  # ngay_dat (a datetime: its Vietnam date)
    sale_date: date | datetime  # ngay_ban
    amount_tax: Decimal | int | float  # tong_tien_vat
    lines: list[ProductLine] = field(default_factory=list)
    free_lines: list[FreeLine] = field(default_factory=list)
    order_discount: Decimal | int | float = 0  # ck_don_hang
    amount_total: Decimal | int | float | None = None  # phai_thanh_toan
    phone: str = ""  # sdt
    address: str = ""  # dia_chi
    status_label: str = SOLD_LABEL  # trang_thai


@dataclass
class GoodsIssueInfo:
    """What a goods issue (phiếu xuất kho) of one order needs."""

    order_number: str  # ma_don_lien_quan: the DMS order number
    warehouse_code: str  # kho_xuat: Mobiwork's warehouse code
    issue_date: date | datetime  # ngay_xuat
    lines: list[ProductLine] = field(default_factory=list)  # what left, free too
    order_discount: Decimal | int | float = 0  # ckdh


def _coerce(cls, value, what):
    """``value`` as ``cls``: an instance, or a mapping of its fields."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a {cls.__name__} or a mapping")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(value) - known)
    if unknown:
        raise TypeError(f"{what} has unknown keys: {', '.join(unknown)}")
    return cls(**value)


def _required(value, what):
    value = normalize.text(value)
    if not value:
        raise ValueError(f"{what} is required")
    return value


def _amount(value, what):
    """Whole đồng, 0 or more."""
    try:
        amount = vietnam.round_vnd(value)
    except (ArithmeticError, ValueError) as exc:
        raise ValueError(f"{what} must be an amount in đồng") from exc
    if amount < 0:
        raise ValueError(f"{what} must be 0 or more")
    return amount


def _quantity(value, what):
    """A quantity above 0 as a JSON number: 5.0 is 5, 2.5 stays 2.5."""
    try:
        number = normalize.parse_amount(value)
    except ValueError as exc:
        raise ValueError(f"{what} must be a number") from exc
    if number <= 0:
        raise ValueError(f"{what} must be greater than 0")
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _vat_percent(rate, what):
    """The ``vat`` percentage: 10, 8, 5, 0; no tax and KCT are 0."""
    if rate is None or isinstance(rate, str) and not rate.strip():
        return 0
    if isinstance(rate, bool):
        raise ValueError(f"{what} must be a VAT rate such as 10, 8, 5, 0 or KCT")
    raw = normalize.text(rate).rstrip("%").strip()
    try:
        number = normalize.parse_amount(raw)
    except ValueError as exc:
        if raw.upper() in NO_VAT_CODES:
            return 0
        raise ValueError(
            f"{what} must be a VAT rate such as 10, 8, 5, 0 or KCT"
        ) from exc
    if not 0 <= number <= 100:
        raise ValueError(f"{what} must be between 0 and 100")
    return int(number) if number == number.to_integral_value() else float(number)


def _product_line(line, index, what):
    line = _coerce(ProductLine, line, f"{what}[{index}]")
    code = _required(line.product_code, f"The product code (ma_sp) of line {index + 1}")
    label = f"line {index + 1} ({code})"
    quantity = _quantity(line.quantity, f"The quantity of {label}")
    price = _amount(line.price_unit, f"The unit price of {label}")
    discount = _amount(line.discount_amount, f"The discount of {label}")
    goods = vietnam.round_vnd(Decimal(str(quantity)) * price)
    if discount > goods:
        raise ValueError(f"The discount of {label} is more than its amount ({goods})")
    return line, code, quantity, price, discount, goods


# --- bodies ------------------------------------------------------------------


def build_bill(info):
    """The JSON object of ``POST /OpenAPI/V1/Bill`` for one sale.

    ``info`` is a :class:`BillInfo` or a mapping of its fields (lines as
    :class:`ProductLine` / :class:`FreeLine` or mappings). Raises ValueError
    with a plain-language message when something required is missing or
    wrong, TypeError on a wrong input type.
    """
    info = _coerce(BillInfo, info, "The bill")
    if not info.lines and not info.free_lines:
        raise ValueError("The bill has no line")
    san_pham = []
    goods_total = discounts_total = 0
    for index, line in enumerate(info.lines):
        line, code, quantity, price, discount, goods = _product_line(
            line, index, "lines"
        )
        goods_total += goods
        discounts_total += discount
        san_pham.append(
            {
                "ma_sp": code,
                "ma_dvt": normalize.text(line.uom_code),
                "vat": _vat_percent(line.vat_rate, f"The VAT of line {index + 1}"),
                "so_luong": quantity,
                "ma_kho_xuat": normalize.text(line.warehouse_code),
                "don_gia": price,
                "chiet_khau_sp": discount,
            }
        )
    san_pham_km = []
    for index, line in enumerate(info.free_lines):
        line = _coerce(FreeLine, line, f"free_lines[{index}]")
        code = _required(
            line.product_code, f"The product code of free good {index + 1}"
        )
        san_pham_km.append(
            {
                "ma_sp_km": code,
                "ma_dvt_km": normalize.text(line.uom_code),
                "so_luong_km": _quantity(
                    line.quantity, f"The quantity of free good {index + 1} ({code})"
                ),
                "ma_kho_xuat_km": normalize.text(line.warehouse_code),
                "ghi_chu_km": normalize.text(line.note),
            }
        )
    order_discount = _amount(info.order_discount, "The order discount (ck_don_hang)")
    tax = _amount(info.amount_tax, "The VAT amount (tong_tien_vat)")
    if info.amount_total is None:
        total = goods_total - discounts_total - order_discount + tax
        if total < 0:
            raise ValueError("The discounts are more than the bill's amount")
    else:
        total = _amount(info.amount_total, "The amount to pay (phai_thanh_toan)")
    return {
        "trang_thai": _required(info.status_label, "The bill's status (trang_thai)"),
        "ma_phieu": _required(info.bill_number, "The bill number (ma_phieu)"),
        "ma_phieu_dat": _required(
            info.order_number, "The Mobiwork order number (ma_phieu_dat)"
        ),
        "ma_kh": _required(info.customer_code, "The customer code (ma_kh)"),
        "sdt": normalize.text(info.phone),
        "dia_chi": normalize.text(info.address),
        "ngay_dat": vietnam.format_date(info.order_date),
        "ngay_ban": vietnam.format_date(info.sale_date),
        "tong_tien_hang": goods_total,
        "tong_tien_vat": tax,
        "tong_ck_sp": discounts_total,
        "ck_don_hang": order_discount,
        "phai_thanh_toan": total,
        "san_pham": san_pham,
        "san_pham_km": san_pham_km,
    }


def build_goods_issue(info):
    """The JSON object of ``POST /OpenAPI/V1/InventoryExportCustomer``.

    ``info`` is a :class:`GoodsIssueInfo` or a mapping of its fields. Raises
    ValueError (plain language) or TypeError as :func:`build_bill` does.
    """
    info = _coerce(GoodsIssueInfo, info, "The goods issue")
    if not info.lines:
        raise ValueError("The goods issue has no line")
    data_san_pham = []
    for index, line in enumerate(info.lines):
        line, code, quantity, price, discount, _goods = _product_line(
            line, index, "lines"
        )
        data_san_pham.append(
            {
                "ma_sp": code,
                "ma_dvt": normalize.text(line.uom_code),
                "so_luong": quantity,
                "don_gia": price,
                "chiet_khau_sp": discount,
                "vat": _vat_percent(line.vat_rate, f"The VAT of line {index + 1}"),
            }
        )
    return {
        "ma_don_lien_quan": _required(
            info.order_number, "The Mobiwork order number (ma_don_lien_quan)"
        ),
        "ckdh": _amount(info.order_discount, "The order discount (ckdh)"),
        "kho_xuat": _required(info.warehouse_code, "The warehouse code (kho_xuat)"),
        "ngay_xuat": vietnam.format_iso_date(info.issue_date),
        "data_san_pham": data_san_pham,
    }


def dumps(body):
    """The bytes to send: compact UTF-8 JSON, Vietnamese left readable."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --- answers -----------------------------------------------------------------


def _messages(payload):
    if not isinstance(payload, Mapping):
        return []
    messages = []
    errors = payload.get("errors")
    if isinstance(errors, list):
        for error in errors:
            message = error.get("message") if isinstance(error, Mapping) else error
            if message not in (None, "") and not isinstance(message, dict | list):
                messages.append(normalize.text(message))
    if not messages:
        for key in ("message", "msg", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value.strip():
                messages.append(normalize.text(value))
                break
    return messages


def _one_line(message):
    message = " ".join(message.split())
    if len(message) > MAX_ERROR_LENGTH:
        message = message[: MAX_ERROR_LENGTH - 1] + "…"
    return message


def read_error(status_code, body):
    """None when Mobiwork's answer is a success, else one readable line.

    Success is HTTP 2xx with a truthy ``status`` (and no
    ``successful: false``). Errors read Mobiwork's
    ``{"successful": false, "errors": [{"message": ...}]}`` (or a top-level
    ``message``), e.g. ``Mobiwork refused the request (HTTP 400): Khách hàng
    KH9 không tồn tại``. ``body`` is bytes, text or the decoded JSON.
    """
    payload = body
    if isinstance(body, bytes | bytearray | str):
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            payload = None
    http_ok = 200 <= int(status_code) < 300
    if (
        http_ok
        and isinstance(payload, Mapping)
        and payload.get("status")
        and payload.get("successful") is not False
    ):
        return None
    where = "" if http_ok else f" (HTTP {status_code})"
    messages = _messages(payload)
    if messages:
        return _one_line(f"Mobiwork refused the request{where}: {'; '.join(messages)}")
    if payload is None and body:
        raw = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
        return _one_line(
            f"Mobiwork answered HTTP {status_code} with a body that is not JSON: "
            f"{raw[:200]}"
        )
    return _one_line(
        f"Mobiwork answered HTTP {status_code} without success and without an "
        "error message."
    )
