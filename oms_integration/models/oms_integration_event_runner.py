import logging
import time
from datetime import timedelta

from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import config

from .. import const
from ..exceptions import OmsProcessingError
from ..lib import personal_data

_logger = logging.getLogger(__name__)

# Unique constraints that only another worker applying an order at the same
# time can break (processing looks for the row before creating it): the same
# new customer's mapping, the same external order. Not a failure: the event
# goes back to the queue and sees the other's row next time.
CONCURRENT_INSERT_CONSTRAINTS = (
    "oms_integration_mapping_code_unique",
    "sale_order_oms_external_id_unique",
)


class OmsIntegrationRunnerMixin(models.AbstractModel):
    """The runners of the queue, for ``oms.integration.event`` (which
    inherits this mixin): ``ir.cron`` jobs that claim due events
    (``_oms_claim``, in ``oms_integration_event.py``) and work them, inbound
    (apply orders) or outbound (send statuses); waking them up; the
    clean-up of processed events."""

    _name = "oms.integration.runner.mixin"
    _description = "Integration Queue Runners"

    # === BUSINESS METHODS: RUNNERS === #

    @api.model
    def _cron_process_queue(self):
        """Cron (each "apply received orders" runner): turn due inbound events
        into sale orders. Several runners work one backlog at once."""
        return self._oms_run_queue("inbound")

    @api.model
    def _cron_send_statuses(self):
        """Cron: send due status callbacks to the providers."""
        return self._oms_run_queue("outbound")

    @api.model
    def _oms_run_queue(self, direction, time_budget=None):
        """Work the queue of ``direction`` for at most ``time_budget`` seconds.

        Each claim is committed at once (other workers then skip its events),
        each inbound event is applied in a savepoint of its own and the batch
        committed together, and the runner stops after its time budget even
        with work left,
        triggering the runners again: the cron threads it shares with the
        other scheduled actions (polling, the mail queue...) are never held
        long. A runner that claims a full batch wakes the other runners up,
        so every cron thread helps with a backlog."""
        budget = self._oms_time_budget() if time_budget is None else time_budget
        deadline = time.monotonic() + budget
        batch = (
            const.INBOUND_BATCH_SIZE
            if direction == "inbound"
            else const.OUTBOUND_BATCH_SIZE
        )
        done = 0
        woken = False
        while True:
            if time.monotonic() >= deadline:
                if self._oms_count_due(direction):
                    self._oms_trigger_runners(direction, everyone=True)
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                break
            events = self._oms_claim_committed(direction, batch)
            if not events:
                break
            if len(events) == batch and not woken:
                self._oms_trigger_runners(direction, everyone=True)
                self.env.cr.commit()  # pylint: disable=invalid-commit
                woken = True
            if direction == "inbound":
                events._oms_process_claimed()
            else:
                events._oms_send_claimed()
            done += len(events)
        return done

    @api.model
    def _oms_time_budget(self):
        """How long a runner works before it hands its cron thread back: the
        queue's budget, and never more than half the time limit Odoo gives a
        cron job (``limit_time_real_cron``, else ``limit_time_real``), so
        that a runner always ends by itself."""
        limit = config.get("limit_time_real_cron") or -1
        if limit < 0:
            limit = config.get("limit_time_real") or 0
        budget = const.QUEUE_TIME_BUDGET
        return min(budget, limit / 2) if limit > 0 else budget

    @api.model
    def _oms_claim_committed(self, direction, limit, event_ids=None):
        """``_oms_claim`` in a transaction of its own, committed: the lease
        must be visible to the other workers before the work starts. A claim
        that collides with another worker's is tried again. ``event_ids``:
        only among those."""
        cr = self.env.cr
        for attempt in range(5):
            cr.commit()  # pylint: disable=invalid-commit
            try:
                events = self._oms_claim(direction, limit, event_ids)
                cr.commit()  # pylint: disable=invalid-commit
                return events
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                cr.rollback()  # pylint: disable=invalid-commit
                time.sleep(0.005 * (attempt + 1))
        return self.browse()

    def _oms_process_claimed(self):
        """Apply these claimed inbound events, each in a savepoint of its
        own (one event never rolls back another), then commit them together:
        a commit clears the ORM's cache, which the events of a batch share
        (their source, mappings, products, taxes). A worker killed in the
        middle loses its batch's work; the leases then hand each event of it
        to a runner alone. A concurrent update (two orders touching the same
        row at once) is not a failure: the event goes back to the queue, its
        attempt not counted."""
        for event in self:
            try:
                with self.env.cr.savepoint(flush=True):
                    sale_order, note = event._oms_process()
                    event._set_done(sale_order or None, note)
            except (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, UniqueViolation) as exc:
                event._oms_concurrent_update(exc)
            except OmsProcessingError as exc:
                event._oms_processing_failed(exc)
            except Exception as exc:  # noqa: BLE001 - one event never stops the others
                _logger.exception("Processing integration event %s failed", event.id)
                event._oms_unexpected_failure(exc)
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _oms_concurrent_update(self, exc):
        """Another worker changed a row this event's order needed: back to
        the queue, not an attempt. A unique constraint that only concurrent
        work can break counts as such; any other is a failure."""
        self.ensure_one()
        if (
            isinstance(exc, UniqueViolation)
            and exc.diag.constraint_name not in CONCURRENT_INSERT_CONSTRAINTS
        ):
            _logger.exception("Processing integration event %s failed", self.id)
            self._oms_unexpected_failure(exc)
            return
        _logger.info(
            "Integration event %s met a concurrent update (%s): back to the queue",
            self.id,
            exc.pgcode,
        )
        self._oms_defer(
            fields.Datetime.now() + timedelta(seconds=1),
            self.env._("Waited for a concurrent update: tried again."),
        )

    def _oms_processing_failed(self, exc):
        """Record an ``OmsProcessingError``: a source that may not take orders
        keeps the event waiting (not an attempt); otherwise the unmapped
        values go to the Mapping Center and the event is retried or
        dead-lettered."""
        self.ensure_one()
        if exc.waiting:
            self._oms_defer(
                fields.Datetime.now() + timedelta(seconds=exc.retry_after or 60),
                exc.message,
            )
            return
        waiting_for = self.env["oms.integration.mapping"]._oms_note_unmapped(
            self.source_id, exc.unmapped
        )
        if waiting_for or self.waiting_mapping_ids:
            # What the redrive of a mapping finds its events by.
            self.waiting_mapping_ids = [fields.Command.set(waiting_for.ids)]
        self._set_failed(
            exc.message,
            exc.hint,
            permanent=exc.permanent,
            retry_after=exc.retry_after,
            key=exc.key,
            values=exc.values,
        )

    def _oms_unexpected_failure(self, exc):
        self.ensure_one()
        self._set_failed(
            str(exc),
            self.env._(
                "An unexpected error: the event will be retried. If it keeps "
                "failing, report it with this error."
            ),
        )

    def _oms_send_claimed(self):
        """Send these claimed outbound events (``oms.integration.sender``). A
        concurrent update (another worker renewing a provider's session,
        say) is not a failure: what was not sent goes back to the queue, its
        attempt not counted."""
        cr = self.env.cr
        try:
            self.env["oms.integration.sender"]._oms_send(self)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            cr.rollback()  # pylint: disable=invalid-commit
            self.invalidate_recordset()
            self.filtered(lambda e: e.state == "processing")._oms_defer(
                fields.Datetime.now() + timedelta(seconds=1),
                self.env._("Waited for a concurrent update: sent again."),
            )
            cr.commit()  # pylint: disable=invalid-commit

    def _oms_process(self):
        """Apply one inbound event; return ``(sale_order, note)``. A source
        that may not take orders now (a draft, paused or archived source, no
        inbound consent) keeps the event waiting: nothing is applied."""
        self.ensure_one()
        builder = self.env["oms.integration.order.builder"]
        sale_order, notes = self.env["sale.order"], []
        for order in self._oms_parsed_orders():
            sale_order, note = builder._oms_apply(self, order)
            if note:
                notes.append(note)
        return sale_order, "\n".join(notes) or False

    def _oms_preview(self):
        """What processing this event would do now, changing nothing (the
        redrive wizard): a note, or the ``OmsProcessingError`` processing
        would raise. Inbound, the orders go through the same checks as when
        applied (mappings, customer, products, units, taxes, warehouses,
        price list) with nothing created; outbound, only whether the source
        may send now: the provider's answer is only known once sent."""
        self.ensure_one()
        if self.direction == "outbound":
            return self._oms_preview_send()
        builder = self.env["oms.integration.order.builder"]
        notes = [
            builder._oms_apply(self, order, preview=True)[1]
            for order in self._oms_parsed_orders()
        ]
        return "\n".join(note for note in notes if note)

    def _oms_preview_send(self):
        source = self.source_id
        refusal = source._oms_traffic_refusal("outbound")
        if not refusal and source.circuit_open_until:
            refusal = self.env._(
                "Sending to %(name)s is paused until %(until)s (too many failed "
                "callbacks in a row).",
                name=source.name,
                until=source.circuit_open_until,
            )
        if refusal:
            raise self.env["oms.integration.hints"]._oms_error(
                "sending_paused", reason=refusal
            )
        return self.env._(
            "The source may send it now; whether the provider accepts it is "
            "only known once sent."
        )

    def _oms_parsed_orders(self):
        """The orders of this inbound event, read from its stored payload
        with the source's parser; raises what keeps it from being applied
        (the source may not take orders now, no parser, an invalid
        payload)."""
        self.ensure_one()
        source = self.source_id
        refusal = source._oms_processing_refusal()
        Hints = self.env["oms.integration.hints"]
        if refusal:
            raise Hints._oms_error(
                "source_not_taking_orders",
                reason=refusal,
                retry_after=source.retry_base_delay,
                waiting=True,
            )
        parsed = source._oms_parse_delivery((self.sudo().payload or "").encode())
        if not parsed:
            raise Hints._oms_error("no_parser", provider=source.provider)
        if parsed.errors:
            raise OmsProcessingError(
                "\n".join(f"{e.path}: {e.message}" for e in parsed.errors),
                hint=Hints._oms_hint_text("payload_invalid"),
            )
        # An event of one order applies that order; a raw delivery kept after
        # an unexpected error (no order id) applies every order it holds.
        orders = [
            order
            for order in parsed.orders
            if not self.external_order_id or order.external_id == self.external_order_id
        ]
        if not orders:
            raise Hints._oms_error("order_not_in_payload", order=self.external_order_id)
        return orders

    # === BUSINESS METHODS: TRIGGERS === #

    @api.model
    def _oms_runner_crons(self, direction):
        """The scheduled actions that work the queue of ``direction``: the
        ones this addon ships and any an administrator duplicated from them
        (more runners for more cron threads)."""
        method = (
            "_cron_process_queue" if direction == "inbound" else "_cron_send_statuses"
        )
        return (
            self.env["ir.cron"]
            .sudo()
            .search(
                [
                    ("model_id.model", "=", self._name),
                    ("code", "=like", f"model.{method}()%"),
                ]
            )
        )

    @api.model
    def _oms_trigger_runners(self, direction="inbound", everyone=False):
        """Ask a runner of ``direction`` (``everyone``: every runner) to run
        as soon as this transaction commits (``ir.cron._trigger``), unless a
        trigger is pending already: a burst of deliveries wakes a runner
        once. A runner that finds a backlog wakes the others. An event that
        misses its wake-up (committed just as its runner ended) waits for
        the runner's next scheduled run, every minute: it is never lost."""
        Cron = self.env["ir.cron"].sudo()
        if everyone:
            crons = self._oms_runner_crons(direction)
        else:
            xmlid = (
                const.QUEUE_CRON_XMLID
                if direction == "inbound"
                else const.SEND_CRON_XMLID
            )
            # The id from the registry's cache: no query on a delivery's path.
            cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
                xmlid, raise_if_not_found=False
            )
            crons = Cron.browse(cron_id or [])
        if not crons:
            return crons
        now = fields.Datetime.now()
        Trigger = self.env["ir.cron.trigger"].sudo()
        if len(crons) == 1:
            # The path of nearly every delivery: one look for a pending one.
            pending = (
                crons
                if Trigger.search_count(
                    [("cron_id", "=", crons.id), ("call_at", "<=", now)], limit=1
                )
                else Cron
            )
        else:
            pending = Cron.browse(
                {
                    cron.id
                    for [cron] in Trigger._read_group(
                        [("cron_id", "in", crons.ids), ("call_at", "<=", now)],
                        ["cron_id"],
                    )
                }
            )
        for cron in crons - pending:
            cron._trigger()
        return crons

    # === BUSINESS METHODS: CLEAN-UP === #

    @api.model
    def _gc_processed_events(self, batch_size=1000):
        """Cron: delete done and discarded events past their source's
        retention, a batch at a time."""
        sources = self.env["oms.integration.source"].with_context(active_test=False)
        now = fields.Datetime.now()
        deleted = 0
        for source in sources.search([("retention_days", ">", 0)]):
            limit = now - timedelta(days=source.retention_days)
            while True:
                old = self.sudo().search(
                    [
                        ("source_id", "=", source.id),
                        ("state", "in", ("done", "discarded")),
                        ("processed_at", "<", limit),
                    ],
                    limit=batch_size,
                )
                if not old:
                    break
                old.unlink()  # their dead letters go with them (cascade)
                deleted += len(old)
                self.env.cr.commit()  # pylint: disable=invalid-commit
        if deleted:
            _logger.info("Deleted %s processed integration events", deleted)
        self._gc_personal_data()
        self.env["oms.integration.refusal"]._gc_refusals()
        return deleted

    @api.model
    def _gc_personal_data(self, batch_size=const.PERSONAL_DATA_BATCH_SIZE):
        """Cron (with the clean-up of processed events): blank the personal
        data of the events received before their source's limit ("Blank
        Personal Data After"), a batch at a time, each event once; events
        still in the queue are left alone. The last polling result of a
        source that has not polled since goes too."""
        sources = self.env["oms.integration.source"].with_context(active_test=False)
        now = fields.Datetime.now()
        blanked = 0
        for source in sources.sudo().search([("personal_data_days", ">", 0)]):
            limit = now - timedelta(days=source.personal_data_days)
            source._oms_blank_poll_result(limit)
            while True:
                events = self.sudo().search(
                    [
                        ("source_id", "=", source.id),
                        ("state", "in", const.PERSONAL_DATA_EVENT_STATES),
                        ("personal_data_blanked_at", "=", False),
                        ("received_at", "<", limit),
                    ],
                    limit=batch_size,
                )
                if not events:
                    break
                events._oms_blank_personal_data()
                blanked += len(events)
                self.env.cr.commit()  # pylint: disable=invalid-commit
        if blanked:
            _logger.info("Removed the personal data of %s integration events", blanked)
        return blanked

    def _oms_blank_personal_data(self):
        """Blank the personal values (the source's ``_oms_personal_data_keys``)
        of these events' payloads, headers and HTTP exchange bodies, and
        mark them done. The payload hash stays as it was: it is the key that
        recognises a repeated delivery of the order."""
        now = fields.Datetime.now()
        for source, events in self.sudo().grouped("source_id").items():
            keys = source._oms_personal_data_keys()
            for event in events.with_context(tracking_disable=True):
                vals = {"personal_data_blanked_at": now}
                if event.error_values:
                    # The values of its error may name the customer: the
                    # error is shown as it was written.
                    vals.update(error_key=False, error_values=False)
                for field_name in ("payload", "headers"):
                    text = event[field_name]
                    blanked = personal_data.blank_personal_text(text, keys)
                    if blanked != text:
                        vals[field_name] = blanked
                event.write(vals)
            for exchange in events.exchange_ids:
                vals = {}
                for field_name in ("request_body", "response_body"):
                    text = exchange[field_name]
                    blanked = personal_data.blank_personal_text(text, keys)
                    if blanked != text:
                        vals[field_name] = blanked
                if vals:
                    exchange.write(vals)

    def _oms_personal_data_refusal(self):
        """Why these events cannot be applied again, or False: an inbound
        event whose personal data was removed no longer holds its order's
        customer (what the requeue, the retry and the redrive refuse)."""
        blanked = self.filtered(
            lambda e: e.direction == "inbound" and e.personal_data_blanked_at
        )
        if not blanked:
            return False
        return self.env._(
            "The customer's details of %(events)s were removed on %(date)s (the "
            "source's 'Blank Personal Data After'): the order can no longer be "
            "applied from it. Ask the provider to send the order again, or "
            "discard it.",
            events=", ".join(blanked.mapped("display_name")),
            date=fields.Date.to_string(blanked[0].personal_data_blanked_at),
        )

    def _oms_check_personal_data_kept(self):
        refusal = self._oms_personal_data_refusal()
        if refusal:
            raise UserError(refusal)
