from odoo import api, fields, models

from .. import const


class OmsIntegrationStatusMap(models.Model):
    """One line of a source's status table: what the provider calls one of
    our order statuses (Mobiwork's label, Cloudify's state...).

    A source of a provider that names statuses gets the provider's defaults
    when it is created (``_oms_get_default_status_map``); the provider checks
    the values it accepts (``_oms_check_status_map_value``)."""

    _name = "oms.integration.status.map"
    _description = "Integration Status Table Line"
    _order = "source_id, sequence, id"
    _rec_name = "status"

    source_id = fields.Many2one(
        "oms.integration.source", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    status = fields.Selection(
        selection=const.ORDER_STATUSES,
        string="Odoo Status",
        required=True,
        help="The order status Odoo sends to the provider.",
    )
    value = fields.Char(
        string="Provider Value",
        required=True,
        help="What the provider calls this status: the exact label, code or "
        "state its system expects.",
    )

    _sql_constraints = [
        (
            "status_unique",
            "UNIQUE(source_id, status)",
            "Each order status appears once in a source's status table.",
        ),
    ]

    # === CONSTRAINT METHODS === #

    @api.constrains("status", "value")
    def _check_value(self):
        for line in self:
            line.source_id._oms_check_status_map_value(line.status, line.value)
