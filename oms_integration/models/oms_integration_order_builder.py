from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_round


class OmsIntegrationOrderBuilder(models.AbstractModel):
    """Turns a normalized order into an Odoo sale order.

    Every mapping is resolved first; only when nothing is missing does it
    create or change Odoo data. Called by the queue inside a savepoint, so a
    failure leaves nothing behind. The customer, its delivery address and the
    salesperson are resolved by ``oms.integration.order.partner``, the lines
    by ``oms.integration.order.lines``.
    """

    _name = "oms.integration.order.builder"
    _description = "Integration Order Builder"

    # === ENTRY POINT === #

    @api.model
    def _oms_apply(self, event, order, preview=False):
        """Apply one normalized order of ``event``; return the sale order (the
        first part of an order split by warehouse, or an empty recordset)
        and a note for the event.

        ``preview``: the same checks, raising the same errors, but nothing
        created or changed (no customer, product, delivery contact, Mapping
        Center line, sale order nor message); the note says what applying
        it would do."""
        source = event.source_id
        parts = self._oms_existing_parts(source, order.external_id)
        if order.event_type == "order.cancelled":
            return self._oms_cancel(event, parts, order, preview=preview)
        if parts and self._oms_is_older(parts[0], order):
            note = self.env._(
                "Version of %(date)s is older than the applied one (%(applied)s): "
                "recorded and skipped.",
                date=order.updated_at,
                applied=parts[0].oms_updated_at,
            )
            if not preview:
                for part in parts:
                    part.message_post(body=note)
            return parts[0], note
        resolved = self._oms_resolve_all(source, order, preview=preview)
        groups = self._oms_warehouse_groups(source, order, resolved)
        if parts.filtered(lambda so: so.state not in ("draft", "sent")):
            if preview:
                return parts[0], self.env._(
                    "%(orders)s is confirmed: the change would not be applied "
                    "and the order would be flagged for review.",
                    orders=", ".join(parts.mapped("name")),
                )
            return self._oms_refuse_late_change(event, parts)
        resolved["pricelist"] = self._oms_pricelist(source, order)
        if preview:
            return parts[:1], self._oms_preview_note(parts, resolved, groups)
        if len(groups) == 1 and not parts.filtered("oms_part_code"):
            sale_order, note = self._oms_write_part(
                event, order, resolved, parts[:1], groups[0], first=True
            )
            return sale_order, note
        return self._oms_write_split(event, order, resolved, parts, groups)

    @api.model
    def _oms_preview_note(self, parts, resolved, groups):
        """What applying an order that passed its checks would do."""
        if parts:
            note = self.env._(
                "Would update %(orders)s.", orders=", ".join(parts.mapped("name"))
            )
        else:
            note = self.env._(
                "Would create a sale order for %(customer)s.",
                customer=resolved["partner"].display_name,
            )
        if len(groups) > 1:
            note += " " + self.env._(
                "Split into %(count)s orders, one per warehouse.", count=len(groups)
            )
        # Records found by the source's policies are created when applied.
        if not resolved["partner"].id:
            note += " " + self.env._(
                "The customer %(name)s would be created.",
                name=resolved["partner"].display_name,
            )
        new_products = [
            match["product"].display_name
            for match in resolved["lines"]
            if not match["product"].id
        ]
        if new_products:
            note += " " + self.env._(
                "New products would be created: %(products)s.",
                products=", ".join(dict.fromkeys(new_products)),
            )
        return note

    @api.model
    def _oms_existing_parts(self, source, external_id):
        return self.env["sale.order"].search(
            [
                ("oms_source_id", "=", source.id),
                "|",
                ("oms_provider_order_id", "=", external_id),
                ("oms_external_id", "=", external_id),
            ],
            order="id",
        )

    # === MAPPING === #

    @api.model
    def _oms_resolve_all(self, source, order, preview=False):
        """Resolve every external code of ``order``; raise one error naming all
        the missing ones. ``preview``: create nothing (a customer or product
        the source's policy would create is a new, unsaved record) and note
        nothing in the Mapping Center."""
        People = self.env["oms.integration.order.partner"]
        Lines = self.env["oms.integration.order.lines"]
        missing, advice = [], []
        partner = People._oms_resolve_partner(
            source, order.customer, missing, advice, preview=preview
        )
        user = Lines._oms_resolve_code(
            source,
            "salesperson",
            order.salesperson_code,
            missing,
            order.salesperson_name,
            preview=preview,
        )
        resolved = {
            "partner": partner,
            "user": People._oms_salesperson(source, user, partner),
            "carrier": Lines._oms_resolve_code(
                source, "carrier", order.carrier_code, missing, preview=preview
            ),
            "lines": [
                Lines._oms_resolve_line(source, line, missing, advice, preview=preview)
                for line in order.lines
            ],
        }
        Hints = self.env["oms.integration.hints"]
        if missing:
            missing = list(dict.fromkeys(missing))
            names = ", ".join(self._oms_label(*item) for item in missing)
            error = Hints._oms_error("not_mapped", unmapped=missing, values=names)
            # The particular advice (ambiguous customers, units that do not
            # fit a product) first, then the general way out.
            hints = [*advice, error.hint]
            categories = sorted(
                {
                    code
                    for kind, code, _name in missing
                    if kind == "tax" and Lines._oms_tax_percent(code) is None
                }
            )
            if categories:
                # A category such as KCT (not subject to VAT) has no rate to
                # find a tax by: only a tax mapping can say which tax it is.
                hints.append(
                    Hints._oms_hint_text(
                        "tax_category_not_rate", codes=", ".join(categories)
                    )
                )
            if len(hints) > 1:
                # More than the catalogue's words: shown as written.
                error.key = None
            error.hint = " ".join(hints)
            raise error
        if advice:
            # Mapped, but not usable as mapped (a unit for another product):
            # the advice says which and how.
            error = Hints._oms_error("unit_does_not_fit")
            error.hint = " ".join(advice)
            error.key = None  # the advice, not the catalogue's words
            raise error
        # Only now that everything resolved: the delivery contact (found or
        # created; nothing in it can fail, so a preview leaves it out).
        if not preview:
            resolved["shipping"] = People._oms_delivery_address(
                source, partner, order.shipping_address
            )
        return resolved

    @api.model
    def _oms_label(self, kind, code, name=""):
        kinds = dict(self.env["oms.integration.mapping"]._fields["kind"].selection)
        label = f"{kinds.get(kind, kind)} {code}"
        return f"{label} ({name})" if name and name != code else label

    # === WAREHOUSES === #

    @api.model
    def _oms_warehouse_groups(self, source, order, resolved):
        """The lines of ``order`` by warehouse: a list of (provider warehouse
        code, warehouse, line indexes), in the order the lines name them.
        Lines without a warehouse go with the first group (the source's
        warehouse when no line names one). Several groups on a source that
        refuses them fail the order."""
        groups = {}
        for index, match in enumerate(resolved["lines"]):
            code = order.lines[index].warehouse_code
            if not match["warehouse"]:
                continue
            group = groups.setdefault(
                match["warehouse"], [code, match["warehouse"], []]
            )
            group[2].append(index)
        ordered = list(groups.values()) or [["", source.warehouse_id, []]]
        unassigned = [
            index
            for index, match in enumerate(resolved["lines"])
            if not match["warehouse"]
        ]
        ordered[0][2] = sorted(ordered[0][2] + unassigned)
        if len(ordered) > 1 and source.warehouse_policy != "split":
            codes = ", ".join(f"{code} ({wh.name})" for code, wh, _lines in ordered)
            raise self.env["oms.integration.hints"]._oms_error(
                "warehouses_several", order=order.external_id, codes=codes
            )
        return [tuple(group) for group in ordered]

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
            "oms_provider_order_id": order.external_id,
            "oms_external_ref": order.name or False,
            "oms_updated_at": order.updated_at
            and order.updated_at.replace(tzinfo=None),
            "oms_sync_status": "synced",
            "oms_sync_message": False,
            # Never OdooBot (the runner's user): nobody's order otherwise.
            "user_id": resolved["user"].id or False,
        }
        if resolved.get("shipping"):
            vals["partner_shipping_id"] = resolved["shipping"].id
        if order.date_order:
            vals["date_order"] = order.date_order.replace(tzinfo=None)
        if order.commitment_date:
            vals["commitment_date"] = order.commitment_date.replace(tzinfo=None)
        if source.team_id:
            vals["team_id"] = source.team_id.id
        if source.payment_term_id:
            vals["payment_term_id"] = source.payment_term_id.id
        vals["pricelist_id"] = resolved["pricelist"].id
        warehouse = resolved.get("warehouse") or source.warehouse_id
        if warehouse:
            vals["warehouse_id"] = warehouse.id
        if resolved["carrier"]:
            vals["carrier_id"] = resolved["carrier"].id
        if order.note:
            vals["note"] = order.note
        return vals

    @api.model
    def _oms_pricelist(self, source, order):
        """The pricelist of the provider's price list code when mapped (the
        provider's prices still win on the lines), else the source's
        pricelist when in the order's currency, else a pricelist of the
        company in that currency. An order in the company's currency needs
        none (Odoo then prices in the company's currency, as when pricelists
        are turned off). A code without a mapping does not stop the order
        and is not added to the Mapping Center (a sales group need not be a
        price list): map the codes that choose a pricelist."""
        currency_code = order.currency
        code = getattr(order, "pricelist_code", "")
        if code:
            pricelist = self.env["oms.integration.mapping"]._oms_resolve(
                source, "pricelist", code, record_unknown=False
            )
            if pricelist and pricelist.currency_id.name == currency_code:
                return pricelist
            if pricelist:
                raise self.env["oms.integration.hints"]._oms_error(
                    "pricelist_other_currency",
                    code=code,
                    pricelist=pricelist.display_name,
                    pricelist_currency=pricelist.currency_id.name,
                    currency=currency_code,
                )
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
            raise self.env["oms.integration.hints"]._oms_error(
                "pricelist_missing", currency=currency_code
            )
        return pricelist

    @api.model
    def _oms_line_commands(self, source, order, resolved, indexes=None, extras=True):
        """Create commands for the provider's lines (``indexes``: those of one
        part), then the shipping line when ``extras``."""
        Lines = self.env["oms.integration.order.lines"]
        if indexes is None:
            indexes = range(len(order.lines))
        commands = [
            fields.Command.create(
                Lines._oms_product_line_vals(order.lines[i], resolved["lines"][i])
            )
            for i in indexes
        ]
        if extras and order.shipping_amount:
            commands.append(
                fields.Command.create(
                    Lines._oms_shipping_line_vals(source, order, resolved)
                )
            )
        return commands

    @api.model
    def _oms_write_part(
        self, event, order, resolved, sale_order, group, first, discount=None
    ):
        """Create or update one sale order (an order, or one part of an order
        split by warehouse) with the lines of ``group``; the shipping line on
        the ``first`` part; ``discount``: this part's share of the order
        discount (the whole of it by default).
        Returns the sale order and the total check's note (for a whole
        order)."""
        source = event.source_id
        code, warehouse, indexes = group
        is_update = bool(sale_order)
        vals = self._oms_order_vals(event, order, dict(resolved, warehouse=warehouse))
        lines = self._oms_line_commands(source, order, resolved, indexes, extras=first)
        if sale_order:
            vals.pop("company_id", None)
            if not vals.get("user_id"):
                # Nobody to take it over: whoever it was given to keeps it.
                vals.pop("user_id", None)
            vals["order_line"] = [fields.Command.clear()] + lines
        else:
            vals["order_line"] = lines
        if code and resolved.get("split"):
            vals["oms_part_code"] = code
            vals["oms_external_id"] = resolved["split"][code]
        if sale_order:
            sale_order.write(vals)
        else:
            sale_order = (
                self.env["sale.order"].with_company(source.company_id).create(vals)
            )
        self._oms_fill_free_prices(sale_order, order, indexes)
        if discount is None:
            discount = float(order.discount_amount)
        if discount:
            sale_order.write(
                {
                    "order_line": [
                        fields.Command.create(line_vals)
                        for line_vals in self.env[
                            "oms.integration.order.lines"
                        ]._oms_discount_line_vals(source, sale_order, discount)
                    ]
                }
            )
        self._oms_note_pricelist_prices(sale_order, order, indexes)
        note = False
        if not resolved.get("split"):
            note = self._oms_check_total(source, sale_order, order)
        if is_update:
            message = self.env._(
                "Updated from integration source %(name)s (event #%(event)s).",
                name=source.name,
                event=event.id,
            )
        else:
            message = self.env._(
                "Created from integration source %(name)s (event #%(event)s).",
                name=source.name,
                event=event.id,
            )
        sale_order.message_post(body=message)
        if (
            source.auto_confirm
            and sale_order.state in ("draft", "sent")
            and sale_order.oms_sync_status == "synced"
            and not resolved.get("split")
        ):
            sale_order.action_confirm()
        return sale_order, note

    @api.model
    def _oms_write_split(self, event, order, resolved, parts, groups):
        """One sale order per warehouse group, linked by the provider's order
        id: the first keeps the provider's id as its external id (or the one
        it had), the others get ``<id>/<warehouse code>``. Parts no longer in
        the order are cancelled. The total is checked on all parts together."""
        source = event.source_id
        by_code = {part.oms_part_code: part for part in parts if part.oms_part_code}
        unsplit = parts.filtered(lambda so: not so.oms_part_code)[:1]
        taken = set(parts.mapped("oms_external_id"))
        plan, external_ids = [], {}
        for code, warehouse, indexes in groups:
            part = by_code.pop(code, None)
            if part is None and unsplit:
                part, unsplit = unsplit, None
            if part:
                external_ids[code] = part.oms_external_id
            elif order.external_id not in taken:
                external_ids[code] = order.external_id
            else:
                external_ids[code] = f"{order.external_id}/{code}"
            taken.add(external_ids[code])
            plan.append((part, (code, warehouse, indexes)))
        resolved = dict(resolved, split=external_ids)
        weights = []
        for _part, (_code, _wh, indexes) in plan:
            weights.append(
                sum(
                    float(order.lines[i].quantity * (order.lines[i].price_unit or 0))
                    - float(order.lines[i].discount_amount)
                    for i in indexes
                )
            )
        # The order discount, shared in proportion to the parts' amounts, in
        # whole units of the currency; the last part takes what is left.
        total_weight = sum(weights) or 1.0
        currency = self.env["res.currency"].search(
            [("name", "=", order.currency)], limit=1
        )
        rounding = currency.rounding or source.company_id.currency_id.rounding
        discounts, left = [], float(order.discount_amount)
        for index, weight in enumerate(weights):
            share = (
                left
                if index == len(weights) - 1
                else float_round(
                    float(order.discount_amount) * weight / total_weight,
                    precision_rounding=rounding,
                )
            )
            discounts.append(share)
            left -= share
        written = self.env["sale.order"]
        for index, (part, group) in enumerate(plan):
            sale_order, _note = self._oms_write_part(
                event,
                order,
                resolved,
                part,
                group,
                first=index == 0,
                discount=discounts[index],
            )
            written |= sale_order
        for gone in (parts - written).filtered(lambda so: so.state != "cancel"):
            gone.with_context(
                disable_cancel_warning=True, oms_from_provider_cancel=True
            ).action_cancel()
            gone.message_post(
                body=self.env._(
                    "Cancelled: the provider's new version of order %(order)s has "
                    "no line for this warehouse any more (event #%(event)s).",
                    order=order.external_id,
                    event=event.id,
                )
            )
        names = ", ".join(written.mapped("name"))
        for sale_order in written:
            sale_order.message_post(
                body=self.env._(
                    "Order %(order)s was split by warehouse into %(names)s.",
                    order=order.external_id,
                    names=names,
                )
            )
        note = self._oms_check_total(source, written, order)
        if source.auto_confirm:
            written.filtered(
                lambda so: (
                    so.oms_sync_status == "synced" and so.state in ("draft", "sent")
                )
            ).action_confirm()
        return written[:1], note

    @api.model
    def _oms_fill_free_prices(self, sale_order, order, indexes):
        """Free lines stay at 0 whatever the pricelist says."""
        product_lines = sale_order.order_line.filtered(
            lambda sol: not sol.oms_line_kind
        ).sorted("sequence")[: len(indexes)]
        for index, so_line in zip(indexes, product_lines, strict=False):
            if order.lines[index].is_free and so_line.price_unit:
                so_line.price_unit = 0.0

    @api.model
    def _oms_note_pricelist_prices(self, sale_order, order, indexes):
        """Say in the order's chatter which lines came without a price, so
        that a person knows Odoo's pricelist priced them, not the provider."""
        lines = [
            self.env._(
                "Line %(number)s (%(product)s): no price from the provider, the "
                "pricelist price was used.",
                number=index + 1,
                product=order.lines[index].sku
                or order.lines[index].product_external_id,
            )
            for index in indexes
            if order.lines[index].price_unit is None and not order.lines[index].is_free
        ]
        if lines:
            sale_order.message_post(body=Markup("<br/>").join(lines))

    @api.model
    def _oms_refuse_late_change(self, event, parts):
        """A change of an order already confirmed is not applied: the order
        is flagged for review, with an activity for its salesperson."""
        for sale_order in parts:
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
        return parts[0], message

    @api.model
    def _oms_cancel(self, event, parts, order, preview=False):
        """Cancel the sale order (every part of an order split by
        warehouse); ``preview``: only say so."""
        if not parts:
            return parts, self.env._(
                "Order %(order)s was cancelled before it reached Odoo: nothing to do.",
                order=order.external_id,
            )
        to_cancel = parts.filtered(lambda so: so.state != "cancel")
        if not to_cancel:
            return parts[0], self.env._("Already cancelled.")
        if preview:
            return parts[0], self.env._(
                "Would cancel %(orders)s.", orders=", ".join(to_cancel.mapped("name"))
            )
        for sale_order in to_cancel:
            try:
                with self.env.cr.savepoint():
                    sale_order.with_context(
                        disable_cancel_warning=True, oms_from_provider_cancel=True
                    ).action_cancel()
            except (UserError, ValidationError) as exc:
                raise self.env["oms.integration.hints"]._oms_error(
                    "cancel_refused", order=sale_order.name, reason=str(exc)
                ) from exc
            sale_order.message_post(
                body=self.env._(
                    "Cancelled by integration source %(name)s (event #%(event)s).",
                    name=event.source_id.name,
                    event=event.id,
                )
            )
        return parts[0], False

    # === TOTALS === #

    @api.model
    def _oms_check_total(self, source, sale_orders, order):
        """Compare the provider's total with Odoo's (of all the parts of an
        order split by warehouse) and apply the source's policy."""
        if order.amount_total is None:
            return False
        currency = sale_orders[0].currency_id
        expected = float(order.amount_total)
        computed = sum(sale_orders.mapped("amount_total"))
        difference = float_round(
            expected - computed, precision_rounding=currency.rounding
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
        Hints = self.env["oms.integration.hints"]
        amounts = {"expected": expected, "computed": computed, "difference": difference}
        message = Hints._oms_hint("total_differs", **amounts)[0]
        if source.total_policy == "block":
            raise Hints._oms_error("total_differs", **amounts)
        if source.total_policy == "adjust":
            if not source.adjustment_product_id:
                raise Hints._oms_error("adjustment_product_missing", **amounts)
            sale_orders[0].write(
                {
                    "order_line": [
                        fields.Command.create(
                            {
                                "product_id": source.adjustment_product_id.id,
                                "product_uom_qty": 1,
                                "price_unit": difference,
                                "tax_id": [fields.Command.clear()],
                                "oms_line_kind": "adjustment",
                            }
                        )
                    ]
                }
            )
            return message
        sale_orders.write({"oms_sync_status": "warning", "oms_sync_message": message})
        for sale_order in sale_orders:
            sale_order.message_post(body=message)
        return message
