import collections
import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import queue
import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import psycopg2

from odoo import api, fields, models, sql_db
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, mute_logger

from .. import const
from ..exceptions import OmsProcessingError
from ..lib import backoff, normalize, outbound, redaction, signatures

_logger = logging.getLogger(__name__)

# One inbound event per version of an external order: the same payload, or
# the same ``updated_at`` (webhook and polling overlap). Name, column, and what
# else a row needs to be covered.
_REPEAT_INDEXES = (
    ("oms_integration_event_payload_unique", "payload_hash", SQL()),
    (
        "oms_integration_event_version_unique",
        "external_updated_at",
        SQL(" AND external_updated_at IS NOT NULL"),
    ),
)
# How a valid webhook order is stored (see _oms_store_webhook_order): one
# statement, written once for both ways of running it, named parameters in
# braces. A repeat (the same delivery id, or the same payload or version of
# the order, by the unique indexes) returns no row.
_WEBHOOK_INSERT = """
    INSERT INTO oms_integration_event (
        direction, source_id, provider, event_type,
        external_order_id, external_updated_at, delivery_id,
        payload, payload_hash, headers, state, attempts,
        next_attempt_at, received_at,
        create_uid, write_uid, create_date, write_date)
    VALUES ('inbound', {source}, {provider}, {event_type},
            {external_order_id}, {version}, {delivery_id},
            {payload}, {payload_hash}, {headers}, 'pending', 0,
            {now}, {now},
            NULL, NULL,
            now() at time zone 'UTC', now() at time zone 'UTC')
    ON CONFLICT DO NOTHING
    RETURNING id, EXISTS (SELECT 1 FROM ir_cron_trigger WHERE id = {trigger})
"""
# The parameters of that statement, in order, with their types.
_WEBHOOK_PARAMS = (
    ("source", "integer"),
    ("provider", "varchar"),
    ("event_type", "varchar"),
    ("external_order_id", "varchar"),
    ("version", "timestamp"),
    ("delivery_id", "varchar"),
    ("payload", "text"),
    ("payload_hash", "varchar"),
    ("headers", "text"),
    ("now", "timestamp"),
    ("trigger", "integer"),
)
_WEBHOOK_PREPARED = "oms_store_webhook_order"
# The event a webhook order repeats, with the parameters of _WEBHOOK_INSERT:
# the same delivery id, else the newest of the same payload or version of the
# order (webhook and polling overlap). Run on Odoo's cursors and on the kept
# connections alike (_repeat_id).
_FIND_DELIVERY = """
    SELECT id FROM oms_integration_event
     WHERE source_id = %(source)s AND direction = 'inbound'
       AND delivery_id = %(delivery_id)s
"""
_FIND_SAME_VERSION = """
    SELECT id FROM oms_integration_event
     WHERE source_id = %(source)s AND direction = 'inbound'
       AND external_order_id = %(external_order_id)s
       AND (payload_hash = %(payload_hash)s OR external_updated_at = %(version)s)
     ORDER BY id DESC LIMIT 1
"""
# The statement with named parameters (a cursor of Odoo's), prepared (a
# kept connection), and run prepared: all built here from the constants above.
_WEBHOOK_INSERT_NAMED = _WEBHOOK_INSERT.format(
    **{name: f"%({name})s" for name, _kind in _WEBHOOK_PARAMS}
)
_WEBHOOK_PREPARE = "PREPARE {} ({}) AS {}".format(
    _WEBHOOK_PREPARED,
    ", ".join(kind for _name, kind in _WEBHOOK_PARAMS),
    _WEBHOOK_INSERT.format(
        **{
            name: f"${position}"
            for position, (name, _kind) in enumerate(_WEBHOOK_PARAMS, 1)
        }
    ),
)
_WEBHOOK_EXECUTE = "EXECUTE {} ({})".format(
    _WEBHOOK_PREPARED, ", ".join(["%s"] * len(_WEBHOOK_PARAMS))
)


class _WebhookStore:
    """Connections of this process, kept open, on which webhook orders are
    stored with a prepared statement (``_oms_store_webhook_order``).

    Odoo resets a pooled connection (``DISCARD ALL``) each time a request
    takes it, which throws away every plan PostgreSQL keeps, that of the
    event's foreign-key check among them: planning the INSERT and that check
    again for every delivery cost as much as the rest of the request. These
    connections are never reset: the statement and the check are planned
    once per connection. They are in autocommit (each order is committed as
    it is stored) at READ COMMITTED, so a twin committed meanwhile is seen at
    once. A connection serves one statement at a time (threaded servers take
    one each), with a cursor kept with it, and none is used across a fork.
    """

    MAX_IDLE = 4  # per database

    def __init__(self):
        self._lock = threading.Lock()
        self._idle = collections.defaultdict(list)
        self._pid = os.getpid()

    def _take(self, dbname):
        with self._lock:
            if self._pid != os.getpid():
                # The parent's connections: forget them, never close them
                # (closing would end the parent's sessions too).
                self._idle = collections.defaultdict(list)
                self._pid = os.getpid()
            idle = self._idle[dbname]
            while idle:
                connection, cr = idle.pop()
                if not connection.closed:
                    return connection, cr
        _dbname, info = sql_db.connection_info_for(dbname)
        # Named apart from Odoo's own, for whoever looks at pg_stat_activity.
        name = info.get("application_name") or f"odoo-{os.getpid()}"
        info = dict(info, application_name=f"{name}-oms-webhook"[:63])
        connection = psycopg2.connect(**info)
        try:
            connection.autocommit = True
            cr = connection.cursor()
            cr.execute(_WEBHOOK_PREPARE)
        except Exception:
            connection.close()
            raise
        return connection, cr

    def _give_back(self, dbname, connection, cr):
        with self._lock:
            if self._pid == os.getpid() and len(self._idle[dbname]) < self.MAX_IDLE:
                self._idle[dbname].append((connection, cr))
                return
        connection.close()

    def _run_once(self, dbname, work):
        connection, cr = self._take(dbname)
        try:
            result = work(cr)
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            with contextlib.suppress(psycopg2.Error):
                connection.close()
            raise
        except Exception:
            self._give_back(dbname, connection, cr)
            raise
        self._give_back(dbname, connection, cr)
        return result

    def run(self, dbname, work):
        """``work(cursor)`` on a kept connection to ``dbname``; its result.
        A connection lost (the server restarted, an idle timeout) is replaced
        once; other errors are raised, the connection kept."""
        try:
            return self._run_once(dbname, work)
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            return self._run_once(dbname, work)


_WEBHOOK_STORE = _WebhookStore()


def _repeat_id(cr, params):
    """The id of the event that a webhook order repeats, or None (``params``
    as for _WEBHOOK_INSERT)."""
    cr.execute(_FIND_DELIVERY, params)
    row = cr.fetchone()
    if not row:
        cr.execute(_FIND_SAME_VERSION, params)
        row = cr.fetchone()
    return row[0] if row else None


# The recorder of the answers of status callbacks, per sending thread (see
# _oms_recording_behind).
_RECORDING = threading.local()


class _Recorder:
    """Records the answers of status callbacks handed to it (``put``), chunk
    after chunk in the order received, in a thread and a transaction of its
    own (one commit per chunk), while the sending thread goes on sending.
    ``wait`` returns once everything handed over is recorded. A chunk whose
    recording fails is logged: its events stay claimed until their lease
    expires, then are sent again (with the same idempotency key)."""

    def __init__(self, model):
        self.model = model
        self.chunks = queue.SimpleQueue()
        self.thread = None

    def put(self, sent):
        if not sent:
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="oms-record")
            self.thread.start()
        self.chunks.put(sent)

    def wait(self):
        """Wait until every answer handed over is recorded; returns whether
        there were any."""
        if self.thread is None:
            return False
        self.chunks.put(None)
        self.thread.join()
        self.thread = None
        return True

    def _run(self):
        model = self.model
        with model.env.registry.cursor() as cr:
            env = model.env(cr=cr)
            while (sent := self.chunks.get()) is not None:
                try:
                    model.with_env(env)._oms_record_sent(
                        [
                            dataclasses.replace(
                                answer, event=answer.event.with_env(env)
                            )
                            for answer in sent
                        ]
                    )
                    cr.commit()  # pylint: disable=invalid-commit
                except Exception:  # noqa: BLE001 - a thread's error would be lost
                    cr.rollback()
                    _logger.exception(
                        "Recording %s status callbacks failed: they are sent again "
                        "once their lease expires",
                        len(sent),
                    )
                env.invalidate_all()


@dataclass
class SentStatus:
    """The answer to one status request, read but not recorded yet."""

    event: models.BaseModel
    request: dict
    response: object  # a requests.Response, or None when no answer came
    error: str | None
    duration: float
    outcome: str | None  # lib.outbound's, or None after an unexpected error
    message: str | None
    retry_after: float | None = None

    @property
    def transport_failed(self):
        """No answer, or 5xx: what the circuit breaker counts."""
        return self.response is None or outbound.is_transport_failure(
            self.response.status_code
        )

    @property
    def counts_for_circuit(self):
        return self.outcome is not None and self.event.event_type != "test"


class OmsIntegrationEvent(models.Model):
    """One delivery in the staging queue, inbound (an order from a provider) or
    outbound (a status sent to a provider).

    State changes go through one ``_set_<state>`` method per target state,
    each checking the allowed source states (``const.EVENT_TRANSITIONS``).
    """

    _name = "oms.integration.event"
    _description = "Integration Event"
    _inherit = ["mail.thread"]
    _order = "id desc"

    # === FIELDS === #

    direction = fields.Selection(
        selection=const.DIRECTIONS, required=True, default="inbound", readonly=True
    )
    # Not indexed alone: the unique delivery index and the queue's indexes
    # start with the source. Every index costs each write of an event (its
    # state changes are never HOT updates, the partial indexes naming it).
    source_id = fields.Many2one(
        "oms.integration.source",
        required=True,
        ondelete="restrict",
        readonly=True,
    )
    # The source's, not stored: a stored company would cost every delivery a
    # foreign-key check and a lock of the company's row, which all deliveries
    # share (the multi-company rule reads it through the source).
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
    error_hint = fields.Text(string="What To Do", readonly=True)
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
            """
            CREATE INDEX IF NOT EXISTS oms_integration_event_due_idx
                ON oms_integration_event (next_attempt_at, id)
                WHERE state IN ('pending', 'failed');
            CREATE INDEX IF NOT EXISTS oms_integration_event_lease_idx
                ON oms_integration_event (lease_until)
                WHERE state = 'processing';
            -- Outbound events of one order, in order. Inbound ones are in the
            -- unique payload index (source, order id, ...), which the queue's
            -- look for an earlier event of the order uses: one index less to
            -- write for each delivery and each change of an inbound event.
            CREATE INDEX IF NOT EXISTS oms_integration_event_outbound_order_idx
                ON oms_integration_event (source_id, external_order_id, id)
                WHERE direction = 'outbound' AND external_order_id IS NOT NULL;
            CREATE INDEX IF NOT EXISTS oms_integration_event_gc_idx
                ON oms_integration_event (source_id, processed_at)
                WHERE state IN ('done', 'discarded');
            -- Payloads of events without an order id (invalid deliveries,
            -- stored once); those of an order are in its unique index.
            CREATE INDEX IF NOT EXISTS oms_integration_event_orderless_hash_idx
                ON oms_integration_event (source_id, payload_hash)
                WHERE external_order_id IS NULL OR external_order_id = '';
            -- Indexes of earlier versions, which no query needed (Odoo keeps
            -- an index its field no longer asks for).
            DROP INDEX IF EXISTS oms_integration_event_order_idx;
            DROP INDEX IF EXISTS oms_integration_event__source_id_index;
            DROP INDEX IF EXISTS oms_integration_event__company_id_index;
            DROP INDEX IF EXISTS oms_integration_event__event_type_index;
            DROP INDEX IF EXISTS oms_integration_event__payload_hash_index;
            """
        )
        for name, column, condition in _REPEAT_INDEXES:
            self._oms_create_repeat_index(name, column, condition)
        self._oms_index_inbound_orders()

    def _oms_index_inbound_orders(self):
        """The queue finds the earlier inbound events of an order through the
        unique payload index. Where that index only covers the events after
        repeats stored by an earlier version (``_oms_create_repeat_index``),
        PostgreSQL cannot use it for that look: an index of its own keeps it
        fast there, and is dropped once the payload index covers all events."""
        cr = self.env.cr
        cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            [_REPEAT_INDEXES[0][0]],
        )
        row = cr.fetchone()
        if row and not re.search(r"\bid > ", row[0]):
            cr.execute("DROP INDEX IF EXISTS oms_integration_event_inbound_order_idx")
            return
        cr.execute(
            """
            CREATE INDEX IF NOT EXISTS oms_integration_event_inbound_order_idx
                ON oms_integration_event (source_id, external_order_id, id)
                WHERE direction = 'inbound' AND external_order_id IS NOT NULL
            """
        )

    def _oms_create_repeat_index(self, name, column, condition):
        """A unique index that makes a repeated version of an external order
        (the same payload, or the same ``updated_at``) a conflict that the
        receiving INSERT skips (``ON CONFLICT DO NOTHING``).

        Events stored twice by earlier versions stay as they are (an event is
        never deleted here): the index then covers the events after the last
        of them, and the log says so.
        """
        cr = self.env.cr
        cr.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
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

    @api.depends("direction", "event_type", "external_order_id")
    def _compute_display_name(self):
        directions = dict(const.DIRECTIONS)
        for event in self:
            event.display_name = " ".join(
                part
                for part in (
                    directions.get(event.direction, ""),
                    event.event_type or "",
                    event.external_order_id or "",
                    f"#{event.id}" if event.id else "",
                )
                if part
            )

    @api.depends("source_id")
    @api.depends_context("uid")
    def _compute_payload_display(self):
        for event in self:
            raw = event.sudo().payload
            event.payload_display = redaction.pretty_payload(
                raw, event.source_id._oms_known_secret_values()
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
        for event in events:
            if event.state == "dead":
                event.dead_letter_ids.filtered(
                    lambda d: d.state == "open"
                )._oms_mark_requeued()
            event._set_pending(reset_attempts=event.state == "dead")
        events.source_id._oms_trigger_queue()
        return True

    def action_discard(self):
        return self.env["oms.integration.reason.wizard"]._oms_open(
            self, "_set_discarded", self.env._("Discard Events")
        )

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

    # === BUSINESS METHODS: STATE === #

    def _oms_update_state(self, target_state, extra_vals=None, track=True):
        """Move the events that may go to ``target_state`` there.

        Events in a state not allowed by ``const.EVENT_TRANSITIONS`` are left
        as they are and the refusal is logged; the events moved are returned.
        ``track=False`` posts no chatter tracking message: the normal path of
        the queue (a claim's lease, done), which processed_at, the exchange
        log and the order record; what a person must see (failed, dead,
        discarded, requeued) stays tracked.
        """
        allowed = const.EVENT_TRANSITIONS[target_state]
        moving = self.filtered(lambda e: e.state in allowed)
        (self - moving)._oms_log_refused(target_state)
        if moving:
            writer = moving if track else moving.with_context(tracking_disable=True)
            writer.write(dict(extra_vals or {}, state=target_state))
        return moving

    def _oms_log_refused(self, target_state):
        for event in self:
            _logger.warning(
                "Refused to move integration event %s from state %s to %s",
                event.id,
                event.state,
                target_state,
            )

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

    def _set_processing(self, lease_seconds=const.DEFAULT_LEASE_SECONDS):
        now = fields.Datetime.now()
        moved = self._oms_update_state(
            "processing",
            {"started_at": now, "lease_until": now + timedelta(seconds=lease_seconds)},
            track=False,
        )
        # A claimed attempt counts, even if the worker dies.
        quiet = moved.with_context(tracking_disable=True)
        for attempts, events in quiet.grouped("attempts").items():
            events.write({"attempts": attempts + 1})
        self._oms_ensure_moved(moved, "processing")
        return moved

    def _set_done(self, sale_order=None, note=None):
        now = fields.Datetime.now()
        vals = {
            "processed_at": now,
            "lease_until": False,
            "last_error": False,
            "error_hint": False,
        }
        if sale_order:
            vals["sale_order_id"] = sale_order.id
        if note:
            vals["result_note"] = note
        # The events of one claim started together: one write for them all.
        moved = self.env[self._name]
        for started_at, events in self.grouped("started_at").items():
            duration = (now - started_at).total_seconds() if started_at else 0.0
            moved |= events._oms_update_state(
                "done", dict(vals, duration=duration), track=False
            )
        self._oms_ensure_moved(moved, "done")
        return moved

    def _set_failed(self, error, hint=None, permanent=False, retry_after=None):
        """Record a failure: schedule a retry, or dead-letter the event.

        Permanent errors (validation, mapping, policy) and events out of
        attempts go to the dead-letter queue. ``retry_after`` (seconds) is a
        lower bound asked by the provider.
        """
        for event in self:
            source = event.source_id
            if permanent or not backoff.should_retry(
                event.attempts, source.max_attempts
            ):
                event._set_dead(
                    error, hint, reason="permanent" if permanent else "exhausted"
                )
                continue
            delay = backoff.retry_delay(
                event.attempts, source.retry_base_delay, source.retry_max_delay
            )
            if retry_after:
                delay = max(delay, retry_after)
            moved = event._oms_update_state(
                "failed",
                {
                    "last_error": event._oms_redact(error),
                    "error_hint": hint or False,
                    "lease_until": False,
                    "next_attempt_at": fields.Datetime.now() + timedelta(seconds=delay),
                },
            )
            event._oms_ensure_moved(moved, "failed")
        return self

    def _set_dead(self, error, hint=None, reason="permanent"):
        now = fields.Datetime.now()
        for event in self:
            moved = event._oms_update_state(
                "dead",
                {
                    "last_error": event._oms_redact(error),
                    "error_hint": hint or False,
                    "lease_until": False,
                    "processed_at": now,
                },
            )
            event._oms_ensure_moved(moved, "dead")
            self.env["oms.integration.dead.letter"]._oms_record(event, reason)
        return self

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

    # === BUSINESS METHODS: QUEUE === #

    @api.model
    def _cron_send_statuses(
        self, batch_size=const.OUTBOUND_BATCH_SIZE, time_budget=None, commit=True
    ):
        """Cron: send due outbound status events (see _cron_process_queue)."""
        return self._cron_process_queue(
            batch_size, time_budget, commit, direction="outbound"
        )

    @api.model
    def _cron_process_queue(
        self, batch_size=20, time_budget=None, commit=True, direction="inbound"
    ):
        """Cron: process due events of ``direction`` in batches within a time
        budget (inbound: apply orders; outbound: send statuses).

        Each batch is claimed with ``FOR UPDATE SKIP LOCKED`` and a lease, then
        committed, so that other workers skip it and a killed worker's events
        are claimed again once their lease expires. Each event is processed
        in its own savepoint: one failure never rolls back the others.
        Outbound, the answers are recorded while the next requests are sent
        (``_oms_recording_behind``). ``commit=False`` keeps everything in
        the caller's transaction (tests).
        """
        if time_budget is None:
            time_budget = const.DEFAULT_QUEUE_TIME_BUDGET
        deadline = time.monotonic() + time_budget
        done = 0
        with self._oms_recording_behind(commit and direction == "outbound"):
            while time.monotonic() < deadline:
                events = self._oms_claim(batch_size, direction)
                if not events:
                    # The answers still being recorded may make the next
                    # statuses of their orders due: claim again once they are.
                    if not self._oms_wait_recorded():
                        break
                    if commit:
                        self._oms_commit()
                    continue
                if commit:
                    self._oms_commit()
                events._oms_process_claimed(record_behind=True)
                done += len(events)
                if commit:
                    self._oms_commit()
        remaining = self._oms_count_due(direction)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    @api.model
    def _oms_commit(self):
        # The queue commits between batches (as queue_job does): the lease
        # must be visible to other workers before the work starts. Never
        # inside Odoo's own test runner, whose transaction is rolled back.
        if not getattr(threading.current_thread(), "testing", False):
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _oms_due_query(self, select, limit=None, ready=("due", "expired")):
        """The events ready to process: ``due`` (pending or failed, their
        time has come) and/or ``expired`` (processing, lease run out)."""
        conditions = {
            "due": "(event.state IN ('pending', 'failed') "
            "AND event.next_attempt_at <= %(now)s)",
            "expired": "(event.state = 'processing' AND event.lease_until < %(now)s)",
        }
        query = f"""
            SELECT {select}
              FROM oms_integration_event event
             WHERE event.direction = %(direction)s
               AND ({" OR ".join(conditions[kind] for kind in ready)})
               -- Events of one external order are applied in the order received.
               AND NOT EXISTS (
                    SELECT 1
                      FROM oms_integration_event earlier
                     WHERE earlier.source_id = event.source_id
                       AND earlier.direction = %(direction)s
                       AND earlier.external_order_id = event.external_order_id
                       AND earlier.id < event.id
                       AND earlier.state IN ('pending', 'processing', 'failed')
               )
               -- Status callbacks wait while their source's circuit is open.
               AND NOT EXISTS (
                    SELECT 1
                      FROM oms_integration_source_throttle throttle
                     WHERE event.direction = 'outbound'
                       AND throttle.source_id = event.source_id
                       AND throttle.open_until > %(now)s
               )
        """
        if limit:
            query += """
             ORDER BY event.next_attempt_at, event.id
             LIMIT %(limit)s
             FOR UPDATE OF event SKIP LOCKED
            """
        return query

    @api.model
    def _oms_count_due(self, direction="inbound"):
        self.flush_model()
        self.env.cr.execute(
            self._oms_due_query("count(*)"),
            {"now": fields.Datetime.now(), "direction": direction},
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _oms_claim(self, limit, direction="inbound"):
        """Lock up to ``limit`` due events and lease them to this worker."""
        self.flush_model()
        now = fields.Datetime.now()
        params = {"now": now, "limit": limit, "direction": direction}
        # One statement per kind of ready event: with both in one OR, the
        # planner sorted the whole backlog on every claim (0.7 s with 100,000
        # pending); apart, each reads its partial index in order and stops at
        # ``limit`` (1 ms). Expired leases are rare: the ORM handles them.
        self.env.cr.execute(
            self._oms_due_query("event.id", limit=limit, ready=("expired",)), params
        )
        expired = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        for event in expired:
            # Its worker died; the attempt it had started counts.
            if backoff.should_retry(event.attempts, event.source_id.max_attempts):
                event._oms_update_state("pending")
            else:
                event._set_dead(
                    self.env._(
                        "The worker processing this event stopped (lease expired)."
                    ),
                    self.env._(
                        "Requeue the event; if it stops a worker again, "
                        "report it with the payload."
                    ),
                    reason="exhausted",
                )
        claimed = expired.filtered(lambda e: e.state == "pending")
        claimed._set_processing()
        if len(claimed) < limit:
            claimed |= self._oms_claim_due(limit - len(claimed), direction, now)
        return claimed

    def _oms_claim_due(self, limit, direction, now):
        """Lease up to ``limit`` due events (pending or failed) in one
        statement, as ``_set_processing`` would (no tracking, the attempt
        counted): the ORM read each event, then wrote it, a tenth of the cost
        of a status callback."""
        lease_until = now + timedelta(seconds=const.DEFAULT_LEASE_SECONDS)
        self.env.cr.execute(
            f"""
            WITH due AS ({
                self._oms_due_query(
                    "event.id, event.next_attempt_at", limit=limit, ready=("due",)
                )
            })
            UPDATE oms_integration_event event
               SET state = 'processing', started_at = %(now)s,
                   lease_until = %(lease_until)s,
                   attempts = COALESCE(event.attempts, 0) + 1,
                   write_uid = %(uid)s, write_date = now() at time zone 'UTC'
              FROM due
             WHERE event.id = due.id
         RETURNING event.id, due.next_attempt_at
            """,
            {
                "now": now,
                "limit": limit,
                "direction": direction,
                "lease_until": lease_until,
                "uid": self.env.uid,
            },
        )
        rows = sorted(self.env.cr.fetchall(), key=lambda row: (row[1], row[0]))
        events = self.sudo().browse([row[0] for row in rows])
        events.invalidate_recordset(
            ["state", "started_at", "lease_until", "attempts"]
            + ["write_uid", "write_date"]
        )
        return events

    def _oms_process_claimed(self, record_behind=False):
        outbound_events = self.filtered(lambda e: e.direction == "outbound")
        if outbound_events:
            outbound_events._oms_send_claimed(record_behind)
        for event in self - outbound_events:
            try:
                with self.env.cr.savepoint():
                    sale_order, note = event._oms_process()
            except OmsProcessingError as exc:
                if exc.unmapped:
                    self.env["oms.integration.mapping"]._oms_note_unmapped(
                        event.source_id, exc.unmapped
                    )
                event._set_failed(
                    exc.message,
                    exc.hint,
                    permanent=exc.permanent,
                    retry_after=exc.retry_after,
                )
            except psycopg2.OperationalError as exc:
                event._set_failed(
                    str(exc),
                    self.env._(
                        "A temporary database conflict: the event will be "
                        "retried by itself."
                    ),
                )
            except Exception as exc:  # noqa: BLE001 - one event never stops the batch
                _logger.exception("Processing integration event %s failed", event.id)
                event._set_failed(
                    str(exc),
                    self.env._(
                        "An unexpected error: the event will be retried. If it "
                        "keeps failing, report it with this error."
                    ),
                )
            else:
                event._set_done(sale_order or None, note)

    def _oms_process(self):
        """Apply one inbound event; return ``(sale_order, note)``."""
        self.ensure_one()
        source = self.source_id
        parsed = source._oms_parse_delivery((self.sudo().payload or "").encode())
        if parsed.errors:
            raise OmsProcessingError(
                "\n".join(f"{e.path}: {e.message}" for e in parsed.errors),
                hint=self.env._(
                    "The payload does not follow the provider's format. Ask the "
                    "provider to send the order again, then discard this event."
                ),
            )
        orders = [
            order
            for order in parsed.orders
            if order.external_id == self.external_order_id
        ] or parsed.orders[:1]
        builder = self.env["oms.integration.order.builder"]
        sale_order, notes = self.env["sale.order"], []
        for order in orders:
            sale_order, note = builder._oms_apply(self, order)
            if note:
                notes.append(note)
        return sale_order, "\n".join(notes) or False

    # === BUSINESS METHODS: SENDING === #

    def _oms_defer(self, until, reason):
        """Put claimed outbound events back in the queue until ``until``
        without counting an attempt (rate limit, circuit breaker, paused
        source): nothing was sent. Not tracked in the chatter: the reason is
        the event's result and the source tells when sending pauses."""
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

    def _oms_send_claimed(self, record_behind=False):
        """Send claimed outbound events, unless their source may not send
        now; every outcome is recorded on its event.

        The claim returns one status per order, so the events are independent:
        each source's requests go out in waves of up to
        ``const.OUTBOUND_CONCURRENCY`` at once (``_oms_send_waves``). With
        ``record_behind``, the answers are handed to the recorder a chunk at a
        time as they come, while the next requests are sent, if the cron
        allows it (``_oms_record_sent_behind``); otherwise they are recorded
        together at the end (``_oms_record_sent``)."""
        handover = self._oms_record_sent_behind if record_behind else None
        sent = []
        for source, events in self.grouped("source_id").items():
            refusal = source._oms_traffic_refusal("outbound")
            if not refusal:
                sent += events._oms_send_waves(source, handover)
            elif source.active and source.state == "paused" and source.outbound_enabled:
                # A paused source keeps its statuses until it is active again.
                until = fields.Datetime.now() + timedelta(
                    seconds=source.retry_base_delay
                )
                events._oms_defer(until, refusal)
            else:
                events._set_dead(
                    refusal,
                    self.env._(
                        "Nothing was sent. Fix the source (consent, Send Order "
                        "Statuses), then Retry this event."
                    ),
                )
        if record_behind:
            self._oms_record_sent_behind(sent)
        else:
            self._oms_record_sent(sent)
        return self

    def _oms_send_waves(self, source, handover=None):
        """Send these claimed events of ``source``, up to
        ``const.OUTBOUND_CONCURRENCY`` requests in flight at once, and read
        the answers in order; returns them (``SentStatus``), not recorded yet.
        With ``handover``, every ``const.OUTBOUND_RECORD_CHUNK`` answers read
        are passed to it instead (to be recorded), and only the last ones
        are returned.

        The circuit breaker bounds what is in flight
        (``_oms_circuit_wave_size``): nothing while it is open (the rest goes
        back to the queue), one probe when half-open, never more requests
        than the failures left before it opens, so a dead endpoint gets no
        more than the threshold. Its state is read afresh after every failure
        and after ``const.OUTBOUND_CIRCUIT_RECHECK`` successes (another worker
        may have opened it). Each request takes its rate-limit slot here,
        then goes out at once from the pool of sending threads, so the
        limit's spacing holds. No request starts after
        ``const.OUTBOUND_BATCH_SECONDS``: the rest goes back to the queue."""
        with source._oms_keep_throttle_cursor():
            return self._oms_send_waves_kept(source, handover)

    def _oms_send_waves_kept(self, source, handover=None):
        built = self._oms_build_requests()
        waiting = [event for event in self if event in built]
        state = source._oms_circuit_state()
        deadline = time.monotonic() + const.OUTBOUND_BATCH_SECONDS
        in_flight = collections.deque()
        uncounted, sent = [], []
        while waiting or in_flight:
            size = source._oms_circuit_wave_size(state)
            if not size and not in_flight:
                self.browse([event.id for event in waiting])._oms_defer(
                    state.open_until,
                    self.env._("Sending is paused (too many failures in a row)."),
                )
                break
            if waiting and time.monotonic() > deadline:
                self.browse([event.id for event in waiting])._oms_defer(
                    fields.Datetime.now(),
                    self.env._(
                        "The provider answered slowly: sent with a later batch."
                    ),
                )
                waiting = []
            while waiting and len(in_flight) < size:
                event = waiting.pop(0)
                wait = source._oms_take_rate_slot()
                if wait:
                    (event | self.browse([e.id for e in waiting]))._oms_defer(
                        fields.Datetime.now() + timedelta(seconds=wait),
                        self.env._("Rate limit of the source reached."),
                    )
                    waiting = []
                    break
                in_flight.append((event, source._oms_start_request(built[event])))
            if not in_flight:
                continue
            event, request = in_flight.popleft()
            answer = event._oms_read_answer(request)
            sent.append(answer)
            if handover and len(sent) >= const.OUTBOUND_RECORD_CHUNK:
                handover(sent)
                sent = []
            if answer.counts_for_circuit:
                uncounted.append((not answer.transport_failed, answer.message))
            if uncounted and (
                answer.transport_failed
                or state.failures
                or len(uncounted) >= const.OUTBOUND_CIRCUIT_RECHECK
                or not (waiting or in_flight)
            ):
                state = source._oms_circuit_record_many(uncounted)
                uncounted = []
        return sent

    def _oms_build_requests(self):
        """``{event: request}`` of these claimed events, built (and signed)
        before the first wave; the events whose request cannot be built are
        recorded as failed. All in one savepoint: a database error in one
        rolls it back, and each is then built in a savepoint of its own."""
        try:
            with self.env.cr.savepoint():
                built = {event: event._oms_build_request() for event in self}
        except psycopg2.Error:
            _logger.exception("Building %s status requests failed", len(self))
            built = {}
            for event in self:
                try:
                    with self.env.cr.savepoint():
                        built[event] = event._oms_build_request()
                except psycopg2.Error as exc:
                    event._oms_fail_unexpectedly(str(exc))
        return {event: request for event, request in built.items() if request}

    def _oms_build_request(self):
        """The provider's request for this claimed event, or None when it
        cannot be built (the failure is recorded on the event; a database
        error is raised, for the caller's savepoint)."""
        self.ensure_one()
        try:
            if (
                self.event_type == "test"
                and not self.source_id._oms_has_test_endpoint()
            ):
                raise OmsProcessingError(self.source_id._oms_no_test_endpoint_message())
            return self.source_id._oms_build_status_request(self)
        except psycopg2.Error:
            raise
        except OmsProcessingError as exc:
            self._set_failed(exc.message, exc.hint, permanent=exc.permanent)
        except Exception as exc:  # noqa: BLE001 - one event never stops the batch
            _logger.exception("Sending integration event %s failed", self.id)
            self._set_failed(
                str(exc),
                self.env._(
                    "An unexpected error before sending: the event will be "
                    "retried. If it keeps failing, report it with this error."
                ),
            )
        return None

    def _oms_read_answer(self, request):
        """Send ``request`` (or wait for it, when started already) and read
        the provider's answer: a ``SentStatus``."""
        self.ensure_one()
        source = self.source_id
        try:
            response, error, duration = source._oms_send_request(request)
            outcome, message, retry_after = source._oms_read_status_answer(
                response, error
            )
        except Exception as exc:  # noqa: BLE001 - one event never stops the batch
            _logger.exception("Sending integration event %s failed", self.id)
            return SentStatus(self, request, None, str(exc), 0.0, None, str(exc))
        return SentStatus(
            self, request, response, error, duration, outcome, message, retry_after
        )

    @contextlib.contextmanager
    def _oms_recording_behind(self, enabled=True):
        """Within this context, the answers of status callbacks are recorded
        in a thread and a transaction of their own (``_Recorder``), a chunk
        of ``const.OUTBOUND_RECORD_CHUNK`` answers at a time, while the next
        requests are sent (``_oms_record_sent_behind``): their database work
        (exchange logs, events, orders) overlaps the sending instead of
        stopping it. The events stay claimed until their chunk is committed,
        so the next status of their orders waits for it. Not inside Odoo's
        test runner, whose single transaction the thread cannot share."""
        if (
            not enabled
            or getattr(threading.current_thread(), "testing", False)
            or getattr(_RECORDING, "recorder", None) is not None
        ):
            yield
            return
        _RECORDING.recorder = _Recorder(self.browse())
        try:
            yield
        except BaseException:
            # What this transaction holds must not hold up the recorder.
            self.env.cr.rollback()
            raise
        finally:
            try:
                self._oms_wait_recorded()
            finally:
                _RECORDING.recorder = None

    def _oms_record_sent_behind(self, sent):
        """Hand the answers ``sent`` to the recorder inside
        ``_oms_recording_behind``; otherwise record them now. The events were
        claimed in a committed transaction and this one has not written them
        since: the recorder never waits for this transaction."""
        recorder = getattr(_RECORDING, "recorder", None)
        if recorder is None:
            self._oms_record_sent(sent)
        else:
            recorder.put(sent)

    @api.model
    def _oms_wait_recorded(self):
        """Wait for the answers being recorded behind, if any; returns whether
        there were. This transaction must hold nothing the recorder needs:
        commit before."""
        recorder = getattr(_RECORDING, "recorder", None)
        return recorder is not None and recorder.wait()

    def _oms_record_sent(self, sent):
        """Record the answers ``sent`` (``SentStatus``) together: their
        exchange logs in one INSERT, the events delivered, the sale orders'
        last status, the failures. Should that fail, each event is recorded
        in a savepoint of its own: one event never rolls back the others.
        Returns the exchanges logged."""
        Exchange = self.env["oms.integration.exchange"]
        if not sent:
            return Exchange
        try:
            with self.env.cr.savepoint():
                return self._oms_record_answers(sent)
        except Exception:  # noqa: BLE001 - record them one by one instead
            _logger.exception(
                "Recording %s status callbacks together failed: one by one now",
                len(sent),
            )
        exchanges = Exchange
        for answer in sent:
            try:
                with self.env.cr.savepoint():
                    exchanges |= self._oms_record_answers([answer])
            except Exception as exc:  # noqa: BLE001 - one event never stops the batch
                _logger.exception(
                    "Recording status callback %s failed", answer.event.id
                )
                exchanges |= answer.event._oms_log_answer_only(answer)
                answer.event._oms_fail_unexpectedly(str(exc))
        return exchanges

    def _oms_log_answer_only(self, answer):
        """Keep the exchange log of ``answer`` when recording it failed: every
        request sent is logged."""
        Exchange = self.env["oms.integration.exchange"]
        try:
            with self.env.cr.savepoint():
                return Exchange._oms_log(
                    self,
                    answer.request,
                    answer.response,
                    answer.error,
                    answer.outcome or outbound.RETRY,
                    round(answer.duration, 3),
                )
        except Exception:  # noqa: BLE001 - the failure is recorded next
            _logger.exception("Logging the exchange of event %s failed", self.id)
        return Exchange

    def _oms_record_answers(self, sent):
        # What recording reads of the events, without their payload and
        # headers (a fresh cache in the recorder: the whole rows were read).
        answered = self.browse([answer.event.id for answer in sent])
        answered.fetch(["source_id", "attempts", "event_type"])
        answered.source_id._oms_fetch_secrets()
        exchanges = self.env["oms.integration.exchange"]._oms_log_many(
            [
                (
                    answer.event,
                    answer.request,
                    answer.response,
                    answer.error,
                    answer.outcome or outbound.RETRY,
                    round(answer.duration, 3),
                )
                for answer in sent
            ]
        )
        delivered = {}  # note: events
        for answer in sent:
            event = answer.event
            if answer.outcome is None:  # an unexpected error reading it
                event._oms_fail_unexpectedly(answer.message)
            elif answer.outcome == outbound.DELIVERED:
                note = answer.message or False
                delivered[note] = delivered.get(note, self.browse()) | event
            elif answer.outcome == outbound.RETRY:
                event._set_failed(
                    answer.message,
                    self.env._(
                        "The provider is unavailable or asked to wait: the "
                        "status will be sent again by itself."
                    ),
                    retry_after=answer.retry_after,
                )
            else:
                event._set_failed(
                    answer.message,
                    self.env._(
                        "The provider refused this status. Read its answer in "
                        "the HTTP exchanges, fix the cause (mapping, order data "
                        "or the source's settings), then Retry."
                    ),
                    permanent=True,
                )
        for note, events in delivered.items():
            events._oms_set_delivered(note)
        return exchanges

    def _oms_set_delivered(self, note=False):
        """``_set_done(note=note)`` then ``_oms_after_sent()`` for these
        claimed outbound events, whose status the provider accepted: one
        UPDATE of the events and one of their orders. This is the path of
        nearly every callback, and the ORM's writes (the events', then the
        orders' with every override of ``sale.order.write``) were a fifth of
        its cost. Untracked fields only, no computed field depends on them:
        the rows are what the ORM would write. A status the order's field
        does not know goes through the ORM, which refuses it."""
        if not self:
            return self
        self.flush_model()
        now = fields.Datetime.now()
        self.env.cr.execute(
            """
            UPDATE oms_integration_event
               SET state = 'done', processed_at = %(now)s, lease_until = NULL,
                   last_error = NULL, error_hint = NULL,
                   result_note = COALESCE(%(note)s, result_note),
                   duration = ROUND(COALESCE(
                       EXTRACT(EPOCH FROM %(now)s::timestamp - started_at), 0
                   )::numeric, 3),
                   write_uid = %(uid)s, write_date = now() at time zone 'UTC'
             WHERE id = ANY(%(ids)s) AND state = 'processing'
         RETURNING id, sale_order_id, status
            """,
            {"now": now, "note": note or None, "uid": self.env.uid, "ids": self.ids},
        )
        rows = self.env.cr.fetchall()
        self.invalidate_recordset(
            ["state", "processed_at", "lease_until", "last_error", "error_hint"]
            + ["result_note", "duration", "write_uid", "write_date"]
        )
        moved = self.browse([row[0] for row in rows])
        (self - moved)._oms_log_refused("done")
        self._oms_ensure_moved(moved, "done")
        Order = self.env["sale.order"].sudo()
        known = set(Order._fields["oms_last_status"].get_values(self.env))
        statuses = {order: status for _id, order, status in rows if order and status}
        if any(status not in known for status in statuses.values()):
            moved._oms_after_sent()
            return moved
        if statuses:
            Order.flush_model(["oms_last_status", "oms_last_status_at"])
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE sale_order
                       SET oms_last_status = sent.status,
                           oms_last_status_at = %s,
                           write_uid = %s, write_date = now() at time zone 'UTC'
                      FROM (VALUES %s) AS sent (id, status)
                     WHERE sale_order.id = sent.id
                    """,
                    now,
                    self.env.uid,
                    SQL(", ").join(
                        SQL("(%s, %s)", order, status)
                        for order, status in statuses.items()
                    ),
                )
            )
            Order.browse(statuses).invalidate_recordset(
                ["oms_last_status", "oms_last_status_at", "write_uid", "write_date"]
            )
        return moved

    def _oms_fail_unexpectedly(self, error):
        """Record an unexpected error of a claimed outbound event (retried);
        when even that fails, its lease expires and it is claimed again."""
        try:
            with self.env.cr.savepoint():
                self._set_failed(
                    error,
                    self.env._(
                        "An unexpected error while sending: the event will be "
                        "retried. If it keeps failing, report it with this error."
                    ),
                )
        except Exception:  # noqa: BLE001 - the lease is the last resort
            _logger.exception("Recording the failure of event %s failed", self.ids)

    def _oms_send(self):
        """Build the provider's request for this claimed outbound event, send
        it now, log the exchange (redacted) and move the event to its next
        state, whatever the circuit breaker and the rate limit say (the
        source's test callback). Returns the exchange."""
        self.ensure_one()
        request = self._oms_build_request()
        if request is None:
            return self.env["oms.integration.exchange"]
        answer = self._oms_read_answer(request)
        if answer.counts_for_circuit:
            self.source_id._oms_circuit_record(
                not answer.transport_failed, answer.message
            )
        return self._oms_record_sent([answer])

    def _oms_after_sent(self):
        """Record on the sale orders the last status the provider accepted."""
        orders = self.filtered(lambda e: e.status and e.sale_order_id)
        for (status, sent_at), events in orders.grouped(
            lambda e: (e.status, e.processed_at)
        ).items():
            # Not tracked fields: no chatter bookkeeping on the order.
            events.sale_order_id.sudo().with_context(tracking_disable=True).write(
                {"oms_last_status": status, "oms_last_status_at": sent_at}
            )

    # === BUSINESS METHODS: RECEIVING === #

    @api.model
    def _oms_receive_webhook(self, source, headers, body, queue_cron_id=None):
        """Validate and store one authentic webhook delivery for ``source``.

        Returns ``(http_status, answer)`` per the inbound webhook contract.
        Never creates the sale order: processing is the queue's job, whose
        cron (``queue_cron_id``, looked up when not given) gets a trigger
        unless the one this process added last is pending. The controller has
        already checked the source, its size limit, that it accepts inbound
        traffic, and the signature.
        """
        source._oms_assert_traffic_allowed("inbound")
        stored_headers = {key.lower(): value for key, value in headers.items()}
        delivery_id = signatures.header(headers, "webhook-id")

        # A redelivery is found by the insert below (the delivery id is
        # unique, and the same version of an order is stored once), not by a
        # search before it: that search was a tenth of the cost of a delivery.
        items, errors = source._oms_split_delivery(body)
        if errors or not any(item.result.ok for item in items):
            errors = list(errors) + [e for item in items for e in item.result.errors]
            return self._oms_reject_delivery(
                source,
                delivery_id,
                normalize.storable_text(body),
                self._oms_hash_payload(body),
                stored_headers,
                errors,
            )
        headers_json = self._oms_headers_json(stored_headers)

        if queue_cron_id is None:
            queue_cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
                const.QUEUE_CRON_XMLID, raise_if_not_found=False
            )
        created, duplicates, rejected = [], [], []
        first_write, trigger_pending = True, True
        for item in items:
            item_hash = self._oms_hash_payload(item.raw)
            item_delivery_id = source._oms_get_delivery_id(headers, item)
            if not item.result.ok:
                event = self._oms_store_invalid_item(
                    source, item, item_delivery_id, item_hash, stored_headers
                )
                first_write = False
                rejected.append(
                    {
                        "index": item.index,
                        "external_id": item.external_id,
                        "errors": [e.as_dict() for e in item.result.errors],
                    }
                )
                continue
            for order in item.result.orders:
                event, duplicate, pending = self._oms_store_webhook_order(
                    source,
                    order,
                    {
                        "delivery_id": item_delivery_id,
                        "payload": item.raw,
                        "payload_hash": item_hash,
                        "headers": headers_json,
                    },
                    first_write=first_write,
                    queue_cron_id=queue_cron_id,
                )
                first_write = False
                created += event.ids
                duplicates += duplicate.ids
                trigger_pending = trigger_pending and pending
        if not created:
            if duplicates:
                return 200, {"status": "duplicate", "event_id": duplicates[0]}
            errors = [e for item in items for e in item.result.errors]
            return 422, {"status": "rejected", "errors": [e.as_dict() for e in errors]}
        if not trigger_pending:
            source._oms_trigger_queue()
        answer = {"status": "queued", "event_id": created[0]}
        if len(created) > 1:
            answer["event_ids"] = created
        if rejected:
            answer["rejected"] = rejected
        return 202, answer

    @api.model
    def _oms_reject_delivery(
        self, source, delivery_id, raw, payload_hash, headers, errors
    ):
        """Keep an authentic delivery that holds no valid order as a failed
        event (nothing authentic is lost) and answer 422 with the errors."""
        errors = [issue.as_dict() for issue in errors] or [
            {"path": "$", "message": "the delivery holds no order"}
        ]
        event = self._oms_store_delivery(
            source,
            {
                "delivery_id": delivery_id or None,
                "payload": raw,
                "payload_hash": payload_hash,
                "headers": headers,
                "state": "failed",
                "next_attempt_at": False,
                "last_error": "\n".join(f"{e['path']}: {e['message']}" for e in errors),
                "error_hint": self._oms_invalid_hint(),
            },
        )
        if event is None:  # the same invalid delivery, sent twice at once
            existing = self._oms_find_delivery(source, delivery_id)
            return 200, {"status": "duplicate", "event_id": existing.id}
        return 422, {"status": "rejected", "errors": errors}

    @api.model
    def _oms_store_invalid_item(self, source, item, delivery_id, payload_hash, headers):
        """One invalid order of a delivery that holds valid ones too: a failed
        event of its own, once (a redelivery of it is not stored again)."""
        if self.sudo().search_count(
            [
                ("source_id", "=", source.id),
                ("direction", "=", "inbound"),
                ("external_order_id", "=", item.external_id or False),
                ("payload_hash", "=", payload_hash),
            ],
            limit=1,
        ):
            return self.browse()
        return (
            self._oms_store_delivery(
                source,
                {
                    "delivery_id": delivery_id,
                    "external_order_id": item.external_id or False,
                    "payload": item.raw,
                    "payload_hash": payload_hash,
                    "headers": headers,
                    "state": "failed",
                    "next_attempt_at": False,
                    "last_error": "\n".join(
                        f"{e.path}: {e.message}" for e in item.result.errors
                    ),
                    "error_hint": self._oms_invalid_hint(),
                },
            )
            or self.browse()
        )

    @api.model
    def _oms_invalid_hint(self):
        return self.env._(
            "The provider sent an order that does not follow its format (see the "
            "errors). Ask the provider to fix it and send it again, then discard "
            "this event."
        )

    @api.model
    def _oms_keep_raw_delivery(self, source, headers, body):
        """Store an authentic delivery whose handling failed unexpectedly, as a
        pending event, so that nothing authentic is lost (called after a
        rollback)."""
        return self._oms_store_delivery(
            source,
            {
                "delivery_id": signatures.header(headers, "webhook-id") or None,
                "payload": normalize.storable_text(body),
                "headers": {key.lower(): value for key, value in headers.items()},
                "last_error": self.env._(
                    "An unexpected error happened while this delivery was received."
                ),
            },
        )

    @api.model
    def _oms_find_delivery(self, source, delivery_id, fresh=True):
        """The inbound event of ``delivery_id``, also when another transaction
        committed it after this one started (read in a fresh transaction,
        unless ``fresh`` is false)."""
        domain = [
            ("source_id", "=", source.id),
            ("direction", "=", "inbound"),
            ("delivery_id", "=", delivery_id),
        ]
        event = self.sudo().search(domain, limit=1)
        if event or not delivery_id or not fresh:
            return event
        with self.env.registry.cursor() as cr:
            params = {"source": source.id, "delivery_id": delivery_id}
            cr.execute(_FIND_DELIVERY, params)
            row = cr.fetchone()
        return self.browse(row[0] if row else [])

    @api.model
    def _oms_naive(self, moment):
        return moment and moment.replace(tzinfo=None)

    @api.model
    def _oms_find_same_version(self, source, order, payload_hash):
        """An inbound event with the very same payload, or the same version
        (``updated_at``) of the same order: webhook and polling overlap."""
        self.flush_model()
        self.env.cr.execute(
            _FIND_SAME_VERSION,
            {
                "source": source.id,
                "external_order_id": order.external_id,
                "payload_hash": payload_hash,
                "version": self._oms_naive(order.updated_at) or None,
            },
        )
        row = self.env.cr.fetchone()
        return self.browse(row[0] if row else [])

    @api.model
    def _oms_store_polled(self, source, body, parsed):
        """Store one polled order unless a webhook or an earlier poll brought
        the same version already; invalid ones are kept as failed events."""
        payload_hash = self._oms_hash_payload(body)
        if parsed.errors:
            if self.sudo().search_count(
                [
                    ("source_id", "=", source.id),
                    ("external_order_id", "=", False),
                    ("payload_hash", "=", payload_hash),
                ],
                limit=1,
            ):
                return self.browse()
            event = self._oms_store_delivery(
                source,
                {
                    "delivery_id": f"poll:invalid:{payload_hash}",
                    "payload": body,
                    "payload_hash": payload_hash,
                    "state": "failed",
                    "next_attempt_at": False,
                    "last_error": "\n".join(
                        f"{e.path}: {e.message}" for e in parsed.errors
                    ),
                    "error_hint": self.env._(
                        "The provider's API returned an order that does not "
                        "follow its format. Ask the provider to fix it, then "
                        "discard this event."
                    ),
                },
                channel="polling",
            )
            return event or self.browse()
        created = self.browse()
        for order in parsed.orders:
            if self._oms_find_same_version(source, order, payload_hash):
                continue
            version = order.updated_at.isoformat() if order.updated_at else payload_hash
            event = self._oms_store_delivery(
                source,
                {
                    "delivery_id": f"poll:{order.external_id}:{version}",
                    "event_type": order.event_type,
                    "external_order_id": order.external_id,
                    "external_updated_at": self._oms_naive(order.updated_at),
                    "payload": body,
                    "payload_hash": payload_hash,
                },
                channel="polling",
            )
            if event:
                created |= event
        return created

    @api.model
    def _oms_store_webhook_order(
        self, source, order, vals, first_write=False, queue_cron_id=None
    ):
        """Store one valid order of an authentic webhook delivery:
        ``(event, duplicate, trigger_pending)``, one of the first two empty.

        The fast path of receiving, in one statement (``_WEBHOOK_INSERT``):
        an INSERT that skips a repeat (``ON CONFLICT DO NOTHING``: the same
        delivery id, or the very same payload or version of the order, by the
        unique indexes), and a look, by its id, for the last trigger of the
        queue cron ``queue_cron_id`` that this process added, still pending
        (``trigger_pending``, see ``_oms_pending_trigger_id``): a burst of
        deliveries wakes the cron once; the cron takes all the due events it
        finds, and runs again while some are left. In the rare case where a
        delivery commits just after the cron's last look and the cron then
        ends, that delivery waits for the next trigger or the cron's next
        scheduled run (every minute); it is never lost. The ORM's create,
        its savepoint, the searches before it and a statement of its own for
        the look were most of the cost of a delivery. The row is the one
        ``_oms_create_inbound`` would create (a test compares them), without
        chatter bookkeeping, as there, and with no creating user: no Odoo user
        sent it (the source did), and a user there would cost a foreign-key
        check and a lock of that user's row on every delivery. ``vals``:
        ``delivery_id``, ``payload``, ``payload_hash``, ``headers`` (JSON,
        redacted). The caller has checked the source's consent.

        The statement runs prepared, on a connection of this process kept
        open (``_WebhookStore``), and commits there at once; inside Odoo's
        test runner, whose data only its own transaction sees, it runs in
        the current transaction (``first_write``: nothing was written in
        it before, so a twin committed meanwhile may roll it back; otherwise
        Odoo retries the request).
        """
        now = fields.Datetime.now()
        params = dict(
            vals,
            source=source.id,
            provider=source.provider or None,
            event_type=order.event_type or None,
            external_order_id=order.external_id,
            version=self._oms_naive(order.updated_at) or None,
            now=now,
            trigger=source._oms_pending_trigger_id(queue_cron_id),
        )
        if not (
            self.env.registry.in_test_mode()
            or getattr(threading.current_thread(), "testing", False)
        ):
            return self._oms_store_webhook_order_kept(params)
        try:
            # A twin that committed after this transaction began is a
            # serialization failure (repeatable read): no "bad query" in the
            # log, it is expected.
            self.env.cr.execute(_WEBHOOK_INSERT_NAMED, params, log_exceptions=False)
            row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            if not first_write:
                raise
            # Nothing of this transaction to keep: a new one sees the twin.
            self.env.cr.rollback()
            return self.browse(), self._oms_find_repeat(params), True
        if row:
            return self.browse(row[0]), self.browse(), row[1]
        return self.browse(), self._oms_find_repeat(params), True

    @api.model
    def _oms_store_webhook_order_kept(self, params):
        """``_oms_store_webhook_order`` on a kept connection: the statement
        prepared there, and a repeat looked for there (READ COMMITTED: a twin
        committed meanwhile is found)."""
        values = [params[name] for name, _kind in _WEBHOOK_PARAMS]

        def store(cr):
            cr.execute(_WEBHOOK_EXECUTE, values)
            row = cr.fetchone()
            if row:
                return row[0], None, row[1]
            return None, _repeat_id(cr, params), True

        try:
            event_id, repeat_id, trigger_pending = _WEBHOOK_STORE.run(
                self.env.cr.dbname, store
            )
        except psycopg2.OperationalError as exc:
            # Not a conflict of this request's transaction that Odoo would
            # retry: the controller answers 500 and keeps the raw delivery.
            raise RuntimeError(
                f"The delivery could not be stored: {exc.pgerror or exc}"
            ) from exc
        event, repeat = self.browse(event_id or []), self.browse(repeat_id or [])
        return event, repeat, trigger_pending

    @api.model
    def _oms_find_repeat(self, params):
        """The stored event that a webhook order repeats (``params`` as for
        ``_WEBHOOK_INSERT``): the same delivery id, else the same payload or
        version of the order."""
        self.flush_model()
        return self.browse(_repeat_id(self.env.cr, params) or [])

    @api.model
    def _oms_headers_json(self, headers):
        """Request headers as stored on an event: credentials redacted."""
        return json.dumps(redaction.redact_mapping(headers), ensure_ascii=False)

    @api.model
    def _oms_store_delivery(self, source, vals, channel="inbound"):
        """Create the inbound event; ``None`` when its delivery id is taken
        (the same delivery arriving concurrently)."""
        try:
            # A concurrent twin is expected here: no "bad query" in the log.
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return self._oms_create_inbound(source, vals, channel=channel)
        except psycopg2.errors.UniqueViolation:
            return None

    # === BUSINESS METHODS === #

    @api.model
    def _oms_hash_payload(self, payload):
        if isinstance(payload, str):
            payload = payload.encode()
        return hashlib.sha256(payload).hexdigest()

    @api.model
    def _oms_create_inbound(self, source, vals, channel="inbound"):
        """Store an inbound delivery for ``source`` received by ``channel``.

        ``channel`` is ``inbound`` (webhook) or ``polling``; the source must
        allow it (active, right mode, administrator consent) or the delivery
        is refused here, whatever the caller.
        """
        source._oms_assert_traffic_allowed(channel)
        vals = dict(vals, direction="inbound", source_id=source.id)
        if isinstance(vals.get("headers"), dict):
            vals["headers"] = self._oms_headers_json(vals["headers"])
        # No chatter bookkeeping at creation (a "created" note, followers,
        # tracking): it was most of the cost of receiving a delivery, and an
        # event's chatter tells what happens to it next, which stays tracked.
        events = self.sudo().with_context(tracking_disable=True).create(vals)
        return events.with_context(tracking_disable=None)

    @api.model
    def _oms_create_outbound(self, source, vals):
        """Write an outbound status event (the transactional outbox).

        Returns an empty recordset when the source may not send statuses:
        sending is off, no administrator consent for outbound traffic, or the
        source is archived or a draft (a paused source keeps its statuses).
        """
        if source._oms_outbox_refusal():
            return self.browse()
        vals = dict(vals, direction="outbound", source_id=source.id)
        # As inbound: no chatter bookkeeping at creation, in the transaction
        # of the order's change; what happens to the status next is tracked.
        events = self.sudo().with_context(tracking_disable=True).create(vals)
        return events.with_context(tracking_disable=None)

    def _oms_redact(self, text):
        self.ensure_one()
        return redaction.redact_text(text, self.source_id._oms_known_secret_values())

    @api.model
    def _gc_processed_events(self):
        """Cron: delete done and discarded events past their source's retention."""
        self.flush_model(["state", "processed_at", "source_id"])
        self.env["oms.integration.source"].flush_model(["retention_days"])
        self.env.cr.execute(
            """
            SELECT event.id
              FROM oms_integration_event event
              JOIN oms_integration_source source ON source.id = event.source_id
             WHERE event.state IN ('done', 'discarded')
               AND event.processed_at
                   < %s::timestamp - make_interval(days => source.retention_days)
            """,
            [fields.Datetime.now()],
        )
        old = self.browse([row[0] for row in self.env.cr.fetchall()])
        if old:
            old.unlink()  # their dead letters go with them (ondelete cascade)
            _logger.info("Deleted %s processed integration events", len(old))
