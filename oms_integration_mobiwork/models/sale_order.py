from odoo import fields, models
from odoo.tools import float_is_zero

from .. import const
from ..lib import callbacks


class SaleOrder(models.Model):
    _inherit = "sale.order"

    mobiwork_sales_group = fields.Char(
        readonly=True,
        copy=False,
        help="The order's sales group in Mobiwork (ma_nhom).",
    )
    mobiwork_line_discount_total = fields.Monetary(
        string="Mobiwork Line Discounts",
        readonly=True,
        copy=False,
        help="The sum of the line discounts Mobiwork sent (tong_ck_sp), checked "
        "against the lines when the order arrived.",
    )
    mobiwork_promotions = fields.Text(
        readonly=True,
        copy=False,
        help="The promotions of the order in Mobiwork (promotion[]): id, name, "
        "value and the products they list.",
    )
    oms_last_status = fields.Selection(
        selection_add=[
            ("processing",),
            (const.STATUS_GOODS_ISSUED, "Goods Issued"),
        ],
        ondelete={const.STATUS_GOODS_ISSUED: "set null"},
    )

    # === BUSINESS METHODS: STATUS CALLBACKS === #

    def _oms_queue_status(self, status, picking=None):
        # A validated delivery of a Mobiwork order is first a goods issue,
        # then (the Bill) a sale: queued in that order, sent in that order.
        issued = self.env["oms.integration.event"]
        mobiwork = self.filtered(
            lambda o: o.oms_source_id.provider == const.PROVIDER_CODE
        )
        if status == "delivered" and picking and mobiwork:
            issued = super(SaleOrder, mobiwork)._oms_queue_status(
                const.STATUS_GOODS_ISSUED, picking=picking
            )
            issued.sudo().write({"mobiwork_picking_id": picking.id})
        return issued | super()._oms_queue_status(status, picking=picking)

    def _oms_status_body(self, status, picking=None):
        if status != const.STATUS_GOODS_ISSUED:
            return super()._oms_status_body(status, picking)
        # The compatible format has no goods issue: it is told as the
        # delivery it is (its quantities), under our own status name.
        body = super()._oms_status_body("delivered", picking)
        body["status"] = const.STATUS_GOODS_ISSUED
        return body

    # === BUSINESS METHODS: MOBIWORK BODIES === #

    def _mobiwork_vat_rate(self, taxes):
        """The ``vat`` of a line: the Mobiwork code of its tax (Mapping
        Center: "KCT", "8"...), else its percentage, else None (no tax)."""
        source = self.oms_source_id
        if not taxes:
            return None
        if len(taxes) == 1:
            code = source._mobiwork_external_code("tax", taxes)
            if code:
                return code
        return sum(
            taxes.filtered(lambda t: t.amount_type == "percent").mapped("amount")
        )

    def _mobiwork_product_line(self, line, quantity, warehouse_code):
        """A line as Mobiwork knows it: in the unit it was ordered in (5
        cases at 96,000, not 120 bottles at 4,000)."""
        source = self.oms_source_id
        discount = line.price_unit * quantity * (line.discount or 0.0) / 100
        return callbacks.ProductLine(
            product_code=source._mobiwork_external_code(
                "product", line.product_id, line.product_id.default_code or ""
            ),
            quantity=line._oms_provider_quantity(quantity),
            price_unit=line._oms_provider_price(),
            uom_code=line.oms_external_uom or line.product_uom.name or "",
            vat_rate=self._mobiwork_vat_rate(line.tax_id),
            discount_amount=discount,
            warehouse_code=warehouse_code,
        )

    def _mobiwork_goods_lines(self):
        """The order's lines of goods (no note, section, service line)."""
        return self.order_line.filtered(
            lambda line: not line.display_type and line.product_id.type != "service"
        )

    def _mobiwork_bill_info(self, status_label):
        """The Bill of this order (``lib.callbacks.BillInfo``): every line
        delivered so far, numbered by the sale order's name (sent again with
        the new quantities after each delivery)."""
        self.ensure_one()
        source = self.oms_source_id
        warehouse_code = source._mobiwork_external_code(
            "warehouse", self.warehouse_id, self.warehouse_id.code or ""
        )
        lines, free_lines, tax = [], [], 0.0
        for line in self._mobiwork_goods_lines():
            quantity = line.qty_delivered
            if float_is_zero(quantity, precision_rounding=line.product_uom.rounding):
                continue
            if line.price_unit:
                lines.append(
                    self._mobiwork_product_line(line, quantity, warehouse_code)
                )
                if line.product_uom_qty:
                    tax += line.price_tax * quantity / line.product_uom_qty
            else:
                free_lines.append(
                    callbacks.FreeLine(
                        product_code=source._mobiwork_external_code(
                            "product",
                            line.product_id,
                            line.product_id.default_code or "",
                        ),
                        quantity=line._oms_provider_quantity(quantity),
                        uom_code=line.oms_external_uom or line.product_uom.name or "",
                        warehouse_code=warehouse_code,
                    )
                )
        discount_lines = self.order_line.filtered(
            lambda line: line.oms_line_kind == "discount"
        )
        partner = self.partner_id
        return callbacks.BillInfo(
            bill_number=self.name,
            order_number=self._oms_order_id(),
            customer_code=source._mobiwork_external_code(
                "partner", partner, partner.ref or ""
            ),
            order_date=self.date_order,
            sale_date=fields.Datetime.now(),
            amount_tax=tax,
            lines=lines,
            free_lines=free_lines,
            order_discount=-sum(discount_lines.mapped("price_subtotal")),
            phone=partner.phone or "",
            address=", ".join(filter(None, [partner.street, partner.city])),
            status_label=status_label,
        )

    def _mobiwork_goods_issue_info(self, picking):
        """The goods issue of a validated delivery
        (``lib.callbacks.GoodsIssueInfo``): what left, free goods included."""
        self.ensure_one()
        if not picking:
            raise ValueError(
                "The goods issue does not name its delivery: it cannot be rebuilt."
            )
        source = self.oms_source_id
        warehouse = picking.picking_type_id.warehouse_id
        lines = []
        for move in picking.move_ids.filtered(
            lambda m: m.state == "done" and m.sale_line_id
        ):
            line = move.sale_line_id
            quantity = move.product_uom._compute_quantity(
                move.quantity, line.product_uom
            )
            lines.append(self._mobiwork_product_line(line, quantity, ""))
        return callbacks.GoodsIssueInfo(
            order_number=self._oms_order_id(),
            warehouse_code=source._mobiwork_external_code(
                "warehouse", warehouse, warehouse.code or ""
            ),
            issue_date=picking.date_done or fields.Datetime.now(),
            lines=lines,
        )
