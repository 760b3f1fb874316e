from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const


class OmsIntegrationConsentWizard(models.TransientModel):
    """The confirmation dialog through which an administrator gives consent."""

    _name = "oms.integration.consent.wizard"
    _description = "Give Integration Consent"

    source_id = fields.Many2one("oms.integration.source", required=True, readonly=True)
    scope_inbound = fields.Boolean(string="Receive orders by webhook")
    scope_polling = fields.Boolean(string="Fetch orders from the provider (polling)")
    scope_outbound = fields.Boolean(string="Send order statuses to the provider")
    summary = fields.Html(compute="_compute_summary", sanitize=False)
    confirmed = fields.Boolean(
        string="I confirm this data exchange",
        help="Tick to confirm that this company allows the exchange described above.",
    )

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        source = self.env["oms.integration.source"].browse(res.get("source_id"))
        if source:
            res.setdefault("scope_inbound", source.mode in const.WEBHOOK_MODES)
            res.setdefault("scope_polling", source.mode in const.POLLING_MODES)
            res.setdefault("scope_outbound", source.outbound_enabled)
        return res

    @api.depends("source_id", "scope_inbound", "scope_polling", "scope_outbound")
    def _compute_summary(self):
        for wizard in self:
            hosts = (
                wizard.source_id._oms_destination_hosts() if wizard.source_id else {}
            )
            items = Markup("").join(
                Markup("<li>%s</li>") % category
                for category in const.CONSENT_DATA_CATEGORIES
            )
            destinations = Markup("").join(
                Markup("<li>%s: <b>%s</b></li>")
                % (label, hosts.get(scope) or self.env._("not set yet"))
                for scope, label in const.CONSENT_SCOPES
                if wizard[f"scope_{scope}"]
            )
            wizard.summary = Markup("<p>%s</p><ul>%s</ul><p>%s</p><ul>%s</ul>") % (
                self.env._(
                    "%(name)s exchanges the following data with this Odoo:",
                    name=wizard.source_id.name or "",
                ),
                items,
                self.env._("Destination hosts:"),
                destinations
                or Markup("<li>%s</li>") % self.env._("choose at least one scope"),
            )

    def _oms_selected_scopes(self):
        return [
            scope for scope, _label in const.CONSENT_SCOPES if self[f"scope_{scope}"]
        ]

    def action_confirm(self):
        self.ensure_one()
        scopes = self._oms_selected_scopes()
        if not scopes:
            raise UserError(self.env._("Choose at least one kind of traffic to allow."))
        if not self.confirmed:
            raise UserError(self.env._("Tick the confirmation box to give consent."))
        hosts = self.source_id._oms_destination_hosts()
        missing = [
            label
            for scope, label in const.CONSENT_SCOPES
            if scope in scopes and scope != "inbound" and not hosts.get(scope)
        ]
        if missing:
            raise UserError(
                self.env._(
                    "Set the destination URL first for: %(scopes)s.",
                    scopes=", ".join(missing),
                )
            )
        self.source_id._oms_give_consent(scopes)
        return {"type": "ir.actions.act_window_close"}
