import datetime
import logging

import pytz
from markupsafe import Markup

from odoo import api, fields, models

from .. import const
from ..lib import monitoring

_logger = logging.getLogger(__name__)

BACKLOG_STATES = ("pending", "failed")


class OmsIntegrationCockpitMixin(models.AbstractModel):
    """The operations cockpit of a source: its backlog, dead letters and
    recent activity, counted for all the sources at once (one grouped query
    per table, whatever the number of cards), the stall threshold that turns
    the card red, and the monitoring report (``/oms/monitoring``).

    Stalls are read from the data alone: an event due for longer than the
    threshold means nothing processes the queue (the cron threads of a
    threaded server die with a PostgreSQL restart), even when nothing runs
    to notice it.

    Alerts as activities: a scheduled action opens a to-do activity on the
    source for its responsible (else for every OMS Integration
    administrator) when something needs a person, one per kind of trouble
    (``const.ALERT_ACTIVITY_TYPES``, rules in ``lib.monitoring.alert_kinds``),
    and marks it done by itself once the trouble is gone. Active and paused
    sources are watched (a source paused after polling failures keeps its
    alert); the alerts of draft and archived sources close."""

    _name = "oms.integration.cockpit.mixin"
    _description = "Integration Source Cockpit"

    # === FIELDS: ALERTS === #

    responsible_user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        tracking=True,
        default=lambda self: self._default_responsible_user(),
        domain=lambda self: [
            ("share", "=", False),
            ("groups_id", "in", self.env.ref("oms_integration.group_oms_user").ids),
        ],
        help="Gets a to-do activity when this source needs attention: dead "
        "letters, a backlog waiting too long, polling or status callbacks "
        "failing, a low readiness score. Empty: every OMS Integration "
        "administrator gets it.",
    )
    stall_threshold = fields.Integer(
        string="Stalled After (minutes)",
        default=const.DEFAULT_STALL_THRESHOLD,
        help="The source shows 'Stalled' in red on the dashboard when an order "
        "or status has been waiting to be processed for longer than this: "
        "nothing is processing the queue. Check that Odoo's scheduled actions "
        "run (restart Odoo after a database restart).",
    )
    backlog_alert_threshold = fields.Integer(
        string="Backlog Alert After (minutes)",
        default=const.DEFAULT_BACKLOG_ALERT_THRESHOLD,
        help="The responsible gets an activity when an order or status has "
        "been waiting to be processed for longer than this.",
    )
    score_alert_threshold = fields.Integer(
        string="Alert Below Score",
        default=const.DEFAULT_SCORE_ALERT_THRESHOLD,
        help="The responsible gets an activity when the readiness score of the "
        "source falls below this (0-100).",
    )

    # === FIELDS: DASHBOARD === #

    backlog_count = fields.Integer(
        string="Backlog",
        compute="_compute_dashboard",
        help="Orders and statuses waiting to be processed, or waiting for a retry.",
    )
    backlog_oldest_due_at = fields.Datetime(
        string="Oldest Waiting Since", compute="_compute_dashboard"
    )
    backlog_oldest_minutes = fields.Integer(
        string="Oldest Waiting (minutes)",
        compute="_compute_dashboard",
        help="How long the oldest order or status due for processing has waited.",
    )
    is_stalled = fields.Boolean(
        string="Stalled",
        compute="_compute_dashboard",
        search="_search_is_stalled",
        help="An order or status has waited longer than the stall threshold: "
        "nothing is processing the queue.",
    )
    orders_today_count = fields.Integer(
        string="Orders Today", compute="_compute_dashboard"
    )
    last_order_at = fields.Datetime(
        string="Last Order Received", compute="_compute_dashboard"
    )
    last_callback_at = fields.Datetime(
        string="Last Status Sent", compute="_compute_dashboard"
    )
    last_processed_at = fields.Datetime(
        string="Last Processing", compute="_compute_dashboard"
    )

    _sql_constraints = [
        (
            "alert_thresholds_valid",
            "CHECK(stall_threshold > 0 AND backlog_alert_threshold > 0 "
            "AND score_alert_threshold >= 0 AND score_alert_threshold <= 100)",
            "The stall and backlog thresholds must be positive, the score "
            "threshold between 0 and 100.",
        ),
    ]

    # === DEFAULT METHODS === #

    def _default_responsible_user(self):
        # The creator, unless OdooBot (demo data, scripts): then nobody, and
        # the administrators are told.
        return self.env.user if not self.env.user._is_superuser() else False

    # === COMPUTE METHODS === #

    def _compute_dashboard(self):
        numbers = self._oms_dashboard_numbers()
        now = fields.Datetime.now()
        for source in self:
            row = numbers[source.id]
            health = row["health"]
            source.backlog_count = health.backlog
            source.backlog_oldest_due_at = health.oldest_due_at or False
            source.backlog_oldest_minutes = (
                monitoring.due_age_seconds(health.oldest_due_at, now) // 60
            )
            source.is_stalled = monitoring.is_stalled(
                health.oldest_due_at, now, source.stall_threshold
            )
            source.orders_today_count = row["orders_today"]
            source.last_order_at = row["last_order_at"]
            source.last_callback_at = row["last_callback_at"]
            source.last_processed_at = row["last_processed_at"]

    def _search_is_stalled(self, operator, value):
        if operator not in ("=", "!="):
            return NotImplemented
        # Only a source with a backlog can be stalled.
        waiting = self.env["oms.integration.event"]._read_group(
            [("state", "in", BACKLOG_STATES)], ["source_id"]
        )
        stalled = self.browse([source.id for (source,) in waiting]).filtered(
            "is_stalled"
        )
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", stalled.ids)]

    # === ACTION METHODS === #

    def action_view_backlog(self):
        return self._oms_action_open(
            "oms.integration.event",
            self.env._("Backlog"),
            [("source_id", "=", self.id), ("state", "in", BACKLOG_STATES)],
            {"create": False},
        )

    def action_view_orders_today(self):
        action = self._oms_action_open(
            "sale.order",
            self.env._("Orders Today"),
            [
                ("oms_source_id", "=", self.id),
                ("create_date", ">=", self._oms_today_start()),
            ],
        )
        action["context"] = {"create": False}
        return action

    def action_view_exchanges(self):
        action = self._oms_action_open(
            "oms.integration.exchange",
            self.env._("HTTP Exchanges"),
            [("source_id", "=", self.id)],
        )
        action["context"] = {"create": False}
        return action

    # === BUSINESS METHODS === #

    def _oms_today_start(self):
        """Midnight of the user's today, as a naive UTC datetime."""
        tz = pytz.timezone(self.env.user.tz or "UTC")
        midnight = datetime.datetime.now(tz).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        return midnight.astimezone(pytz.utc).replace(tzinfo=None)

    def _oms_thresholds(self):
        self.ensure_one()
        return monitoring.Thresholds(
            stall_minutes=self.stall_threshold,
            backlog_minutes=self.backlog_alert_threshold,
            score=self.score_alert_threshold,
            poll_failures=const.ALERT_POLL_FAILURES,
            callback_failures=const.ALERT_CALLBACK_FAILURES,
        )

    def _oms_dashboard_numbers(self):
        """The cockpit's numbers of these sources, ``{source id: {"health":
        monitoring.SourceHealth, "orders_today", "last_order_at",
        "last_callback_at", "last_processed_at"}}``: a few grouped queries for
        all of them, read as the current user."""
        Event = self.env["oms.integration.event"]
        # The queue's partial index covers exactly these rows.
        backlog = {
            source.id: (count, oldest)
            for source, count, oldest in Event._read_group(
                [("source_id", "in", self.ids), ("state", "in", BACKLOG_STATES)],
                ["source_id"],
                ["__count", "next_attempt_at:min"],
            )
        }
        received = {
            source.id: last
            for source, last in Event._read_group(
                [("source_id", "in", self.ids), ("direction", "=", "inbound")],
                ["source_id"],
                ["received_at:max"],
            )
        }
        processed = {}
        for source, direction, state, last in Event._read_group(
            [("source_id", "in", self.ids), ("state", "in", ("done", "dead"))],
            ["source_id", "direction", "state"],
            ["processed_at:max"],
        ):
            processed[source.id, direction, state] = last
        dead_letters = dict(
            self.env["oms.integration.dead.letter"]._read_group(
                [("source_id", "in", self.ids), ("state", "=", "open")],
                ["source_id"],
                ["__count"],
            )
        )
        orders_today = dict(
            self.env["sale.order"]._read_group(
                [
                    ("oms_source_id", "in", self.ids),
                    ("create_date", ">=", self._oms_today_start()),
                ],
                ["oms_source_id"],
                ["__count"],
            )
        )
        numbers = {}
        for source in self:
            count, oldest = backlog.get(source.id, (0, None))
            last_processed = [
                moment
                for (source_id, _direction, _state), moment in processed.items()
                if source_id == source.id and moment
            ]
            numbers[source.id] = {
                "health": monitoring.SourceHealth(
                    backlog=count,
                    oldest_due_at=oldest or None,
                    dead_letters=dead_letters.get(source, 0),
                    poll_failures=source.poll_failure_count,
                    callback_failures=source.circuit_failures,
                    circuit_open=bool(source.circuit_open_until),
                    health_score=source.health_score,
                ),
                "orders_today": orders_today.get(source, 0),
                "last_order_at": received.get(source.id) or False,
                "last_callback_at": processed.get((source.id, "outbound", "done"))
                or False,
                "last_processed_at": max(last_processed, default=False),
            }
        return numbers

    @api.model
    def _oms_monitoring_report(self):
        """The monitoring report of every source not archived: numbers and
        configuration only (no customer, payload or URL), as
        ``lib.monitoring.report`` builds it."""
        sources = self.sudo().search([("active", "=", True)])
        numbers = sources._oms_dashboard_numbers()
        now = fields.Datetime.now()
        rows = [
            monitoring.source_row(
                {
                    "id": source.id,
                    "name": source.name,
                    "provider": source.provider,
                    "state": source.state,
                },
                numbers[source.id]["health"],
                numbers[source.id]["last_processed_at"] or None,
                now,
                source._oms_thresholds(),
            )
            for source in sources
        ]
        return monitoring.report(rows, now)

    # === BUSINESS METHODS: ALERTS === #

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
        if kind == "dead_letters":
            return self.env._("Dead letters to handle"), self.env._(
                "%(count)s dead letters are open on %(name)s: open them, fix "
                "the cause (often a missing mapping in the Mapping Center), then "
                "Requeue or Discard them.",
                count=health.dead_letters,
                name=self.name,
            )
        if kind == "backlog":
            return self.env._("Orders waiting too long"), self.env._(
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
            return self.env._("Polling keeps failing"), self.env._(
                "Fetching orders from %(name)s failed %(count)s times in a "
                "row: read the Last Poll Result on the Polling tab, fix the "
                "provider API URL or credentials, then activate the source "
                "again if it was paused.",
                name=self.name,
                count=health.poll_failures,
            )
        if kind == "callbacks":
            return self.env._("Status callbacks keep failing"), self.env._(
                "Order statuses sent to %(name)s failed %(count)s times in a "
                "row%(paused)s: check that the provider's status callback URL "
                "answers (tab Retries and Limits shows the failures). Sending "
                "resumes by itself once it does.",
                name=self.name,
                count=health.callback_failures,
                paused=self.env._(", sending is paused for a while")
                if health.circuit_open
                else "",
            )
        return self.env._("Readiness score is low"), self.env._(
            "The readiness score of %(name)s is %(score)s (alert below "
            "%(threshold)s): click Check Readiness on the source and fix the "
            "findings it lists.",
            name=self.name,
            score=health.health_score,
            threshold=self.score_alert_threshold,
        )
