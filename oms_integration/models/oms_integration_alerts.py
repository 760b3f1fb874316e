import logging

from markupsafe import Markup

from odoo import api, fields, models

from .. import const
from ..lib import monitoring

_logger = logging.getLogger(__name__)


class OmsIntegrationSource(models.Model):
    """Alerts as activities: a scheduled action opens a to-do activity on the
    source for its responsible (else for every OMS Integration
    administrator) when something needs a person, one per kind of trouble,
    and marks it done by itself once the trouble is gone.

    Kinds and their rules are in ``lib.monitoring.alert_kinds``; one
    activity type per kind (``const.ALERT_ACTIVITY_TYPES``). Active and
    paused sources are watched (a source paused after polling failures
    keeps its alert); the alerts of draft and archived sources close."""

    _inherit = "oms.integration.source"

    # === BUSINESS METHODS === #

    @api.model
    def _cron_raise_alerts(self):
        watched = self.search([("state", "in", ("active", "paused"))])
        numbers = watched._oms_dashboard_numbers()
        now = fields.Datetime.now()
        for source in watched:
            health = numbers[source.id]["health"]
            kinds = monitoring.alert_kinds(health, now, source._oms_thresholds())
            source._oms_update_alerts(kinds, health, now)
        # Alerts left on sources no longer watched close.
        alert_type_ids = [
            self.env.ref(xmlid).id for xmlid in const.ALERT_ACTIVITY_TYPES.values()
        ]
        resting = self.with_context(active_test=False).search(
            [
                ("id", "not in", watched.ids),
                ("activity_ids.activity_type_id", "in", alert_type_ids),
            ]
        )
        for source in resting:
            source._oms_update_alerts(frozenset(), monitoring.SourceHealth(), now)

    def _oms_update_alerts(self, kinds, health, now):
        """Open an activity of each kind in ``kinds`` that has none open, and
        mark done the open ones of the other kinds."""
        self.ensure_one()
        for kind, xmlid in const.ALERT_ACTIVITY_TYPES.items():
            opened = self.activity_search([xmlid])
            if kind in kinds and not opened:
                users = self._oms_alert_users()
                if not users:
                    _logger.warning(
                        "OMS alert '%s' on source %s: nobody to tell (no "
                        "responsible, no OMS Integration administrator)",
                        kind,
                        self.id,
                    )
                    continue
                summary, note = self._oms_alert_text(kind, health, now)
                for user in users:
                    self.activity_schedule(
                        xmlid,
                        summary=summary,
                        note=Markup("<p>%s</p>") % note,
                        user_id=user.id,
                    )
            elif kind not in kinds and opened:
                opened.action_feedback(
                    feedback=self.env._("Cleared by itself: the problem is gone.")
                )

    def _oms_alert_users(self):
        """Who is told: the responsible, else the OMS administrators."""
        self.ensure_one()
        if self.responsible_user_id.active:
            return self.responsible_user_id
        managers = self.env.ref("oms_integration.group_oms_manager").users
        return managers.filtered(
            lambda user: (
                user.active and not user.share and self.company_id in user.company_ids
            )
        )

    def _oms_alert_text(self, kind, health, now):
        """The summary and note of an alert of ``kind``: what is wrong, and
        what to do next."""
        self.ensure_one()
        _ = self.env._
        if kind == "dead_letters":
            return _("Dead letters to handle"), _(
                "%(count)s dead letters are open on %(name)s: open them, fix "
                "the cause (often a missing mapping in the Mapping Center), then "
                "Requeue or Discard them.",
                count=health.dead_letters,
                name=self.name,
            )
        if kind == "backlog":
            return _("Orders waiting too long"), _(
                "The oldest order or status of %(name)s has waited %(minutes)s "
                "minutes to be processed (alert after %(threshold)s): check in "
                "Settings > Technical > Scheduled Actions that the 'OMS "
                "Integration' actions are active and run; after a database "
                "restart, restart Odoo.",
                name=self.name,
                minutes=monitoring.due_age_seconds(health.oldest_due_at, now) // 60,
                threshold=self.backlog_alert_threshold,
            )
        if kind == "polling":
            return _("Polling keeps failing"), _(
                "Fetching orders from %(name)s failed %(count)s times in a "
                "row: read the Last Poll Result on the Polling tab, fix the "
                "provider API URL or credentials, then activate the source "
                "again if it was paused.",
                name=self.name,
                count=health.poll_failures,
            )
        if kind == "callbacks":
            return _("Status callbacks keep failing"), _(
                "Order statuses sent to %(name)s failed %(count)s times in a "
                "row%(paused)s: check that the provider's status callback URL "
                "answers (tab Retries and Limits shows the failures). Sending "
                "resumes by itself once it does.",
                name=self.name,
                count=health.callback_failures,
                paused=_(", sending is paused for a while")
                if health.circuit_open
                else "",
            )
        return _("Readiness score is low"), _(
            "The readiness score of %(name)s is %(score)s (alert below "
            "%(threshold)s): click Check Readiness on the source and fix the "
            "findings it lists.",
            name=self.name,
            score=health.health_score,
            threshold=self.score_alert_threshold,
        )
