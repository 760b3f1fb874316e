from odoo import fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    oms_external_line_id = fields.Char(
        string="External Line ID",
        readonly=True,
        copy=False,
        help="The provider's id of this line, sent back with delivered quantities.",
    )
