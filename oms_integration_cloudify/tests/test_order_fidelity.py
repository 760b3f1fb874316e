"""Cloudify orders as Cloudify meant them (inbound contract 1.1), through the
webhook acceptance and the queue: cases converted to units, lines for two
warehouses split or refused per source, the delivery contact found again,
line notes and promotions, the order's promotions kept, the outlet matched
on its phone number."""

from odoo.tests import tagged

from ..lib.simulator import webhook_event
from .common import CloudifyCommon, cloudify_order


def _line(seq, code="SP001", **values):
    line = {
        "seq": seq,
        "product_code": code,
        "uom": "Chai",
        "qty": 5,
        "price_unit": 240000,
        "tax_rate": "8",
        "is_free": False,
    }
    line.update(values)
    return line


def _order(external_id, lines, **overrides):
    """A proposal order with other lines; its totals left out (they are
    checked by the parser only when sent)."""
    order = cloudify_order(external_id, lines=lines, **overrides)
    for key in ("order_discount", "amount_untaxed", "amount_tax", "amount_total"):
        order.pop(key, None)
    return order


@tagged("post_install", "-at_install")
class TestCloudifyOrderFidelity(CloudifyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_cloudify_source(partner_policy="match_create")
        cls.unit = cls.env.ref("uom.product_uom_unit")
        cls.water = cls.products["SP001"]
        cls.water_case = cls.env["product.packaging"].create(
            {"name": "Thùng", "product_id": cls.water.id, "qty": 24}
        )
        cls.env["oms.integration.mapping"].search(
            [
                ("source_id", "=", cls.source.id),
                ("kind", "=", "uom"),
                ("external_code", "=", "Thùng"),
            ]
        ).write({"uom_id": False, "packaging_id": cls.water_case.id})
        cls.wh_main = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.wh_north = cls.env["stock.warehouse"].create(
            {"name": "Kho Hà Nội (Cloudify)", "code": "CFHN"}
        )
        cls._map(cls.source, "warehouse", "KHO-HCM", warehouse_id=cls.wh_main.id)
        cls._map(cls.source, "warehouse", "KHO-HN", warehouse_id=cls.wh_north.id)

    # === HELPERS === #

    def _import(self, order, event_type="order.created"):
        status, answer = self._accept(self.source, webhook_event(order, event_type))
        self.assertEqual(status, 202, answer)
        self._run_queue()
        event = self._events(self.source, external_order_id=order["external_id"])
        self.assertEqual(len(event), 1)
        return event

    def _sale(self, external_id):
        return self._order_of(self.source, external_id)

    def _product_lines(self, order):
        return order.order_line.filtered(lambda sol: not sol.oms_line_kind).sorted(
            "sequence"
        )

    def _two_warehouse_lines(self):
        return [
            _line(1, warehouse="KHO-HCM"),
            _line(2, "SP009", qty=2, price_unit=100000, warehouse="KHO-HN"),
        ]

    # === UNITS === #

    def test_a_case_of_24_is_converted_to_units(self):
        # 5 cases at 240,000 + 8% VAT: 1,296,000, Cloudify's own total.
        order = _order(
            "cf_case",
            [_line(1, uom="Thùng")],
            amount_untaxed=1200000,
            amount_tax=96000,
            amount_total=1296000,
        )
        event = self._import(order)
        self.assertEqual(event.state, "done", event.last_error)
        sale = self._sale("cf_case")
        line = self._product_lines(sale)
        self.assertEqual(line.product_id, self.water)
        self.assertEqual(line.product_uom, self.unit)
        self.assertEqual(line.product_uom_qty, 120)
        self.assertEqual(line.price_unit, 10000)
        self.assertEqual(line.product_packaging_id, self.water_case)
        self.assertEqual(line.product_packaging_qty, 5)
        self.assertEqual(line.oms_external_uom, "Thùng")
        self.assertEqual(line.tax_id, self.tax_8)
        self.assertEqual(sale.amount_total, 1296000)
        self.assertEqual(line._oms_provider_quantity(120), 5)
        self.assertEqual(line._oms_provider_price(), 240000)

    # === WAREHOUSES === #

    def test_lines_for_two_warehouses_make_two_orders_when_split(self):
        self.source.warehouse_policy = "split"
        event = self._import(_order("cf_split", self._two_warehouse_lines()))
        self.assertEqual(event.state, "done", event.last_error)
        main = self._sale("cf_split")
        north = self._sale("cf_split/KHO-HN")
        self.assertEqual(len(main), 1)
        self.assertEqual(len(north), 1)
        self.assertEqual(event.sale_order_id, main)
        self.assertEqual(main.warehouse_id, self.wh_main)
        self.assertEqual(north.warehouse_id, self.wh_north)
        self.assertEqual(
            (main.oms_provider_order_id, north.oms_provider_order_id),
            ("cf_split", "cf_split"),
        )
        self.assertEqual(
            self._product_lines(main).mapped("product_id.default_code"), ["SP001"]
        )
        self.assertEqual(
            self._product_lines(north).mapped("product_id.default_code"), ["SP009"]
        )
        self.assertEqual(main._oms_parts(), main | north)
        # 5 x 240,000 and 2 x 100,000, 8% VAT each.
        self.assertEqual(main.amount_total, 1296000)
        self.assertEqual(north.amount_total, 216000)

    def test_lines_for_two_warehouses_are_refused_by_default(self):
        self.assertEqual(self.source.warehouse_policy, "refuse")
        event = self._import(_order("cf_refused", self._two_warehouse_lines()))
        self.assertEqual(event.state, "dead")
        self.assertEqual(len(event.dead_letter_ids), 1)
        self.assertIn("KHO-HCM", event.last_error)
        self.assertIn("KHO-HN", event.last_error)
        self.assertIn("Lines for Several Warehouses", event.error_hint)
        self.assertIn("One sale order per warehouse", event.error_hint)
        self.assertFalse(self._sale("cf_refused"))
        self.assertFalse(self._sale("cf_refused/KHO-HN"))

    # === DELIVERY ADDRESS === #

    def test_the_shipping_address_is_a_delivery_contact_found_again(self):
        address = {
            "id": "ADDR-77",
            "name": "Kho Minh Anh",
            "phone": "0901234568",
            "street": "45 Nguyễn Trãi",
            "ward": "Phường Bến Thành",
            "province": "TP Hồ Chí Minh",
        }
        event = self._import(_order("cf_ship_1", [_line(1)], shipping_address=address))
        self.assertEqual(event.state, "done", event.last_error)
        first = self._sale("cf_ship_1")
        customer = first.partner_id
        self.assertEqual(customer.name, "Tạp hóa Minh Anh")
        contact = first.partner_shipping_id
        self.assertNotEqual(contact, customer)
        self.assertEqual(contact.parent_id, customer)
        self.assertEqual(contact.type, "delivery")
        self.assertEqual(contact.street, "45 Nguyễn Trãi")
        self.assertEqual(contact.street2, "Phường Bến Thành")
        self.assertEqual(contact.country_id, self.env.ref("base.vn"))
        self.assertEqual(first.partner_invoice_id, customer)
        # A second order to the same address id: the same contact.
        event = self._import(_order("cf_ship_2", [_line(1)], shipping_address=address))
        self.assertEqual(event.state, "done", event.last_error)
        second = self._sale("cf_ship_2")
        self.assertEqual(second.partner_id, customer)
        self.assertEqual(second.partner_shipping_id, contact)
        self.assertEqual(
            customer.child_ids.filtered(lambda p: p.type == "delivery"), contact
        )

    # === NOTES AND PROMOTIONS === #

    def test_line_notes_and_promotions_and_the_orders_promotions_are_kept(self):
        lines = [
            _line(1, note="Hàng dễ vỡ"),
            _line(
                2,
                "SP009",
                qty=2,
                price_unit=0,
                is_free=True,
                promotion_code="KM2511-01",
                note="Tặng kèm",
            ),
        ]
        promotions = [
            {"code": "KM2511-01", "name": "Mua 5 tặng 2", "amount": 20000},
            {"code": "KM2511-02", "name": "Chiết khấu tuyến"},
        ]
        event = self._import(_order("cf_promo", lines, promotions=promotions))
        self.assertEqual(event.state, "done", event.last_error)
        sale = self._sale("cf_promo")
        paid, free = self._product_lines(sale)
        self.assertEqual(paid.oms_note, "Hàng dễ vỡ")
        self.assertIn("Hàng dễ vỡ", paid.name)
        self.assertFalse(paid.oms_promotion_code)
        self.assertEqual(free.product_id, self.products["SP009"])
        self.assertEqual(free.price_unit, 0)
        self.assertEqual(free.oms_promotion_code, "KM2511-01")
        self.assertEqual(free.oms_note, "Tặng kèm")
        self.assertEqual(
            sale.cloudify_promotions,
            "KM2511-01 Mua 5 tặng 2 20000\nKM2511-02 Chiết khấu tuyến",
        )

    # === CUSTOMERS === #

    def test_the_outlets_local_number_matches_the_international_form(self):
        self.assertIn(self.source.partner_policy, ("match", "match_create"))
        known = self.env["res.partner"].create(
            {
                "name": "Cửa hàng Minh Anh",
                "phone": "+84 90 123 4567",
                "country_id": self.env.ref("base.vn").id,
            }
        )
        Partner = self.env["res.partner"]
        count = Partner.search_count([])
        outlet = {
            "code": "CH00999",
            "name": "Tạp hóa Minh Anh",
            "street": "12 Lê Lợi",
            "province": "TP Hồ Chí Minh",
            "phone": "0901234567",
        }
        event = self._import(_order("cf_phone", [_line(1)], outlet=outlet))
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(self._sale("cf_phone").partner_id, known)
        self.assertEqual(Partner.search_count([]), count, "no new customer")
