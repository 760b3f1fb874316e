import datetime

import pytz

from odoo import api, fields, models

from .. import const
from ..lib import monitoring

BACKLOG_STATES = ("pending", "failed")


class OmsIntegrationSource(models.Model):
    """The operations cockpit of a source: its backlog, dead letters and
    recent activity, counted for all the sources at once (one grouped query
    per table, whatever the number of cards), the stall threshold that turns
    the card red, and the monitoring report (``/oms/monitoring``).

    Stalls are read from the data alone: an event due for longer than the
    threshold means nothing processes the queue (the cron threads of a
    threaded server die with a PostgreSQL restart), even when nothing runs
    to notice it."""

    _inherit = "oms.integration.source"

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
        stalled = self.search([]).filtered("is_stalled")
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
        sources = self.sudo().search([])
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
