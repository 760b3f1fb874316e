"""Events run as OCA queue jobs: enqueued on store and on retry, one order's
events in order, a duplicate job harmless, the event's own attempts and dead
letter, the cron runners standing down, a stranded job's event re-enqueued."""

import json
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import tagged

from odoo.addons.oms_integration.lib.simulator import ProviderSimulator
from odoo.addons.oms_integration.tests.common import OmsIntegrationCommon
from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.job import Job


def _payload(order_id="J-1", updated_at="2026-11-22T09:30:00Z", quantity=5):
    return {
        "type": "order.created",
        "order": {
            "id": order_id,
            "updated_at": updated_at,
            "currency": "VND",
            "customer": {"id": "JC-1", "name": "Tap hoa Minh Anh"},
            "lines": [
                {
                    "id": "1",
                    "product": {"sku": "JSP001"},
                    "quantity": quantity,
                    "price_unit": 10000,
                }
            ],
        },
    }


@tagged("post_install", "-at_install")
class TestQueueJobEngine(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        vnd = cls.env.ref("base.VND")
        vnd.active = True
        pricelist = cls.env["product.pricelist"].create(
            {"name": "VND (jobs)", "currency_id": vnd.id}
        )
        cls.water = cls.env["product.product"].create(
            {"name": "Nuoc suoi", "default_code": "JSP001", "type": "consu"}
        )
        cls.shop = cls.env["res.partner"].create({"name": "Tap hoa Minh Anh"})
        cls.job_source = cls._create_active_source(
            name="Jobs shop",
            pricelist_id=pricelist.id,
            partner_policy="map_only",
            max_attempts=3,
        )
        cls._map(cls.job_source, "partner", "JC-1", partner_id=cls.shop.id)

    # === HELPERS === #

    def _deliver(self, payload):
        status, answer = self._accept(self.job_source, payload)
        self.assertEqual(status, 202, answer)
        return self.Event.browse(answer["event_id"])

    def _jobs(self, state=None):
        domain = [("model_name", "=", "oms.integration.event")]
        if state:
            domain.append(("state", "=", state))
        return self.env["queue.job"].search(domain, order="id")

    def _perform_jobs(self, now=None):
        """Run the due pending jobs as queue_job's runner does (started, the
        job, done), each on a cursor of its own; returns how many ran."""
        self.env.flush_all()
        now = now or fields.Datetime.now()
        ran = 0
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            records = env["queue.job"].search(
                [
                    ("model_name", "=", "oms.integration.event"),
                    ("state", "=", "pending"),
                    "|",
                    ("eta", "=", False),
                    ("eta", "<=", now),
                ],
                order="id",
            )
            for record in records:
                job = Job.load(env, record.uuid)
                job.set_started()
                job.store()
                # As queue_job's /queue_job/runjob does: commits forbidden on
                # the job's cursor (the job function allows them on its own).
                RunJobController._try_perform_job(env, job)
                ran += 1
        self.env.invalidate_all()
        return ran

    def _events_of(self, jobs):
        """The events the jobs run (a job's ``records``)."""
        return self.Event.browse([record.id for job in jobs for record in job.records])

    def _orders(self, external_id):
        return self.env["sale.order"].search(
            [
                ("oms_source_id", "=", self.job_source.id),
                ("oms_external_id", "=", external_id),
            ]
        )

    # === TESTS === #

    def test_a_stored_delivery_is_enqueued_on_its_channel_and_applied(self):
        event = self._deliver(_payload())
        job = self._jobs()
        self.assertEqual(len(job), 1)
        self.assertEqual(job.channel, "root.oms.inbound")
        self.assertEqual(job.identity_key, f"oms-event-{event.id}-0")
        self.assertEqual(event.oms_job_ids, job, "the event names its job")
        self.assertEqual(job.records, event, "the job's Related opens the event")
        self.assertEqual(self._perform_jobs(), 1)
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(len(self._orders("J-1")), 1)
        self.assertEqual(self._jobs().state, "done")

    def test_the_cron_runners_stand_down(self):
        event = self._deliver(_payload())
        self._run_queue()
        self.assertEqual(event.state, "pending", "the cron runner did nothing")
        self.assertFalse(self._orders("J-1"))
        self.assertEqual(self._perform_jobs(), 1)
        self.assertEqual(event.state, "done", event.last_error)

    def test_one_orders_events_run_in_order(self):
        first = self._deliver(_payload(quantity=5))
        second = self._deliver(_payload(updated_at="2026-11-22T10:00:00Z", quantity=7))
        # Only the first is ready: the second waits for it, with no job yet.
        self.assertEqual(self._events_of(self._jobs()), first)
        # Its job applies it, then enqueues the next event of the order.
        self.assertEqual(self._perform_jobs(), 1)
        self.assertEqual(first.state, "done")
        self.assertEqual(second.state, "pending")
        self.assertEqual(self._events_of(self._jobs("pending")), second)
        self._perform_jobs()
        self.assertEqual(second.state, "done", second.last_error)
        order = self._orders("J-1")
        self.assertEqual(len(order), 1)
        self.assertEqual(order.order_line.product_uom_qty, 7)

    def test_a_job_for_a_later_event_does_nothing_before_the_earlier_one(self):
        first = self._deliver(_payload(quantity=5))
        second = self._deliver(_payload(updated_at="2026-11-22T10:00:00Z", quantity=7))
        second._oms_enqueue()
        jobs = self._jobs()
        self.assertEqual(self._events_of(jobs), first | second)
        # Run the later one's job first: it claims nothing.
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            result = env["oms.integration.event"].browse(second.id)._oms_job_run()
        self.env.invalidate_all()
        self.assertIn("Nothing to do", result)
        self.assertEqual((first.state, second.state), ("pending", "pending"))
        self._perform_jobs()
        self._perform_jobs()
        self.assertEqual((first.state, second.state), ("done", "done"))
        self.assertEqual(self._orders("J-1").order_line.product_uom_qty, 7)

    def test_an_event_enqueued_twice_is_applied_once(self):
        event = self._deliver(_payload())
        # The same attempt again: the identity key finds the waiting job.
        event._oms_enqueue()
        self.assertEqual(len(self._jobs()), 1)
        # A second job all the same (as a backstop would make): harmless.
        event._oms_enqueue(suffix="-again")
        self.assertEqual(len(self._jobs()), 2)
        self.assertEqual(self._perform_jobs(), 2)
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.attempts, 1, "applied once")
        self.assertEqual(len(self._orders("J-1")), 1)
        self.assertEqual(
            len(
                event.sale_order_id.message_ids.filtered(
                    lambda m: "Created from integration source" in (m.body or "")
                )
            ),
            1,
        )

    def test_a_failure_is_retried_by_a_job_at_its_backoff_then_dead_lettered(self):
        builder = type(self.env["oms.integration.order.builder"])

        def broken(self, event, order):
            raise RuntimeError("the provider's order hit a bug")

        event = self._deliver(_payload())
        with patch.object(builder, "_oms_apply", broken):
            self._perform_jobs()
            self.assertEqual(event.state, "failed")
            self.assertEqual(event.attempts, 1)
            retry = self._jobs("pending")
            self.assertEqual(retry.records, event)
            self.assertEqual(retry.eta, event.next_attempt_at, "our backoff")
            self.assertEqual(self._perform_jobs(), 0, "not before its time")
            for attempt in (2, 3):
                later = event.next_attempt_at + timedelta(seconds=1)
                with freeze_time(later):
                    self.assertEqual(self._perform_jobs(now=later), 1)
                self.assertEqual(event.attempts, attempt)
        self.assertEqual(event.state, "dead", "the source's maximum: 3 attempts")
        self.assertEqual(event.dead_letter_ids.reason, "exhausted")
        self.assertFalse(self._jobs("pending"), "no job after the dead letter")
        # Requeued by an operator: a job again.
        event.dead_letter_ids.action_requeue()
        self.assertEqual(self._jobs("pending").records, event)
        self._perform_jobs()
        self.assertEqual(event.state, "done", event.last_error)

    def test_a_stranded_job_is_replaced_once_the_lease_expires(self):
        event = self._deliver(_payload())
        job = self._jobs()
        # Its worker was killed while applying it: the job stays "started",
        # the event "processing" with its lease.
        claimed = self.Event._oms_claim("inbound", 1)
        self.assertEqual(claimed, event)
        job.write({"state": "started", "date_started": fields.Datetime.now()})
        self.assertEqual(self.Event._cron_oms_job_backstop(), 0, "lease still on")
        later = event.lease_until + timedelta(seconds=1)
        with freeze_time(later):
            self.assertEqual(self.Event._cron_oms_job_backstop(), 1)
            replacement = self._jobs("pending")
            self.assertEqual(replacement.records, event)
            self.assertNotEqual(replacement, job)
            self._perform_jobs(now=later)
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.attempts, 2, "the killed try counted")
        self.assertEqual(len(self._orders("J-1")), 1)

    def test_an_event_whose_job_is_gone_is_enqueued_again(self):
        event = self._deliver(_payload())
        self._jobs().unlink()
        self.assertEqual(self.Event._cron_oms_job_backstop(), 1)
        self.assertEqual(self._jobs("pending").records, event)
        self._perform_jobs()
        self.assertEqual(event.state, "done", event.last_error)

    def test_status_callbacks_are_sent_by_jobs_in_order(self):
        simulator = ProviderSimulator().start()
        self.addCleanup(simulator.stop)
        source = self._create_active_source(
            scopes=("inbound", "outbound"),
            name="Jobs status shop",
            outbound_enabled=True,
            callback_url=f"{simulator.url}/status",
            rate_limit=0,
        )
        self.product.is_storable = False  # always ready to deliver
        order = self._create_order()
        order.write({"oms_source_id": source.id, "oms_external_id": "J-OUT"})
        order.action_confirm()
        outbound = self.Event.search(
            [("source_id", "=", source.id), ("direction", "=", "outbound")],
            order="id",
        )
        # approved, then processing (its delivery is ready): only the first
        # has a job; the second waits for it (one order's statuses in order).
        self.assertEqual(outbound.mapped("status"), ["approved", "processing"])
        jobs = self._jobs("pending")
        self.assertEqual(self._events_of(jobs), outbound[0])
        self.assertEqual(jobs.channel, "root.oms.outbound")
        self._perform_jobs()
        self._perform_jobs()
        self.assertEqual(outbound.mapped("state"), ["done", "done"])
        sent = [
            json.loads(callback["body"])["status"] for callback in simulator.callbacks
        ]
        self.assertEqual(sent, ["approved", "processing"])
        self._send_statuses()
        self.assertEqual(len(simulator.callbacks), 2, "the cron sent nothing more")

    def test_the_payload_is_stored_once_whatever_the_engine(self):
        event = self._deliver(_payload())
        status, answer = self._accept(self.job_source, _payload())
        self.assertEqual((status, answer["status"]), (200, "duplicate"))
        self.assertEqual(len(self._jobs()), 1)
        self.assertEqual(json.loads(event.payload)["order"]["id"], "J-1")
