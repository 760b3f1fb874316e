"""Cloudify payloads lose their outlets' and delivery contacts' details on
Cloudify's own keys (outlet name and tax id, ward, province) once the
source's personal data limit has passed."""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.oms_integration.lib.personal_data import REMOVED

from .common import CloudifyCommon, cloudify_order


@tagged("post_install", "-at_install")
class TestCloudifyPersonalData(CloudifyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_cloudify_source(personal_data_days=30)

    def test_an_old_order_is_blanked_on_cloudify_keys(self):
        order = cloudify_order(
            "cf_90777",
            shipping_address={
                "id": "ADDR-12",
                "name": "Kho Minh Anh",
                "phone": "0901234568",
                "street": "45 Nguyễn Trãi",
                "ward": "Phường Bến Thành",
                "province": "TP Hồ Chí Minh",
                "country_code": "vn",
            },
        )
        payload = {"type": "order.created", "id": "evt_0777", "order": order}
        event = self.Event.create(
            {
                "source_id": self.source.id,
                "event_type": "order.created",
                "external_order_id": "cf_90777",
                "payload": json.dumps(payload, ensure_ascii=False),
                "state": "discarded",
                "received_at": fields.Datetime.now() - timedelta(days=31),
            }
        )

        self._run_cron("oms_integration.ir_cron_gc_processed_events")

        self.assertTrue(event.personal_data_blanked_at)
        blanked = json.loads(event.payload)
        outlet = blanked["order"]["outlet"]
        shipping = blanked["order"]["shipping_address"]
        for key in ("name", "vat", "street", "ward", "province", "phone"):
            self.assertEqual(outlet[key], REMOVED, key)
        for key in ("name", "phone", "street", "ward", "province"):
            self.assertEqual(shipping[key], REMOVED, key)
        # Codes, the order's name, lines and amounts are kept.
        self.assertEqual(outlet["code"], "CH00457")
        self.assertEqual(shipping["id"], "ADDR-12")
        self.assertEqual(blanked["order"]["name"], order["name"])
        self.assertEqual(blanked["order"]["lines"], order["lines"])
        self.assertEqual(blanked["order"]["amount_total"], order["amount_total"])
        self.assertEqual(blanked["id"], "evt_0777")
        for value in ("Minh Anh", "0312345678", "Lê Lợi", "Bến Nghé", "Nguyễn Trãi"):
            self.assertNotIn(value, event.payload)

    def test_only_cloudify_sources_use_cloudify_keys(self):
        self.assertIn("outlet.name", self.source._oms_personal_data_keys())
        other = self.env["oms.integration.source"].create({"name": "Web shop"})
        self.assertNotIn("outlet.name", other._oms_personal_data_keys())
