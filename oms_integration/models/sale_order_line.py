from odoo import fields, models

from .. import const


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    oms_external_line_id = fields.Char(
        string="External Line ID",
        readonly=True,
        copy=False,
        help="The provider's id of this line, sent back with delivered quantities.",
    )
    oms_external_uom = fields.Char(
        string="Provider Unit",
        readonly=True,
        copy=False,
        help="The unit the provider ordered in (for example THUNG, a case), as "
        "resolved in the Mapping Center.",
    )
    oms_uom_factor = fields.Float(
        string="Provider Unit Size",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="How many of the line's units make one provider unit (24 for a "
        "case of 24 bottles ordered as cases); quantities sent back to the "
        "provider are divided by it.",
    )
    oms_note = fields.Text(
        string="Provider Note",
        readonly=True,
        copy=False,
        help="The note the provider wrote on this line.",
    )
    oms_promotion_code = fields.Char(
        string="Promotion",
        readonly=True,
        copy=False,
        help="The provider's promotion code of this line.",
    )
    oms_line_kind = fields.Selection(
        selection=const.EXTRA_LINE_KINDS,
        string="Integration Line",
        readonly=True,
        copy=False,
        help="Set on the lines the integration adds (shipping, order discount, "
        "total adjustment), not on the provider's product lines.",
    )

    def _oms_provider_quantity(self, quantity):
        """``quantity`` in this line's unit, told in the provider's unit."""
        self.ensure_one()
        return quantity / self.oms_uom_factor if self.oms_uom_factor else quantity

    def _oms_provider_price(self):
        """The unit price in the provider's unit."""
        self.ensure_one()
        factor = self.oms_uom_factor or 1.0
        return self.price_unit * factor
