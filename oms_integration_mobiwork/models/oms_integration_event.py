from odoo import fields, models


class OmsIntegrationEvent(models.Model):
    _inherit = "oms.integration.event"

    mobiwork_picking_id = fields.Many2one(
        "stock.picking",
        string="Mobiwork Goods Issue Delivery",
        readonly=True,
        ondelete="set null",
        help="The validated delivery a Mobiwork goods issue tells about.",
    )
