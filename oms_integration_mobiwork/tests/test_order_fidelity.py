"""Mobiwork orders as Mobiwork meant them (inbound contract 1.1), through the
webhook acceptance and the queue: cases converted to units and told back in
cases on the Bill, unknown units held until mapped, notes and promotions on
lines, the sales group and discounts kept, Odoo's own discount product, only
the rate Mobiwork sent."""

from odoo import fields
from odoo.tests import Form, tagged

from .common import MobiworkCommon, delivery, mobiwork_order


def _line(stt, code, **values):
    line = {
        "stt": stt,
        "ma_sp": code,
        "so_luong": 5,
        "ten_dvt": "Thùng",
        "don_gia": 240000,
        "chiet_khau": 0,
        "ma_kho_xuat": "KHO-HCM",
        "vat": 10,
    }
    line.update(values)
    return line


@tagged("post_install", "-at_install")
class TestMobiworkOrderFidelity(MobiworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_mobiwork_source()
        cls.unit = cls.env.ref("uom.product_uom_unit")
        cls.water = cls.products["MW-SP001"]
        # Mobiwork's "Thùng" is a case of 24 of the first product.
        cls.water_case = cls.env["product.packaging"].create(
            {"name": "Thùng", "product_id": cls.water.id, "qty": 24}
        )
        cls._mapping("Thùng").write(
            {"uom_id": False, "packaging_id": cls.water_case.id}
        )

    # === HELPERS === #

    @classmethod
    def _mapping(cls, code, kind="uom", source=None):
        return cls.env["oms.integration.mapping"].search(
            [
                ("source_id", "=", (source or cls.source).id),
                ("kind", "=", kind),
                ("external_code", "=", code),
            ]
        )

    def _import(self, order, source=None):
        status, answer = self._receive(source or self.source, delivery(order))
        self.assertEqual(status, 202, answer)
        self._run_queue()
        return self.Event.browse(answer["event_id"])

    def _sale(self, external_id="DH-2026-000123", source=None):
        return self._order_of(source or self.source, external_id)

    def _product_lines(self, order):
        return order.order_line.filtered(lambda sol: not sol.oms_line_kind).sorted(
            "sequence"
        )

    def _deliver(self, order):
        picking = order.picking_ids
        picking.move_ids.picked = True
        action = picking.button_validate()
        if isinstance(action, dict) and action.get("res_model"):
            Form(self.env[action["res_model"]].with_context(**action["context"])).save()
        return picking

    # === UNITS === #

    def test_cases_become_units_and_the_bill_tells_cases(self):
        event = self._import(mobiwork_order(san_pham=[_line(1, "MW-SP001")]))
        self.assertEqual(event.state, "done", event.last_error)
        order = self._sale()
        line = self._product_lines(order)
        self.assertEqual(len(line), 1)
        self.assertEqual(line.product_id, self.water)
        self.assertEqual(line.product_uom, self.unit)
        self.assertEqual(line.product_uom_qty, 120)
        self.assertEqual(line.price_unit, 10000)
        self.assertEqual(line.product_packaging_id, self.water_case)
        self.assertEqual(line.product_packaging_qty, 5)
        self.assertEqual(line.oms_external_uom, "Thùng")
        self.assertEqual(line.price_subtotal, 1200000)
        self.assertEqual(line.tax_id, self.taxes[10])
        self.assertEqual(order.amount_total, 1320000)

        # Delivered, then told to Mobiwork in its own unit: 5 cases.
        order.action_confirm()
        self._deliver(order)
        self.assertEqual(line.qty_delivered, 120)
        bill = order._mobiwork_bill_info("Đã bán hàng")
        self.assertEqual(len(bill.lines), 1)
        self.assertFalse(bill.free_lines)
        [bill_line] = bill.lines
        self.assertEqual(bill_line.product_code, "MW-SP001")
        self.assertEqual(bill_line.quantity, 5)
        self.assertEqual(bill_line.price_unit, 240000)
        self.assertEqual(bill_line.uom_code, "Thùng")
        self.assertEqual(bill_line.vat_rate, 10)
        self.assertEqual(bill_line.warehouse_code, "KHO-HCM")
        self.assertEqual(bill_line.discount_amount, 0)
        self.assertEqual(bill.order_number, "DH-2026-000123")
        self.assertEqual(bill.amount_tax, 120000)

    def test_an_unknown_unit_is_dead_lettered_then_requeued_after_mapping(self):
        order = mobiwork_order(
            san_pham=[_line(1, "MW-SP002", ten_dvt="Lốc", so_luong=3, don_gia=30000)]
        )
        event = self._import(order)
        self.assertEqual(event.state, "dead")
        self.assertIn("Unit", event.last_error)
        self.assertIn("Lốc", event.last_error)
        self.assertIn("Mapping Center", event.error_hint)
        self.assertFalse(self._sale())
        mapping = self._mapping("Lốc")
        self.assertEqual(len(mapping), 1)
        self.assertEqual(mapping.state, "unmapped")
        mapping.uom_id = self.unit
        self.assertEqual(mapping.state, "mapped")
        event.dead_letter_ids.action_requeue()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        line = self._product_lines(self._sale())
        self.assertEqual(line.product_id, self.products["MW-SP002"])
        self.assertEqual(
            (line.product_uom, line.product_uom_qty, line.price_unit),
            (self.unit, 3, 30000),
        )
        self.assertEqual(line.oms_external_uom, "Lốc")
        self.assertFalse(line.product_packaging_id)

    # === NOTES, PROMOTIONS, SALES GROUP, LINE DISCOUNTS === #

    def test_notes_promotions_sales_group_and_line_discounts_are_kept(self):
        order = mobiwork_order(
            ma_nhom="NHOM-SI",
            tong_ck_sp=30000,
            san_pham=[
                _line(
                    1,
                    "MW-SP002",
                    ten_dvt="Hộp",
                    so_luong=10,
                    don_gia=50000,
                    chiet_khau=30000,
                    ghi_chu="Giao trước 10h",
                ),
            ],
            san_pham_km=[
                {
                    "ma_sp_km": "MW-SP003",
                    "so_luong_km": 1,
                    "ten_dvt_km": "Hộp",
                    "ma_kho_xuat_km": "KHO-HCM",
                    "ghi_chu_km": "Hàng tặng",
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
        sale = self._sale()
        paid, free = self._product_lines(sale)
        self.assertEqual(paid.product_id, self.products["MW-SP002"])
        self.assertEqual(paid.oms_note, "Giao trước 10h")
        self.assertIn("Giao trước 10h", paid.name)
        self.assertFalse(paid.oms_promotion_code)
        self.assertEqual(free.product_id, self.products["MW-SP003"])
        self.assertEqual(free.price_unit, 0)
        self.assertEqual(free.oms_external_line_id, "km1")
        self.assertEqual(free.oms_promotion_code, "KM-11")
        self.assertEqual(free.oms_note, "Hàng tặng")
        self.assertEqual(sale.mobiwork_sales_group, "NHOM-SI")
        self.assertEqual(sale.mobiwork_line_discount_total, 30000)
        self.assertEqual(
            sale.mobiwork_promotions, "KM-11 Mua 10 tặng 1 (value 1): MW-SP003 x 1"
        )
        # 10 x 50,000 less 30,000 of line discount.
        self.assertEqual(paid.price_subtotal, 470000)

    # === ORDER DISCOUNT === #

    def test_an_order_discount_uses_odoos_discount_product_on_a_new_source(self):
        source = self._create_mobiwork_source(
            name="Mobiwork NPP Quận 3", discount_product_id=False
        )
        self.assertFalse(source.discount_product_id)
        order = mobiwork_order(
            "DH-CK-1",
            ck_don_hang=20000,
            san_pham=[
                _line(1, "MW-SP002", ten_dvt="Hộp", so_luong=4, don_gia=50000, vat=10)
            ],
        )
        event = self._import(order, source)
        self.assertEqual(event.state, "done", event.last_error)
        sale = self._sale("DH-CK-1", source)
        discount = sale.order_line.filtered(lambda sol: sol.oms_line_kind == "discount")
        self.assertEqual(len(discount), 1)
        self.assertTrue(self.company.sale_discount_product_id)
        self.assertEqual(discount.product_id, self.company.sale_discount_product_id)
        self.assertEqual(discount.price_unit, -20000)
        self.assertEqual(discount.tax_id, self.taxes[10])
        # (200,000 - 20,000) x 1.10
        self.assertEqual(sale.amount_total, 198000)

    # === TAXES === #

    def test_a_rate_of_8_gets_only_the_companys_8_percent_tax(self):
        product = self.products["MW-SP004"]
        product.taxes_id = [fields.Command.set((self.taxes[10] | self.taxes[5]).ids)]
        order = mobiwork_order(
            "DH-VAT-8",
            san_pham=[
                _line(1, "MW-SP004", ten_dvt="Hộp", so_luong=2, don_gia=100000, vat=8)
            ],
        )
        event = self._import(order)
        self.assertEqual(event.state, "done", event.last_error)
        sale = self._sale("DH-VAT-8")
        line = self._product_lines(sale)
        self.assertEqual(line.tax_id, self.taxes[8])
        self.assertEqual(sale.amount_tax, 16000)
        self.assertEqual(sale.amount_total, 216000)
