from collections import defaultdict
from decimal import Decimal

from odoo import api, fields, models
from odoo.tools import float_round


class OmsIntegrationOrderLines(models.AbstractModel):
    """The lines of an order: products, units, taxes, and the shipping and
    discount lines. Part of the order builder: resolving reads (and notes
    unmapped codes), building returns line values; nothing is created here."""

    _name = "oms.integration.order.lines"
    _description = "Integration Order Builder: Lines"

    # === RESOLVING === #

    @api.model
    def _oms_resolve_line(self, source, line, missing, advice, preview=False):
        """The Odoo records of one provider line. ``preview``: nothing
        recorded nor created (a product the source's policy would create is
        a new, unsaved record)."""
        product = self._oms_resolve_product(source, line, missing, preview=preview)
        return {
            "product": product,
            "unit": self._oms_resolve_unit(
                source, line, product, missing, advice, preview=preview
            ),
            "taxes": self._oms_resolve_taxes(source, line, missing),
            "warehouse": self._oms_resolve_code(
                source, "warehouse", line.warehouse_code, missing, preview=preview
            ),
        }

    @api.model
    def _oms_resolve_code(self, source, kind, code, missing, name="", preview=False):
        if not code:
            return None
        record = self.env["oms.integration.mapping"]._oms_resolve(
            source, kind, code, name, record_unknown=not preview
        )
        if record is None:
            missing.append((kind, code, name))
        return record

    @api.model
    def _oms_resolve_product(self, source, line, missing, preview=False):
        Mapping = self.env["oms.integration.mapping"]
        code = line.sku or line.product_external_id
        product = Mapping._oms_resolve(
            source, "product", code, line.product_name, record_unknown=not preview
        )
        if product:
            return product
        if source.product_policy in ("match", "match_create") and line.sku:
            candidates = self.env["product.product"].search(
                [
                    ("default_code", "=", line.sku),
                    ("company_id", "in", (False, source.company_id.id)),
                    ("sale_ok", "=", True),
                ],
                limit=2,
            )
            product = candidates if len(candidates) == 1 else None
            if (
                not product
                and not candidates
                and source.product_policy == "match_create"
            ):
                vals = {
                    "name": line.product_name or line.sku,
                    "default_code": line.sku,
                    "type": "consu",
                    "company_id": source.company_id.id,
                }
                Product = self.env["product.product"]
                product = Product.new(vals) if preview else Product.create(vals)
            if product and preview:
                return product
            if product:
                Mapping._oms_record_mapping(
                    source, "product", code, product, line.product_name
                )
                return product
        missing.append(("product", code, line.product_name))
        return None

    @api.model
    def _oms_resolve_unit(self, source, line, product, missing, advice, preview=False):
        """The Odoo unit (``uom.uom``) or packaging (``product.packaging``)
        of the provider's unit; ``None`` without one (the product's unit).

        A packaging mapped for one product stands, for another product, for
        that product's packaging of the same name (a "Thùng" of 24 bottles
        here, of 12 cans there). A mapped unit that does not fit the product
        is not "unmapped": ``advice`` says what to fix."""
        if not line.uom_name:
            return None
        unit = self._oms_resolve_code(
            source, "uom", line.uom_name, missing, preview=preview
        )
        if not unit or not product:
            return unit
        if unit._name == "product.packaging":
            if unit.product_id == product:
                return unit
            name = unit.name.casefold()
            packaging = product.packaging_ids.filtered(
                lambda p: p.name.casefold() == name
            )[:1]
            if not packaging:
                advice.append(
                    self.env["oms.integration.hints"]._oms_hint_text(
                        "unit_no_packaging",
                        unit=line.uom_name,
                        packaging=unit.name,
                        product=product.display_name,
                    )
                )
            return packaging or None
        if unit.category_id != product.uom_id.category_id:
            advice.append(
                self.env["oms.integration.hints"]._oms_hint_text(
                    "unit_other_category",
                    unit=line.uom_name,
                    uom=unit.name,
                    category=unit.category_id.name,
                    product=product.display_name,
                    product_uom=product.uom_id.name,
                )
            )
            return None
        return unit

    @api.model
    def _oms_resolve_taxes(self, source, line, missing):
        """Taxes of a line: those of the provider's rate (the Mapping Center
        first, else the company's sales tax of that percentage, price
        included as the source says). Without a rate: none, or ``None`` to
        keep the product's taxes when the source says so."""
        Tax = self.env["account.tax"]
        if line.tax_rate is None:
            return None if source.no_rate_tax_policy == "product" else Tax
        # A rate found by its percentage needs no line in the Mapping Center:
        # only a rate that resolves nowhere is noted there (as unmapped).
        tax = self.env["oms.integration.mapping"]._oms_resolve(
            source, "tax", line.tax_rate, record_unknown=False
        )
        if tax:
            return tax
        rate = self._oms_tax_percent(line.tax_rate)
        if rate is not None:
            taxes = Tax.search(
                [
                    ("company_id", "=", source.company_id.id),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                    ("amount", "=", rate),
                    ("price_include", "=", source.price_include_tax),
                ],
                limit=1,
            )
            if taxes:
                return taxes
        missing.append(("tax", line.tax_rate, ""))
        return None

    @api.model
    def _oms_tax_percent(self, tax_rate):
        """The percentage of a tax rate text ("8", "10%"), None for a
        category without a rate ("KCT")."""
        try:
            return float(Decimal(tax_rate.rstrip("%")))
        except ArithmeticError:
            return None

    # === LINE VALUES === #

    @api.model
    def _oms_product_line_vals(self, line, match):
        """The values of one provider line, its quantity and price converted
        from the provider's unit: 5 cases of 24 at 96,000 are 120 bottles at
        4,000, with the packaging kept on the line."""
        product, unit = match["product"], match["unit"]
        quantity = line.quantity
        price = line.price_unit
        vals = {
            "product_id": product.id,
            "oms_external_line_id": line.external_id or False,
            "oms_note": line.note or False,
            "oms_promotion_code": line.promotion_code or False,
        }
        if unit and unit._name == "product.packaging":
            factor = Decimal(str(unit.qty))
            vals.update(
                product_uom=product.uom_id.id,
                product_packaging_id=unit.id,
                product_packaging_qty=float(quantity),
                oms_external_uom=line.uom_name,
                oms_uom_factor=float(factor),
            )
            quantity = quantity * factor
            price = price / factor if price is not None else None
        elif unit:
            vals.update(product_uom=unit.id, oms_external_uom=line.uom_name)
        vals["product_uom_qty"] = float(quantity)
        if line.product_name:
            vals["name"] = line.product_name
        if line.note:
            vals["name"] = "\n".join(
                filter(None, [vals.get("name") or product.display_name, line.note])
            )
        if line.is_free:
            vals["price_unit"] = 0.0
        elif price is not None:
            vals["price_unit"] = float(price)
            gross = line.quantity * line.price_unit
            if line.discount_amount and gross:
                vals["discount"] = float(line.discount_amount / gross * 100)
        if match["taxes"] is not None:
            vals["tax_id"] = [fields.Command.set(match["taxes"].ids)]
        return vals

    @api.model
    def _oms_shipping_line_vals(self, source, order, resolved):
        """The shipping line: the source's shipping product, else the product
        of the carrier mapped for the order. No tax the provider did not
        send."""
        product = source.shipping_product_id or (
            resolved["carrier"] and resolved["carrier"].product_id
        )
        if not product:
            raise self.env["oms.integration.hints"]._oms_error(
                "shipping_product_missing", amount=order.shipping_amount
            )
        return {
            "product_id": product.id,
            "product_uom_qty": 1,
            "price_unit": float(order.shipping_amount),
            "tax_id": [fields.Command.clear()],
            "oms_line_kind": "shipping",
            "sequence": 9998,
        }

    @api.model
    def _oms_discount_product(self, source, sale_order):
        """The source's discount product, else Odoo's own: the company's
        discount product of Sales (created by Odoo when missing, as its
        Discount button does)."""
        if source.discount_product_id:
            return source.discount_product_id
        wizard = (
            self.env["sale.order.discount"]
            .with_company(sale_order.company_id)
            .new({"sale_order_id": sale_order.id})
        )
        return wizard._get_discount_product()

    @api.model
    def _oms_discount_line_vals(self, source, sale_order, amount):
        """Lines taking ``amount`` off ``sale_order``: one per set of taxes of
        its product lines, in proportion to their amounts before tax (as
        Odoo's own Discount button does), so that the discount lowers the
        taxed base as the provider's total does."""
        product = self._oms_discount_product(source, sale_order)
        currency = sale_order.currency_id
        groups = defaultdict(float)
        for line in sale_order.order_line.filtered(
            lambda sol: (
                not sol.display_type
                and not sol.oms_line_kind
                and sol.product_uom_qty
                and sol.price_unit
            )
        ):
            groups[line.tax_id] += (
                line.price_unit
                * line.product_uom_qty
                * (1 - (line.discount or 0) / 100)
            )
        if not groups:
            groups[self.env["account.tax"]] = 1.0
        base = sum(groups.values())
        vals_list, left = [], amount
        items = list(groups.items())
        for index, (taxes, subtotal) in enumerate(items):
            if index == len(items) - 1:
                part = left
            else:
                part = float_round(
                    amount * subtotal / base, precision_rounding=currency.rounding
                )
            left -= part
            vals = {
                "product_id": product.id,
                "product_uom_qty": 1,
                "price_unit": -part,
                "tax_id": [fields.Command.set(taxes.ids)],
                "oms_line_kind": "discount",
                "sequence": 9999,
            }
            if len(items) > 1:
                vals["name"] = self.env._(
                    "Order discount on products taxed %(taxes)s",
                    taxes=", ".join(taxes.mapped("name")) or self.env._("no tax"),
                )
            vals_list.append(vals)
        return vals_list
