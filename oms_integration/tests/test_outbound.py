"""Status callbacks sent to a provider: the simulator (a real local HTTP
server) is the receiving end, and the statuses come from real Odoo flows."""

import json
import time
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .. import const
from ..lib import signatures
from ..lib.simulator import ProviderSimulator
from .common import SIGNING_SECRET, OmsIntegrationCommon

SENDER_LOGGER = "odoo.addons.oms_integration.models.oms_integration_sender"

API_TOKEN = "tok-outbound-9f8e7d6c5b4a"


class SlowSimulator(ProviderSimulator):
    """Answers a callback after a while, and counts those in flight at once."""

    def __init__(self):
        super().__init__()
        self.in_flight = self.peak = 0

    def handle_post(self, path, headers, body):
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        time.sleep(0.05)
        with self.lock:
            self.in_flight -= 1
        return 200, {"ok": True}, {}


START = datetime(2026, 11, 23, 8, 0, 0)


@tagged("post_install", "-at_install")
class TestOutbound(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = ProviderSimulator().start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.shop = cls._create_active_source(
            scopes=("inbound", "outbound"),
            name="Status shop",
            outbound_enabled=True,
            callback_url=f"{cls.simulator.url}/status",
            rate_limit=0,  # the limiter has its own test; time is frozen here
        )
        cls.shop.api_token = API_TOKEN
        cls.product.is_storable = False  # consumable: always ready to deliver
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "Giao Hang Nhanh",
                "product_id": cls.env["product.product"]
                .create({"name": "GHN shipping", "type": "service"})
                .id,
            }
        )
        cls.env["oms.integration.mapping"].create(
            {
                "source_id": cls.shop.id,
                "kind": "carrier",
                "external_code": "GHN",
                "carrier_id": cls.carrier.id,
                "state": "mapped",
            }
        )

    def setUp(self):
        super().setUp()
        self.simulator.callbacks.clear()
        self.simulator.scripted.clear()
        self.simulator.requests.clear()

    # === HELPERS === #

    def _order(self, external_id="EXT-1001", quantity=5, source=None):
        return self.env["sale.order"].create(
            {
                "partner_id": self.partner.id,
                "oms_source_id": (source or self.shop).id,
                "oms_external_id": external_id,
                "oms_external_ref": f"WEB/{external_id}",
                "order_line": [
                    fields.Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": quantity,
                            "oms_external_line_id": "1",
                        }
                    )
                ],
            }
        )

    def _send(self):
        self._send_statuses()

    def _sent(self):
        """The status bodies the provider received, in order."""
        return [json.loads(callback["body"]) for callback in self.simulator.callbacks]

    def _statuses(self, order):
        return self.Event.search(
            [("sale_order_id", "=", order.id), ("direction", "=", "outbound")],
            order="id",
        )

    def _validate(self, picking, quantity=None, backorder=True):
        if quantity is not None:
            picking.move_ids.quantity = quantity
        picking.move_ids.picked = True
        action = picking.button_validate()
        if isinstance(action, dict) and action.get("res_model"):
            wizard = Form(
                self.env[action["res_model"]].with_context(**action["context"])
            ).save()
            wizard.process() if backorder else wizard.process_cancel_backorder()

    # === TESTS: STATUSES FROM REAL FLOWS === #

    def test_confirmation_sends_approved_then_processing_signed(self):
        order = self._order()
        order.action_confirm()
        events = self._statuses(order)
        self.assertEqual(events.mapped("status"), ["approved", "processing"])
        self.assertFalse(self.simulator.callbacks, "nothing is sent in the transaction")

        self._send()

        self.assertEqual(
            [b["status"] for b in self._sent()], ["approved", "processing"]
        )
        approved = self._sent()[0]
        self.assertEqual(approved["type"], "order.status")
        self.assertEqual(approved["order"], {"id": "EXT-1001", "name": "WEB/EXT-1001"})
        self.assertEqual(approved["odoo"], {"sale_order": order.name})
        self.assertRegex(approved["occurred_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        callback = self.simulator.callbacks[0]
        self.assertEqual(callback["path"], "/status")
        self.assertEqual(callback["headers"]["webhook-id"], events[0].delivery_id)
        result = signatures.verify(
            "standard_webhooks",
            [SIGNING_SECRET],
            callback["headers"],
            callback["body"],
        )
        self.assertTrue(result.ok, result)
        self.assertEqual(events.mapped("state"), ["done", "done"])
        self.assertEqual(order.oms_last_status, "processing")
        self.assertTrue(order.oms_last_status_at)

    def test_validated_delivery_with_tracking_sends_delivered_complete(self):
        order = self._order(quantity=5)
        order.action_confirm()
        picking = order.picking_ids
        picking.write(
            {"carrier_id": self.carrier.id, "carrier_tracking_ref": "GHN123456789"}
        )
        self._validate(picking)
        self._send()

        delivered = self._sent()[-1]
        self.assertEqual(delivered["status"], "delivered")
        self.assertIs(delivered["complete"], True)
        self.assertEqual(
            delivered["tracking"], {"carrier": "GHN", "number": "GHN123456789"}
        )
        self.assertEqual(
            delivered["lines"], [{"id": "1", "sku": "SP001", "quantity_delivered": 5}]
        )
        self.assertEqual(order.oms_last_status, "delivered")

    def test_partial_delivery_then_backorder(self):
        order = self._order(quantity=5)
        order.action_confirm()
        self._validate(order.picking_ids, quantity=2)
        backorder = order.picking_ids.filtered(lambda p: p.state != "done")
        self.assertEqual(len(backorder), 1)
        self._validate(backorder)
        self._send()

        sent = self._sent()
        self.assertEqual(
            [b["status"] for b in sent],
            ["approved", "processing", "delivered", "delivered"],
            "processing is sent once, for the first delivery",
        )
        partial, final = sent[2], sent[3]
        self.assertIs(partial["complete"], False)
        self.assertEqual(partial["lines"][0]["quantity_delivered"], 2)
        self.assertIs(final["complete"], True)
        self.assertEqual(final["lines"][0]["quantity_delivered"], 5)

    def test_cancellation_sends_cancelled(self):
        order = self._order()
        order.action_confirm()
        order.with_context(disable_cancel_warning=True).action_cancel()
        self._send()
        self.assertEqual(
            [b["status"] for b in self._sent()], ["approved", "processing", "cancelled"]
        )

    def test_cancellation_asked_by_the_provider_is_not_echoed(self):
        order = self._order()
        order.with_context(
            disable_cancel_warning=True, oms_from_provider_cancel=True
        ).action_cancel()
        self.assertFalse(self._statuses(order))

    def test_rolled_back_confirmation_sends_nothing(self):
        order = self._order()
        with self.assertRaises(RuntimeError), self.env.cr.savepoint():
            order.action_confirm()
            self.assertEqual(len(self._statuses(order)), 2)
            raise RuntimeError("the user's transaction fails after the confirmation")
        self.env.invalidate_all()
        self.assertFalse(self._statuses(order))
        self._send()
        self.assertFalse(self.simulator.callbacks)

    def test_orders_of_other_sources_or_without_consent_cost_nothing(self):
        plain = self._create_order()
        plain.action_confirm()
        silent = self._create_active_source(
            scopes=("inbound",),
            name="No outbound consent",
            outbound_enabled=True,
            callback_url=f"{self.simulator.url}/status",
        )
        order = self._order(source=silent)
        order.action_confirm()
        self.assertFalse(
            self.Event.search([("direction", "=", "outbound")]).filtered(
                lambda e: e.sale_order_id in (plain | order)
            )
        )
        self._send()
        self.assertFalse(self.simulator.callbacks)

    def test_consent_revoked_before_sending_sends_nothing(self):
        order = self._order()
        order.action_confirm()
        self.shop._oms_revoke_consent(("outbound",), "Provider contract ended")
        self._send()
        self.assertFalse(self.simulator.callbacks)
        self.assertEqual(set(self._statuses(order).mapped("state")), {"dead"})

    def test_paused_source_keeps_its_statuses_until_active(self):
        self.shop._oms_pause("Provider maintenance")
        order = self._order()
        order.action_confirm()
        self.assertEqual(len(self._statuses(order)), 2)
        self._send()
        self.assertFalse(self.simulator.callbacks)
        self.assertEqual(self._statuses(order)[0].attempts, 0)
        self.shop.action_activate()
        with freeze_time(fields.Datetime.now() + timedelta(hours=1)):
            self._send()
        self.assertEqual(len(self.simulator.callbacks), 2)

    def test_regression_is_recorded_not_sent(self):
        order = self._order()
        order.action_confirm()
        self._validate(order.picking_ids)
        regression = order._oms_queue_status("approved")
        self.assertEqual(regression.state, "discarded")
        self.assertIn("backwards", regression.discard_reason)
        self.assertIn("backwards", " ".join(self._messages_of(order).mapped("body")))
        self._send()
        self.assertEqual(
            [b["status"] for b in self._sent()], ["approved", "processing", "delivered"]
        )

    # === TESTS: DELIVERY GUARANTEES === #

    def test_answer_with_a_nul_byte_is_logged(self):
        # PostgreSQL text cannot hold NUL: the answer is logged with U+FFFD in
        # its place, and the status is delivered.
        self.simulator.script(200, b'{"ok": true}\x00')
        order = self._order()
        order.action_confirm()
        approved, _processing = self._statuses(order)
        self._send()
        self.assertEqual(approved.state, "done", approved.last_error)
        [exchange] = approved.exchange_ids
        self.assertEqual(exchange.status_code, 200)
        self.assertEqual(exchange.response_body, '{"ok": true}\ufffd')

    def test_provider_down_for_the_first_event_keeps_the_order(self):
        with freeze_time(START) as frozen:
            self.simulator.script(503, {"error": "maintenance"})
            order = self._order()
            order.action_confirm()
            approved, processing = self._statuses(order)
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 1)
            self.assertEqual(approved.state, "failed")
            self.assertEqual(processing.state, "pending", "waits for approved")
            self.assertGreater(approved.next_attempt_at, START)

            frozen.move_to(START + timedelta(hours=2))
            self._send()

        sent = self.simulator.callbacks
        self.assertEqual(
            [json.loads(c["body"])["status"] for c in sent],
            ["approved", "approved", "processing"],
        )
        # One idempotency key per event, the same at every attempt.
        self.assertEqual(
            sent[0]["headers"]["webhook-id"], sent[1]["headers"]["webhook-id"]
        )
        self.assertEqual(sent[0]["headers"]["webhook-id"], approved.delivery_id)
        self.assertNotEqual(
            sent[1]["headers"]["webhook-id"], sent[2]["headers"]["webhook-id"]
        )
        self.assertEqual((approved | processing).mapped("state"), ["done", "done"])
        self.assertEqual(approved.attempts, 2)
        self.assertEqual(len(approved.exchange_ids), 2)

    def test_retry_after_is_honoured(self):
        with freeze_time(START) as frozen:
            self.simulator.script(429, {"error": "slow down"}, {"Retry-After": "900"})
            order = self._order()
            order.action_confirm()
            approved = self._statuses(order)[0]
            self._send()
            self.assertEqual(approved.state, "failed")
            self.assertGreaterEqual(
                approved.next_attempt_at, START + timedelta(seconds=900)
            )
            frozen.move_to(START + timedelta(seconds=899))
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 1, "not before Retry-After")
            frozen.move_to(START + timedelta(seconds=901))
            self._send()
        self.assertEqual(approved.state, "done")

    def test_permanent_refusal_goes_to_the_dead_letter_queue_redacted(self):
        self.simulator.script(
            400,
            {
                "error": f"unknown order EXT-1001 (your token {API_TOKEN})",
                "token": API_TOKEN,
            },
        )
        order = self._order()
        order.action_confirm()
        approved, processing = self._statuses(order)
        self._send()
        self.assertEqual(approved.state, "dead")
        self.assertIn("HTTP 400", approved.last_error)
        self.assertIn("unknown order EXT-1001", approved.last_error)
        self.assertIn("Retry", approved.error_hint)
        self.assertEqual(approved.dead_letter_ids.state, "open")
        # A dead letter does not block the next status.
        self.assertEqual(processing.state, "done")
        self._assert_no_secret_stored()

    def test_nothing_secret_is_stored_in_any_log(self):
        self.simulator.script(
            500,
            {
                "echo": {
                    "authorization": f"Bearer {API_TOKEN}",
                    "secret": SIGNING_SECRET,
                }
            },
            {"X-Debug": API_TOKEN},
        )
        order = self._order()
        order.action_confirm()
        self._send()
        self.assertTrue(self.Event.search([("exchange_ids", "!=", False)]))
        self._assert_no_secret_stored()

    def _assert_no_secret_stored(self):
        self.env.flush_all()
        for table in (
            "oms_integration_exchange",
            "oms_integration_event",
            "oms_integration_dead_letter",
            "mail_message",
        ):
            self.env.cr.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608
            rows = " ".join(row[0] for row in self.env.cr.fetchall())
            for secret in (API_TOKEN, SIGNING_SECRET):
                self.assertNotIn(secret, rows, f"a secret is stored in {table}")

    # === TESTS: RATE LIMIT AND CIRCUIT BREAKER === #

    def test_rate_limit_spaces_requests(self):
        self.shop.rate_limit = 2  # per minute: one request every 30 seconds
        with (
            freeze_time(START) as frozen,
            patch.object(const, "OUTBOUND_BATCH_SECONDS", 1),
        ):
            orders = self._order("EXT-A") | self._order("EXT-B")
            orders.action_confirm()
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 1)
            waiting = self.Event.search(
                [("sale_order_id", "in", orders.ids), ("state", "=", "pending")]
            )
            self.assertEqual(len(waiting), 3)
            self.assertEqual(set(waiting.mapped("attempts")), {0}, "not an attempt")
            frozen.move_to(START + timedelta(seconds=29))
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 1)
            frozen.move_to(START + timedelta(seconds=31))
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 2)

    def test_circuit_breaker_pauses_then_resumes(self):
        self.shop.write({"circuit_threshold": 2, "circuit_cooldown": 600})
        with freeze_time(START) as frozen:
            self.simulator.script(503, {"error": "down"}, times=50)
            orders = self._order("EXT-A") | self._order("EXT-B") | self._order("EXT-C")
            orders.action_confirm()
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 2, "stops after 2 failures")
            self.assertEqual(
                self.shop.circuit_open_until, START + timedelta(seconds=600)
            )
            self.assertIn(
                "paused", " ".join(self._messages_of(self.shop).mapped("body"))
            )
            # Retries are due, but the circuit holds: no request storm.
            frozen.move_to(START + timedelta(seconds=599))
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 2)

            # After the cool-down, one request probes; still down: open again.
            frozen.move_to(START + timedelta(seconds=601))
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 3)
            self.assertTrue(self.shop.circuit_open_until)

            # The provider is back: everything goes, in order, and it closes.
            self.simulator.scripted.clear()
            frozen.move_to(START + timedelta(hours=3))
            self._send()
        statuses = self.Event.search([("sale_order_id", "in", orders.ids)])
        self.assertEqual(set(statuses.mapped("state")), {"done"})
        self.assertEqual(self.shop.circuit_failures, 0)
        self.assertFalse(self.shop.circuit_open_until)
        self.assertIn("resumed", " ".join(self._messages_of(self.shop).mapped("body")))

    # === TESTS: TEST CALLBACK === #

    def test_send_test_callback_shows_the_answer(self):
        self.assertTrue(self.shop.test_callback_available)
        self.simulator.script(200, {"received": True})
        action = self.shop.with_user(self.oms_manager).action_send_test_callback()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("HTTP 200", action["params"]["message"])
        self.assertEqual(
            json.loads(self.simulator.callbacks[0]["body"])["type"], "test"
        )

        self.simulator.script(401, {"error": "bad signature"})
        action = self.shop.with_user(self.oms_manager).action_send_test_callback()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("bad signature", action["params"]["message"])
        test_events = self.Event.search(
            [("source_id", "=", self.shop.id), ("event_type", "=", "test")]
        )
        self.assertEqual(sorted(test_events.mapped("state")), ["discarded", "done"])

    # === TESTS: CONCURRENCY AND CHATTER === #

    def test_statuses_of_many_orders_each_go_out_in_order(self):
        orders = self.env["sale.order"]
        for index in range(6):
            orders |= self._order(f"EXT-C{index}")
        orders.action_confirm()
        self._send()

        self.assertEqual(len(self.simulator.callbacks), 12)
        for order in orders:
            received = [
                json.loads(c["body"])["status"]
                for c in self.simulator.callbacks
                if json.loads(c["body"])["order"]["id"] == order.oms_external_id
            ]
            self.assertEqual(received, ["approved", "processing"], order.name)
        statuses = self.Event.search([("sale_order_id", "in", orders.ids)])
        self.assertEqual(set(statuses.mapped("state")), {"done"})
        self.assertEqual(len(statuses.exchange_ids), 12)
        self.assertEqual(set(orders.mapped("oms_last_status")), {"processing"})

    def test_half_open_circuit_sends_one_probe_then_everything(self):
        self.shop.write({"circuit_threshold": 2, "circuit_cooldown": 600})
        with freeze_time(START) as frozen:
            self.simulator.script(503, {"error": "down"}, times=3)
            orders = self.env["sale.order"]
            for index in range(6):
                orders |= self._order(f"EXT-H{index}")
            orders.action_confirm()
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 2, "the threshold, no more")

            frozen.move_to(START + timedelta(seconds=601))
            self._send()
            self.assertEqual(len(self.simulator.callbacks), 3, "one probe, down again")

            frozen.move_to(START + timedelta(seconds=1202))
            self._send()
        # The probe succeeded: the circuit closed and every status went out.
        self.assertEqual(len(self.simulator.callbacks), 3 + 12)
        statuses = self.Event.search([("sale_order_id", "in", orders.ids)])
        self.assertEqual(set(statuses.mapped("state")), {"done"})
        self.assertEqual(self.shop.circuit_failures, 0)

    def test_normal_send_posts_no_chatter_message(self):
        order = self._order()
        order.action_confirm()
        self._flush_tracking()
        self._send()
        self._flush_tracking()
        events = self._statuses(order)
        self.assertEqual(events.mapped("state"), ["done", "done"])
        for event in events:
            messages = self._messages_of(event)
            self.assertFalse(
                messages,
                f"claim and done are quiet: {messages.mapped('body')} "
                f"{messages.sudo().tracking_value_ids.mapped('new_value_char')}",
            )
            self.assertTrue(event.processed_at)
            self.assertEqual(len(event.exchange_ids), 1)

    def test_failure_is_tracked_in_the_chatter(self):
        self.simulator.script(503, {"error": "maintenance"})
        order = self._order()
        order.action_confirm()
        self._flush_tracking()
        self._send()
        self._flush_tracking()
        approved = self._statuses(order)[0]
        self.assertEqual(approved.state, "failed")
        tracked = self._messages_of(approved).sudo().tracking_value_ids
        self.assertEqual(
            tracked.mapped("new_value_char"), ["Failed, waiting for retry"]
        )

    def test_one_event_failing_to_record_never_rolls_back_the_others(self):
        orders = self._order("EXT-OK") | self._order("EXT-BAD")
        orders.action_confirm()
        bad = orders.filtered(lambda o: o.oms_external_id == "EXT-BAD")
        Sender = type(self.env["oms.integration.sender"])
        after_sent = Sender._oms_after_sent

        def flaky(sender, events):
            if bad in events.sale_order_id:
                raise ValueError("the order cannot be written")
            return after_sent(sender, events)

        with (
            patch.object(Sender, "_oms_after_sent", flaky),
            self.assertLogs(SENDER_LOGGER, "ERROR"),
        ):
            self._send()
        good_approved = self._statuses(orders - bad)[0]
        bad_approved = self._statuses(bad)[0]
        self.assertEqual(good_approved.state, "done")
        self.assertEqual(bad_approved.state, "failed")
        self.assertIn("cannot be written", bad_approved.last_error)
        self.assertEqual(len(good_approved.exchange_ids), 1)
        self.assertEqual(len(bad_approved.exchange_ids), 1, "its request is logged")

    def test_a_delivered_status_is_recorded_on_the_event_and_its_order(self):
        self.simulator.script(503, {"error": "maintenance"})
        order = self._order("EXT-D1")
        order.action_confirm()
        approved = self._statuses(order)[0]
        with freeze_time("2030-01-01 10:00:00"):
            self._send()
            self.assertEqual(approved.state, "failed")
            self.assertTrue(approved.last_error)
        with freeze_time("2030-01-01 10:10:00"):
            self._send()
        self.assertRecordValues(
            approved,
            [
                {
                    "state": "done",
                    "attempts": 2,
                    "processed_at": datetime(2030, 1, 1, 10, 10),
                    "lease_until": False,
                    "last_error": False,
                    "error_hint": False,
                    "duration": 0.0,  # frozen time: started and done at once
                }
            ],
        )
        self.assertRecordValues(
            order,
            [
                {
                    # The delivery is ready too: its status went after.
                    "oms_last_status": "processing",
                    "oms_last_status_at": datetime(2030, 1, 1, 10, 10),
                }
            ],
        )
        self.assertEqual(approved.exchange_ids.mapped("status_code"), [200, 503])

    def test_a_status_unknown_to_the_order_is_refused_by_the_orm(self):
        order = self._order("EXT-D2")
        order.action_confirm()
        approved = self._statuses(order)[0]
        approved.sudo().status = "teleported"
        with self.assertLogs(SENDER_LOGGER, "ERROR"):
            self._send()
        self.assertEqual(approved.state, "failed")
        self.assertIn("teleported", approved.last_error)
        self.assertFalse(order.oms_last_status)

    def test_a_database_error_recording_a_batch_falls_back_to_each_event(self):
        orders = self._order("EXT-OK") | self._order("EXT-BAD")
        orders.action_confirm()
        bad = orders.filtered(lambda o: o.oms_external_id == "EXT-BAD")
        Sender = type(self.env["oms.integration.sender"])
        after_sent = Sender._oms_after_sent

        def failing_query(sender, events):
            if bad in events.sale_order_id:
                sender.env.cr.execute("SELECT 1 / 0")  # aborts the transaction
            return after_sent(sender, events)

        with (
            patch.object(Sender, "_oms_after_sent", failing_query),
            mute_logger("odoo.sql_db"),
            self.assertLogs(SENDER_LOGGER, "ERROR"),
        ):
            self._send()
        good_approved = self._statuses(orders - bad)[0]
        bad_approved = self._statuses(bad)[0]
        self.assertEqual(good_approved.state, "done")
        self.assertEqual((orders - bad).oms_last_status, "processing")
        self.assertEqual(bad_approved.state, "failed")
        self.assertIn("division by zero", bad_approved.last_error)
        self.assertEqual(len(good_approved.exchange_ids), 1)
        self.assertEqual(len(bad_approved.exchange_ids), 1, "its request is logged")
        self.assertEqual(bad_approved.exchange_ids.status_code, 200)

    def test_exchanges_of_a_batch_are_each_logged_redacted(self):
        # The provider echoes secrets in every answer, headers and body.
        self.simulator.script(
            200,
            {"ok": True, "token": API_TOKEN, "note": f"signed with {SIGNING_SECRET}"},
            {"X-Debug": API_TOKEN},
            times=3,
        )
        orders = self._order("EXT-L1") | self._order("EXT-L2") | self._order("EXT-L3")
        orders.action_confirm()
        approved = self.Event.browse([self._statuses(order)[0].id for order in orders])
        self._send()

        self.assertEqual(set(approved.mapped("state")), {"done"})
        for event in approved:
            exchange = event.exchange_ids
            self.assertEqual(len(exchange), 1)
            self.assertEqual(
                (exchange.source_id, exchange.company_id, exchange.attempt),
                (self.shop, event.company_id, 1),
            )
            self.assertEqual(
                (exchange.status_code, exchange.outcome), (200, "delivered")
            )
            self.assertEqual(exchange.url, self.shop.callback_url)
            sent = json.loads(exchange.request_headers)
            self.assertEqual(sent["webhook-id"], event.delivery_id)
            self.assertEqual(sent["webhook-signature"], "***")
            self.assertEqual(json.loads(exchange.request_body)["status"], "approved")
            self.assertEqual(json.loads(exchange.response_headers)["X-Debug"], "***")
            answer = json.loads(exchange.response_body)
            self.assertEqual(answer["token"], "***")
            self.assertEqual(answer["note"], "signed with ***")
        self._assert_no_secret_stored()

    def test_a_batch_starts_no_request_after_its_time(self):
        slow = SlowSimulator().start()
        self.addCleanup(slow.stop)
        self.shop.callback_url = f"{slow.url}/status"
        self.shop._oms_give_consent(["outbound"])
        orders = self.env["sale.order"]
        for index in range(6):
            orders |= self._order(f"EXT-T{index}")
        orders.action_confirm()
        approved = self.Event.browse([self._statuses(order)[0].id for order in orders])
        Sender = type(self.env["oms.integration.sender"])
        send_batch = Sender._oms_send_batch
        batches = []

        def one_batch(sender, source, events):
            batches.append(len(events))
            if len(batches) == 1:
                # Each answer takes 0.05 s: only the first request starts in time.
                with patch.object(const, "OUTBOUND_BATCH_SECONDS", 0.01):
                    return send_batch(sender, source, events)
            return send_batch(sender, source, events)

        with patch.object(Sender, "_oms_send_batch", one_batch):
            self._send()
        self.assertEqual(batches[0], 6)
        self.assertGreater(len(batches), 1, "the rest went with later batches")
        self.assertEqual(set(approved.mapped("state")), {"done"})
        self.assertEqual(
            set(approved.mapped("attempts")), {1}, "a deferred status is not an attempt"
        )
