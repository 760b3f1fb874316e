from odoo import api, fields, models
from odoo.exceptions import UserError

# The models and methods this dialog may call, each taking the reason.
ALLOWED_CALLS = {
    ("oms.integration.source", "_oms_pause"),
    ("oms.integration.source", "_oms_revoke_all_consents"),
    ("oms.integration.event", "_set_discarded"),
    ("oms.integration.dead.letter", "_oms_discard"),
}


class OmsIntegrationReasonWizard(models.TransientModel):
    """Asks for a reason before pausing, revoking or discarding."""

    _name = "oms.integration.reason.wizard"
    _description = "Reason"

    res_model = fields.Char(required=True, readonly=True)
    res_ids = fields.Json(required=True, readonly=True)
    method = fields.Char(required=True, readonly=True)
    reason = fields.Text()

    @api.model
    def _oms_open(self, records, method, title):
        if (records._name, method) not in ALLOWED_CALLS:
            raise UserError(self.env._("This action cannot be asked for here."))
        return {
            "name": title,
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_res_model": records._name,
                "default_res_ids": records.ids,
                "default_method": method,
            },
        }

    def action_confirm(self):
        self.ensure_one()
        if (self.res_model, self.method) not in ALLOWED_CALLS:
            raise UserError(self.env._("This action cannot be asked for here."))
        if not (self.reason or "").strip():
            raise UserError(self.env._("Give a reason."))
        records = self.env[self.res_model].browse(self.res_ids).exists()
        getattr(records, self.method)(self.reason.strip())
        return {"type": "ir.actions.act_window_close"}
