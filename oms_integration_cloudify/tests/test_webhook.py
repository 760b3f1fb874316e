"""Cloudify webhooks over real HTTP, signed with Standard Webhooks, becoming
sale orders: distributor and route kept, salesperson through the Mapping
Center, a cancellation cancelling the order."""

import json

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.oms_integration.lib.simulator import ProviderSimulator

from ..lib.simulator import webhook_event
from .common import SIGNING_SECRET, CloudifyHttpCommon, cloudify_order


@tagged("post_install", "-at_install")
class TestCloudifyWebhook(CloudifyHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_cloudify_source()

    def _post(self, payload, secret=SIGNING_SECRET):
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            **ProviderSimulator.standard_webhooks_headers(secret, body),
        }
        return self.url_open(
            f"/oms/webhook/{self.source.webhook_key}", data=body, headers=headers
        )

    def test_signed_orders_become_sale_orders_and_cancel(self):
        created = webhook_event(
            cloudify_order(), "order.created", "evt_0001", "2026-11-22T09:10:00+07:00"
        )
        response = self._post(created)
        self.assertEqual(response.status_code, 202, response.text)
        event = self._events(self.source)
        self.assertEqual(event.external_order_id, "cf_88421")
        self.assertEqual(event.state, "pending")
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        order = self._order_of(self.source, "cf_88421")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.oms_external_ref, "SO/2026/00123")
        self.assertEqual(order.cloudify_distributor_code, "NPP01")
        self.assertEqual(order.cloudify_route_code, "T2")
        self.assertEqual(order.user_id, self.salesman)
        self.assertEqual(order.partner_id.name, "Tạp hóa Minh Anh")
        self.assertEqual(order.partner_id.vat, "0312345678")
        self.assertEqual(order.currency_id.name, "VND")
        self.assertEqual(order.amount_total, 1274400)
        self.assertEqual(order.oms_sync_status, "synced", order.oms_sync_message)
        lines = order.order_line.filtered("product_id")
        self.assertEqual(
            lines.mapped("product_id.default_code")[:2], ["SP001", "SP009"]
        )
        self.assertEqual(lines.mapped("oms_external_line_id")[:2], ["1", "2"])
        self.assertEqual(lines[1].price_unit, 0)

        # The same event again is a duplicate.
        again = self._post(created)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(again.json()["status"], "duplicate")

        cancelled = webhook_event(
            {
                "external_id": "cf_88421",
                "state": "cancel",
                "write_date": "2026-11-22 03:59:58",
            },
            "order.cancelled",
            "evt_0003",
            "2026-11-22T11:00:00+07:00",
        )
        response = self._post(cancelled)
        self.assertEqual(response.status_code, 202, response.text)
        self._run_queue()
        self.assertEqual(order.state, "cancel")

    def test_an_update_that_cancels_is_a_cancellation(self):
        self._post(
            webhook_event(
                cloudify_order("cf_2"),
                "order.created",
                "evt_a",
                "2026-11-22T09:10:00+07:00",
            )
        )
        self._run_queue()
        order = self._order_of(self.source, "cf_2")
        self.assertEqual(order.state, "draft")
        response = self._post(
            webhook_event(
                cloudify_order("cf_2", state="cancel"),
                "order.updated",
                "evt_b",
                "2026-11-22T10:00:00+07:00",
            )
        )
        self.assertEqual(response.status_code, 202, response.text)
        self._run_queue()
        self.assertEqual(order.state, "cancel")

    def test_invalid_order_is_refused_with_its_field(self):
        bad = cloudify_order("cf_bad")
        bad["lines"][0]["qty"] = 0
        response = self._post(webhook_event(bad, "order.created", "evt_bad"))
        self.assertEqual(response.status_code, 422, response.text)
        self.assertIn("order.lines[0].qty", response.text)

    @mute_logger("odoo.addons.oms_integration.controllers.main")
    def test_a_wrong_signature_is_refused(self):
        response = self._post(
            webhook_event(cloudify_order(), "order.created", "evt_x"),
            secret="whsec_d3Jvbmctc2VjcmV0LWZvci10ZXN0cw==",
        )
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._events(self.source))
