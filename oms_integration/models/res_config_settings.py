import secrets

from odoo import fields, models

from .. import const


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    oms_monitoring_token = fields.Char(
        string="Monitoring Token",
        config_parameter=const.MONITORING_TOKEN_PARAM,
        help="The token an uptime checker or a Prometheus scraper sends to "
        "/oms/monitoring in the header 'Authorization: Bearer <token>'. "
        "Empty: the endpoint answers 503 (not configured).",
    )

    def action_oms_generate_monitoring_token(self):
        """Set a new random monitoring token: the previous one stops working."""
        self.env["ir.config_parameter"].sudo().set_param(
            const.MONITORING_TOKEN_PARAM, secrets.token_urlsafe(32)
        )
        return {"type": "ir.actions.client", "tag": "reload"}
