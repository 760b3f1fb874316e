from decimal import Decimal

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import escape_psql, float_compare, float_round

from ..exceptions import OmsProcessingError
from ..lib import normalize


class OmsIntegrationOrderBuilder(models.AbstractModel):
    """Turns a normalized order into an Odoo sale order.

    Every mapping is resolved first; only when nothing is missing does it
    create or change Odoo data. Called by the queue inside a savepoint, so a
    failure leaves nothing behind.
    """

    _name = "oms.integration.order.builder"
    _description = "Integration Order Builder"

    # === ENTRY POINT === #

    @api.model
    def _oms_apply(self, event, order):
        """Apply one normalized order of ``event``; return the sale order (or
        an empty recordset) and a note for the event."""
        source = event.source_id
        existing = self.env["sale.order"].search(
            [
                ("oms_source_id", "=", source.id),
                ("oms_external_id", "=", order.external_id),
            ],
            limit=1,
        )
        if order.event_type == "order.cancelled":
            return self._oms_cancel(event, existing, order)
        if existing and self._oms_is_older(existing, order):
            note = self.env._(
                "Version of %(date)s is older than the applied one (%(applied)s): "
                "recorded and skipped.",
                date=order.updated_at,
                applied=existing.oms_updated_at,
            )
            existing.message_post(body=note)
            return existing, note
        resolved = self._oms_resolve_all(source, order)
        if existing:
            return self._oms_update(event, existing, order, resolved)
        return self._oms_create(event, order, resolved)

    # === MAPPING === #

    @api.model
    def _oms_resolve_all(self, source, order):
        """Resolve every external code of ``order``; raise one error naming all
        the missing ones."""
        missing = []
        resolved = {
            "partner": self._oms_resolve_partner(source, order.customer, missing),
            "user": self._oms_resolve_simple(
                source,
                "salesperson",
                order.salesperson_code,
                order.salesperson_name,
                missing,
            )
            or source.user_id,
            "carrier": self._oms_resolve_simple(
                source, "carrier", order.carrier_code, "", missing
            ),
            "lines": [],
        }
        for line in order.lines:
            resolved["lines"].append(
                {
                    "product": self._oms_resolve_product(source, line, missing),
                    "taxes": self._oms_resolve_taxes(source, line, missing),
                    "warehouse": self._oms_resolve_simple(
                        source, "warehouse", line.warehouse_code, "", missing
                    ),
                }
            )
        if missing:
            names = ", ".join(self._oms_label(*item) for item in missing)
            hint = self.env._(
                "Map %(values)s in the Mapping Center (OMS Integration > "
                "Mapping Center, filter Unmapped), then requeue this event.",
                values=names,
            )
            categories = sorted(
                {
                    code
                    for kind, code, _name in missing
                    if kind == "tax" and not self._oms_tax_percent(code)
                }
            )
            if categories:
                # A category such as KCT (not subject to VAT) has no rate to
                # find a tax by: only a tax mapping can say which tax it is.
                hint += " " + self.env._(
                    "%(codes)s is a tax category, not a rate: map it to the "
                    "company's tax for it (for KCT, a 0%% tax 'not subject to "
                    "VAT').",
                    codes=", ".join(categories),
                )
            raise OmsProcessingError(
                self.env._("Not mapped: %(values)s.", values=names),
                hint=hint,
                unmapped=missing,
            )
        return resolved

    @api.model
    def _oms_resolve_simple(self, source, kind, code, name, missing):
        if not code:
            return None
        record = self.env["oms.integration.mapping"]._oms_resolve(
            source, kind, code, name
        )
        if record is None:
            missing.append((kind, code, name))
        return record

    @api.model
    def _oms_label(self, kind, code, name=""):
        kinds = dict(self.env["oms.integration.mapping"]._fields["kind"].selection)
        label = f"{kinds.get(kind, kind)} {code}"
        return f"{label} ({name})" if name and name != code else label

    @api.model
    def _oms_resolve_partner(self, source, customer, missing):
        Mapping = self.env["oms.integration.mapping"]
        partner = Mapping._oms_resolve(
            source, "partner", customer.external_id, customer.name
        )
        if partner:
            return partner
        if source.partner_policy in ("match", "match_create"):
            partner = self._oms_match_partner(source, customer)
            if not partner and source.partner_policy == "match_create":
                partner = self._oms_create_partner(source, customer)
            if partner:
                Mapping._oms_record_mapping(
                    source, "partner", customer.external_id, partner, customer.name
                )
                return partner
        missing.append(("partner", customer.external_id, customer.name))
        return None

    @api.model
    def _oms_match_partner(self, source, customer):
        Partner = self.env["res.partner"].with_company(source.company_id)
        company_domain = [("company_id", "in", (False, source.company_id.id))]
        # Exact values, compared without case: a provider's "%" or "_" is a
        # character, never a wildcard (escape_psql), so "%@ourcompany.com"
        # matches nobody rather than anybody.
        for field_name, value in (
            ("vat", customer.vat),
            ("phone", customer.phone),
            ("email_normalized", normalize.normalize_email(customer.email)),
        ):
            if not value:
                continue
            operator = "=" if field_name == "email_normalized" else "=ilike"
            if operator == "=ilike":
                value = escape_psql(value.strip())
            partners = Partner.search(
                company_domain + [(field_name, operator, value)], limit=2
            )
            if len(partners) == 1:
                return partners
        return None

    @api.model
    def _oms_create_partner(self, source, customer):
        country = (
            self.env["res.country"].search(
                [("code", "=", customer.country_code)], limit=1
            )
            if customer.country_code
            else self.env["res.country"]
        )
        return self.env["res.partner"].create(
            {
                "name": customer.name,
                "phone": customer.phone or False,
                "email": customer.email or False,
                "vat": customer.vat or False,
                "street": customer.street or False,
                "street2": customer.street2 or False,
                "city": customer.city or False,
                "zip": customer.zip or False,
                "country_id": country.id or False,
                "company_id": source.company_id.id,
                "customer_rank": 1,
                "ref": customer.external_id,
            }
        )

    @api.model
    def _oms_resolve_product(self, source, line, missing):
        Mapping = self.env["oms.integration.mapping"]
        code = line.sku or line.product_external_id
        product = Mapping._oms_resolve(source, "product", code, line.product_name)
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
                product = self.env["product.product"].create(
                    {
                        "name": line.product_name or line.sku,
                        "default_code": line.sku,
                        "type": "consu",
                        "company_id": source.company_id.id,
                    }
                )
            if product:
                Mapping._oms_record_mapping(
                    source, "product", code, product, line.product_name
                )
                return product
        missing.append(("product", code, line.product_name))
        return None

    @api.model
    def _oms_resolve_taxes(self, source, line, missing):
        """Taxes of a line: the Mapping Center first, else a sale tax of the
        same percentage in the company; ``None`` keeps the product's taxes."""
        if line.tax_rate is None:
            return None
        Mapping = self.env["oms.integration.mapping"]
        tax = Mapping._oms_resolve(source, "tax", line.tax_rate)
        if tax:
            return tax
        rate = self._oms_tax_percent(line.tax_rate)
        if rate is not None:
            taxes = self.env["account.tax"].search(
                [
                    ("company_id", "=", source.company_id.id),
                    ("type_tax_use", "=", "sale"),
                    ("amount_type", "=", "percent"),
                    ("amount", "=", rate),
                    ("price_include", "=", False),
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

    # === ORDERS === #

    @api.model
    def _oms_is_older(self, sale_order, order):
        applied = sale_order.oms_updated_at
        incoming = order.updated_at and fields.Datetime.to_datetime(
            order.updated_at.replace(tzinfo=None)
        )
        return bool(applied and incoming and incoming < applied)

    @api.model
    def _oms_order_vals(self, event, order, resolved):
        source = event.source_id
        partner = resolved["partner"]
        vals = {
            "partner_id": partner.id,
            "company_id": source.company_id.id,
            "client_order_ref": order.name or order.external_id,
            "oms_source_id": source.id,
            "oms_external_id": order.external_id,
            "oms_external_ref": order.name or False,
            "oms_updated_at": order.updated_at
            and order.updated_at.replace(tzinfo=None),
            "oms_sync_status": "synced",
            "oms_sync_message": False,
        }
        if order.date_order:
            vals["date_order"] = order.date_order.replace(tzinfo=None)
        if order.commitment_date:
            vals["commitment_date"] = order.commitment_date.replace(tzinfo=None)
        if resolved["user"]:
            vals["user_id"] = resolved["user"].id
        if source.team_id:
            vals["team_id"] = source.team_id.id
        if source.payment_term_id:
            vals["payment_term_id"] = source.payment_term_id.id
        vals["pricelist_id"] = self._oms_pricelist(source, order.currency).id
        warehouses = [
            line["warehouse"] for line in resolved["lines"] if line["warehouse"]
        ]
        warehouse = warehouses[0] if warehouses else source.warehouse_id
        if warehouse:
            vals["warehouse_id"] = warehouse.id
        if resolved["carrier"]:
            vals["carrier_id"] = resolved["carrier"].id
        if order.note:
            vals["note"] = order.note
        return vals

    @api.model
    def _oms_pricelist(self, source, currency_code):
        """The source's pricelist when in the order's currency, else a
        pricelist of the company in that currency. An order in the company's
        currency needs none (Odoo then prices in the company's currency, as
        when pricelists are turned off)."""
        if source.pricelist_id.currency_id.name == currency_code:
            return source.pricelist_id
        pricelist = self.env["product.pricelist"].search(
            [
                ("currency_id.name", "=", currency_code),
                ("company_id", "in", (False, source.company_id.id)),
            ],
            limit=1,
        )
        if not pricelist and currency_code == source.company_id.currency_id.name:
            return pricelist
        if not pricelist:
            raise OmsProcessingError(
                self.env._("No pricelist in %(currency)s.", currency=currency_code),
                hint=self.env._(
                    "Activate the currency %(currency)s and create a pricelist in "
                    "it (Sales > Products > Pricelists), or set one on the "
                    "source, then requeue this event.",
                    currency=currency_code,
                ),
            )
        return pricelist

    @api.model
    def _oms_line_commands(self, source, order, resolved):
        commands = []
        for line, match in zip(order.lines, resolved["lines"], strict=True):
            vals = {
                "product_id": match["product"].id,
                "product_uom_qty": float(line.quantity),
                "oms_external_line_id": line.external_id or False,
            }
            if line.product_name:
                vals["name"] = line.product_name
            if line.is_free:
                vals["price_unit"] = 0.0
            elif line.price_unit is not None:
                vals["price_unit"] = float(line.price_unit)
                gross = line.quantity * line.price_unit
                if line.discount_amount and gross:
                    vals["discount"] = float(line.discount_amount / gross * 100)
            if match["taxes"] is not None:
                vals["tax_id"] = [fields.Command.set(match["taxes"].ids)]
            commands.append(fields.Command.create(vals))
        if order.shipping_amount:
            commands.append(
                self._oms_extra_line(
                    source.shipping_product_id,
                    float(order.shipping_amount),
                    self.env._("Shipping product"),
                )
            )
        if order.discount_amount:
            commands.append(
                self._oms_extra_line(
                    source.discount_product_id,
                    -float(order.discount_amount),
                    self.env._("Order discount product"),
                )
            )
        return commands

    @api.model
    def _oms_extra_line(self, product, price, setting):
        if not product:
            raise OmsProcessingError(
                self.env._("The order needs a %(setting)s line.", setting=setting),
                hint=self.env._(
                    "Set the %(setting)s on the source (tab Order Defaults), "
                    "then requeue this event.",
                    setting=setting,
                ),
            )
        return fields.Command.create(
            {"product_id": product.id, "product_uom_qty": 1, "price_unit": price}
        )

    @api.model
    def _oms_create(self, event, order, resolved):
        source = event.source_id
        vals = self._oms_order_vals(event, order, resolved)
        vals["order_line"] = self._oms_line_commands(source, order, resolved)
        sale_order = self.env["sale.order"].with_company(source.company_id).create(vals)
        self._oms_fill_free_prices(sale_order, order)
        self._oms_note_pricelist_prices(sale_order, order)
        note = self._oms_check_total(source, sale_order, order)
        sale_order.message_post(
            body=self.env._(
                "Created from integration source %(name)s (event #%(event)s).",
                name=source.name,
                event=event.id,
            )
        )
        if source.auto_confirm and sale_order.oms_sync_status == "synced":
            sale_order.action_confirm()
        return sale_order, note

    @api.model
    def _oms_fill_free_prices(self, sale_order, order):
        """Free lines stay at 0 whatever the pricelist says."""
        free = {index for index, line in enumerate(order.lines) if line.is_free}
        product_lines = sale_order.order_line.sorted("sequence")[: len(order.lines)]
        for index, so_line in enumerate(product_lines):
            if index in free and so_line.price_unit:
                so_line.price_unit = 0.0

    @api.model
    def _oms_note_pricelist_prices(self, sale_order, order):
        """Say in the order's chatter which lines came without a price, so
        that a person knows Odoo's pricelist priced them, not the provider."""
        lines = [
            self.env._(
                "Line %(number)s (%(product)s): no price from the provider, the "
                "pricelist price was used.",
                number=index,
                product=line.sku or line.product_external_id,
            )
            for index, line in enumerate(order.lines, start=1)
            if line.price_unit is None and not line.is_free
        ]
        if lines:
            sale_order.message_post(body=Markup("<br/>").join(lines))

    @api.model
    def _oms_update(self, event, sale_order, order, resolved):
        if sale_order.state not in ("draft", "sent"):
            message = self.env._(
                "The provider changed order %(order)s (event #%(event)s) after it "
                "was confirmed: it was not applied. Check the change with the "
                "provider and adjust the order by hand if needed.",
                order=sale_order.name,
                event=event.id,
            )
            sale_order.write({"oms_sync_status": "review", "oms_sync_message": message})
            sale_order.message_post(body=message)
            sale_order.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self.env._("External order changed after confirmation"),
                note=message,
                user_id=sale_order.user_id.id or self.env.uid,
            )
            return sale_order, message
        source = event.source_id
        vals = self._oms_order_vals(event, order, resolved)
        vals.pop("company_id", None)
        vals["order_line"] = [fields.Command.clear()] + self._oms_line_commands(
            source, order, resolved
        )
        sale_order.write(vals)
        self._oms_fill_free_prices(sale_order, order)
        self._oms_note_pricelist_prices(sale_order, order)
        note = self._oms_check_total(source, sale_order, order)
        sale_order.message_post(
            body=self.env._(
                "Updated from integration source %(name)s (event #%(event)s).",
                name=source.name,
                event=event.id,
            )
        )
        return sale_order, note

    @api.model
    def _oms_cancel(self, event, sale_order, order):
        if not sale_order:
            return sale_order, self.env._(
                "Order %(order)s was cancelled before it reached Odoo: nothing to do.",
                order=order.external_id,
            )
        if sale_order.state == "cancel":
            return sale_order, self.env._("Already cancelled.")
        try:
            with self.env.cr.savepoint():
                sale_order.with_context(
                    disable_cancel_warning=True, oms_from_provider_cancel=True
                ).action_cancel()
        except (UserError, ValidationError) as exc:
            raise OmsProcessingError(
                self.env._(
                    "Order %(order)s cannot be cancelled: %(reason)s",
                    order=sale_order.name,
                    reason=str(exc),
                ),
                hint=self.env._(
                    "Cancel the order by hand once possible (unlock it, or "
                    "return its deliveries), then discard this event."
                ),
            ) from exc
        sale_order.message_post(
            body=self.env._(
                "Cancelled by integration source %(name)s (event #%(event)s).",
                name=event.source_id.name,
                event=event.id,
            )
        )
        return sale_order, False

    # === TOTALS === #

    @api.model
    def _oms_check_total(self, source, sale_order, order):
        if order.amount_total is None:
            return False
        currency = sale_order.currency_id
        expected = float(order.amount_total)
        difference = float_round(
            expected - sale_order.amount_total, precision_rounding=currency.rounding
        )
        if (
            float_compare(
                abs(difference),
                source.total_tolerance,
                precision_rounding=currency.rounding,
            )
            <= 0
        ):
            return False
        message = self.env._(
            "The provider's total %(expected)s differs from Odoo's %(computed)s "
            "by %(difference)s.",
            expected=expected,
            computed=sale_order.amount_total,
            difference=difference,
        )
        if source.total_policy == "block":
            raise OmsProcessingError(
                message,
                hint=self.env._(
                    "Check the prices, discounts and taxes of the products with "
                    "the provider, or raise the source's total tolerance, then "
                    "requeue this event."
                ),
            )
        if source.total_policy == "adjust":
            if not source.adjustment_product_id:
                raise OmsProcessingError(
                    message,
                    hint=self.env._(
                        "Set the Total Adjustment Product on the source, then "
                        "requeue this event."
                    ),
                )
            sale_order.write(
                {
                    "order_line": [
                        fields.Command.create(
                            {
                                "product_id": source.adjustment_product_id.id,
                                "product_uom_qty": 1,
                                "price_unit": difference,
                                "tax_id": [fields.Command.clear()],
                            }
                        )
                    ]
                }
            )
            return message
        sale_order.write({"oms_sync_status": "warning", "oms_sync_message": message})
        sale_order.message_post(body=message)
        return message
