import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .. import const
from ..exceptions import OmsProcessingError
from ..lib import hints, outbound

_logger = logging.getLogger(__name__)


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


class OmsIntegrationSender(models.AbstractModel):
    """Sending status callbacks (the outbound status contract): build each
    request with the provider's hook, send it within the source's rate limit
    and circuit breaker (``oms.integration.throttle``), and record the answer
    on its event (the exchange log, done, retried or dead-lettered) and on
    its sale order. The events come claimed by the outbound runner
    (``oms_integration_event.py``); their requests go out one after the
    other, on one HTTP session per source and thread (connections reused)."""

    _name = "oms.integration.sender"
    _description = "Integration Sender"

    @api.model
    def _oms_send(self, events):
        """Send these claimed outbound events, source by source, unless their
        source may not send now: a paused source keeps them (back to the
        queue, not counted), any other refusal dead-letters them unsent.
        Each source's batch is committed once recorded. In a copy of the
        database, the sources pause first: their events wait, unsent."""
        events.source_id._oms_check_same_database()
        for source, source_events in events.grouped("source_id").items():
            refusal = source._oms_traffic_refusal("outbound")
            if not refusal:
                self._oms_send_batch(source, source_events)
            elif source.active and source.state == "paused" and source.outbound_enabled:
                source_events._oms_defer(
                    fields.Datetime.now() + timedelta(seconds=source.retry_base_delay),
                    refusal,
                )
            else:
                source_events._set_dead(
                    refusal,
                    self.env._(
                        "Nothing was sent. Fix the source (consent, Send Order "
                        "Statuses), then Retry this event."
                    ),
                )
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _oms_send_batch(self, source, events):
        """Send claimed events of one ``source``.

        The circuit breaker bounds the batch: nothing while it is open (back
        to the queue until it closes), one probe when half-open, never more
        requests than the failures left before it opens, so a dead endpoint
        gets no more than the threshold. The rate limit gives each request
        its moment; what cannot start within ``OUTBOUND_BATCH_SECONDS`` goes
        back to the queue (not counted)."""
        Throttle = self.env["oms.integration.throttle"]
        built = self._oms_build_requests(events)
        waiting = [event for event in events if event in built]
        if not waiting:
            return
        now = fields.Datetime.now()
        state = Throttle._oms_of(source)._oms_circuit()
        allowed = outbound.batch_allowance(
            state, now, source.circuit_threshold, len(waiting)
        )
        if not allowed:
            self._oms_defer(
                waiting,
                state.open_until,
                self.env._("Sending is paused (too many failures in a row)."),
            )
            return
        moments = Throttle._oms_take_slots(
            source, min(allowed, len(waiting)), const.OUTBOUND_BATCH_SECONDS
        )
        if len(moments) < len(waiting):
            # The rest waits for its slot (rate limit) or for the answers of
            # these (circuit breaker): back to the queue, not an attempt.
            later, waiting = waiting[len(moments) :], waiting[: len(moments)]
            self._oms_defer(
                later,
                Throttle._oms_of(source).rate_tat or fields.Datetime.now(),
                self.env._("Sent with a later batch (rate limit or circuit breaker)."),
            )
        failures_left = (
            source.circuit_threshold - state.failures
            if source.circuit_threshold
            else len(waiting)
        )
        deadline = time.monotonic() + const.OUTBOUND_BATCH_SECONDS
        answers = []
        for index, event in enumerate(waiting):
            if index and (failures_left <= 0 or time.monotonic() > deadline):
                # A dead endpoint gets no more than the threshold; a slow one
                # never holds the cron thread past the batch's time.
                self._oms_defer(
                    waiting[index:],
                    fields.Datetime.now(),
                    self.env._(
                        "Sent with a later batch (the provider failed or was slow)."
                    ),
                )
                break
            wait = (moments[index] - fields.Datetime.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            answer = self._oms_read_answer(event, built[event])
            answers.append(answer)
            if answer.counts_for_circuit and answer.transport_failed:
                failures_left -= 1
            elif answer.counts_for_circuit:
                failures_left = source.circuit_threshold or len(waiting)
        self._oms_record(answers)
        counted = [a for a in answers if a.counts_for_circuit]
        if counted:
            try:
                Throttle._oms_record_outcomes(
                    source,
                    [not answer.transport_failed for answer in counted],
                    last_error=next(
                        (a.message for a in reversed(counted) if a.transport_failed),
                        None,
                    ),
                )
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                _logger.warning(
                    "Could not count the callbacks of source %s in its circuit "
                    "breaker (concurrent updates)",
                    source.id,
                )

    @api.model
    def _oms_defer(self, events, until, reason):
        self.env["oms.integration.event"].browse(
            [event.id for event in events]
        )._oms_defer(until, reason)

    @api.model
    def _oms_build_requests(self, events):
        """``{event: request}`` of these claimed events, built (and signed)
        by the provider's hook; an event whose request cannot be built is
        recorded as failed, in a savepoint of its own."""
        built = {}
        for event in events:
            try:
                with self.env.cr.savepoint():
                    request = self._oms_build_request(event)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                raise  # another worker's update: the runner sends them later
            except Exception as exc:  # noqa: BLE001 - one event never stops the batch
                _logger.exception("Building the request of event %s failed", event.id)
                event._set_failed(
                    str(exc),
                    self.env._(
                        "An unexpected error before sending: the event will be "
                        "retried. If it keeps failing, report it with this error."
                    ),
                )
                continue
            if request:
                built[event] = request
        return built

    @api.model
    def _oms_build_request(self, event):
        """The provider's request for one claimed ``event``, or None when it
        cannot be built (the failure is then recorded on the event)."""
        source = event.source_id
        try:
            if event.event_type == "test" and not source._oms_has_test_endpoint():
                raise OmsProcessingError(source._oms_no_test_endpoint_message())
            request = source._oms_build_status_request(event)
            if not request:
                raise self.env["oms.integration.hints"]._oms_error(
                    "status_unsupported", provider=source.provider
                )
            return request
        except OmsProcessingError as exc:
            event._set_failed(
                exc.message,
                exc.hint,
                permanent=exc.permanent,
                key=exc.key,
                values=exc.values,
            )
        return None

    @api.model
    def _oms_read_answer(self, event, request):
        """Send ``request`` and read the provider's answer: a ``SentStatus``."""
        source = event.source_id
        try:
            response, error, duration = source._oms_send_request(request)
            outcome, message, retry_after = source._oms_read_status_answer(
                response, error
            )
        except Exception as exc:  # noqa: BLE001 - one event never stops the batch
            _logger.exception("Sending integration event %s failed", event.id)
            return SentStatus(event, request, None, str(exc), 0.0, None, str(exc))
        return SentStatus(
            event, request, response, error, duration, outcome, message, retry_after
        )

    @api.model
    def _oms_record(self, answers):
        """Record ``answers`` (``SentStatus``): their exchange logs, the
        events delivered, retried or dead-lettered, the orders' last status
        sent. Should that fail together, each is recorded in a savepoint of
        its own: one event never rolls back the others. Returns the exchange
        logs."""
        Exchange = self.env["oms.integration.exchange"]
        if not answers:
            return Exchange
        try:
            with self.env.cr.savepoint():
                return self._oms_record_answers(answers)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise
        except Exception:  # noqa: BLE001 - record them one by one instead
            _logger.exception(
                "Recording %s status callbacks together failed: one by one now",
                len(answers),
            )
        exchanges = Exchange
        for answer in answers:
            try:
                with self.env.cr.savepoint():
                    exchanges |= self._oms_record_answers([answer])
            except Exception as exc:  # noqa: BLE001 - one event never stops the batch
                _logger.exception(
                    "Recording status callback %s failed", answer.event.id
                )
                exchanges |= self._oms_log_answer_only(answer)
                answer.event._set_failed(
                    str(exc),
                    self.env._(
                        "An unexpected error while sending: the event will be "
                        "retried. If it keeps failing, report it with this error."
                    ),
                )
        return exchanges

    @api.model
    def _oms_log_answer_only(self, answer):
        """Keep the exchange log of ``answer`` when recording it failed: every
        request sent is logged."""
        Exchange = self.env["oms.integration.exchange"]
        try:
            with self.env.cr.savepoint():
                return Exchange._oms_log_many(
                    [
                        (
                            answer.event,
                            answer.request,
                            answer.response,
                            answer.error,
                            answer.outcome or outbound.RETRY,
                            round(answer.duration, 3),
                        )
                    ]
                )
        except Exception:  # noqa: BLE001 - the failure is recorded next
            _logger.exception(
                "Logging the exchange of event %s failed", answer.event.id
            )
        return Exchange

    @api.model
    def _oms_record_answers(self, answers):
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
                for answer in answers
            ]
        )
        Event = self.env["oms.integration.event"]
        delivered = {}  # note: events
        for answer in answers:
            event = answer.event
            if answer.outcome is None:  # an unexpected error reading it
                event._set_failed(
                    answer.message,
                    self.env._(
                        "An unexpected error while sending: the event will be "
                        "retried. If it keeps failing, report it with this error."
                    ),
                )
            elif answer.outcome == outbound.DELIVERED:
                note = answer.message or False
                delivered[note] = delivered.get(note, Event) | event
            elif answer.outcome == outbound.RETRY:
                event._set_failed(
                    answer.message,
                    self._oms_answer_hint(answer, hints.STATUS_RETRY),
                    retry_after=answer.retry_after,
                )
            else:
                event._set_failed(
                    answer.message,
                    self._oms_answer_hint(answer, hints.STATUS_REFUSED),
                    permanent=True,
                )
        for note, events in delivered.items():
            events._set_done(note=note)
            self._oms_after_sent(events)
        return exchanges

    @api.model
    def _oms_answer_hint(self, answer, default_key):
        """What to do about a status not delivered (the hints catalogue): the
        hint of the provider's answer (401, 404, a timeout...) when it says
        more than ``default_key``, else that of ``default_key``."""
        if answer.response is None:
            key = hints.classify_error_text(answer.error) if answer.error else None
        else:
            key = hints.classify_status(answer.response.status_code)
        if key in (None, hints.SERVER_ERROR, hints.CLIENT_ERROR, hints.UNREACHABLE):
            key = default_key
        source = answer.event.source_id
        return self.env["oms.integration.hints"]._oms_hint(
            key,
            status=answer.response.status_code if answer.response is not None else "",
            error=answer.message or "",
            target=source._oms_hint_target("outbound"),
            credentials=source._oms_hint_credentials("outbound"),
        )[1]

    @api.model
    def _oms_after_sent(self, events):
        """Record on the sale orders the last status the provider accepted."""
        with_order = events.filtered(lambda e: e.status and e.sale_order_id)
        for (status, sent_at), group in with_order.grouped(
            lambda e: (e.status, e.processed_at)
        ).items():
            # Not tracked fields: no chatter bookkeeping on the order.
            group.sale_order_id.sudo().with_context(tracking_disable=True).write(
                {"oms_last_status": status, "oms_last_status_at": sent_at}
            )

    @api.model
    def _oms_send_now(self, event):
        """Send one claimed ``event`` now, whatever the circuit breaker and
        the rate limit say (a source's test callback), and record it.
        Returns its exchange log."""
        request = self._oms_build_request(event)
        if request is None:
            return self.env["oms.integration.exchange"]
        return self._oms_record([self._oms_read_answer(event, request)])
