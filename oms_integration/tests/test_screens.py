"""What a new administrator sees: events in words, the Mapping Center, the
source form's buttons and fields, the demo's dead letter fixed as it tells,
and a draft source's orders waiting."""

import json

from lxml import etree

from odoo.tests import Form, tagged

from .common import SIGNING_SECRET, OmsIntegrationCommon


def _order_payload(order_id="SCR-1", **order):
    return json.dumps(
        {
            "type": "order.created",
            "order": dict(
                {
                    "id": order_id,
                    "updated_at": "2026-11-22T09:30:00Z",
                    "currency": "VND",
                    "customer": {"id": "C-9", "name": "Tap hoa Binh An"},
                    "shipping_address": {
                        "name": "Kho Binh An",
                        "street": "45 Nguyen Trai",
                        "city": "Ho Chi Minh",
                    },
                    "lines": [
                        {
                            "product": {"sku": "SP001", "name": "Nuoc suoi 500ml"},
                            "uom": "THUNG",
                            "quantity": 5,
                            "price_unit": 96000,
                        }
                    ],
                    "amount_total": 480000,
                },
                **order,
            ),
        }
    )


@tagged("post_install", "-at_install")
class TestScreens(OmsIntegrationCommon):
    def _arch(self, model, view_type="form", user=None):
        Model = self.env[model].with_user(user or self.oms_manager)
        views = Model.get_views([(False, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    # === EVENTS === #

    def test_events_read_in_words(self):
        inbound = self._create_event(
            external_order_id="SCR-1",
            payload=_order_payload(),
            event_type="order.created",
        )
        self.assertEqual(inbound.display_name, "Order SCR-1 from Mobile DMS (created)")
        self.assertEqual(inbound.event_type_label, "Order created")
        outbound = self._create_event(
            direction="outbound",
            event_type="order.status",
            status="delivered",
            external_order_id="SCR-1",
            payload="{}",
        )
        self.assertEqual(outbound.status_label, "Delivered")
        self.assertEqual(
            outbound.display_name, "Status 'Delivered' to Mobile DMS for SCR-1"
        )
        own = self._create_event(
            direction="outbound", status="goods_issued", external_order_id="SCR-2"
        )
        self.assertEqual(own.status_label, "Goods issued")

    def test_inbound_event_shows_the_order_above_its_raw_data(self):
        event = self._create_event(external_order_id="SCR-1", payload=_order_payload())
        summary = str(event.order_summary)
        for text in (
            "Tap hoa Binh An",
            "Nuoc suoi 500ml",
            "THUNG",
            "96,000",
            "480,000",
        ):
            self.assertIn(text, summary)
        self.assertIn("45 Nguyen Trai", summary)
        self.assertIn("VND", summary)
        broken = self._create_event(external_order_id="SCR-3", payload='{"type": 1}')
        self.assertIn("This order cannot be read", str(broken.order_summary))
        arch = self._arch("oms.integration.event")
        pages = [page.get("name") for page in arch.iter("page")]
        self.assertLess(pages.index("order_summary"), pages.index("payload"))
        # The raw data is for administrators: a user sees the order only.
        user_pages = [
            page.get("name")
            for page in self._arch("oms.integration.event", user=self.oms_user).iter(
                "page"
            )
        ]
        self.assertIn("order_summary", user_pages)
        self.assertNotIn("payload", user_pages)

    def test_an_outbound_event_is_queued_not_received(self):
        arch = self._arch("oms.integration.event")
        labels = {
            node.get("string"): node.get("invisible")
            for node in arch.iterfind(".//field[@name='received_at']")
        }
        self.assertEqual(labels["Queued"], "direction != 'outbound'")
        self.assertEqual(labels["Received"], "direction == 'outbound'")
        hint = self._arch("oms.integration.event", "list").find(
            ".//field[@name='hint_display']"
        )
        self.assertEqual(hint.get("optional"), "hide")

    def test_a_failed_event_opens_the_mapping_center_of_its_source(self):
        event = self._create_event()
        action = event.action_open_mapping_center()
        self.assertEqual(action["res_model"], "oms.integration.mapping")
        self.assertIn(("source_id", "=", self.source.id), action["domain"])
        self.assertEqual(action["context"]["search_default_unmapped"], 1)

    # === MAPPING CENTER === #

    def test_mapping_center_opens_on_unmapped_values_with_one_record_column(self):
        action = self.env.ref("oms_integration.oms_integration_mapping_action")
        self.assertIn("search_default_unmapped", action.context)
        columns = [
            node.get("name")
            for node in self._arch("oms.integration.mapping", "list").iter("field")
        ]
        self.assertIn("odoo_record_name", columns)
        self.assertNotIn("product_id", columns)
        self.assertNotIn("partner_id", columns)

    # === SOURCE FORM === #

    def test_source_form_buttons_follow_the_state(self):
        arch = self._arch("oms.integration.source")
        buttons = {
            node.get("name"): node.get("invisible") or ""
            for node in arch.iterfind(".//header/button")
        }
        self.assertEqual(buttons["action_set_draft"], "state != 'paused'")
        self.assertTrue(buttons["action_regenerate_webhook_key"].startswith("not id"))
        self.assertIn("not id", buttons["action_poll_now"])
        self.assertIn("consent_inbound", buttons["action_give_consent"])
        form = Form(self.env["oms.integration.source"].with_user(self.oms_manager))
        form.name = "Unsaved"
        self.assertFalse(form.id)

    def test_source_shows_only_the_credentials_its_provider_uses(self):
        self.assertTrue(self.source.uses_api_token)
        self.assertTrue(self.source.uses_signing_secret)
        self.assertFalse(self.source.uses_client_id)
        self.assertFalse(self.source.uses_login)
        arch = self._arch("oms.integration.source")
        self.assertEqual(
            arch.find(".//field[@name='client_id']").get("invisible"),
            "not uses_client_id",
        )
        self.assertEqual(
            arch.find(".//field[@name='login']").get("invisible"), "not uses_login"
        )

    # === A DRAFT SOURCE === #

    def test_orders_of_a_draft_source_wait_until_it_is_active(self):
        source = self._create_source(name="Draft Shop")
        self._map(source, "partner", "C-9", partner_id=self.partner.id)
        self._map(source, "product", "SP001", product_id=self.product.id)
        event = self._create_event(
            source,
            external_order_id="SCR-9",
            payload=_order_payload(
                "SCR-9",
                lines=[{"product": {"sku": "SP001"}, "quantity": 2, "price_unit": 5}],
                amount_total=10,
                currency=self.env.company.currency_id.name,
            ),
        )
        self._run_queue()
        self.assertEqual(event.state, "pending")
        self.assertEqual(event.attempts, 0)
        self.assertEqual(
            event.result_note, "The source Draft Shop is not active: its orders wait."
        )
        self.assertFalse(event.sale_order_id)
        source.signing_secret = SIGNING_SECRET
        source._oms_give_consent(["inbound"])
        source.action_activate()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertTrue(event.sale_order_id)

    # === DEMO === #

    def test_the_demo_dead_letter_is_fixed_as_it_tells(self):
        # Demo data is installed on the test database of setup/test.sh; a
        # database without it (Odoo's runner with --without-demo) has no demo
        # dead letter to fix.
        letter = self.env.ref(
            "oms_integration.oms_integration_dead_letter_demo",
            raise_if_not_found=False,
        )
        if not letter:
            self.skipTest("No demo data in this database: no demo dead letter.")
        event = letter.event_id
        self.assertEqual(event.source_id.state, "active")
        self.assertIn("Tran Van Binh", str(event.order_summary))
        mapping = self.env.ref(
            "oms_integration.oms_integration_mapping_demo_salesperson"
        )
        mapping.user_id = self.salesman
        mapping.action_mark_mapped()
        letter.action_requeue()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.sale_order_id.user_id, self.salesman)
        self.assertEqual(event.sale_order_id.amount_total, 720000)
