import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..exceptions import OmsProcessingError

_logger = logging.getLogger(__name__)

VERDICTS = [
    ("succeed", "Would succeed"),
    ("fail", "Would still fail"),
    ("closed", "Already handled"),
]


class OmsIntegrationRedriveWizard(models.TransientModel):
    """Redrive dead letters: first what each would do if requeued now,
    checked without changing anything, then requeue the ones ticked."""

    _name = "oms.integration.redrive.wizard"
    _description = "Redrive Dead Letters"

    line_ids = fields.One2many(
        "oms.integration.redrive.wizard.line", "wizard_id", string="Dead Letters"
    )
    succeed_count = fields.Integer(string="Would Succeed", compute="_compute_counts")
    fail_count = fields.Integer(string="Would Still Fail", compute="_compute_counts")

    # === COMPUTE METHODS === #

    @api.depends("line_ids.verdict")
    def _compute_counts(self):
        for wizard in self:
            verdicts = wizard.line_ids.mapped("verdict")
            wizard.succeed_count = verdicts.count("succeed")
            wizard.fail_count = verdicts.count("fail")

    # === CRUD METHODS === #

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        context = self.env.context
        if (
            "line_ids" in fields_list
            and context.get("active_model") == "oms.integration.dead.letter"
            and context.get("active_ids")
        ):
            letters = self.env["oms.integration.dead.letter"].browse(
                context["active_ids"]
            )
            res["line_ids"] = [
                fields.Command.create(vals) for vals in self._oms_preview(letters)
            ]
        return res

    # === ACTION METHODS === #

    @api.model
    def _oms_open(self, letters):
        """The wizard on ``letters`` (dead letters)."""
        return {
            "name": self.env._("Redrive Dead Letters"),
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": {
                "active_model": letters._name,
                "active_ids": letters.ids,
            },
        }

    def action_requeue(self):
        """Requeue the dead letters ticked, as their Requeue button does."""
        self.ensure_one()
        letters = self.line_ids.filtered("selected").dead_letter_id
        if not letters:
            raise UserError(
                self.env._("Tick the dead letters to requeue first, in column Requeue.")
            )
        letters.action_requeue()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s dead letters requeued: the queue processes them "
                    "in a moment.",
                    count=len(letters),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # === BUSINESS METHODS === #

    @api.model
    def _oms_preview(self, letters):
        """The wizard's line values of ``letters``: what requeueing each would
        do now (``oms.integration.event._oms_preview``), nothing changed."""
        letters = letters.with_env(self.env)
        letters.event_id._oms_check_user()
        return [self._oms_preview_letter(letter) for letter in letters]

    @api.model
    def _oms_preview_letter(self, letter):
        vals = {"dead_letter_id": letter.id}
        if letter.state != "open":
            return dict(
                vals,
                verdict="closed",
                reason=self.env._(
                    "Already %(state)s: nothing to requeue.",
                    state=dict(letter._fields["state"].selection)[letter.state],
                ),
            )
        # As the queue does it: its runners work as the superuser.
        event = letter.event_id.sudo()
        blanked = event._oms_personal_data_refusal()
        if blanked:
            return dict(
                vals,
                verdict="fail",
                reason=blanked,
                hint=self.env._(
                    "Ask the provider to send the order again, then discard "
                    "this dead letter."
                ),
            )
        try:
            # Only so that a database error leaves the transaction usable:
            # the preview itself writes nothing.
            with self.env.cr.savepoint():
                note = event._oms_preview()
        except OmsProcessingError as exc:
            return dict(vals, verdict="fail", reason=exc.message, hint=exc.hint)
        except Exception as exc:  # noqa: BLE001 - one letter never stops the others
            _logger.exception("Previewing integration event %s failed", event.id)
            return dict(
                vals,
                verdict="fail",
                reason=str(exc),
                hint=self.env._(
                    "An unexpected error while checking it: requeue it to see "
                    "what processing says, or report this error."
                ),
            )
        return dict(vals, verdict="succeed", reason=note, selected=True)


class OmsIntegrationRedriveWizardLine(models.TransientModel):
    _name = "oms.integration.redrive.wizard.line"
    _description = "Redrive Dead Letters: Line"

    wizard_id = fields.Many2one(
        "oms.integration.redrive.wizard", required=True, ondelete="cascade"
    )
    dead_letter_id = fields.Many2one(
        "oms.integration.dead.letter", required=True, ondelete="cascade"
    )
    source_id = fields.Many2one(related="dead_letter_id.source_id")
    direction = fields.Selection(related="dead_letter_id.direction")
    external_order_id = fields.Char(related="dead_letter_id.external_order_id")
    verdict = fields.Selection(selection=VERDICTS, string="If Requeued Now")
    reason = fields.Text(
        string="Why",
        help="What processing it now would do, or why it would still fail.",
    )
    hint = fields.Text(string="What To Do")
    selected = fields.Boolean(
        string="Requeue",
        help="Requeue this dead letter with Requeue Selected. Ticked when it "
        "would succeed.",
    )
