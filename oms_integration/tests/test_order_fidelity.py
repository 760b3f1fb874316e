"""Orders as the provider meant them (contract 1.1): units and packagings,
delivery addresses, warehouses, customers, notes and promotions, taxes,
discount and shipping lines, salesperson and pricelist."""

import json

from odoo import fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import OmsIntegrationCommon


def _line(**vals):
    line = {
        "id": "1",
        "product": {"sku": "FSP002", "name": "Nuoc suoi 500ml"},
        "quantity": 5,
        "price_unit": 96000,
        "tax_rate": 8,
    }
    line.update(vals)
    return line


def _payload(order_id="F-1", event_type="order.created", lines=None, **vals):
    order = {
        "id": order_id,
        "name": f"WEB/{order_id}",
        "updated_at": "2026-11-22T09:30:00Z",
        "currency": "VND",
        "customer": {"id": "FC-1", "name": "Tap hoa Minh Anh", "vat": "0319999999"},
        "lines": lines or [_line()],
    }
    order.update(vals)
    return {"type": event_type, "order": order}


@tagged("post_install", "-at_install")
class TestOrderFidelity(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vn = cls.env.ref("base.vn")
        cls.vnd = cls.env.ref("base.VND")
        cls.vnd.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "VND (fidelity)", "currency_id": cls.vnd.id}
        )
        Tax = cls.env["account.tax"]
        tax_vals = {
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": cls.company.id,
        }
        cls.tax_15 = Tax.create(dict(tax_vals, name="Default 15% (test)", amount=15))
        cls.tax_8 = Tax.create(dict(tax_vals, name="VAT 8% (fidelity)", amount=8))
        cls.tax_10 = Tax.create(dict(tax_vals, name="VAT 10% (fidelity)", amount=10))
        cls.tax_8_incl = Tax.create(
            dict(
                tax_vals,
                name="VAT 8% included (fidelity)",
                amount=8,
                price_include_override="tax_included",
            )
        )
        cls.unit = cls.env.ref("uom.product_uom_unit")
        cls.dozen = cls.env.ref("uom.product_uom_dozen")
        cls.kg = cls.env.ref("uom.product_uom_kgm")
        product_vals = {
            "type": "consu",
            "list_price": 1,
            # The product's default tax: never added when the provider
            # sends a rate, nor (by default) when it sends none.
            "taxes_id": [fields.Command.set(cls.tax_15.ids)],
        }
        cls.water = cls.env["product.product"].create(
            dict(product_vals, name="Nuoc suoi 500ml", default_code="FSP002")
        )
        cls.tea = cls.env["product.product"].create(
            dict(product_vals, name="Tra xanh 330ml", default_code="FSP009")
        )
        Packaging = cls.env["product.packaging"]
        cls.water_case = Packaging.create(
            {"name": "Thùng", "product_id": cls.water.id, "qty": 24}
        )
        cls.tea_case = Packaging.create(
            {"name": "Thùng", "product_id": cls.tea.id, "qty": 12}
        )
        cls.shop = cls.env["res.partner"].create(
            {"name": "Tap hoa Minh Anh", "vat": "0319999999", "country_id": cls.vn.id}
        )
        cls.source = cls._create_active_source(
            name="Fidelity shop",
            pricelist_id=cls.pricelist.id,
            partner_policy="match_create",
            product_policy="match",
            total_tolerance=0,
        )
        cls.wh_main = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.wh_north = cls.env["stock.warehouse"].create(
            {"name": "Kho Ha Noi (fidelity)", "code": "FHN"}
        )
        cls._map(cls.source, "uom", "THUNG", packaging_id=cls.water_case.id)

    # === HELPERS === #

    def _receive(self, payload):
        return self.Event._oms_create_inbound(
            self.source,
            {
                "event_type": payload["type"],
                "external_order_id": payload["order"]["id"],
                "payload": json.dumps(payload, ensure_ascii=False),
            },
        )

    def _apply(self, payload):
        event = self._receive(payload)
        self._run_queue()
        return event

    def _order(self, external_id="F-1"):
        return self._order_of(self.source, external_id)

    def _product_lines(self, order):
        return order.order_line.filtered(lambda sol: not sol.oms_line_kind).sorted(
            "sequence"
        )

    # === UNITS === #

    def test_a_case_of_24_is_converted_and_the_total_is_the_providers(self):
        # 5 cases at 96,000 + 8% = 518,400, the provider's total.
        event = self._apply(_payload(lines=[_line(uom="THUNG")], amount_total=518400))
        self.assertEqual(event.state, "done", event.last_error)
        line = self._product_lines(self._order())
        self.assertEqual(line.product_uom, self.water.uom_id)
        self.assertEqual(line.product_uom_qty, 120)
        self.assertEqual(line.price_unit, 4000)
        self.assertEqual(line.product_packaging_id, self.water_case)
        self.assertEqual(line.product_packaging_qty, 5)
        self.assertEqual(line.oms_external_uom, "THUNG")
        self.assertEqual(line.price_subtotal, 480000)
        self.assertEqual(self._order().amount_total, 518400)
        # Told back in the provider's unit: 5 cases.
        self.assertEqual(line._oms_provider_quantity(120), 5)
        self.assertEqual(line._oms_provider_price(), 96000)

    def test_a_packaging_mapped_for_one_product_is_found_by_name_for_another(self):
        lines = [
            _line(uom="THUNG"),
            _line(
                id="2",
                product={"sku": "FSP009"},
                quantity=2,
                price_unit=120000,
                uom="THUNG",
            ),
        ]
        event = self._apply(_payload(lines=lines))
        self.assertEqual(event.state, "done", event.last_error)
        water, tea = self._product_lines(self._order())
        self.assertEqual(water.product_packaging_id, self.water_case)
        self.assertEqual(tea.product_packaging_id, self.tea_case)
        self.assertEqual((tea.product_uom_qty, tea.price_unit), (24, 10000))

    def test_an_unknown_unit_is_dead_lettered_then_requeued_after_mapping(self):
        event = self._apply(_payload(lines=[_line(uom="LOC", price_unit=4000)]))
        self.assertEqual(event.state, "dead")
        self.assertIn("Unit LOC", event.last_error)
        self.assertIn("Mapping Center", event.error_hint)
        self.assertFalse(self._order())
        mapping = self.Mapping.search(
            [("source_id", "=", self.source.id), ("kind", "=", "uom")]
        ).filtered(lambda m: m.external_code == "LOC")
        self.assertEqual(mapping.state, "unmapped")
        mapping.uom_id = self.unit
        self.assertEqual(mapping.state, "mapped")
        event.dead_letter_ids.action_requeue()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        line = self._product_lines(self._order())
        self.assertEqual((line.product_uom_qty, line.price_unit), (5, 4000))

    def test_a_unit_is_a_unit_of_measure_or_a_packaging_not_both(self):
        mapping = self.Mapping.search(
            [("source_id", "=", self.source.id), ("external_code", "=", "THUNG")]
        )
        self.assertEqual(mapping._oms_get_record(), self.water_case)
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            mapping.uom_id = self.unit
        mapping.write({"packaging_id": False, "uom_id": self.dozen.id})
        self.assertEqual(mapping._oms_get_record(), self.dozen)

    def test_a_unit_of_another_category_fails_with_a_hint(self):
        self._map(self.source, "uom", "KG", uom_id=self.kg.id)
        event = self._apply(_payload(lines=[_line(uom="KG")]))
        self.assertEqual(event.state, "dead")
        self.assertIn("cannot measure", event.error_hint)
        self._map(self.source, "uom", "TA", uom_id=self.dozen.id)
        event = self._apply(_payload("F-2", lines=[_line(uom="TA", quantity=2)]))
        self.assertEqual(event.state, "done", event.last_error)
        line = self._product_lines(self._order("F-2"))
        self.assertEqual((line.product_uom, line.product_uom_qty), (self.dozen, 2))

    # === DELIVERY ADDRESS === #

    def test_the_delivery_contact_is_found_again_and_follows_changes(self):
        address = {
            "id": "A-3",
            "name": "Kho Minh Anh",
            "phone": "0901234568",
            "street": "45 Nguyen Trai",
            "city": "Ho Chi Minh",
            "country_code": "VN",
        }
        event = self._apply(_payload(shipping_address=address))
        self.assertEqual(event.state, "done", event.last_error)
        first = self._order()
        contact = first.partner_shipping_id
        self.assertEqual(contact.parent_id, self.shop)
        self.assertEqual(contact.type, "delivery")
        self.assertEqual(
            (contact.street, contact.country_id), ("45 Nguyen Trai", self.vn)
        )
        self.assertEqual(first.partner_invoice_id, self.shop)
        # The next order with the same address id: the same contact.
        self._apply(_payload("F-2", shipping_address=address))
        self.assertEqual(self._order("F-2").partner_shipping_id, contact)
        # Without an id, the same fields (other case, spacing) find it too.
        same = dict(address, street="45  NGUYEN TRAI")
        del same["id"]
        self._apply(_payload("F-3", shipping_address=same))
        self.assertEqual(self._order("F-3").partner_shipping_id, contact)
        self.assertEqual(len(self.shop.child_ids), 1)
        # An update of the quotation to another address moves the order.
        moved = dict(address, id="A-4", street="9 Hai Ba Trung")
        self._apply(
            _payload(
                "F-1",
                "order.updated",
                shipping_address=moved,
                updated_at="2026-11-22T10:00:00Z",
            )
        )
        self.assertNotEqual(first.partner_shipping_id, contact)
        self.assertEqual(first.partner_shipping_id.street, "9 Hai Ba Trung")
        # The provider corrects address A-3 itself: its contact follows.
        fixed = dict(address, phone="0901000000")
        self._apply(_payload("F-5", shipping_address=fixed))
        self.assertEqual(self._order("F-5").partner_shipping_id, contact)
        self.assertEqual(contact.phone, "0901000000")

    def test_no_shipping_address_delivers_to_the_customer(self):
        self._apply(_payload())
        self.assertEqual(self._order().partner_shipping_id, self.shop)

    # === WAREHOUSES === #

    def _two_warehouse_lines(self):
        self._map(self.source, "warehouse", "WH-HCM", warehouse_id=self.wh_main.id)
        self._map(self.source, "warehouse", "WH-HN", warehouse_id=self.wh_north.id)
        return [
            _line(warehouse="WH-HCM"),
            _line(id="2", product={"sku": "FSP009"}, warehouse="WH-HN", quantity=1),
            _line(id="3", product={"sku": "FSP009"}, quantity=3, price_unit=5000),
        ]

    def test_lines_for_two_warehouses_fail_when_the_source_refuses_them(self):
        self.assertEqual(self.source.warehouse_policy, "refuse")
        event = self._apply(_payload(lines=self._two_warehouse_lines()))
        self.assertEqual(event.state, "dead")
        self.assertIn("WH-HCM", event.last_error)
        self.assertIn("WH-HN", event.last_error)
        self.assertIn("One sale order per warehouse", event.error_hint)
        self.assertFalse(self._order())

    def test_lines_for_two_warehouses_make_linked_orders_when_split(self):
        self.source.warehouse_policy = "split"
        lines = self._two_warehouse_lines()
        # 5 x 96,000 + 96,000 + 15,000 = 591,000, 8% VAT 47,280, order
        # discount 10,000 (taxed base): 627,480.
        event = self._apply(
            _payload(lines=lines, discount_amount=10000, amount_total=627480)
        )
        self.assertEqual(event.state, "done", event.last_error)
        main = self._order("F-1")
        north = self._order("F-1/WH-HN")
        self.assertTrue(main and north)
        self.assertEqual(event.sale_order_id, main)
        self.assertEqual(main.warehouse_id, self.wh_main)
        self.assertEqual(north.warehouse_id, self.wh_north)
        self.assertEqual(
            (main.oms_provider_order_id, north.oms_provider_order_id), ("F-1", "F-1")
        )
        self.assertEqual((main.oms_part_code, north.oms_part_code), ("WH-HCM", "WH-HN"))
        # Lines without a warehouse go with the first one.
        self.assertEqual(
            self._product_lines(main).mapped("oms_external_line_id"), ["1", "3"]
        )
        self.assertEqual(
            self._product_lines(north).mapped("oms_external_line_id"), ["2"]
        )
        self.assertEqual(main._oms_parts(), main | north)
        self.assertEqual(main.oms_part_count, 2)
        self.assertEqual(main.amount_total + north.amount_total, 627480)
        # The provider's status is told under its own order id.
        body = north._oms_status_body("approved")
        self.assertEqual(body["order"]["id"], "F-1")
        self.assertEqual(body["odoo"]["sale_order"], north.name)
        # A new version keeps the parts; a cancellation cancels them all.
        self._apply(
            _payload(
                lines=lines,
                event_type="order.updated",
                updated_at="2026-11-22T10:00:00Z",
            )
        )
        self.assertEqual(self._order("F-1/WH-HN"), north)
        self.assertEqual(len(main._oms_parts()), 2)
        cancel = self._apply(
            _payload(event_type="order.cancelled", updated_at="2026-11-22T11:00:00Z")
        )
        self.assertEqual(cancel.state, "done", cancel.last_error)
        self.assertEqual(set((main | north).mapped("state")), {"cancel"})

    # === CUSTOMERS === #

    def test_a_local_number_matches_the_international_form(self):
        known = self.env["res.partner"].create(
            {
                "name": "Cua hang Ba Tu",
                "phone": "+84 90 123 4567",
                "country_id": self.vn.id,
            }
        )
        customer = {
            "id": "FC-2",
            "name": "Ba Tu",
            "phone": "0901234567",
            "country_code": "VN",
        }
        event = self._apply(_payload(customer=customer))
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(self._order().partner_id, known)

    def test_two_candidates_hold_the_event_until_one_is_mapped(self):
        Partner = self.env["res.partner"]
        twins = Partner.create(
            [
                {"name": "Shop A", "email": "twins@example.com"},
                {"name": "Shop B", "email": "Twins@Example.com"},
            ]
        )
        count = Partner.search_count([])
        customer = {"id": "FC-9", "name": "Twins", "email": "twins@example.com"}
        event = self._apply(_payload(customer=customer))
        self.assertEqual(event.state, "dead")
        self.assertEqual(Partner.search_count([]), count, "no third customer")
        for twin in twins:
            self.assertIn(f"#{twin.id}", event.error_hint)
        mapping = self.Mapping.search(
            [
                ("source_id", "=", self.source.id),
                ("kind", "=", "partner"),
                ("external_code", "=", "FC-9"),
            ]
        )
        self.assertEqual(mapping.state, "unmapped")
        mapping.partner_id = twins[1]
        event.dead_letter_ids.action_requeue()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(self._order().partner_id, twins[1])

    # === NOTES AND PROMOTIONS === #

    def test_lines_keep_their_note_and_promotion_code(self):
        lines = [_line(note="Hang de vo", promotion_code="KM11")]
        event = self._apply(_payload(lines=lines))
        self.assertEqual(event.state, "done", event.last_error)
        line = self._product_lines(self._order())
        self.assertEqual(line.oms_note, "Hang de vo")
        self.assertEqual(line.oms_promotion_code, "KM11")
        self.assertIn("Hang de vo", line.name)

    # === TAXES === #

    def test_no_tax_is_added_that_the_provider_did_not_send(self):
        lines = [
            _line(),
            _line(id="2", product={"sku": "FSP009"}, tax_rate=None, price_unit=1000),
        ]
        del lines[1]["tax_rate"]
        event = self._apply(_payload(lines=lines, amount_total=523400))
        self.assertEqual(event.state, "done", event.last_error)
        rated, unrated = self._product_lines(self._order())
        self.assertEqual(rated.tax_id, self.tax_8)
        self.assertFalse(unrated.tax_id, "no rate: no tax (the source's default)")
        self.assertFalse(
            self.Mapping.search(
                [("source_id", "=", self.source.id), ("kind", "=", "tax")]
            ),
            "a rate found by its percentage is no unmapped code",
        )
        # The source may say that a line without a rate takes the product's.
        self.source.no_rate_tax_policy = "product"
        self._apply(_payload("F-2", lines=lines))
        self.assertEqual(self._product_lines(self._order("F-2"))[1].tax_id, self.tax_15)

    def test_prices_including_tax_get_the_price_included_tax(self):
        self.source.price_include_tax = True
        # 5 x 96,000 tax included is the total.
        event = self._apply(_payload(amount_total=480000))
        self.assertEqual(event.state, "done", event.last_error)
        line = self._product_lines(self._order())
        self.assertEqual(line.tax_id, self.tax_8_incl)
        self.assertEqual(self._order().amount_total, 480000)

    # === DISCOUNT AND SHIPPING LINES === #

    def test_an_order_discount_uses_odoos_discount_product_on_a_new_source(self):
        self.assertFalse(self.source.discount_product_id)
        lines = [
            _line(),
            _line(id="2", product={"sku": "FSP009"}, price_unit=100000, tax_rate=10),
        ]
        # 480,000 at 8% and 500,000 at 10%; a discount of 98,000 split 48,000
        # / 50,000 over those taxes: 432,000 x 1.08 + 450,000 x 1.10.
        event = self._apply(
            _payload(lines=lines, discount_amount=98000, amount_total=961560)
        )
        self.assertEqual(event.state, "done", event.last_error)
        order = self._order()
        discounts = order.order_line.filtered(
            lambda sol: sol.oms_line_kind == "discount"
        )
        self.assertEqual(discounts.product_id, self.company.sale_discount_product_id)
        self.assertEqual(
            sorted((d.tax_id.amount, d.price_unit) for d in discounts),
            [(8.0, -48000.0), (10.0, -50000.0)],
        )
        self.assertEqual(order.amount_total, 961560)

    def test_shipping_uses_the_mapped_carriers_product(self):
        carrier = self.env["delivery.carrier"].search([], limit=1)
        self._map(self.source, "carrier", "GHN", carrier_id=carrier.id)
        event = self._apply(_payload(carrier="GHN", shipping_amount=30000))
        self.assertEqual(event.state, "done", event.last_error)
        shipping = self._order().order_line.filtered(
            lambda sol: sol.oms_line_kind == "shipping"
        )
        self.assertEqual(shipping.product_id, carrier.product_id)
        self.assertEqual(shipping.price_unit, 30000)
        self.assertFalse(shipping.tax_id)
        event = self._apply(_payload("F-2", shipping_amount=30000))
        self.assertEqual(event.state, "dead")
        self.assertIn("Shipping Product", event.error_hint)

    # === SALESPERSON === #

    def test_the_salesperson_follows_the_fallback_order(self):
        leader = self.other_salesman
        team = self.env["crm.team"].create(
            {"name": "Fidelity team", "user_id": leader.id}
        )
        self.source.team_id = team
        self._apply(_payload("F-1"))
        self.assertEqual(self._order("F-1").user_id, leader, "the team's leader")
        self.source.user_id = self.salesman_all
        self._apply(_payload("F-2"))
        self.assertEqual(self._order("F-2").user_id, self.salesman_all, "the source's")
        self.shop.user_id = self.salesman
        self._apply(_payload("F-3"))
        self.assertEqual(self._order("F-3").user_id, self.salesman, "the customer's")
        self._map(self.source, "salesperson", "NV7", user_id=leader.id)
        self._apply(_payload("F-4", salesperson={"id": "NV7", "name": "Nguyen Van B"}))
        self.assertEqual(self._order("F-4").user_id, leader, "the mapped one")
        # The salesperson finds it under "My Quotations" (sale's own filter).
        mine = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .search([("user_id", "=", self.salesman.id)])
        )
        self.assertIn(self._order("F-3"), mine)

    def test_an_order_with_no_salesperson_is_nobodys_not_odoobots(self):
        self._apply(_payload())
        self.assertFalse(self._order().user_id)

    # === PRICELIST === #

    def test_the_providers_price_list_code_chooses_the_pricelist(self):
        wholesale = self.env["product.pricelist"].create(
            {"name": "Wholesale VND", "currency_id": self.vnd.id}
        )
        self._map(self.source, "pricelist", "SI", pricelist_id=wholesale.id)
        builder = self.env["oms.integration.order.builder"]
        order = type("Order", (), {"currency": "VND", "pricelist_code": "SI"})()
        self.assertEqual(builder._oms_pricelist(self.source, order), wholesale)
        order.pricelist_code = "UNKNOWN"
        self.assertEqual(builder._oms_pricelist(self.source, order), self.pricelist)
        self.assertFalse(
            self.Mapping.search([("external_code", "=", "UNKNOWN")]),
            "an unmapped price list code does not wait in the Mapping Center",
        )
