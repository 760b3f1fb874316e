"""The status callback Odoo sends to Cloudify, and Cloudify's answers."""

import importlib.util
import json
import pathlib
from datetime import datetime, timezone

import pytest
from cloudify_lib import callbacks, parser
from oms_lib import status

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _load_const():
    """The addon's const.py, a plain module (its package imports Odoo)."""
    path = ROOT / "oms_integration_cloudify" / "const.py"
    spec = importlib.util.spec_from_file_location("cloudify_const", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


const = _load_const()
STATE_MAP = const.DEFAULT_STATE_MAP


# --- the state map -------------------------------------------------------------


def test_default_state_map_covers_every_core_status_with_cloudify_states():
    assert set(STATE_MAP) == set(status.STATUS_ORDER)
    assert set(STATE_MAP.values()) <= set(callbacks.STATES)
    assert parser.STATES == callbacks.STATES


@pytest.mark.parametrize(
    ("our_status", "state"),
    [
        ("approved", "confirmed"),
        ("processing", "picking"),
        ("delivered", "done"),
        ("cancelled", "cancel"),
    ],
)
def test_default_states(our_status, state):
    assert callbacks.build_status(our_status, "cf_1", state_map=STATE_MAP)["state"] == (
        state
    )


def test_a_source_may_map_processing_to_delivering():
    state_map = {**STATE_MAP, "processing": "delivering"}
    body = callbacks.build_status("processing", "cf_1", state_map=state_map)
    assert body["state"] == "delivering"


@pytest.mark.parametrize(
    ("state_map", "message"),
    [
        (None, "No state map: pass the source's map"),
        (
            {"approved": "confirmed"},
            "No Cloudify state for the order status 'delivered'",
        ),
        ({**STATE_MAP, "delivered": ""}, "No Cloudify state for the order status"),
        ({**STATE_MAP, "delivered": "shipped"}, "which is not a Cloudify state"),
    ],
)
def test_state_map_problems_are_configuration_errors(state_map, message):
    with pytest.raises(ValueError, match=message):
        callbacks.build_status("delivered", "cf_1", state_map=state_map)


# --- the body ------------------------------------------------------------------


def test_a_delivered_status_with_tracking_and_quantities():
    body = callbacks.build_status(
        "delivered",
        " cf_88421 ",
        tracking_ref="GHN-123456",
        lines=[
            {"seq": "1", "product_code": "SP001", "qty": 5.0},
            {"seq": 2, "product_code": "SP009", "qty": "2"},
            {"seq": "A1", "product_code": "SP010", "qty": 1.5},
        ],
        state_map=STATE_MAP,
    )
    assert body == {
        "external_id": "cf_88421",
        "state": "done",
        "tracking_ref": "GHN-123456",
        "delivered_qty": [
            {"seq": 1, "product_code": "SP001", "qty": 5},
            {"seq": 2, "product_code": "SP009", "qty": 2},
            {"seq": "A1", "product_code": "SP010", "qty": 1.5},
        ],
    }
    assert isinstance(body["delivered_qty"][0]["qty"], int)


def test_every_key_is_always_present():
    assert callbacks.build_status("approved", "cf_1", state_map=STATE_MAP) == {
        "external_id": "cf_1",
        "state": "confirmed",
        "tracking_ref": None,
        "delivered_qty": [],
    }
    body = callbacks.build_status("cancelled", 88421, "", [], state_map=STATE_MAP)
    assert body == {
        "external_id": "88421",
        "state": "cancel",
        "tracking_ref": None,
        "delivered_qty": [],
    }


def test_nothing_delivered_yet_is_zero():
    body = callbacks.build_status(
        "processing",
        "cf_1",
        lines=[{"seq": 1, "product_code": "SP001", "qty": 0}],
        state_map=STATE_MAP,
    )
    assert body["delivered_qty"] == [{"seq": 1, "product_code": "SP001", "qty": 0}]


@pytest.mark.parametrize(
    ("line", "error", "message"),
    [
        ({"seq": 1, "product_code": "SP001", "qty": -1}, ValueError, "0 or more"),
        ({"seq": 1, "product_code": "SP001", "qty": "năm"}, ValueError, "a number"),
        ({"seq": 1, "product_code": "SP001", "qty": None}, ValueError, "a number"),
        ({"product_code": "SP001", "qty": 1}, ValueError, "line 1 needs its seq"),
        ({"seq": True, "product_code": "SP001", "qty": 1}, ValueError, "needs its seq"),
        ({"seq": 1, "sku": "SP001", "qty": 1}, TypeError, "unknown keys: sku"),
        ("SP001", TypeError, "must be a mapping"),
    ],
)
def test_bad_lines(line, error, message):
    with pytest.raises(error, match=message):
        callbacks.build_status("delivered", "cf_1", lines=[line], state_map=STATE_MAP)


def test_the_external_id_is_required():
    with pytest.raises(ValueError, match="external_id"):
        callbacks.build_status("approved", " ", state_map=STATE_MAP)


def test_status_from_the_core_compatible_body():
    compatible = status.build_status_body(
        "cf_88421",
        "SO/2026/00123",
        "delivered",
        datetime(2026, 11, 23, 3, 10, tzinfo=timezone.utc),
        "S00042",
        complete=False,
        tracking={"carrier": "GHN", "number": "GHN-123456"},
        lines=[
            {"id": "1", "sku": "SP001", "quantity_delivered": 3.0},
            {"id": "2", "sku": "SP009", "quantity_delivered": 2},
        ],
    )
    expected = {
        "external_id": "cf_88421",
        "state": "done",
        "tracking_ref": "GHN-123456",
        "delivered_qty": [
            {"seq": 1, "product_code": "SP001", "qty": 3},
            {"seq": 2, "product_code": "SP009", "qty": 2},
        ],
    }
    assert callbacks.status_from_compatible(compatible, STATE_MAP) == expected
    stored = status.dumps_status_body(compatible)  # as an outbound event keeps it
    assert callbacks.status_from_compatible(stored, STATE_MAP) == expected
    assert callbacks.status_from_compatible(stored.decode(), STATE_MAP) == expected


def test_a_compatible_approval_has_no_tracking_nor_lines():
    compatible = status.build_status_body(
        "cf_1", "", "approved", datetime(2026, 11, 23, tzinfo=timezone.utc), "S1"
    )
    assert callbacks.status_from_compatible(compatible, STATE_MAP) == {
        "external_id": "cf_1",
        "state": "confirmed",
        "tracking_ref": None,
        "delivered_qty": [],
    }


def test_dumps_keeps_vietnamese_readable():
    body = {"external_id": "cf_1", "state": "done", "tracking_ref": "Giao hàng nhanh"}
    assert (
        callbacks.dumps(body)
        == (
            '{"external_id":"cf_1","state":"done","tracking_ref":"Giao hàng nhanh"}'
        ).encode()
    )


# --- answers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status_code", "body"),
    [
        (200, b'{"success": true, "external_id": "cf_1"}'),
        (200, b'{"jsonrpc": "2.0", "id": null, "result": true}'),
        (201, b""),
        (204, None),
        (200, {"status": "ok"}),
        (200, {"error": None, "data": []}),
    ],
)
def test_successes(status_code, body):
    assert callbacks.read_error(status_code, body) is None


@pytest.mark.parametrize(
    ("status_code", "body", "message"),
    [
        (
            200,
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {
                        "name": "odoo.exceptions.ValidationError",
                        "message": "Đơn hàng cf_1 đã hoàn thành",
                        "debug": "Traceback (most recent call last): ...",
                    },
                },
            },
            "Cloudify refused the request: Đơn hàng cf_1 đã hoàn thành",
        ),
        (
            200,
            {
                "jsonrpc": "2.0",
                "error": {"code": 100, "message": "Odoo Session Expired"},
            },
            "Cloudify refused the request: Odoo Session Expired",
        ),
        (
            404,
            b'{"error": "Order cf_9 not found"}',
            "Cloudify refused the request (HTTP 404): Order cf_9 not found",
        ),
        (
            400,
            {"errors": [{"message": "state is required"}, "qty must be a number"]},
            "Cloudify refused the request (HTTP 400): state is required; qty must be "
            "a number",
        ),
        (
            200,
            {"success": False, "message": "Không tìm thấy đơn hàng"},
            "Cloudify refused the request: Không tìm thấy đơn hàng",
        ),
        (
            200,
            {"status": "error", "msg": "Bad state"},
            "Cloudify refused the request: Bad state",
        ),
        (
            401,
            {"error": "invalid_token", "error_description": "The token expired"},
            "Cloudify refused the request (HTTP 401): invalid_token; The token expired",
        ),
        (
            502,
            b"<html>Bad Gateway</html>",
            "Cloudify answered HTTP 502 with a body that is not JSON: "
            "<html>Bad Gateway</html>",
        ),
        (500, b"", "Cloudify answered HTTP 500 without an error message."),
        (
            200,
            {"success": False},
            "Cloudify answered HTTP 200 without an error message.",
        ),
    ],
)
def test_errors_are_one_readable_line(status_code, body, message):
    assert callbacks.read_error(status_code, body) == message


def test_a_traceback_is_never_shown_and_long_messages_are_cut():
    body = {
        "error": {
            "message": "Odoo Server Error",
            "data": {"debug": "Traceback ... secret", "message": "x " * 400},
        }
    }
    error = callbacks.read_error(200, json.dumps(body))
    assert "Traceback" not in error
    assert len(error) == callbacks.MAX_ERROR_LENGTH
    assert error.endswith("…")
