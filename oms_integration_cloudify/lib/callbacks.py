"""What Odoo sends back to Cloudify, and how Cloudify answers.

The status callback (our proposal, Cloudify publishes none) is a ``POST`` of
JSON to an endpoint configured on the source (by default
:data:`DEFAULT_STATUS_PATH` on the tenant's URL), authenticated as every
other call (:func:`.auth.auth_headers`)::

    {"external_id": "cf_88421", "state": "done", "tracking_ref": "GHN123",
     "delivered_qty": [{"seq": 1, "product_code": "SP001", "qty": 5}]}

- ``external_id``: Cloudify's order id, as received;
- ``state``: Cloudify's state for our status, from the source's state map
  (``const.DEFAULT_STATE_MAP``: approved -> ``confirmed``, processing ->
  ``picking``, delivered -> ``done``, cancelled -> ``cancel``);
- ``tracking_ref``: the carrier's tracking number, or null;
- ``delivered_qty``: one item per order line: ``seq`` (the line's ``seq`` as
  received: a number when it is all digits, else text), ``product_code`` and
  ``qty``, the quantity delivered so far (cumulative, not the last delivery
  only, so that a repeated or reordered callback is harmless), a JSON
  number. Empty when nothing is reported.

Every key is always present (null or empty), so the shape never changes.
:func:`status_from_compatible` builds the same body from the core's
compatible status payload, which is what an outbound event stores.
"""

import json
from collections.abc import Mapping

from odoo.addons.oms_integration.lib import normalize

# Cloudify's order states (our proposal): read on incoming orders by the
# parser, sent back by the status callback.
STATES = ("draft", "confirmed", "picking", "delivering", "done", "cancel")

DEFAULT_STATUS_PATH = "/rest_api/private/sale_document/status"
MAX_ERROR_LENGTH = 500
# Keys of a REST answer that carry an error message, first found wins.
MESSAGE_KEYS = ("message", "error_description", "detail", "msg")


# --- the status body ---------------------------------------------------------


def cloudify_state(our_status, state_map, states=None):
    """Cloudify's state for our order status ``our_status``, read from
    ``state_map`` (``const.DEFAULT_STATE_MAP``, or the source's own map).
    Raises ValueError when the map has no state for it, or a state not in
    ``states`` (default :data:`STATES`): a configuration error to fix
    on the source, not a problem of the order."""
    if not isinstance(state_map, Mapping):
        raise ValueError(
            "No state map: pass the source's map (const.DEFAULT_STATE_MAP by default)."
        )
    state = normalize.text(state_map.get(our_status))
    if not state:
        raise ValueError(
            f"No Cloudify state for the order status {our_status!r}: add it to "
            "the state map of the source."
        )
    allowed = states or STATES
    if state not in allowed:
        raise ValueError(
            f"The state map sends {our_status!r} as {state!r}, which is not a "
            f"Cloudify state ({', '.join(allowed)}): fix the state map of the source."
        )
    return state


def _seq(value, what):
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what} needs its seq")
    seq = normalize.text(value)
    if not seq:
        raise ValueError(f"{what} needs its seq")
    return int(seq) if seq.isascii() and seq.isdigit() else seq


def _qty(value, what):
    try:
        number = normalize.parse_amount(value)
    except ValueError as exc:
        raise ValueError(f"The delivered quantity of {what} must be a number") from exc
    if number < 0:
        raise ValueError(f"The delivered quantity of {what} must be 0 or more")
    if number == number.to_integral_value():
        return int(number)
    return float(number)


def _delivered_item(line, index):
    what = f"line {index + 1}"
    if not isinstance(line, Mapping):
        raise TypeError(f"{what} must be a mapping with seq, product_code and qty")
    unknown = sorted(set(line) - {"seq", "product_code", "qty"})
    if unknown:
        raise TypeError(f"{what} has unknown keys: {', '.join(unknown)}")
    seq = _seq(line.get("seq"), what)
    what = f"line {seq}"
    return {
        "seq": seq,
        "product_code": normalize.text(line.get("product_code")),
        "qty": _qty(line.get("qty"), what),
    }


def build_status(
    our_status, order_external_id, tracking_ref=None, lines=None, state_map=None
):
    """The JSON object of one status callback (see the module's docstring).

    ``our_status`` is the core's status (approved, processing, delivered,
    cancelled, or one the source's map adds); ``lines`` are mappings with
    ``seq``, ``product_code`` and ``qty`` (delivered so far); ``state_map``
    maps our statuses to Cloudify's states and is required (pass
    ``const.DEFAULT_STATE_MAP`` or the source's own). Raises ValueError with
    a plain-language message when something is missing or wrong.
    """
    external_id = normalize.text(order_external_id)
    if not external_id:
        raise ValueError("The Cloudify order id (external_id) is required")
    tracking = normalize.text(tracking_ref)
    return {
        "external_id": external_id,
        "state": cloudify_state(our_status, state_map),
        "tracking_ref": tracking or None,
        "delivered_qty": [
            _delivered_item(line, index) for index, line in enumerate(lines or [])
        ],
    }


def status_from_compatible(body, state_map):
    """The status callback built from the core's compatible status body
    (``{"order": {"id"}, "status", "tracking": {"number"}, "lines": [{"id",
    "sku", "quantity_delivered"}]}``, as an outbound event stores it):
    line ``id`` is the ``seq``, ``sku`` the ``product_code``."""
    if isinstance(body, bytes | str):
        body = json.loads(body)
    if not isinstance(body, Mapping):
        raise TypeError("the compatible status body must be a JSON object")
    order = body.get("order") if isinstance(body.get("order"), Mapping) else {}
    tracking = body.get("tracking") if isinstance(body.get("tracking"), Mapping) else {}
    lines = [
        {
            "seq": line.get("id"),
            "product_code": line.get("sku"),
            "qty": line.get("quantity_delivered"),
        }
        for line in body.get("lines") or []
        if isinstance(line, Mapping)
    ]
    return build_status(
        body.get("status"),
        order.get("id"),
        tracking_ref=tracking.get("number"),
        lines=lines,
        state_map=state_map,
    )


def dumps(body):
    """The bytes to send: compact UTF-8 JSON, Vietnamese left readable."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --- answers -----------------------------------------------------------------


def _decode(body):
    if isinstance(body, bytes | bytearray | memoryview):
        body = bytes(body)
    if isinstance(body, bytes | str):
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
    return body


def _error_messages(payload):
    """The messages of an error answer (JSON-RPC or REST), no traceback."""
    if not isinstance(payload, Mapping):
        return []
    error = payload.get("error")
    messages = []
    if isinstance(error, Mapping):  # JSON-RPC: {"code", "message", "data"}
        data = error.get("data") if isinstance(error.get("data"), Mapping) else {}
        for value in (data.get("message"), error.get("message")):
            if isinstance(value, str) and value.strip():
                messages.append(normalize.text(value))
                break
    elif isinstance(error, str) and error.strip():
        messages.append(normalize.text(error))
    errors = payload.get("errors")
    if isinstance(errors, list):
        for item in errors:
            value = item.get("message") if isinstance(item, Mapping) else item
            if isinstance(value, str) and value.strip():
                messages.append(normalize.text(value))
    for key in MESSAGE_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            text = normalize.text(value)
            if text not in messages:
                messages.append(text)
            break
    return messages


def _refused(payload):
    """Whether a JSON answer says it failed although its HTTP status is 2xx."""
    if not isinstance(payload, Mapping):
        return False
    if payload.get("error") not in (None, "", False, {}):
        return True
    if payload.get("errors"):
        return True
    if payload.get("success") is False or payload.get("successful") is False:
        return True
    status = payload.get("status")
    return isinstance(status, str) and status.lower() in ("error", "failed", "fail")


def _one_line(message):
    message = " ".join(message.split())
    if len(message) > MAX_ERROR_LENGTH:
        message = message[: MAX_ERROR_LENGTH - 1] + "…"
    return message


def read_error(status, body):
    """None when Cloudify's answer is a success, else one readable line.

    Success is HTTP 2xx without an error in the body. Errors are read from
    Odoo's JSON-RPC ``{"error": {"message", "data": {"message"}}}`` (HTTP
    200), or a REST body ``{"error": ...}``, ``{"errors": [...]}``,
    ``{"success": false, "message": ...}``, e.g. ``Cloudify refused the
    request (HTTP 404): Order cf_1 not found``. A traceback (``data.debug``)
    is never included. ``body`` is bytes, text or the decoded JSON.
    """
    payload = _decode(body)
    http_ok = 200 <= int(status) < 300
    if http_ok and not _refused(payload):
        return None
    where = "" if http_ok else f" (HTTP {status})"
    messages = _error_messages(payload)
    if messages:
        return _one_line(f"Cloudify refused the request{where}: {'; '.join(messages)}")
    if payload is None and body:
        raw = body if isinstance(body, str) else bytes(body).decode("utf-8", "replace")
        return _one_line(
            f"Cloudify answered HTTP {status} with a body that is not JSON: {raw[:200]}"
        )
    return _one_line(f"Cloudify answered HTTP {status} without an error message.")
