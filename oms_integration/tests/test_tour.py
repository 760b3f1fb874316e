"""The operations cockpit in a real browser (Odoo's tours drive a headless
Chromium; without one the test is skipped and says so)."""

import json

from odoo.tests import HttpCase, tagged

from .common import OmsTestMixin


@tagged("post_install", "-at_install")
class TestCockpitTour(OmsTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        vnd = cls.env.ref("base.VND")
        vnd.active = True
        pricelist = cls.env["product.pricelist"].create(
            {"name": "VND (tour)", "currency_id": vnd.id}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Nuoc suoi (tour)", "default_code": "TOUR-SP1"}
        )
        cls.source = cls.env["oms.integration.source"].create(
            {
                "name": "Tour Shop",
                "mode": "webhook",
                "pricelist_id": pricelist.id,
                "partner_policy": "match_create",
                "product_policy": "map_only",
                "signing_secret": "whsec_first_secret_0123456789",
            }
        )
        cls.source._oms_give_consent(["inbound"])
        cls.source.action_activate()

    def _dead_letter_waiting_for_a_mapping(self):
        """Order TOUR-1 dead-lettered for an unmapped product, the product
        then mapped: a redrive would now succeed."""
        payload = {
            "type": "order.created",
            "order": {
                "id": "TOUR-1",
                "updated_at": "2026-11-22T09:30:00Z",
                "currency": "VND",
                "customer": {"id": "TC-1", "name": "Tap hoa Tour"},
                "lines": [
                    {
                        "id": "1",
                        "product": {"sku": "TOUR-SP1", "name": "Nuoc suoi"},
                        "quantity": 2,
                        "price_unit": 10000,
                    }
                ],
            },
        }
        event = self.Event._oms_create_inbound(
            self.source,
            {
                "event_type": "order.created",
                "external_order_id": "TOUR-1",
                "payload": json.dumps(payload),
            },
        )
        self._run_queue()
        self.assertEqual(event.state, "dead", event.last_error)
        mapping = self.Mapping._oms_find(self.source, "product", "TOUR-SP1")
        mapping.product_id = self.product
        return event

    def test_tour_triage_from_the_dashboard(self):
        event = self._dead_letter_waiting_for_a_mapping()
        # The provider's secret is lost: webhooks would be refused.
        self.source.with_context(oms_secret="signing_secret").action_clear_secret()
        self.source._oms_check_readiness()
        score_before = self.source.health_score
        self.assertIn(
            "webhook_credentials",
            self.source.readiness_finding_ids.filtered(
                lambda f: f.severity == "blocking"
            ).mapped("code"),
        )

        self.start_tour("/odoo", "oms_integration_cockpit_tour", login="admin")

        self.source.invalidate_recordset()
        self.assertTrue(self.source.signing_secret_set)
        self.assertEqual(self.source.readiness_blocking_count, 0)
        self.assertGreater(self.source.health_score, score_before)
        letter = event.dead_letter_ids
        self.assertEqual(letter.state, "requeued")
        self.assertEqual(event.state, "pending")
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(
            self._order_of(self.source, "TOUR-1").order_line.product_id, self.product
        )
