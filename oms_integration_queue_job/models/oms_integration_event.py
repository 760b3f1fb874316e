import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

CHANNELS = {"inbound": "root.oms.inbound", "outbound": "root.oms.outbound"}
# How many due events one look enqueues at most (the rest at the next look:
# the end of each job, the backstop).
ENQUEUE_LIMIT = 200


class OmsIntegrationEvent(models.Model):
    """Events run as OCA queue jobs instead of by the cron runners.

    The job is the engine, the event stays the record: its states, attempts,
    backoff, dead letter and lease are the core's, unchanged. A job claims
    its event exactly as a cron runner claims a batch (the same query: due,
    first of its order, ``FOR UPDATE SKIP LOCKED``, the lease committed
    first), so a job enqueued twice, or a job and a stranded one, never apply
    an event twice, and one order's events keep their order: the job of an
    event whose order has an earlier event to do finds nothing to claim, and
    the job that finishes the earlier one enqueues the next.
    """

    _inherit = "oms.integration.event"

    # No column of ours on the event: writing one from the job that enqueues
    # the next event would collide with that event's claim by another job.
    # The job names its event (its "records"), and its identity key says
    # which event and attempt it runs: "oms-event-<id>-<attempt>[-<mark>]".
    oms_job_ids = fields.Many2many(
        "queue.job",
        string="Jobs",
        compute="_compute_oms_job_ids",
        groups="queue_job.group_queue_job_manager",
        help="The queue jobs enqueued for this event, newest first.",
    )

    def _compute_oms_job_ids(self):
        Job = self.env["queue.job"].sudo()
        for event in self:
            event.oms_job_ids = Job.search(
                [("identity_key", "=like", f"oms-event-{event.id}-%")],
                order="id desc",
            )

    # === THE CRON RUNNERS STAND DOWN === #

    @api.model
    def _cron_process_queue(self):
        """Jobs work the queue while this addon is installed: the cron runners
        stand down, so that the two engines never race. Uninstalling the
        addon gives the work back to them, nothing lost (the events are
        where they were)."""
        return 0

    @api.model
    def _cron_send_statuses(self):
        return 0

    @api.model
    def _oms_trigger_runners(self, direction="inbound", everyone=False):
        """Instead of waking a cron runner: a job for each due event that has
        none (on the commit of this transaction, the job runner sees them)."""
        self._oms_enqueue_ready(direction)
        return self.env["ir.cron"]

    # === ENQUEUING === #

    @api.model
    def _oms_enqueue_ready(
        self, direction, ready="due", limit=ENQUEUE_LIMIT, backstop=False
    ):
        """Enqueue a job for the events of ``direction`` ready to run (``due``,
        or ``expired``: their worker died) that have no live job for their
        current attempt: waiting, or enqueued or started less than a lease
        ago (longer: stranded, a job runner restarted, a worker killed)."""
        self.flush_model()
        self.env["queue.job"].flush_model(
            ["state", "identity_key", "date_enqueued", "date_started"]
        )
        now = fields.Datetime.now()
        stale = now - timedelta(seconds=self._oms_lease_seconds())
        # A live job of the event's current attempt: waiting, or handed to a
        # worker less than a lease ago (queue_job's partial index on the
        # identity key of waiting jobs serves the look-up).
        self.env.cr.execute(
            SQL(
                """
                SELECT event.id
                  FROM oms_integration_event event
                 WHERE event.id IN (%(ready)s)
                   AND NOT EXISTS (
                        SELECT 1
                          FROM queue_job job
                         WHERE job.identity_key = 'oms-event-' || event.id || '-'
                                                  || COALESCE(event.attempts, 0)
                           AND job.state IN ('wait_dependencies', 'pending',
                                             'enqueued')
                           AND (job.state != 'enqueued'
                                OR job.date_enqueued > %(stale)s)
                   )
                   -- Started, not claimed yet: that job will claim it.
                   AND NOT EXISTS (
                        SELECT 1
                          FROM queue_job job
                         WHERE job.state = 'started'
                           AND job.identity_key = 'oms-event-' || event.id || '-'
                                                  || COALESCE(event.attempts, 0)
                           AND job.date_started > %(stale)s
                   )
                 ORDER BY event.next_attempt_at, event.id
                 LIMIT %(limit)s
                """,
                ready=self._oms_ready_query(direction, now, ready),
                stale=stale,
                limit=limit,
            )
        )
        events = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        # A stranded job keeps its identity key while "enqueued": the
        # backstop's job needs another one.
        events._oms_enqueue(suffix=f"-{int(now.timestamp())}" if backstop else "")
        return events

    def _oms_enqueue(self, eta=None, suffix=""):
        """One job per event, on its direction's channel, at ``eta`` (a retry)
        or at once. The identity key (event and attempt) makes a second
        enqueue of the same attempt a no-op while the first waits; the claim
        makes any duplicate harmless anyway."""
        for event in self:
            event.with_delay(
                channel=CHANNELS[event.direction],
                eta=eta,
                identity_key=f"oms-event-{event.id}-{event.attempts}{suffix}",
                description=self.env._(
                    "OMS %(direction)s event #%(event)s (%(order)s)",
                    direction=event.direction,
                    event=event.id,
                    order=event.external_order_id or "-",
                ),
            )._oms_job_run()

    def _oms_enqueue_retry(self):
        """A job at the retry time of the events rescheduled for later."""
        now = fields.Datetime.now()
        for event in self.filtered(
            lambda e: (
                e.state in ("pending", "failed")
                and e.next_attempt_at
                and e.next_attempt_at > now
            )
        ):
            event._oms_enqueue(eta=event.next_attempt_at)

    def _set_failed(self, error, hint=None, **kwargs):
        result = super()._set_failed(error, hint=hint, **kwargs)
        self._oms_enqueue_retry()
        return result

    def _oms_defer(self, until, reason):
        result = super()._oms_defer(until, reason)
        self._oms_enqueue_retry()
        return result

    # === THE JOB === #

    def _oms_job_run(self):
        """Work this event as a cron runner works a batch of one: claim it
        (with the same rules, its lease committed), apply it or send it,
        commit; then enqueue what became ready (the next event of its
        order)."""
        self.ensure_one()
        direction = self.direction
        events = self._oms_claim_committed(direction, 1, self.ids)
        if not events:
            result = self.env._(
                "Nothing to do: event #%(event)s is done, taken by another job, "
                "not due yet, or waits for an earlier event of its order.",
                event=self.id,
            )
        else:
            if direction == "inbound":
                events._oms_process_claimed()
            else:
                events._oms_send_claimed()
            result = self.env._(
                "Event #%(event)s: %(state)s.", event=self.id, state=events.state
            )
        self._oms_enqueue_ready(direction)
        return result

    # === BACKSTOP === #

    @api.model
    def _cron_oms_job_backstop(self):
        """Cron: re-enqueue the events a job should be running and none is:
        due events whose job is gone or stranded, and events whose worker
        died (lease expired). After a kill -9 of every worker the backlog
        drains by itself."""
        count = 0
        for direction in ("inbound", "outbound"):
            for ready in ("expired", "due"):
                count += len(self._oms_enqueue_ready(direction, ready, backstop=True))
        if count:
            _logger.info("Integration events re-enqueued as jobs: %s", count)
        return count
