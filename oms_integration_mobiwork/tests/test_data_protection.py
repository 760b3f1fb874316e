"""Mobiwork payloads lose their customers' details on Mobiwork's own keys
(ten_kh, sdt, dia_chi) once the source's personal data limit has passed."""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.oms_integration.lib.personal_data import REMOVED

from .common import MobiworkCommon, delivery, mobiwork_order


@tagged("post_install", "-at_install")
class TestMobiworkPersonalData(MobiworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_mobiwork_source(
            personal_data_days=30, retention_days=365
        )

    def test_an_old_order_is_blanked_on_mobiwork_keys(self):
        order = mobiwork_order("DH-2026-000777", dia_chi_giao_hang="Kho sau, 12 Lê Lợi")
        status, answer = self._receive(self.source, delivery(order))
        self.assertEqual(status, 202, answer)
        self._run_queue()
        event = self.Event.browse(answer["event_id"])
        self.assertEqual(event.state, "done", event.last_error)
        sale_order = event.sale_order_id
        event.received_at = fields.Datetime.now() - timedelta(days=31)

        self._run_cron("oms_integration.ir_cron_gc_processed_events")

        self.assertTrue(event.personal_data_blanked_at)
        for value in ("Ngọc Hương", "0903 456 789", "Nguyễn Trãi", "Lê Lợi"):
            self.assertNotIn(value, event.payload)
        payload = json.loads(event.payload)
        orders = (
            payload["data"]
            if isinstance(payload, dict) and "data" in payload
            else [payload]
        )
        blanked = orders[0]
        for key in ("ten_kh", "sdt", "dia_chi", "dia_chi_giao_hang"):
            self.assertEqual(blanked[key], REMOVED, key)
        # Codes, lines, amounts, dates and the salesperson are kept.
        for key in ("ma_phieu", "ma_kh", "ngay_dat", "ma_nv_dat", "ten_nguoi_dat"):
            self.assertEqual(blanked[key], order[key], key)
        self.assertEqual(blanked["san_pham"], order["san_pham"])
        # Odoo's own records are not this clean-up's business.
        self.assertEqual(event.sale_order_id, sale_order)
        self.assertTrue(sale_order.partner_id.name)

    def test_only_mobiwork_sources_use_mobiwork_keys(self):
        self.assertIn("ten_kh", self.source._oms_personal_data_keys())
        self.assertIn("customer.name", self.source._oms_personal_data_keys())
        other = self.env["oms.integration.source"].create({"name": "Web shop"})
        self.assertNotIn("ten_kh", other._oms_personal_data_keys())
