from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const


class OmsIntegrationDeadLetter(models.Model):
    """An event that failed permanently or ran out of attempts.

    One record per event: when a requeued event dies again, its record is
    opened again with the new error.
    """

    _name = "oms.integration.dead.letter"
    _description = "Integration Dead Letter"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    event_id = fields.Many2one(
        "oms.integration.event", required=True, ondelete="cascade", readonly=True
    )
    source_id = fields.Many2one(
        related="event_id.source_id", store=True, index=True, string="Source"
    )
    company_id = fields.Many2one(related="event_id.company_id", store=True, index=True)
    direction = fields.Selection(related="event_id.direction", store=True)
    event_type = fields.Char(related="event_id.event_type")
    external_order_id = fields.Char(related="event_id.external_order_id", store=True)
    reason = fields.Selection(
        selection=const.DEAD_LETTER_REASONS, required=True, readonly=True
    )
    last_error = fields.Text(readonly=True)
    error_hint = fields.Text(
        string="Hint as Written",
        readonly=True,
        help="The hint in the language it was written in; What To Do shows it "
        "in yours.",
    )
    # As on the event: the hints catalogue's entry, to show the texts in the
    # reader's language.
    error_key = fields.Char(readonly=True, copy=False)
    error_values = fields.Json(readonly=True, copy=False)
    error_display = fields.Text(string="Error", compute="_compute_error_display")
    hint_display = fields.Text(string="What To Do", compute="_compute_error_display")
    attempts = fields.Integer(readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    state = fields.Selection(
        selection=const.DEAD_LETTER_STATES,
        required=True,
        default="open",
        readonly=True,
        tracking=True,
    )
    requeue_count = fields.Integer(readonly=True)

    _sql_constraints = [
        ("event_unique", "UNIQUE(event_id)", "An event has one dead letter at most."),
    ]

    @api.depends("event_id")
    def _compute_display_name(self):
        for letter in self:
            letter.display_name = letter.event_id.display_name or self.env._(
                "Dead letter"
            )

    @api.depends("last_error", "error_hint", "error_key", "error_values")
    @api.depends_context("lang")
    def _compute_error_display(self):
        Hints = self.env["oms.integration.hints"]
        for letter in self:
            letter.error_display, letter.hint_display = Hints._oms_display(
                letter.error_key,
                letter.error_values,
                letter.last_error,
                letter.error_hint,
            )

    # === ACTION METHODS === #

    def action_requeue(self):
        """Put the events back to pending with a fresh attempt budget."""
        self.event_id._oms_check_user()
        letters = self.sudo()
        if letters.filtered(lambda d: d.state != "open"):
            raise UserError(
                self.env._(
                    "Only open dead letters can be requeued; some of these "
                    "were already handled."
                )
            )
        events = letters.event_id
        events._oms_check_personal_data_kept()
        letters._oms_mark_requeued()
        events._set_pending(reset_attempts=True)
        for direction in set(events.mapped("direction")):
            self.env["oms.integration.event"]._oms_trigger_runners(direction)
        return True

    def action_discard(self):
        return self.env["oms.integration.reason.wizard"]._oms_open(
            self, "_oms_discard", self.env._("Discard Dead Letters")
        )

    def action_open_mapping_center(self):
        self.ensure_one()
        return self.event_id.action_open_mapping_center()

    def action_view_event(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "oms.integration.event",
            "res_id": self.event_id.id,
            "view_mode": "form",
        }

    # === BUSINESS METHODS === #

    def _oms_mark_requeued(self):
        for letter in self:
            letter.write(
                {"state": "requeued", "requeue_count": letter.requeue_count + 1}
            )

    def _oms_discard(self, reason):
        if self.filtered(lambda d: d.state != "open"):
            raise UserError(self.env._("Only open dead letters can be discarded."))
        self.event_id._set_discarded(reason)

    @api.model
    def _oms_record(self, event, reason):
        """Open (or open again) the dead letter of ``event``."""
        vals = {
            "reason": reason,
            "last_error": event.last_error,
            "error_hint": event.error_hint,
            "error_key": event.error_key,
            "error_values": event.error_values,
            "attempts": event.attempts,
            "date": fields.Datetime.now(),
            "state": "open",
        }
        letter = self.sudo().search([("event_id", "=", event.id)], limit=1)
        if letter:
            letter.write(vals)
        else:
            letter = self.sudo().create(dict(vals, event_id=event.id))
        return letter
