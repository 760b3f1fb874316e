import hashlib
import json
import logging
import re
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from .. import const
from ..lib import backoff, redaction

_logger = logging.getLogger(__name__)


# One inbound event per version of an external order: the same payload, or
# the same ``updated_at`` (webhook and polling overlap). Name, column, and what
# else a row needs to be covered.
REPEAT_INDEXES = (
    ("oms_integration_event_payload_unique", "payload_hash", SQL()),
    (
        "oms_integration_event_version_unique",
        "external_updated_at",
        SQL(" AND external_updated_at IS NOT NULL"),
    ),
)


def _humanize(code):
    """A provider's own code in words: ``goods_issued`` is "Goods issued"."""
    words = re.sub(r"[._]+", " ", code or "").strip()
    return words[:1].upper() + words[1:]


def _summary_number(value):
    """A quantity or amount of the order summary: no trailing zeros."""
    if value is None:
        return ""
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


class OmsIntegrationEvent(models.Model):
    """One delivery in the staging queue, inbound (an order from a provider) or
    outbound (a status sent to a provider): the record operators triage.

    This file holds the record, its states and transitions (one ``_set_<state>``
    method per target state, checking ``const.EVENT_TRANSITIONS``, as
    ``payment.transaction`` does), and claiming due events with a lease. The
    runners (``ir.cron`` jobs) that work the queue are in
    ``oms_integration_event_runner.py``, receiving in
    ``oms_integration_receiver.py``, sending in ``oms_integration_sender.py``,
    building the sale order in ``oms_integration_order_builder.py``.
    """

    _name = "oms.integration.event"
    _description = "Integration Event"
    _inherit = ["mail.thread", "oms.integration.runner.mixin"]
    _order = "id desc"

    # === FIELDS === #

    direction = fields.Selection(
        selection=const.DIRECTIONS, required=True, default="inbound", readonly=True
    )
    # Not indexed alone: the unique delivery index and the queue's indexes
    # start with the source.
    source_id = fields.Many2one(
        "oms.integration.source", required=True, ondelete="restrict", readonly=True
    )
    # The source's, not stored: the multi-company rule reads it through it.
    company_id = fields.Many2one(related="source_id.company_id")
    provider = fields.Selection(related="source_id.provider", store=True)
    event_type = fields.Char(readonly=True)
    external_order_id = fields.Char(readonly=True)
    external_updated_at = fields.Datetime(
        string="External Version",
        readonly=True,
        help="The order's updated_at in this delivery: webhook and polling "
        "copies of one version are one event.",
    )
    delivery_id = fields.Char(
        string="Delivery ID",
        readonly=True,
        help="The provider's delivery or idempotency key (webhook-id).",
    )
    payload = fields.Text(
        string="Raw Payload", readonly=True, groups="oms_integration.group_oms_manager"
    )
    payload_hash = fields.Char(readonly=True)
    payload_display = fields.Text(string="Payload", compute="_compute_payload_display")
    order_summary = fields.Html(
        string="Order",
        compute="_compute_order_summary",
        sanitize=False,
        help="The order as received: customer, lines, total and delivery address.",
    )
    source_unmapped_count = fields.Integer(related="source_id.unmapped_count")
    event_type_label = fields.Char(string="Event", compute="_compute_labels")
    status_label = fields.Char(string="Order Status", compute="_compute_labels")
    headers = fields.Text(
        readonly=True, help="Request headers, with credentials redacted."
    )
    state = fields.Selection(
        selection=const.EVENT_STATES,
        required=True,
        default="pending",
        readonly=True,
        tracking=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(
        string="Next Attempt", readonly=True, default=fields.Datetime.now
    )
    lease_until = fields.Datetime(
        readonly=True, help="A worker owns the event until then (crash recovery)."
    )
    last_error = fields.Text(readonly=True)
    error_hint = fields.Text(
        string="Hint as Written",
        readonly=True,
        help="The hint in the language it was written in; What To Do shows it "
        "in yours.",
    )
    # The hints catalogue's entry of the error (oms.integration.hints), when
    # it came from there: the texts above are then shown in the reader's
    # language (error_display, hint_display).
    error_key = fields.Char(readonly=True, copy=False)
    error_values = fields.Json(readonly=True, copy=False)
    error_display = fields.Text(string="Error", compute="_compute_error_display")
    hint_display = fields.Text(string="What To Do", compute="_compute_error_display")
    has_error = fields.Boolean(compute="_compute_has_error", search="_search_has_error")
    sale_order_id = fields.Many2one(
        "sale.order", readonly=True, index="btree_not_null", ondelete="set null"
    )
    received_at = fields.Datetime(
        string="Received", readonly=True, default=fields.Datetime.now
    )
    started_at = fields.Datetime(readonly=True)
    processed_at = fields.Datetime(string="Processed", readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 3))
    discard_reason = fields.Char(readonly=True)
    result_note = fields.Text(string="Result", readonly=True)
    dead_letter_ids = fields.One2many("oms.integration.dead.letter", "event_id")
    status = fields.Char(
        readonly=True, help="Outbound: the order status this event tells the provider."
    )
    exchange_ids = fields.One2many(
        "oms.integration.exchange", "event_id", string="HTTP Exchanges"
    )
    received_via = fields.Selection(
        selection=const.RECEIVED_VIA,
        readonly=True,
        help="How the order arrived: sent by the provider (webhook) or found "
        "by polling. Empty for events received before this was recorded.",
    )
    waiting_mapping_ids = fields.Many2many(
        "oms.integration.mapping",
        "oms_integration_event_waiting_mapping_rel",
        "event_id",
        "mapping_id",
        string="Waiting For",
        readonly=True,
        help="The values without a mapping this order failed on: once they "
        "are mapped in the Mapping Center, redrive it from there.",
    )
    personal_data_blanked_at = fields.Datetime(
        string="Personal Data Removed On",
        readonly=True,
        copy=False,
        help="When the names, phones, e-mails, addresses and tax ids were "
        "removed from this event (the source's 'Blank Personal Data After'): "
        "ids, products, quantities and amounts are kept.",
    )

    _sql_constraints = [
        (
            "delivery_unique",
            "UNIQUE(source_id, direction, delivery_id)",
            "This delivery was already received for this source.",
        ),
    ]

    def init(self):
        # The queue claims due work with these partial indexes, so the cost of
        # a claim does not grow with the done events kept for history.
        self.env.cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS oms_integration_event_due_idx
                ON oms_integration_event (next_attempt_at, id)
                WHERE state IN ('pending', 'failed');
            CREATE INDEX IF NOT EXISTS oms_integration_event_lease_idx
                ON oms_integration_event (lease_until)
                WHERE state = 'processing';
            -- Outbound events of one order, in order (inbound ones are in the
            -- unique payload index, which starts the same way).
            CREATE INDEX IF NOT EXISTS oms_integration_event_outbound_order_idx
                ON oms_integration_event (source_id, external_order_id, id)
                WHERE direction = 'outbound' AND external_order_id IS NOT NULL;
            CREATE INDEX IF NOT EXISTS oms_integration_event_gc_idx
                ON oms_integration_event (source_id, processed_at)
                WHERE state IN ('done', 'discarded');
            -- The personal data clean-up's events still to blank.
            CREATE INDEX IF NOT EXISTS oms_integration_event_personal_data_idx
                ON oms_integration_event (source_id, received_at)
                WHERE personal_data_blanked_at IS NULL
                  AND state IN ('done', 'dead', 'discarded');
            -- Payloads of events without an order id (invalid deliveries,
            -- stored once); those of an order are in its unique index.
            CREATE INDEX IF NOT EXISTS oms_integration_event_orderless_hash_idx
                ON oms_integration_event (source_id, payload_hash)
                WHERE external_order_id IS NULL OR external_order_id = '';
            """
            )
        )
        for name, column, condition in REPEAT_INDEXES:
            self._oms_create_repeat_index(name, column, condition)
        self._oms_index_inbound_orders()

    def _oms_index_inbound_orders(self):
        """The queue finds the earlier inbound events of an order through the
        unique payload index. Where that index only covers the events after
        repeats stored by an earlier version (``_oms_create_repeat_index``),
        an index of its own keeps that look fast, dropped once the payload
        index covers all events."""
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                REPEAT_INDEXES[0][0],
            )
        )
        row = cr.fetchone()
        if row and not re.search(r"\bid > ", row[0]):
            cr.execute(
                SQL("DROP INDEX IF EXISTS oms_integration_event_inbound_order_idx")
            )
            return
        cr.execute(
            SQL(
                """
            CREATE INDEX IF NOT EXISTS oms_integration_event_inbound_order_idx
                ON oms_integration_event (source_id, external_order_id, id)
                WHERE direction = 'inbound' AND external_order_id IS NOT NULL
            """
            )
        )

    def _oms_create_repeat_index(self, name, column, condition):
        """A unique index that makes a repeated version of an external order
        (the same payload, or the same ``updated_at``) a conflict that the
        receiving INSERT skips (``ON CONFLICT DO NOTHING``).

        Events stored twice by earlier versions stay as they are: the index
        then covers the events after the last of them, and the log says so.
        """
        cr = self.env.cr
        cr.execute(SQL("SELECT 1 FROM pg_indexes WHERE indexname = %s", name))
        if cr.fetchone():
            return
        predicate = SQL(
            "direction = 'inbound' AND external_order_id IS NOT NULL%s", condition
        )
        cr.execute(
            SQL(
                """
                SELECT max(last_id), count(*)
                  FROM (SELECT max(id) AS last_id
                          FROM oms_integration_event
                         WHERE %s
                         GROUP BY source_id, external_order_id, %s
                        HAVING count(*) > 1) AS repeated
                """,
                predicate,
                SQL.identifier(column),
            )
        )
        last_repeated, repeated = cr.fetchone()
        if last_repeated:
            _logger.warning(
                "%s versions of external orders were stored more than once by "
                "an earlier version (by %s): a delivery repeating an event up to "
                "id %s is stored again and then skipped by the queue, later "
                "ones are answered as duplicates.",
                repeated,
                column,
                last_repeated,
            )
            predicate = SQL("%s AND id > %s", predicate, last_repeated)
        cr.execute(
            SQL(
                "CREATE UNIQUE INDEX %s ON oms_integration_event "
                "(source_id, external_order_id, %s) WHERE %s",
                SQL.identifier(name),
                SQL.identifier(column),
                predicate,
            )
        )

    # === COMPUTE METHODS === #

    @api.depends(
        "direction",
        "event_type",
        "status",
        "external_order_id",
        "source_id.name",
        "sale_order_id.name",
    )
    def _compute_display_name(self):
        for event in self:
            source = event.source_id.name or ""
            order = event.sale_order_id.name or event.external_order_id or ""
            if event.event_type == "test":
                name = self.env._("Test callback to %(origin)s", origin=source)
            elif event.direction == "outbound":
                name = self.env._(
                    "Status '%(status)s' to %(origin)s for %(order)s",
                    status=event._oms_status_label(),
                    origin=source,
                    order=order or "-",
                )
            elif event.external_order_id:
                name = self.env._(
                    "Order %(order)s from %(origin)s (%(what)s)",
                    order=event.external_order_id,
                    origin=source,
                    what=(
                        _humanize(event.event_type.removeprefix("order.")).lower()
                        if (event.event_type or "").startswith("order.")
                        else event._oms_event_type_label().lower()
                    ),
                )
            else:
                name = self.env._(
                    "Delivery #%(id)s from %(origin)s", id=event.id or "", origin=source
                )
            event.display_name = name

    @api.depends("event_type", "status")
    def _compute_labels(self):
        for event in self:
            event.event_type_label = event._oms_event_type_label()
            event.status_label = event.status and event._oms_status_label()

    def _oms_event_type_label(self):
        """The event type in words: ``order.created`` is "Order created"."""
        self.ensure_one()
        return dict(const.EVENT_TYPES).get(self.event_type) or _humanize(
            self.event_type
        )

    def _oms_status_label(self):
        """The order status in words: ``delivered`` is "Delivered"."""
        self.ensure_one()
        return dict(const.ORDER_STATUSES).get(self.status) or _humanize(self.status)

    @api.depends("payload", "direction", "external_order_id")
    @api.depends_context("uid")
    def _compute_order_summary(self):
        for event in self:
            event.order_summary = (
                event._oms_render_order_summary()
                if event.direction == "inbound"
                else False
            )

    def _oms_render_order_summary(self):
        """The inbound order in words (customer, lines, total, delivery
        address), read from the stored payload by the source's parser; what
        cannot be read is said plainly. Known secrets are masked."""
        self.ensure_one()
        raw = self.sudo().payload
        if not raw:
            return False
        source = self.source_id
        parsed = source._oms_parse_delivery(raw.encode())
        orders = []
        problem = False
        if not parsed:
            problem = self.env._(
                "The provider of %(origin)s cannot read orders here: install its "
                "addon to see this order.",
                origin=source.name,
            )
        elif parsed.errors:
            problem = self.env._(
                "This order cannot be read: %(errors)s",
                errors="; ".join(f"{e.path}: {e.message}" for e in parsed.errors[:5]),
            )
        else:
            orders = [
                order
                for order in parsed.orders
                if not self.external_order_id
                or order.external_id == self.external_order_id
            ]
        html = self.env["ir.qweb"]._render(
            "oms_integration.oms_integration_event_order_summary",
            {"orders": orders, "problem": problem, "number": _summary_number},
        )
        return Markup(redaction.redact_text(html, source._oms_known_secret_values()))

    @api.depends("source_id")
    @api.depends_context("uid")
    def _compute_payload_display(self):
        for event in self:
            raw = event.sudo().payload
            event.payload_display = redaction.pretty_payload(
                raw, event.source_id._oms_known_secret_values()
            )

    @api.depends("last_error", "error_hint", "error_key", "error_values")
    @api.depends_context("lang")
    def _compute_error_display(self):
        Hints = self.env["oms.integration.hints"]
        for event in self:
            event.error_display, event.hint_display = Hints._oms_display(
                event.error_key, event.error_values, event.last_error, event.error_hint
            )

    @api.depends("last_error")
    def _compute_has_error(self):
        for event in self:
            event.has_error = bool(event.last_error)

    def _search_has_error(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on errors."))
        with_error = (operator == "=") == bool(value)
        return [("last_error", "!=" if with_error else "=", False)]

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("payload") and not vals.get("payload_hash"):
                vals["payload_hash"] = self._oms_hash_payload(vals["payload"])
        return super().create(vals_list)

    @api.model
    def _oms_hash_payload(self, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        return hashlib.sha256(payload).hexdigest()

    @api.model
    def _oms_headers_json(self, headers):
        """Request headers as stored on an event: credentials redacted."""
        return json.dumps(redaction.redact_mapping(headers), ensure_ascii=False)

    @api.model
    def _oms_create_inbound(self, source, vals, channel="inbound"):
        """Store an inbound delivery for ``source`` received by ``channel``
        (``inbound``: webhook, or ``polling``); the source must allow it
        (active, right mode, administrator consent) or it is refused here,
        whatever the caller."""
        source._oms_assert_traffic_allowed(channel)
        vals = dict(
            vals,
            direction="inbound",
            source_id=source.id,
            received_via=const.RECEIVED_VIA_BY_CHANNEL[channel],
        )
        if isinstance(vals.get("headers"), dict):
            vals["headers"] = self._oms_headers_json(vals["headers"])
        # No chatter bookkeeping at creation (a "created" note, followers):
        # what happens to the event next is tracked.
        events = self.sudo().with_context(tracking_disable=True).create(vals)
        return events.with_context(tracking_disable=None)

    @api.model
    def _oms_create_outbound(self, source, vals):
        """Write an outbound status event (the transactional outbox). Returns
        an empty recordset when the source may not send statuses: sending is
        off, no outbound consent, or the source is archived or a draft (a
        paused source keeps its statuses)."""
        if source._oms_outbox_refusal():
            return self.browse()
        vals = dict(vals, direction="outbound", source_id=source.id)
        events = self.sudo().with_context(tracking_disable=True).create(vals)
        return events.with_context(tracking_disable=None)

    # === ACTION METHODS === #

    def action_retry_now(self):
        """Retry at once: OMS users may do this without write access."""
        self._oms_check_user()
        events = self.sudo()
        refused = events.filtered(
            lambda e: e.state not in ("failed", "dead", "pending")
        )
        if refused:
            raise UserError(
                self.env._(
                    "Only failed, dead-letter or pending events can be retried; "
                    "%(events)s cannot.",
                    events=", ".join(refused.mapped("display_name")),
                )
            )
        events._oms_check_personal_data_kept()
        for event in events:
            if event.state == "dead":
                event.dead_letter_ids.filtered(
                    lambda d: d.state == "open"
                )._oms_mark_requeued()
            event._set_pending(reset_attempts=event.state == "dead")
        for direction in set(events.mapped("direction")):
            self._oms_trigger_runners(direction)
        return True

    def action_discard(self):
        return self.env["oms.integration.reason.wizard"]._oms_open(
            self, "_set_discarded", self.env._("Discard Events")
        )

    def action_open_mapping_center(self):
        """The unmapped values of the event's source (Mapping Center)."""
        self.ensure_one()
        return self.source_id.action_view_unmapped()

    def action_view_sale_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.sale_order_id.id,
            "view_mode": "form",
        }

    def _oms_check_user(self):
        self.check_access("read")
        if not self.env.su and not self.env.user.has_group(
            "oms_integration.group_oms_user"
        ):
            raise AccessError(
                self.env._("Only OMS Integration users can retry events.")
            )

    def _oms_redact(self, text):
        self.ensure_one()
        return redaction.redact_text(text, self.source_id._oms_known_secret_values())

    # === BUSINESS METHODS: STATE === #

    def _oms_update_state(self, target_state, extra_vals=None, track=True):
        """Move the events that may go to ``target_state`` there; the others
        are left as they are and the refusal is logged. Returns the events
        moved. ``track=False`` posts no tracking message: the normal path of
        the queue (a claim's lease, done); what a person must see (failed,
        dead, discarded, requeued) stays tracked."""
        allowed = const.EVENT_TRANSITIONS[target_state]
        moving = self.filtered(lambda e: e.state in allowed)
        for event in self - moving:
            _logger.warning(
                "Refused to move integration event %s from state %s to %s",
                event.id,
                event.state,
                target_state,
            )
        if moving:
            writer = moving if track else moving.with_context(tracking_disable=True)
            writer.write(dict(extra_vals or {}, state=target_state))
        return moving

    def _oms_ensure_moved(self, moved, target_state):
        refused = self - moved
        if refused:
            states = dict(const.EVENT_STATES)
            raise UserError(
                self.env._(
                    "These events cannot become '%(target)s' from their current "
                    "state: %(events)s.",
                    target=states[target_state],
                    events=", ".join(
                        f"{e.display_name} ({states[e.state]})" for e in refused
                    ),
                )
            )

    def _set_pending(self, reset_attempts=False):
        vals = {"next_attempt_at": fields.Datetime.now(), "lease_until": False}
        if reset_attempts:
            vals["attempts"] = 0
        moved = self._oms_update_state("pending", vals)
        self._oms_ensure_moved(moved, "pending")
        return moved

    def _set_processing(self, lease_seconds=None):
        """Lease these events to this worker; a claimed attempt counts, even
        if the worker dies."""
        now = fields.Datetime.now()
        lease = lease_seconds or self._oms_lease_seconds()
        moved = self.env[self._name]
        for attempts, events in self.grouped("attempts").items():
            moved |= events._oms_update_state(
                "processing",
                {
                    "started_at": now,
                    "lease_until": now + timedelta(seconds=lease),
                    "attempts": attempts + 1,
                },
                track=False,
            )
        self._oms_ensure_moved(moved, "processing")
        return moved

    def _oms_error_vals(self, error, hint, key=None, values=None):
        """The error fields of a failure: its texts as written now (secrets
        masked) and, when they come from the hints catalogue, its key and
        values (masked too) to show them in each reader's language."""
        self.ensure_one()
        return {
            "last_error": self._oms_redact(error),
            "error_hint": hint or False,
            "error_key": key or False,
            "error_values": {
                # Kept as JSON: numbers and texts (amounts, errors as text).
                name: value
                if isinstance(value, (int, float, bool)) or value is None
                else self._oms_redact(str(value))
                for name, value in (values or {}).items()
            }
            if key
            else False,
        }

    def _set_done(self, sale_order=None, note=None):
        now = fields.Datetime.now()
        vals = {
            "processed_at": now,
            "lease_until": False,
            "last_error": False,
            "error_hint": False,
            "error_key": False,
            "error_values": False,
        }
        if sale_order:
            vals["sale_order_id"] = sale_order.id
        if note:
            vals["result_note"] = note
        moved = self.env[self._name]
        for started_at, events in self.grouped("started_at").items():
            duration = (now - started_at).total_seconds() if started_at else 0.0
            moved |= events._oms_update_state(
                "done", dict(vals, duration=round(duration, 3)), track=False
            )
        self._oms_ensure_moved(moved, "done")
        moved._oms_note_callback_outcome()
        return moved

    def _set_failed(
        self,
        error,
        hint=None,
        permanent=False,
        retry_after=None,
        key=None,
        values=None,
    ):
        """Record a failure: schedule a retry with backoff, or dead-letter the
        event (a permanent error, or no attempt left). ``retry_after``
        (seconds) is a lower bound asked by the provider. ``key`` and
        ``values``: the hints catalogue's entry ``error`` and ``hint`` were
        made from (each reader then sees them in their language)."""
        for event in self:
            source = event.source_id
            if permanent or not backoff.should_retry(
                event.attempts, source.max_attempts
            ):
                event._set_dead(
                    error,
                    hint,
                    reason="permanent" if permanent else "exhausted",
                    key=key,
                    values=values,
                )
                continue
            delay = backoff.retry_delay(
                event.attempts, source.retry_base_delay, source.retry_max_delay
            )
            if retry_after:
                delay = max(delay, retry_after)
            moved = event._oms_update_state(
                "failed",
                dict(
                    event._oms_error_vals(error, hint, key, values),
                    lease_until=False,
                    next_attempt_at=fields.Datetime.now() + timedelta(seconds=delay),
                ),
            )
            event._oms_ensure_moved(moved, "failed")
            event._oms_note_callback_outcome()
        return self

    def _set_dead(self, error, hint=None, reason="permanent", key=None, values=None):
        now = fields.Datetime.now()
        for event in self:
            moved = event._oms_update_state(
                "dead",
                dict(
                    event._oms_error_vals(error, hint, key, values),
                    lease_until=False,
                    processed_at=now,
                ),
            )
            event._oms_ensure_moved(moved, "dead")
            self.env["oms.integration.dead.letter"]._oms_record(event, reason)
        self._oms_note_callback_outcome()
        return self

    def _oms_note_callback_outcome(self):
        """Show on the sale orders of these status callbacks whether the
        provider was told (see ``sale.order._oms_note_callbacks``)."""
        callbacks = self.filtered(
            lambda e: e.direction == "outbound" and e.status and e.sale_order_id
        )
        if callbacks:
            self.env["sale.order"]._oms_note_callbacks(callbacks)

    def _set_discarded(self, reason):
        moved = self._oms_update_state(
            "discarded",
            {
                "discard_reason": reason,
                "lease_until": False,
                "processed_at": fields.Datetime.now(),
            },
        )
        self._oms_ensure_moved(moved, "discarded")
        moved.dead_letter_ids.filtered(lambda d: d.state == "open").write(
            {"state": "discarded"}
        )
        for event in moved:
            event.message_post(
                body=self.env._(
                    "Discarded: %(reason)s",
                    reason=reason or self.env._("no reason given"),
                )
            )
        return moved

    def _oms_defer(self, until, reason):
        """Put claimed events back in the queue until ``until`` without
        counting an attempt: nothing was done (a rate limit, an open circuit,
        a paused source, a concurrent update). Not tracked: the reason is the
        event's result note."""
        for event in self:
            moved = event._oms_update_state(
                "pending",
                {
                    "next_attempt_at": until,
                    "lease_until": False,
                    "attempts": max(event.attempts - 1, 0),
                    "result_note": reason,
                },
                track=False,
            )
            event._oms_ensure_moved(moved, "pending")
        return self

    # === BUSINESS METHODS: CLAIM AND LEASE === #

    @api.model
    def _oms_lease_seconds(self):
        """How long a claimed event belongs to its worker: after that, a
        worker that died (killed, out of memory, time limit) loses it."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(const.LEASE_SECONDS_PARAM, const.DEFAULT_LEASE_SECONDS)
        )
        try:
            return max(int(value), 1)
        except (TypeError, ValueError):
            return const.DEFAULT_LEASE_SECONDS

    @api.model
    def _oms_ready_query(self, direction, now, ready, event_ids=None):
        """The events of ``direction`` ready to work on: ``due`` (pending or
        failed, their time has come) or ``expired`` (processing, lease run
        out), whose order has no earlier event still to do (one order's
        events are worked in the order received), and, outbound, whose
        source's circuit is not open. ``event_ids``: only among those (an
        engine that runs events one by one, such as queue jobs)."""
        condition = {
            "due": SQL(
                "event.state IN ('pending', 'failed') AND event.next_attempt_at <= %s",
                now,
            ),
            "expired": SQL(
                "event.state = 'processing' AND event.lease_until < %s", now
            ),
        }[ready]
        if event_ids is not None:
            condition = SQL(
                "%s AND event.id IN %s", condition, tuple(event_ids) or (0,)
            )
        return SQL(
            """
            SELECT event.id
              FROM oms_integration_event event
             WHERE event.direction = %(direction)s AND %(condition)s
               AND NOT EXISTS (
                    SELECT 1
                      FROM oms_integration_event earlier
                     WHERE earlier.source_id = event.source_id
                       AND earlier.direction = %(direction)s
                       AND earlier.external_order_id = event.external_order_id
                       AND earlier.id < event.id
                       -- An invalid version (failed, never retried) blocks
                       -- nothing: the provider's corrected one goes through.
                       AND (earlier.state IN ('pending', 'processing')
                            OR (earlier.state = 'failed'
                                AND earlier.next_attempt_at IS NOT NULL))
               )
               AND NOT EXISTS (
                    SELECT 1
                      FROM oms_integration_throttle throttle
                     WHERE event.direction = 'outbound'
                       AND throttle.source_id = event.source_id
                       AND throttle.open_until > %(now)s
               )
            """,
            direction=direction,
            condition=condition,
            now=now,
        )

    @api.model
    def _oms_count_due(self, direction="inbound"):
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT count(*) FROM (%s) AS ready",
                self._oms_ready_query(direction, fields.Datetime.now(), "due"),
            )
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _oms_claim(self, direction, limit, event_ids=None):
        """Lease due events of ``direction`` to this worker, at most
        ``limit``, in the order they are due.

        An event whose lease expired (its worker died while working on it)
        is claimed alone: a poison event that kills its worker never takes
        a batch with it again, and only it reaches the dead-letter queue
        ("lease expired") once out of attempts. Rows are locked with
        ``FOR UPDATE SKIP LOCKED``: workers claiming at once never take the
        same event, nor wait for each other. ``event_ids``: only among
        those."""
        self.flush_model()
        now = fields.Datetime.now()
        expired = self._oms_claim_expired(direction, now, event_ids)
        if expired:
            return expired
        lease_until = now + timedelta(seconds=self._oms_lease_seconds())
        self.env.cr.execute(
            SQL(
                """
                WITH due AS (
                    %(ready)s
                     ORDER BY event.next_attempt_at, event.id
                     LIMIT %(limit)s
                       FOR UPDATE OF event SKIP LOCKED
                )
                UPDATE oms_integration_event event
                   SET state = 'processing', started_at = %(now)s,
                       lease_until = %(lease_until)s,
                       attempts = COALESCE(event.attempts, 0) + 1,
                       write_uid = %(uid)s, write_date = %(now)s
                  FROM due
                 WHERE event.id = due.id
             RETURNING event.id, event.next_attempt_at
                """,
                ready=self._oms_ready_query(direction, now, "due", event_ids),
                limit=limit,
                now=now,
                lease_until=lease_until,
                uid=self.env.uid,
            ),
            # Another worker's claim meanwhile is retried by the caller.
            log_exceptions=False,
        )
        rows = sorted(self.env.cr.fetchall(), key=lambda row: (row[1], row[0]))
        events = self.sudo().browse([row[0] for row in rows])
        # Untracked, as _set_processing: the claim's lease is not news.
        events.invalidate_recordset(
            ["state", "started_at", "lease_until", "attempts", "write_uid"]
            + ["write_date"]
        )
        return events

    @api.model
    def _oms_claim_expired(self, direction, now, event_ids=None):
        """One event of ``direction`` whose lease expired, claimed alone; one
        out of attempts goes to the dead-letter queue instead."""
        while True:
            self.flush_model()
            self.env.cr.execute(
                SQL(
                    "%s ORDER BY event.lease_until LIMIT 1 "
                    "FOR UPDATE OF event SKIP LOCKED",
                    self._oms_ready_query(direction, now, "expired", event_ids),
                ),
                log_exceptions=False,
            )
            row = self.env.cr.fetchone()
            if not row:
                return self.browse()
            event = self.sudo().browse(row[0])
            if backoff.should_retry(event.attempts, event.source_id.max_attempts):
                _logger.warning(
                    "The worker processing integration event %s stopped before "
                    "its lease ended: it is tried again alone",
                    event.id,
                )
                # Its attempt counted when it was claimed; this one counts too.
                event.with_context(tracking_disable=True).write(
                    {"state": "failed", "lease_until": False}
                )
                return event._set_processing()
            event._set_dead(
                self.env._("The worker processing this event stopped (lease expired)."),
                self.env._(
                    "It stopped a worker each time it was tried alone: it may be "
                    "too large or trigger a bug. Report it with its payload; "
                    "Requeue it once fixed."
                ),
                reason="exhausted",
            )
