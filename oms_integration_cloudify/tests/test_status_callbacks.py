"""Statuses sent to Cloudify (the Cloudify simulator, a real local HTTP
server): the proposed body for each status, delivered quantities, the
source's state map, an expired session renewed once, Cloudify's errors
made readable."""

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from ..lib import callbacks
from .common import CloudifyCommon


@tagged("post_install", "-at_install")
class TestCloudifyStatusCallbacks(CloudifyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_cloudify_source(
            "session",
            scopes=("inbound", "outbound"),
            outbound_enabled=True,
            cloudify_status_url=cls.simulator.url + callbacks.DEFAULT_STATUS_PATH,
        )
        cls.customer = cls.env["res.partner"].create({"name": "Tạp hóa Minh Anh"})

    def _order(self, external_id="cf_88421"):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "pricelist_id": self.pricelist.id,
                "oms_source_id": self.source.id,
                "oms_external_id": external_id,
                "order_line": [
                    fields.Command.create(
                        {
                            "product_id": self.products["SP001"].id,
                            "product_uom_qty": 5,
                            "price_unit": 250000,
                            "oms_external_line_id": "1",
                        }
                    ),
                    fields.Command.create(
                        {
                            "product_id": self.products["SP009"].id,
                            "product_uom_qty": 2,
                            "price_unit": 0,
                            "oms_external_line_id": "2",
                        }
                    ),
                ],
            }
        )

    def _send(self):
        self._send_statuses()

    def test_no_test_endpoint_so_no_test_callback(self):
        self.assertFalse(self.source.test_callback_available)
        with self.assertRaisesRegex(UserError, "Cloudify has no test endpoint"):
            self.source.with_user(self.manager).action_send_test_callback()
        test_events = self.Event.search(
            [("source_id", "=", self.source.id), ("event_type", "=", "test")]
        )
        self.assertFalse(test_events)
        # A test event stored anyway is never sent: it fails with the reason.
        event = self.Event._oms_create_outbound(
            self.source,
            {"event_type": "test", "delivery_id": "test_1", "payload": "{}"},
        )
        self._send()
        self.assertEqual(event.state, "dead")
        self.assertIn("no test endpoint", event.last_error)
        self.assertFalse(self.simulator.requests)
        self.assertFalse(self.simulator.callbacks)

    def _statuses(self, order):
        return self.Event.search(
            [("sale_order_id", "=", order.id), ("direction", "=", "outbound")],
            order="id",
        )

    def _deliver(self, order, tracking=None):
        picking = order.picking_ids
        picking.carrier_tracking_ref = tracking
        picking.move_ids.picked = True
        action = picking.button_validate()
        if isinstance(action, dict) and action.get("res_model"):
            Form(self.env[action["res_model"]].with_context(**action["context"])).save()
        return picking

    def test_confirm_and_deliver_send_the_proposed_bodies(self):
        order = self._order()
        order.action_confirm()
        self._deliver(order, tracking="GHN-123456")
        events = self._statuses(order)
        self.assertEqual(
            events.mapped("status"), ["approved", "processing", "delivered"]
        )
        self._send()
        self.assertEqual(
            set(events.mapped("state")), {"done"}, events.mapped("last_error")
        )
        self.assertEqual(
            self.simulator.statuses,
            [
                {
                    "external_id": "cf_88421",
                    "state": "confirmed",
                    "tracking_ref": None,
                    "delivered_qty": [],
                },
                {
                    "external_id": "cf_88421",
                    "state": "picking",
                    "tracking_ref": None,
                    "delivered_qty": [],
                },
                {
                    "external_id": "cf_88421",
                    "state": "done",
                    "tracking_ref": "GHN-123456",
                    "delivered_qty": [
                        {"seq": 1, "product_code": "SP001", "qty": 5},
                        {"seq": 2, "product_code": "SP009", "qty": 2},
                    ],
                },
            ],
        )
        # Signed in once, the session in a cookie, never in the body or URL.
        self.assertEqual(self.simulator.login_count, 1)
        [token] = list(self.simulator.tokens)
        posted = [
            c
            for c in self.simulator.callbacks
            if c["path"] == callbacks.DEFAULT_STATUS_PATH
        ]
        self.assertTrue(
            all(c["headers"]["Cookie"] == f"session_id={token}" for c in posted)
        )
        exchanges = events.exchange_ids
        self.assertTrue(exchanges)
        self.assertFalse([e for e in exchanges if token in (e.request_headers or "")])

    def test_cancel_sends_cancel_and_state_map_is_the_sources(self):
        self.source._oms_set_status_map({"processing": "delivering"})
        order = self._order()
        order.action_confirm()
        order._action_cancel()
        self._send()
        self.assertEqual(
            [s["state"] for s in self.simulator.statuses],
            ["confirmed", "delivering", "cancel"],
        )

    def test_an_expired_session_is_renewed_once_and_the_status_sent(self):
        order = self._order()
        order.action_confirm()
        self._send()
        self.assertEqual(self.simulator.login_count, 1)
        order._action_cancel()
        self.simulator.expire_all_tokens()
        self._send()
        cancelled = self._statuses(order)[-1]
        self.assertEqual(cancelled.state, "done", cancelled.last_error)
        self.assertEqual(self.simulator.login_count, 2)
        # The simulator records every call: the cancel refused with the
        # expired session, then the same cancel with the new one.
        self.assertEqual(
            [s["state"] for s in self.simulator.statuses],
            ["confirmed", "picking", "cancel", "cancel"],
        )
        self.assertEqual(len(cancelled.exchange_ids), 1)
        # The exchange logged is the request that went through.
        self.assertEqual(cancelled.exchange_ids[-1:].status_code, 200)

    def test_a_session_refused_again_is_retried_later(self):
        order = self._order()
        self.simulator.expire_after_requests = 0  # every session refused at once
        order.action_confirm()
        self._send()
        approved = self._statuses(order)[0]
        self.assertEqual(approved.state, "failed")
        self.assertIn("expired", approved.last_error)
        self.assertEqual(self.simulator.login_count, 2)

    def test_a_cloudify_error_answer_becomes_a_readable_failure(self):
        order = self._order()
        order.action_confirm()
        approved = self._statuses(order)[0]
        self.source._cloudify_get_token()  # the next request is the callback
        self.simulator.script(
            200,
            {
                "jsonrpc": "2.0",
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {
                        "message": "Order cf_88421 not found",
                        "debug": "Traceback ...",
                    },
                },
            },
        )
        self._send()
        self.assertEqual(approved.state, "dead")
        self.assertEqual(
            approved.last_error,
            "Cloudify refused the request: Order cf_88421 not found",
        )
        self.assertIn("Retry", approved.error_hint)
