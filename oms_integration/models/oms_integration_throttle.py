import logging
import time

from psycopg2 import errorcodes
from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .. import const
from ..lib import outbound, redaction

_logger = logging.getLogger(__name__)

# How often a throttle update is tried again after a concurrent update of the
# same row by another worker (a serialization failure).
_TRIES = 5


class OmsIntegrationThrottle(models.Model):
    """The rate limit and the circuit breaker of one source, shared by every
    worker of every Odoo host: requests to the provider (polling and status
    callbacks together) are spaced by ``60 / rate_limit`` seconds, and status
    callbacks pause after ``circuit_threshold`` transport failures in a row.

    One row per source, apart from the source's configuration row: the
    traffic writes here, an administrator's edit of the source never waits
    for it, nor it for that edit. Every change is made in a short
    transaction of its own on the caller's cursor (``_oms_update``): the
    callers (the polling and sending crons) commit before and after it."""

    _name = "oms.integration.throttle"
    _description = "Integration Rate Limit and Circuit Breaker"
    _log_access = False
    _rec_name = "source_id"

    source_id = fields.Many2one(
        "oms.integration.source", required=True, ondelete="cascade", readonly=True
    )
    rate_tat = fields.Datetime(
        string="Next Free Request Slot",
        readonly=True,
        help="The theoretical arrival time of the rate limit (GCRA).",
    )
    failures = fields.Integer(
        string="Failed Callbacks in a Row",
        readonly=True,
        help="Transport failures (no answer, 5xx) of status callbacks in a row.",
    )
    open_until = fields.Datetime(
        string="Sending Paused Until",
        readonly=True,
        help="While the circuit is open, no status callback is sent.",
    )

    _sql_constraints = [
        ("source_unique", "UNIQUE(source_id)", "One throttle per source."),
    ]

    # === BUSINESS METHODS === #

    @api.model
    def _oms_of(self, source, create=False):
        """The throttle row of ``source``; with ``create``, made on first use
        (only inside ``_oms_update``, where a concurrent twin is retried)."""
        throttle = self.sudo().search([("source_id", "=", source.id)], limit=1)
        if not throttle and create:
            throttle = self.sudo().create({"source_id": source.id})
        return throttle

    def _oms_circuit(self):
        """The circuit's state (``outbound.CircuitState``) as last committed
        (closed for a source that has no throttle row yet)."""
        if not self:
            return outbound.CircuitState(0, None)
        self.ensure_one()
        return outbound.CircuitState(self.failures or 0, self.open_until or None)

    @api.model
    def _oms_update(self, source, decide):
        """Change the throttle of ``source`` in a transaction of its own:
        ``decide(throttle)`` returns the values to write (or None) and
        anything else the caller needs, as ``(vals, result)``; the result is
        returned. Whatever the caller's transaction holds is committed first.

        Two workers updating the row at once: the later one gets a
        serialization failure, is rolled back (it wrote nothing else) and
        decides again on what the first committed. Never counted as a
        failure of the provider."""
        cr = self.env.cr
        for attempt in range(1, _TRIES + 1):
            cr.commit()  # pylint: disable=invalid-commit
            try:
                throttle = self._oms_of(source, create=True)
                vals, result = decide(throttle)
                if vals:
                    throttle.write(vals)
                cr.commit()  # pylint: disable=invalid-commit
                return result
            except (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, UniqueViolation) as exc:
                cr.rollback()  # pylint: disable=invalid-commit
                if attempt == _TRIES:
                    raise
                _logger.debug(
                    "Throttle of source %s updated concurrently (%s): again",
                    source.id,
                    errorcodes.lookup(exc.pgcode),
                )
                time.sleep(0.01 * attempt)
        return None

    @api.model
    def _oms_take_slots(self, source, count, window):
        """Take up to ``count`` request slots of the rate limit of ``source``
        that start within ``window`` seconds from now. Returns the moments
        (naive UTC datetimes, in order) at which each request may go out;
        fewer than ``count`` (possibly none) when the limit allows no more
        within the window."""
        now = fields.Datetime.now()
        if not source.rate_limit:
            return [now] * count

        def decide(throttle):
            moments, tat = outbound.rate_slots(
                throttle.rate_tat or None, now, source.rate_limit, count, window
            )
            return ({"rate_tat": tat} if moments else None), moments

        return self._oms_update(source, decide)

    @api.model
    def _oms_take_slot(self, source, max_sleep=const.MAX_RATE_LIMIT_SLEEP):
        """Take one request slot for ``source``, sleeping up to ``max_sleep``
        seconds for it. Returns 0 when taken, else the seconds to wait before
        asking again (nothing taken: the caller tries later)."""
        moments = self._oms_take_slots(source, 1, max_sleep)
        if not moments:
            if not source.rate_limit:
                return 0.0
            throttle = self._oms_of(source)
            now = fields.Datetime.now()
            return max(((throttle.rate_tat or now) - now).total_seconds(), 0.001)
        wait = (moments[0] - fields.Datetime.now()).total_seconds()
        if wait > 0:
            time.sleep(wait)
        return 0.0

    @api.model
    def _oms_record_outcomes(self, source, successes, last_error=None):
        """Count the transport outcomes of status callbacks of ``source``
        (``successes``: booleans in the order the answers came): the circuit
        opens after the threshold of failures in a row and closes on a
        success. Tells the source's followers when sending pauses and when
        it resumes. Returns the circuit's state after them."""
        if not successes:
            return self._oms_of(source)._oms_circuit()
        now = fields.Datetime.now()

        def decide(throttle):
            before = throttle._oms_circuit()
            after, opened, resumed = outbound.circuit_after_outcomes(
                before,
                list(successes),
                now,
                source.circuit_threshold,
                source.circuit_cooldown,
            )
            vals = None
            if (after.failures, after.open_until) != (
                before.failures,
                before.open_until,
            ):
                vals = {"failures": after.failures, "open_until": after.open_until}
            return vals, (after, opened, resumed)

        after, opened, resumed = self._oms_update(source, decide)
        if resumed:
            source.message_post(body=self.env._("Status callbacks resumed."))
        if opened is not None:
            source.message_post(
                body=self.env._(
                    "Status callbacks paused until %(until)s (UTC): %(count)s "
                    "failed in a row. Last error: %(error)s. Sending resumes by "
                    "itself; check the provider's endpoint if it goes on.",
                    until=fields.Datetime.to_string(after.open_until),
                    count=after.failures,
                    error=redaction.redact_text(
                        str(last_error or ""), source._oms_known_secret_values()
                    ),
                )
            )
        return after
