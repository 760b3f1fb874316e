from odoo import api, fields, models

from .. import const
from ..lib import redaction

# Stored bodies are cut here: enough to read an error, never a whole catalogue.
MAX_STORED_BODY = 10000


class OmsIntegrationExchange(models.Model):
    """One HTTP request sent to a provider and its answer (or the error), as
    stored on the event that caused it. Headers and bodies are redacted before
    they are stored: no secret or token is ever kept here."""

    _name = "oms.integration.exchange"
    _description = "Integration HTTP Exchange"
    _order = "id desc"

    event_id = fields.Many2one(
        "oms.integration.event",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    source_id = fields.Many2one(related="event_id.source_id", store=True)
    company_id = fields.Many2one(related="event_id.company_id", store=True)
    attempt = fields.Integer(readonly=True)
    method = fields.Char(readonly=True)
    url = fields.Char(string="URL", readonly=True)
    request_headers = fields.Text(readonly=True)
    request_body = fields.Text(readonly=True)
    status_code = fields.Integer(string="HTTP Status", readonly=True)
    response_headers = fields.Text(readonly=True)
    response_body = fields.Text(readonly=True)
    error = fields.Text(readonly=True, help="The transport error, when no answer came.")
    outcome = fields.Selection(
        selection=const.EXCHANGE_OUTCOMES, readonly=True, required=True
    )
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 3))

    @api.depends("method", "url", "status_code", "outcome")
    def _compute_display_name(self):
        for exchange in self:
            answer = exchange.status_code or exchange.outcome
            exchange.display_name = f"{exchange.method} {exchange.url} -> {answer}"

    @api.model
    def _oms_log(
        self, event, request, response=None, error=None, outcome=None, duration=0.0
    ):
        """Store one exchange of ``event``, redacted with every secret of its
        source (and the usual credential headers and JSON keys)."""
        return self._oms_log_many(
            [(event, request, response, error, outcome, duration)]
        )

    @api.model
    def _oms_log_many(self, exchanges):
        """Store exchanges ``[(event, request, response, error, outcome,
        duration)]``, each redacted as ``_oms_log`` does."""
        secrets_of = {}
        rows = []
        for event, request, response, error, outcome, duration in exchanges:
            source = event.source_id
            if source.id not in secrets_of:
                secrets_of[source.id] = source._oms_known_secret_values()
            vals = self._oms_log_vals(
                secrets_of[source.id],
                event,
                request,
                response,
                error,
                outcome,
                duration,
            )
            rows.append(vals)
        # One create for them all: the ORM inserts them together.
        return self.sudo().create(rows)

    @api.model
    def _oms_log_vals(
        self, secrets, event, request, response, error, outcome, duration
    ):
        def clean_headers(headers):
            return redaction.redact_text(redaction.headers_text(headers), secrets)

        def clean_body(body):
            if body is None:
                return False
            # Redacted whole, then cut: a secret across the cut is never
            # kept as a prefix the redaction could no longer recognize.
            return redaction.redact_and_cut(body, secrets, MAX_STORED_BODY)

        vals = {
            "event_id": event.id,
            "attempt": event.attempts,
            "method": request.get("method", "POST"),
            "url": redaction.redact_text(request.get("url") or "", secrets),
            "request_headers": clean_headers(request.get("headers")),
            "request_body": clean_body(request.get("body")),
            "outcome": outcome,
            "duration": duration,
            "error": error and redaction.redact_text(str(error), secrets),
        }
        if response is not None:
            vals.update(
                status_code=response.status_code,
                response_headers=clean_headers(response.headers),
                response_body=clean_body(response.text),
            )
        return vals
