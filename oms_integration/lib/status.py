"""The outbound status body of the compatible format, and status ordering.

See the outbound status contract: Odoo tells a provider that an order was
``approved``, is ``processing``, was ``delivered`` (partly or completely) or
``cancelled``. Provider addons map these to their own vocabulary and may add
statuses; they pass their own order to :func:`is_regression`.
"""

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal

STATUS_TYPE = "order.status"

# The order statuses happen in; sending a status ranked lower than the last one
# sent is a regression (recorded, not sent).
STATUS_ORDER = ("approved", "processing", "delivered", "cancelled")
# A cancellation may follow any status.
ALWAYS_ALLOWED = ("cancelled",)


def format_datetime(moment):
    """``2026-11-23T03:10:00Z``: UTC, whole seconds.

    A naive datetime is taken as UTC, as Odoo stores its datetimes.
    """
    if not isinstance(moment, datetime):
        raise TypeError("occurred_at must be a datetime")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value):
    """A quantity as a JSON number: ``5.0`` becomes ``5``, ``2.5`` stays."""
    if isinstance(value, bool) or value is None:
        raise ValueError("a delivered quantity must be a number")
    number = Decimal(str(value))
    if not number.is_finite():
        raise ValueError("a delivered quantity must be a finite number")
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _tracking(tracking):
    carrier = str(tracking.get("carrier") or "")
    number = str(tracking.get("number") or "")
    return {"carrier": carrier, "number": number} if (carrier or number) else None


def _line(line):
    return {
        "id": str(line["id"]),
        "sku": str(line.get("sku") or ""),
        "quantity_delivered": _number(line["quantity_delivered"]),
    }


def build_status_body(
    order_id,
    order_name,
    status,
    occurred_at,
    sale_order_name,
    complete=None,
    tracking=None,
    lines=None,
):
    """The JSON object of one compatible status callback.

    ``complete``, ``tracking`` and ``lines`` are left out when None.
    ``tracking`` is a mapping with ``carrier`` and ``number``; ``lines`` are
    mappings with ``id``, ``sku`` and ``quantity_delivered``. Only the
    contract's keys are emitted, whatever else the mappings hold.
    """
    if status not in STATUS_ORDER:
        raise ValueError(f"unknown order status {status!r}")
    if not order_id:
        raise ValueError("the external order id is required")
    if complete is not None and not isinstance(complete, bool):
        raise TypeError("complete must be True, False or None")
    body = {
        "type": STATUS_TYPE,
        "order": {"id": str(order_id), "name": str(order_name or "")},
        "status": status,
        "occurred_at": format_datetime(occurred_at),
        "odoo": {"sale_order": str(sale_order_name or "")},
    }
    if complete is not None:
        body["complete"] = complete
    if tracking is not None:
        if not isinstance(tracking, Mapping):
            raise TypeError("tracking must be a mapping with carrier and number")
        tracking = _tracking(tracking)
        if tracking:
            body["tracking"] = tracking
    if lines is not None:
        body["lines"] = [_line(line) for line in lines]
    return body


def dumps_status_body(body):
    """The bytes to send (and sign): compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def is_regression(previous_status, new_status, order=STATUS_ORDER):
    """Whether sending ``new_status`` after ``previous_status`` goes backwards.

    Nothing sent yet: never a regression. ``cancelled`` may follow anything.
    The same status again is not a regression (partial deliveries send
    ``delivered`` several times). Anything else ranked lower than the previous
    status is, including ``approved`` after ``cancelled``: the provider keeps
    ``cancelled`` and the refusal is recorded for a person to look at.
    Statuses missing from ``order`` raise ValueError (a programming error).
    """
    if new_status not in order:
        raise ValueError(f"unknown order status {new_status!r}")
    if not previous_status:
        return False
    if previous_status not in order:
        raise ValueError(f"unknown order status {previous_status!r}")
    if new_status in ALWAYS_ALLOWED:
        return False
    return order.index(new_status) < order.index(previous_status)
