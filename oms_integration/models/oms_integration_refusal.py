from datetime import timedelta

from odoo import api, fields, models

# Refused deliveries are kept this long: enough to see a misconfiguration.
KEEP_DAYS = 30


class OmsIntegrationRefusal(models.Model):
    """One webhook delivery refused because its signature or token did not
    verify (HTTP 401): what an administrator looks at when a provider says
    its deliveries are refused. Append-only, apart from the source's
    configuration row, so that refused traffic never writes (nor locks) the
    source: anyone holding the URL could otherwise make a poll of the source
    fail on a concurrent update, again and again."""

    _name = "oms.integration.refusal"
    _description = "Refused Webhook Delivery"
    _order = "id desc"
    _log_access = False
    _rec_name = "reason"

    source_id = fields.Many2one(
        "oms.integration.source",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="source_id.company_id")
    received_at = fields.Datetime(
        string="Received", readonly=True, default=fields.Datetime.now
    )
    reason = fields.Char(readonly=True)
    delivery_id = fields.Char(string="Delivery ID", readonly=True)

    @api.model
    def _oms_record(self, source, reason, delivery_id=None):
        return self.sudo().create(
            {
                "source_id": source.id,
                "reason": (reason or "")[:200],
                "delivery_id": (delivery_id or "")[:255] or False,
            }
        )

    @api.model
    def _gc_refusals(self):
        """Cron (with the events' clean-up): forget old refusals."""
        limit = fields.Datetime.now() - timedelta(days=KEEP_DAYS)
        old = self.sudo().search([("received_at", "<", limit)])
        old.unlink()
        return len(old)
