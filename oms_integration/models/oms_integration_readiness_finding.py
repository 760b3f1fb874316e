from odoo import api, fields, models

from .. import const


class OmsIntegrationReadinessFinding(models.Model):
    """One thing a readiness check found wrong with a source, what it means
    for its orders, what to do, and a button to the place to do it. Each
    check of a source replaces its findings
    (``oms.integration.source._oms_check_readiness``)."""

    _name = "oms.integration.readiness.finding"
    _description = "Integration Readiness Finding"
    _order = "source_id, severity, sequence, id"

    source_id = fields.Many2one(
        "oms.integration.source",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="source_id.company_id", store=True)
    sequence = fields.Integer(readonly=True)
    severity = fields.Selection(
        selection=const.READINESS_SEVERITIES,
        required=True,
        readonly=True,
        help="Blocking: the source cannot be activated (its orders or statuses "
        "would all fail). Warning: some orders fail or the source works less "
        "well.",
    )
    code = fields.Char(readonly=True, required=True)
    message = fields.Text(string="Problem", readonly=True, required=True)
    fix = fields.Text(string="How to Fix", readonly=True)
    fix_target = fields.Selection(
        selection=const.READINESS_FIX_TARGETS,
        string="Fix In",
        readonly=True,
        default="source",
        help="Where the Fix button leads.",
    )
    fix_domain_ids = fields.Json(
        readonly=True,
        help="The records the Fix button shows (such as the products sharing "
        "a reference), when it shows a few.",
    )

    @api.depends("source_id", "message")
    def _compute_display_name(self):
        for finding in self:
            finding.display_name = (
                f"{finding.source_id.name}: {(finding.message or '')[:60]}"
            )

    # === ACTION METHODS === #

    def action_open_fix(self):
        """Open the place where this finding is fixed."""
        self.ensure_one()
        return getattr(self, f"_oms_open_{self.fix_target or 'source'}")()

    def _oms_window(self, name, model, domain, context=None, view_mode="list,form"):
        return {
            "name": name,
            "type": "ir.actions.act_window",
            "res_model": model,
            "view_mode": view_mode,
            "domain": domain,
            "context": context or {},
        }

    def _oms_open_source(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": "oms.integration.source",
            "res_id": self.source_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _oms_open_mapping(self):
        return self.source_id.action_view_unmapped()

    def _oms_open_pricelists(self):
        return self._oms_window(
            self.env._("Pricelists"),
            "product.pricelist",
            [("company_id", "in", (False, self.source_id.company_id.id))],
        )

    def _oms_open_taxes(self):
        return self._oms_window(
            self.env._("Sales Taxes"),
            "account.tax",
            [
                ("company_id", "=", self.source_id.company_id.id),
                ("type_tax_use", "=", "sale"),
            ],
            {"default_type_tax_use": "sale"},
        )

    def _oms_open_products(self):
        return self._oms_window(
            self.env._("Products"),
            "product.product",
            [("id", "in", self.fix_domain_ids or [])],
        )

    def _oms_open_warehouses(self):
        return self._oms_window(
            self.env._("Warehouses"),
            "stock.warehouse",
            [("company_id", "=", self.source_id.company_id.id)],
        )

    def _oms_open_exchanges(self):
        return self._oms_window(
            self.env._("HTTP Exchanges"),
            "oms.integration.exchange",
            [("source_id", "=", self.source_id.id)],
        )
