"""Vietnam time, dates and amounts, as Mobiwork writes them.

- Mobiwork sends date-times in UTC (``2026-11-22T18:30:00Z``) but its users,
  its read API and its Bill expect Asia/Ho_Chi_Minh local dates: that moment
  is the 23rd of November in Vietnam.
- VND has no minor unit: an amount is a whole number of đồng.
"""

import unicodedata
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo.addons.oms_integration.lib import normalize

try:
    VIETNAM_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # no tz database: Vietnam is UTC+7, no DST since 1975
    VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")

DATE_FORMAT = "%d/%m/%Y"  # the read API's tu_ngay/den_ngay, the Bill's dates
ISO_DATE_FORMAT = "%Y-%m-%d"  # the goods issue's ngay_xuat


def local_date(moment):
    """The Vietnam calendar date of ``moment``.

    An aware datetime is converted to Asia/Ho_Chi_Minh; a naive one is taken
    as UTC, as Odoo stores its datetimes; a ``date`` is already a local date
    (Odoo's date fields) and is returned as is.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(VIETNAM_TZ).date()
    if isinstance(moment, date):
        return moment
    raise TypeError("a date or a datetime is required")


def format_date(moment):
    """``dd/mm/YYYY`` of the Vietnam date of ``moment`` (see :func:`local_date`)."""
    return local_date(moment).strftime(DATE_FORMAT)


def format_iso_date(moment):
    """``YYYY-MM-DD`` of the Vietnam date of ``moment``."""
    return local_date(moment).strftime(ISO_DATE_FORMAT)


def parse_date(value):
    """A ``dd/mm/YYYY`` text as a date; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError("a date must be written dd/mm/YYYY")
    return datetime.strptime(value.strip(), DATE_FORMAT).date()


def parse_vnd(value):
    """A whole number of đồng, from a JSON number or a numeric string.

    ``12000``, ``"12000"`` and ``12000.0`` are all ``Decimal(12000)``.
    Raises ValueError on anything that is not a number, and on a fractional
    amount (``12000.5``): VND has no decimals, so a fraction means the amount
    is wrong, not that it needs rounding.
    """
    number = normalize.parse_amount(value)
    if number != number.to_integral_value():
        raise ValueError("VND amounts are whole numbers of đồng")
    return Decimal(int(number))


def round_vnd(value):
    """An amount rounded half-up to whole đồng, as an int (what Odoo's VND
    rounding of 1 does): for amounts Odoo computed, where a fraction is a
    float artifact rather than an error."""
    if value is None or isinstance(value, bool):
        raise ValueError("an amount is required")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError("an amount must be a finite number")
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fold(value):
    """Text without diacritics, case-folded and single-spaced, to compare labels
    written with or without accents: ``"Đã Huỷ"`` and ``"đã hủy"`` are both
    ``"da huy"``."""
    decomposed = unicodedata.normalize("NFD", normalize.text(value))
    plain = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    plain = plain.replace("đ", "d").replace("Đ", "D")
    return " ".join(plain.casefold().split())
