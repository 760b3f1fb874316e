from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    cloudify_distributor_code = fields.Char(
        string="Cloudify Distributor",
        readonly=True,
        copy=False,
        help="The distributor (NPP) code of the order in Cloudify.",
    )
    cloudify_route_code = fields.Char(
        string="Cloudify Route",
        readonly=True,
        copy=False,
        help="The sales route code of the order in Cloudify.",
    )
    cloudify_promotions = fields.Text(
        readonly=True,
        copy=False,
        help="The order's promotions in Cloudify (promotions[]): code, name and "
        "amount. Each line's own promotion code is on the line.",
    )
