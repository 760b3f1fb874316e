"""Mobiwork orders processed into sale orders: taxes, free goods and
promotions, empty prices, salesman and warehouse through the Mapping Center."""

import json

from odoo.tests import tagged

from .common import MobiworkCommon, delivery, mobiwork_order


def _line(stt, code, **values):
    line = {
        "stt": stt,
        "ma_sp": code,
        "so_luong": 2,
        "ten_dvt": "Thùng",
        "don_gia": 100000,
        "chiet_khau": 0,
        "ma_kho_xuat": "KHO-HCM",
    }
    line.update(values)
    return line


@tagged("post_install", "-at_install")
class TestMobiworkOrderProcessing(MobiworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_mobiwork_source()

    def _import(self, order):
        status, answer = self._receive(self.source, delivery(order))
        self.assertEqual(status, 202, answer)
        self._run_queue()
        return self.Event.browse(answer["event_id"])

    def test_a_raw_delivery_kept_after_an_error_applies_every_order(self):
        """A delivery kept whole after an unexpected error (no order id of
        its own): the queue applies each of its orders, not the first."""
        body = json.dumps(
            delivery(mobiwork_order("DH-RAW-1"), mobiwork_order("DH-RAW-2")),
            ensure_ascii=False,
        ).encode()
        event = self.Receiver._oms_keep_raw_delivery(
            self.source, {"webhook-id": "raw-1"}, body
        )
        self.assertFalse(event.external_order_id)
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertTrue(self._order_of(self.source, "DH-RAW-1"))
        self.assertTrue(self._order_of(self.source, "DH-RAW-2"))

    def test_each_vat_rate_gets_the_company_tax(self):
        order = mobiwork_order(
            san_pham=[
                _line(1, "MW-SP001", vat=10),
                _line(2, "MW-SP002", vat=8),
                _line(3, "MW-SP003", vat="5%"),
                _line(4, "MW-SP004", vat=0),
                _line(5, "MW-SP005", vat="KCT"),
            ]
        )
        event = self._import(order)
        self.assertEqual(event.state, "done", event.last_error)
        sale = self._order_of(self.source, "DH-2026-000123")
        lines = sale.order_line.sorted("sequence")
        self.assertEqual(
            [line.tax_id.amount for line in lines], [10.0, 8.0, 5.0, 0.0, 0.0]
        )
        for line in lines:
            self.assertEqual(len(line.tax_id), 1)
        # KCT is a category, not a rate: only its tax mapping names the tax.
        self.assertEqual(lines[4].tax_id, self.tax_kct)
        self.assertEqual(sale.currency_id.name, "VND")
        self.assertEqual(sale.user_id, self.salesman)
        self.assertEqual(sale.warehouse_id, self.warehouse)

    def test_kct_without_a_tax_mapping_says_to_map_it(self):
        self.Mapping.search(
            [("source_id", "=", self.source.id), ("kind", "=", "tax")]
        ).unlink()
        event = self._import(mobiwork_order(san_pham=[_line(1, "MW-SP001", vat="KCT")]))
        self.assertEqual(event.state, "dead")
        self.assertIn("Tax KCT", event.last_error)
        self.assertIn("KCT is a tax category, not a rate", event.error_hint)
        self.assertTrue(
            self.Mapping.search(
                [
                    ("source_id", "=", self.source.id),
                    ("kind", "=", "tax"),
                    ("external_code", "=", "KCT"),
                    ("state", "=", "unmapped"),
                ]
            )
        )

    def test_free_goods_and_promotion_lines_are_at_price_zero(self):
        order = mobiwork_order(
            san_pham=[
                _line(1, "MW-SP001", vat=10),
                _line(2, "MW-SP002", is_km=True, don_gia="", vat=10),
            ],
            san_pham_km=[
                {
                    "ma_sp_km": "MW-SP003",
                    "so_luong_km": 1,
                    "ten_dvt_km": "Hộp",
                    "ma_kho_xuat_km": "KHO-HCM",
                }
            ],
            promotion=[
                {
                    "id": "KM-11",
                    "ten_khuyen_mai": "Mua 10 tặng 1",
                    "ptype": '{"value": 1}',
                    "product": [{"ma_san_pham": "MW-SP003", "so_luong": 1}],
                }
            ],
        )
        event = self._import(order)
        self.assertEqual(event.state, "done", event.last_error)
        lines = self._order_of(self.source, "DH-2026-000123").order_line.sorted(
            "sequence"
        )
        self.assertEqual(
            [(line.product_id.default_code, line.price_unit) for line in lines],
            [("MW-SP001", 100000.0), ("MW-SP002", 0.0), ("MW-SP003", 0.0)],
        )
        self.assertEqual(lines[2].oms_external_line_id, "km1")

    def test_an_empty_price_takes_the_pricelist_price_and_says_so(self):
        self.env["product.pricelist.item"].create(
            {
                "pricelist_id": self.pricelist.id,
                "applied_on": "0_product_variant",
                "product_id": self.products["MW-SP002"].id,
                "compute_price": "fixed",
                "fixed_price": 77000,
            }
        )
        order = mobiwork_order(
            san_pham=[_line(1, "MW-SP001"), _line(2, "MW-SP002", don_gia="")]
        )
        event = self._import(order)
        self.assertEqual(event.state, "done", event.last_error)
        sale = self._order_of(self.source, "DH-2026-000123")
        lines = sale.order_line.sorted("sequence")
        self.assertEqual(lines.mapped("price_unit"), [100000.0, 77000.0])
        bodies = sale.message_ids.mapped("body")
        self.assertTrue(
            any(
                "Line 2 (MW-SP002): no price from the provider, the pricelist price "
                "was used." in body
                for body in bodies
            ),
            bodies,
        )
        self.assertFalse(any("Line 1 " in body for body in bodies))

    def test_unmapped_salesman_and_warehouse_then_requeue(self):
        order = mobiwork_order(
            ma_nv_dat="NV099",
            ten_nguoi_dat="Lê Văn Tám",
            san_pham=[_line(1, "MW-SP001", ma_kho_xuat="KHO-HN")],
        )
        event = self._import(order)
        self.assertEqual(event.state, "dead")
        self.assertIn("Salesperson NV099 (Lê Văn Tám)", event.last_error)
        self.assertIn("Warehouse KHO-HN", event.last_error)
        self.assertIn("Mapping Center", event.error_hint)
        self.assertFalse(self._order_of(self.source, "DH-2026-000123"))
        unmapped = self.Mapping.search(
            [("source_id", "=", self.source.id), ("state", "=", "unmapped")]
        )
        by_code = {mapping.external_code: mapping for mapping in unmapped}
        self.assertLessEqual({"NV099", "KHO-HN"}, set(by_code))
        self.assertEqual(self.source.unmapped_count, len(unmapped))

        other_warehouse = self.env["stock.warehouse"].create(
            {"name": "Kho Hà Nội", "code": "KHN"}
        )
        by_code["NV099"].user_id = self.salesman
        by_code["KHO-HN"].warehouse_id = other_warehouse
        event.action_retry_now()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        sale = self._order_of(self.source, "DH-2026-000123")
        self.assertEqual(sale.user_id, self.salesman)
        self.assertEqual(sale.warehouse_id, other_warehouse)
