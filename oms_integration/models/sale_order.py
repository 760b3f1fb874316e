from odoo import fields, models

from .. import const


class SaleOrder(models.Model):
    _inherit = "sale.order"

    oms_source_id = fields.Many2one(
        "oms.integration.source",
        string="Integration Source",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
    )
    oms_external_id = fields.Char(string="External Order ID", readonly=True, copy=False)
    oms_external_ref = fields.Char(
        string="External Reference", readonly=True, copy=False
    )
    oms_updated_at = fields.Datetime(
        string="External Version",
        readonly=True,
        copy=False,
        help="The provider's updated_at of the version applied last.",
    )
    oms_sync_status = fields.Selection(
        selection=const.SYNC_STATUSES, string="Sync Status", readonly=True, copy=False
    )
    oms_sync_message = fields.Text(string="Sync Message", readonly=True, copy=False)
    oms_event_ids = fields.One2many(
        "oms.integration.event",
        "sale_order_id",
        string="Integration Events",
        groups="oms_integration.group_oms_user",
    )
    oms_event_count = fields.Integer(
        string="Integration Event Count", compute="_compute_oms_event_count"
    )

    _sql_constraints = [
        (
            "oms_external_id_unique",
            "UNIQUE(oms_source_id, oms_external_id)",
            "This external order was already imported from this source.",
        ),
    ]

    def _compute_oms_event_count(self):
        counts = dict(
            self.env["oms.integration.event"]
            .sudo()
            ._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.oms_event_count = counts.get(order, 0)

    def action_view_oms_events(self):
        self.ensure_one()
        return {
            "name": self.env._("Integration Events"),
            "type": "ir.actions.act_window",
            "res_model": "oms.integration.event",
            "view_mode": "list,form",
            "domain": [("sale_order_id", "=", self.id)],
            "context": {"create": False},
        }
