from odoo import api, fields, models

from .. import const


class OmsIntegrationConsent(models.Model):
    """An administrator's consent for one scope of traffic of a source.

    Records are never deleted: a revoked consent stays as history of who
    allowed what, when, towards which host.
    """

    _name = "oms.integration.consent"
    _description = "Integration Consent"
    _order = "date desc, id desc"
    _rec_name = "scope"

    source_id = fields.Many2one(
        "oms.integration.source", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="source_id.company_id", store=True, index=True)
    scope = fields.Selection(selection=const.CONSENT_SCOPES, required=True)
    user_id = fields.Many2one(
        "res.users", string="Given By", required=True, ondelete="restrict"
    )
    date = fields.Datetime(
        string="Given On", required=True, default=fields.Datetime.now
    )
    destination_host = fields.Char(
        help="The host data is exchanged with when the consent was given."
    )
    data_categories = fields.Text(
        string="Data Exchanged",
        default=lambda self: "\n".join(const.CONSENT_DATA_CATEGORIES),
        required=True,
    )
    revoked = fields.Boolean(readonly=True)
    revoked_date = fields.Datetime(string="Revoked On", readonly=True)
    revoked_user_id = fields.Many2one("res.users", string="Revoked By", readonly=True)
    revoked_reason = fields.Char(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        consents = super().create(vals_list)
        # The sources' consents are remembered for webhooks: forget them.
        self.env.registry.clear_cache()
        return consents

    def write(self, vals):
        res = super().write(vals)
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _oms_revoke(self, reason):
        self.sudo().write(
            {
                "revoked": True,
                "revoked_date": fields.Datetime.now(),
                "revoked_user_id": self.env.uid,
                "revoked_reason": reason,
            }
        )
