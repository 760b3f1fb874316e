"""The inbound webhook contract, through real HTTP on the test server."""

import json
import time
from datetime import timedelta
from unittest.mock import patch

import psycopg2
import requests

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.oms_integration.lib import signatures

from .common import OmsTestMixin

SECRET = "whsec_" + "dGVzdC1zaWduaW5nLXNlY3JldC0xMjM0NTY3ODkwYWJj"
PREVIOUS_SECRET = "whsec_" + "cHJldmlvdXMtc2lnbmluZy1zZWNyZXQtOTg3NjU0MzIx"


def _order_payload(order_id="EXT-1001", **overrides):
    order = {
        "id": order_id,
        "name": "WEB/2026/1001",
        "updated_at": "2026-11-22T09:30:00Z",
        "currency": "VND",
        "customer": {"id": "C-77", "name": "Tap hoa Minh Anh"},
        "lines": [
            {
                "id": "1",
                "product": {"sku": "SP001", "name": "Nuoc suoi"},
                "quantity": 5,
                "price_unit": 250000,
            }
        ],
    }
    order.update(overrides)
    return {"type": "order.created", "order": order}


class _SerializationFailure(psycopg2.errors.SerializationFailure):
    """What PostgreSQL raises when a twin committed meanwhile (with its code,
    which Odoo logs when it runs the request again)."""

    pgcode = "40001"


@tagged("post_install", "-at_install")
class TestWebhookContract(OmsTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.env["oms.integration.source"].create(
            {"name": "Web shop", "mode": "webhook"}
        )
        cls.source.signing_secret = SECRET
        cls.source._oms_give_consent(["inbound"])
        cls.source.action_activate()

    # === HELPERS === #

    def _post(
        self,
        payload,
        source=None,
        secret=SECRET,
        msg_id=None,
        sent_at=None,
        headers=None,
        raw=None,
    ):
        source = source or self.source
        body = raw if raw is not None else json.dumps(payload).encode()
        msg_id = msg_id or f"msg_{time.time_ns()}"
        sent_at = int(time.time()) if sent_at is None else sent_at
        all_headers = {"Content-Type": "application/json"}
        if secret:
            all_headers.update(
                {
                    "webhook-id": msg_id,
                    "webhook-timestamp": str(sent_at),
                    "webhook-signature": signatures.standard_webhooks_sign(
                        secret, msg_id, sent_at, body
                    ),
                }
            )
        all_headers.update(headers or {})
        return self.url_open(
            f"/oms/webhook/{source.webhook_key}", data=body, headers=all_headers
        )

    def _events(self, source=None):
        return super()._events(source or self.source)

    # === TESTS === #

    def test_new_authentic_delivery_is_queued(self):
        response = self._post(_order_payload())
        self.assertEqual(response.status_code, 202, response.text)
        answer = response.json()
        self.assertEqual(answer["status"], "queued")
        event = self.Event.browse(answer["event_id"])
        self.assertEqual(event.state, "pending")
        self.assertEqual(event.direction, "inbound")
        self.assertEqual(event.external_order_id, "EXT-1001")
        self.assertEqual(event.event_type, "order.created")
        self.assertTrue(event.payload_hash)
        # The controller never creates the sale order itself.
        self.assertFalse(event.sale_order_id)
        self.assertFalse(
            self.env["sale.order"].search([("oms_source_id", "=", self.source.id)])
        )
        # The signature is not kept readable in the stored headers.
        self.assertNotIn(SECRET, event.headers)
        self.assertIn('"webhook-signature": "***"', event.headers)

    def test_url_signing_scheme_signs_the_url_the_provider_called(self):
        # A scheme that signs the request URL (as Shopee push does) gets the
        # URL this very request came to.
        Source = type(self.env["oms.integration.source"])
        url = f"{self.base_url()}/oms/webhook/{self.source.webhook_key}"
        body = json.dumps(_order_payload()).encode()
        with (
            patch.object(
                Source, "_oms_get_signature_scheme", lambda _self: "hmac_url_body"
            ),
            patch.object(
                Source, "_oms_get_signature_header", lambda _self: "authorization"
            ),
        ):
            signed = self._post(
                None,
                raw=body,
                secret=None,
                msg_id="msg_url",
                headers={
                    "webhook-id": "msg_url",
                    "Authorization": signatures.hmac_url_body_sign(SECRET, url, body),
                },
            )
            other_url = signatures.hmac_url_body_sign(SECRET, url + "x", body)
            refused = self._post(
                None,
                raw=body,
                secret=None,
                headers={"webhook-id": "msg_url_2", "Authorization": other_url},
            )
        self.assertEqual(signed.status_code, 202, signed.text)
        self.assertEqual(refused.status_code, 401, refused.text)

    def test_same_delivery_id_again_is_a_duplicate(self):
        first = self._post(_order_payload(), msg_id="msg_same")
        again = self._post(_order_payload(), msg_id="msg_same")
        self.assertEqual(first.status_code, 202)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(
            again.json(),
            {"status": "duplicate", "event_id": first.json()["event_id"]},
        )
        self.assertEqual(len(self._events()), 1)

    def test_same_payload_for_the_same_order_is_a_duplicate(self):
        first = self._post(_order_payload(), msg_id="msg_a")
        again = self._post(_order_payload(), msg_id="msg_b")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["event_id"], first.json()["event_id"])
        # A new version of the order is not a duplicate.
        newer = self._post(
            _order_payload(updated_at="2026-11-22T10:00:00Z"), msg_id="msg_c"
        )
        self.assertEqual(newer.status_code, 202)
        self.assertEqual(len(self._events()), 2)
        # The same version (updated_at) sent again with other contents is
        # that version too (webhook and polling copies differ in form).
        same_version = self._post(
            _order_payload(updated_at="2026-11-22T10:00:00Z", name="WEB/2026/X"),
            msg_id="msg_d",
        )
        self.assertEqual(same_version.status_code, 200, same_version.text)
        self.assertEqual(
            same_version.json(),
            {"status": "duplicate", "event_id": newer.json()["event_id"]},
        )
        # Another order with the very same lines is not a duplicate.
        other = self._post(_order_payload("EXT-1002"), msg_id="msg_e")
        self.assertEqual(other.status_code, 202, other.text)
        self.assertEqual(len(self._events()), 3)

    def test_invalid_body_is_rejected_and_kept_for_triage(self):
        payload = _order_payload()
        payload["order"]["lines"][0]["quantity"] = 0
        del payload["order"]["customer"]["id"]
        response = self._post(payload)
        self.assertEqual(response.status_code, 422, response.text)
        answer = response.json()
        self.assertEqual(answer["status"], "rejected")
        self.assertEqual(
            {error["path"] for error in answer["errors"]},
            {"order.lines[0].quantity", "order.customer.id"},
        )
        [event] = self._events()
        self.assertEqual(event.state, "failed")
        self.assertIn("order.lines[0].quantity", event.last_error)
        self.assertTrue(event.error_hint)
        self.assertEqual(event.sudo().payload, json.dumps(payload))

    def test_the_route_checks_the_body_without_parsing_it_in_full(self):
        # The check finds what the parse finds (tests/test_normalize.py
        # compares them); the parse itself is the queue's.
        def parsed(*args, **kwargs):
            raise AssertionError("the webhook route parsed the order in full")

        Source = type(self.env["oms.integration.source"])
        with patch.object(Source, "_oms_parse_delivery", parsed):
            valid = self._post(_order_payload("EXT-CHECK"), msg_id="msg_check")
            payload = _order_payload("EXT-CHECK-2")
            payload["order"]["lines"][0]["price_unit"] = -1
            invalid = self._post(payload, msg_id="msg_check_2")
        self.assertEqual(valid.status_code, 202, valid.text)
        self.assertEqual(invalid.status_code, 422, invalid.text)
        self.assertEqual(
            invalid.json()["errors"],
            [{"path": "order.lines[0].price_unit", "message": "must be 0 or more"}],
        )
        # The queue parses the stored payload in full.
        event = self.Event.browse(valid.json()["event_id"])
        self.assertEqual(event.external_order_id, "EXT-CHECK")
        parsed_order = self.source._oms_parse_delivery(event.sudo().payload.encode())
        self.assertEqual(len(parsed_order.orders[0].lines), 1)

    def test_body_that_is_not_json_is_rejected_and_kept(self):
        response = self._post(None, raw=b"<xml>not json</xml>")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["path"], "$")
        [event] = self._events()
        self.assertEqual(event.sudo().payload, "<xml>not json</xml>")

    def test_body_with_a_nul_byte_is_rejected_and_kept(self):
        # PostgreSQL text cannot hold NUL: the authentic body is kept with
        # U+FFFD in its place, not lost.
        response = self._post(None, raw=b'{"type": "order.created"}\x00')
        self.assertEqual(response.status_code, 422, response.text)
        [event] = self._events()
        self.assertEqual(event.state, "failed")
        self.assertEqual(event.sudo().payload, '{"type": "order.created"}\ufffd')

    def test_bad_signatures_are_unauthorized_counted_and_not_stored(self):
        wrong = "whsec_" + "d3Jvbmctc2VjcmV0LXdyb25nLXNlY3JldC13cm9uZw=="
        cases = {
            "wrong secret": {"secret": wrong},
            "no signature": {"secret": None},
            "too old": {"sent_at": int(time.time()) - 302},
            "from the future": {"sent_at": int(time.time()) + 302},
        }
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT write_date FROM oms_integration_source WHERE id = %s",
            [self.source.id],
        )
        written = self.env.cr.fetchone()[0]
        for label, kwargs in cases.items():
            with self.subTest(label):
                response = self._post(_order_payload(), **kwargs)
                self.assertEqual(response.status_code, 401, response.text)
                self.assertEqual(response.json(), {"status": "unauthorized"})
        self.assertFalse(self._events())
        self.source.invalidate_recordset()
        self.assertEqual(self.source.refused_count, len(cases))
        self.assertTrue(self.source.last_refused_at)
        # Refused traffic never writes the source's row (whoever holds the URL
        # could otherwise make its polls fail on concurrent updates).
        self.env.cr.execute(
            "SELECT write_date FROM oms_integration_source WHERE id = %s",
            [self.source.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], written)

    def test_tampered_body_is_unauthorized(self):
        body = json.dumps(_order_payload()).encode()
        sent_at = int(time.time())
        headers = {
            "webhook-id": "msg_t",
            "webhook-timestamp": str(sent_at),
            "webhook-signature": signatures.standard_webhooks_sign(
                SECRET, "msg_t", sent_at, body
            ),
        }
        response = self.url_open(
            f"/oms/webhook/{self.source.webhook_key}",
            data=body.replace(b"250000", b"1"),
            headers=headers,
        )
        self.assertEqual(response.status_code, 401)

    def test_rotation_previous_secret_until_its_end_date(self):
        # A rotation ends: a previous secret without an end date is refused.
        with self.assertRaisesRegex(ValidationError, "previous signing secret"):
            with self.env.cr.savepoint():
                self.source.signing_secret_previous = PREVIOUS_SECRET
                self.env.flush_all()
        self.source.write(
            {
                "signing_secret_previous": PREVIOUS_SECRET,
                "signing_secret_previous_expiry": fields.Datetime.now()
                + timedelta(days=1),
            }
        )
        response = self._post(_order_payload(), secret=PREVIOUS_SECRET)
        self.assertEqual(response.status_code, 202, response.text)
        self.source.signing_secret_previous_expiry = "2020-01-01 00:00:00"
        response = self._post(_order_payload("EXT-2"), secret=PREVIOUS_SECRET)
        self.assertEqual(response.status_code, 401)
        response = self._post(_order_payload("EXT-3"), secret=SECRET)
        self.assertEqual(response.status_code, 202)

    def test_tolerance_is_per_source(self):
        self.source.timestamp_tolerance = 30
        response = self._post(_order_payload(), sent_at=int(time.time()) - 120)
        self.assertEqual(response.status_code, 401)
        self.source.timestamp_tolerance = 600
        response = self._post(_order_payload(), sent_at=int(time.time()) - 120)
        self.assertEqual(response.status_code, 202)

    def test_inactive_wrong_mode_or_no_consent_is_forbidden(self):
        setups = {
            "paused": lambda s: s._oms_pause("maintenance"),
            "draft": lambda s: s.action_set_draft(),
            "archived": lambda s: s.write({"active": False}),
            "polling only": lambda s: s.write({"mode": "polling"}),
            "consent revoked": lambda s: s._oms_revoke_all_consents("audit"),
        }
        for label, setup in setups.items():
            with self.subTest(label), self.env.cr.savepoint() as savepoint:
                setup(self.source)
                self.env.flush_all()
                response = self._post(_order_payload())
                self.assertEqual(response.status_code, 403, response.text)
                self.assertEqual(response.json(), {"status": "forbidden"})
                savepoint.rollback()
        self.assertFalse(self._events())

    def test_unknown_key_is_not_found(self):
        response = self.url_open(
            "/oms/webhook/no-such-key", data=b"{}", headers={"webhook-id": "x"}
        )
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json(), {"status": "not_found"})

    def test_regenerated_key_retires_the_old_url(self):
        old_key = self.source.webhook_key
        self.source.action_regenerate_webhook_key()
        response = self.url_open(f"/oms/webhook/{old_key}", data=b"{}")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._post(_order_payload()).status_code, 202)

    def test_body_over_the_limit_is_too_large(self):
        self.source.body_size_limit = 200
        payload = _order_payload(note="x" * 500)
        response = self._post(payload)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json(), {"status": "too_large"})
        self.assertFalse(self._events())

    def test_unexpected_error_answers_500_without_traceback_and_keeps_delivery(self):
        def boom(*args, **kwargs):
            raise RuntimeError("parser exploded with internal details")

        with (
            patch.object(
                type(self.env["oms.integration.source"]), "_oms_check_delivery", boom
            ),
            mute_logger("odoo.addons.oms_integration.controllers.main"),
        ):
            response = self._post(_order_payload(), msg_id="msg_boom")
        self.assertEqual(response.status_code, 500)
        self.assertEqual(response.json(), {"status": "error"})
        self.assertNotIn("exploded", response.text)
        # The authentic delivery is kept, pending, for the queue.
        [event] = self._events()
        self.assertEqual(event.delivery_id, "msg_boom")
        self.assertEqual(event.state, "pending")

    # === THE FAST PATH OF RECEIVING === #

    def _queue_triggers(self):
        cron = self.env.ref("oms_integration.ir_cron_process_queue")
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])

    def test_fast_insert_stores_the_row_the_orm_would(self):
        response = self._post(_order_payload(), msg_id="msg_fast")
        self.assertEqual(response.status_code, 202, response.text)
        fast = self.Event.browse(response.json()["event_id"])
        skipped = {
            "id",
            "delivery_id",
            "create_uid",
            "write_uid",
            "create_date",
            "write_date",
            "received_at",
            "next_attempt_at",
        }
        names = [
            name
            for name, field in self.Event._fields.items()
            if field.store and field.column_type and name not in skipped
        ]
        self.assertGreater(len(names), 15)
        self.env.invalidate_all()
        [fast_values] = fast.sudo().read(names)
        # The source's company.
        self.assertEqual(fast.company_id, self.source.company_id)
        self.assertTrue(fast.received_at and fast.next_attempt_at)
        self.assertFalse(self.Event.search([("id", "=", fast.id)]).message_ids)
        fast_next_attempt_at = fast.next_attempt_at
        # The same version of the order is stored once: the ORM's copy needs
        # the fast row gone.
        self.env.cr.execute(
            "DELETE FROM oms_integration_event WHERE id = %s", [fast.id]
        )
        self.env.invalidate_all()
        orm = self.Event._oms_create_inbound(
            self.source,
            {
                "delivery_id": "msg_orm",
                "event_type": fast_values["event_type"],
                "external_order_id": fast_values["external_order_id"],
                "external_updated_at": fast_values["external_updated_at"],
                "payload": fast_values["payload"],
                "payload_hash": fast_values["payload_hash"],
                "headers": fast_values["headers"],
            },
        )
        self.env.invalidate_all()
        [orm_values] = orm.sudo().read(names)
        for name in names:
            self.assertEqual(fast_values[name], orm_values[name], name)
        self.assertLessEqual(fast_next_attempt_at, orm.next_attempt_at)

    def test_source_and_consent_changes_apply_to_the_very_next_delivery(self):
        # The first delivery makes the registry remember the source.
        self.assertEqual(self._post(_order_payload("EXT-A")).status_code, 202)
        consent = self.source.consent_ids.filtered(lambda c: c.scope == "inbound")
        consent._oms_revoke("audit")
        self.assertEqual(self._post(_order_payload("EXT-B")).status_code, 403)
        self.source._oms_give_consent(["inbound"])
        self.assertEqual(self._post(_order_payload("EXT-C")).status_code, 202)
        self.source._oms_pause("maintenance")
        self.assertEqual(self._post(_order_payload("EXT-D")).status_code, 403)
        self.source.action_activate()
        self.assertEqual(self._post(_order_payload("EXT-E")).status_code, 202)
        self.source.signing_secret = PREVIOUS_SECRET
        self.assertEqual(self._post(_order_payload("EXT-F")).status_code, 401)
        self.assertEqual(
            self._post(_order_payload("EXT-G"), secret=PREVIOUS_SECRET).status_code,
            202,
        )
        # A deleted source's URL is gone at once.
        other = self.env["oms.integration.source"].create(
            {"name": "Other shop", "mode": "webhook"}
        )
        other.signing_secret = SECRET
        other._oms_give_consent(["inbound"])
        other.action_activate()
        self.assertEqual(
            self._post(
                _order_payload(), source=other, secret=PREVIOUS_SECRET
            ).status_code,
            401,
        )
        key = other.webhook_key
        other.unlink()
        response = self.url_open(f"/oms/webhook/{key}", data=b"{}")
        self.assertEqual(response.status_code, 404)

    def test_a_burst_of_deliveries_adds_one_cron_trigger(self):
        self._queue_triggers().unlink()
        self.assertEqual(self._post(_order_payload("EXT-1")).status_code, 202)
        self.assertEqual(len(self._queue_triggers()), 1)
        self.assertEqual(self._post(_order_payload("EXT-2")).status_code, 202)
        self.assertEqual(len(self._queue_triggers()), 1)
        # Once the cron has run (its triggers deleted), a delivery adds one.
        self._queue_triggers().unlink()
        self.assertEqual(self._post(_order_payload("EXT-3")).status_code, 202)
        self.assertEqual(len(self._queue_triggers()), 1)
        # An archived cron gets none, as with ir.cron._trigger.
        self._queue_triggers().unlink()
        self.env.ref("oms_integration.ir_cron_process_queue").active = False
        self.assertEqual(self._post(_order_payload("EXT-4")).status_code, 202)
        self.assertFalse(self._queue_triggers())

    def test_a_pending_trigger_however_old_is_enough(self):
        # The cron workers are busy or down: the trigger stays, unconsumed.
        self._queue_triggers().unlink()
        self.assertEqual(self._post(_order_payload("EXT-1")).status_code, 202)
        [trigger] = self._queue_triggers()
        trigger.call_at = fields.Datetime.now() - timedelta(hours=1)
        for order_id in ("EXT-2", "EXT-3"):
            self.assertEqual(self._post(_order_payload(order_id)).status_code, 202)
        # No trigger rows pile up while the cron does not run.
        self.assertEqual(self._queue_triggers(), trigger)
        # Once the cron has consumed it, the next delivery adds one.
        trigger.unlink()
        self.assertEqual(self._post(_order_payload("EXT-4")).status_code, 202)
        self.assertEqual(len(self._queue_triggers()), 1)

    def test_the_stored_delivery_becomes_a_sale_order_through_the_runner(self):
        water = self.env["product.product"].create(
            {"name": "Nuoc suoi", "default_code": "SP001-RUN", "list_price": 1}
        )
        self._map(self.source, "product", "SP001", product_id=water.id)
        self.source.partner_policy = "match_create"
        vnd = self.env.ref("base.VND")
        vnd.active = True
        self.source.pricelist_id = self.env["product.pricelist"].create(
            {"name": "VND", "currency_id": vnd.id}
        )
        response = self._post(_order_payload("EXT-RUN"))
        self.assertEqual(response.status_code, 202, response.text)
        self._run_queue()
        event = self.Event.browse(response.json()["event_id"])
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.sale_order_id.oms_external_id, "EXT-RUN")

    # === HOSTILE INPUT AND FAULTS === #

    def test_a_key_with_control_characters_is_not_found_before_any_query(self):
        Source = type(self.env["oms.integration.source"])
        with patch.object(
            Source, "_oms_webhook_source_id", side_effect=AssertionError("queried")
        ):
            for key in ("%00abc", "abc%0Adef", "x" * 500, "%C3%A9t%C3%A9"):
                with self.subTest(key):
                    response = self.url_open(f"/oms/webhook/{key}", data=b"{}")
                    self.assertEqual(response.status_code, 404, response.text)
                    self.assertEqual(response.json(), {"status": "not_found"})

    def test_a_body_that_is_not_utf8_is_rejected_at_receipt_and_kept(self):
        raw = json.dumps(_order_payload("EXT-UTF16")).encode("utf-16")
        response = self._post(None, raw=raw)
        self.assertEqual(response.status_code, 422, response.text)
        self.assertEqual(response.json()["errors"][0]["path"], "$")
        self.assertIn("UTF-8", response.json()["errors"][0]["message"])
        [event] = self._events()
        self.assertEqual(event.state, "failed")

    def test_a_timestamp_of_hundreds_of_digits_is_unauthorized(self):
        body = json.dumps(_order_payload()).encode()
        headers = {
            "webhook-id": "msg_long_ts",
            "webhook-timestamp": "9" * 300,
            "webhook-signature": "v1,AAAA",
        }
        response = self.url_open(
            f"/oms/webhook/{self.source.webhook_key}", data=body, headers=headers
        )
        self.assertEqual(response.status_code, 401, response.text)

    def test_deeply_nested_json_is_rejected_fast(self):
        raw = b"[" * 100000 + b"]" * 100000
        self.source.body_size_limit = 300000
        response = self._post(None, raw=raw)
        self.assertEqual(response.status_code, 422, response.text)
        [event] = self._events()
        self.assertEqual(event.state, "failed")
        # The event's form shows it without recursing into it.
        self.assertTrue(event.payload_display)

    def test_an_over_long_webhook_id_is_rejected_with_its_path(self):
        response = self._post(_order_payload("EXT-LONG-ID"), msg_id="m" * 3000)
        self.assertEqual(response.status_code, 422, response.text)
        paths = [error["path"] for error in response.json()["errors"]]
        self.assertIn("headers.webhook-id", paths)

    def test_a_chunked_body_over_the_limit_is_too_large_without_reading_it_all(self):
        self.source.body_size_limit = 1000

        def chunks():
            for _index in range(100):
                yield b"x" * 1000

        self.env.flush_all()
        response = requests.post(
            f"{self.base_url()}/oms/webhook/{self.source.webhook_key}",
            data=chunks(),
            timeout=30,
        )
        self.assertEqual(response.status_code, 413, response.text)
        self.assertFalse(self._events())

    def test_a_database_that_cannot_be_reached_is_503_with_retry_after(self):
        Receiver = type(self.env["oms.integration.receiver"])
        for error in (
            psycopg2.OperationalError("server closed the connection unexpectedly"),
            psycopg2.InterfaceError("connection already closed"),
        ):
            with (
                self.subTest(type(error).__name__),
                patch.object(Receiver, "_oms_accept_delivery", side_effect=error),
                mute_logger("odoo.addons.oms_integration.controllers.main"),
            ):
                response = self._post(_order_payload("EXT-DOWN"))
                self.assertEqual(response.status_code, 503, response.text)
                self.assertEqual(response.json(), {"status": "unavailable"})
                self.assertTrue(response.headers.get("Retry-After"))
        self.assertFalse(self._events())

    def test_a_serialization_failure_is_left_to_odoo_which_runs_it_again(self):
        Receiver = type(self.env["oms.integration.receiver"])
        insert = Receiver._oms_insert_order
        calls = []

        def conflicting_once(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise _SerializationFailure("could not serialize access")
            return insert(self, *args, **kwargs)

        with (
            patch.object(Receiver, "_oms_insert_order", conflicting_once),
            mute_logger("odoo.service.model"),
        ):
            response = self._post(_order_payload("EXT-AGAIN"))
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(len(calls), 2, "Odoo ran the request again, body and all.")
        self.assertEqual(len(self._events()), 1)
