import hashlib
import json
from datetime import datetime, timedelta

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from odoo.addons.oms_integration import const
from odoo.addons.oms_integration.models.oms_integration_event import REPEAT_INDEXES

from .common import SIGNING_SECRET, OmsIntegrationCommon

NOW = datetime(2026, 3, 2, 9, 0, 0)
EVENT_LOGGER = "odoo.addons.oms_integration.models.oms_integration_event"


@tagged("post_install", "-at_install")
class TestEventTransitions(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source.write(
            {"max_attempts": 3, "retry_base_delay": 60, "retry_max_delay": 3600}
        )

    def setUp(self):
        super().setUp()
        self.event = self._create_event(delivery_id="d-1")

    def _fail_once(self, event, error="Provider timed out", **kwargs):
        event._set_processing()
        event._set_failed(error, **kwargs)

    def test_processing_counts_the_attempt_and_takes_a_lease(self):
        with freeze_time(NOW):
            self.event._set_processing()
        self.assertEqual(self.event.state, "processing")
        self.assertEqual(self.event.attempts, 1)
        self.assertEqual(self.event.started_at, NOW)
        self.assertEqual(
            self.event.lease_until, NOW + timedelta(seconds=const.DEFAULT_LEASE_SECONDS)
        )

    def test_processing_refused_from_done(self):
        self.event._set_processing()
        self.event._set_done()
        with self.assertRaises(UserError):
            self.event._set_processing()
        self.assertEqual(self.event.attempts, 1)

    def test_done_only_from_processing(self):
        with (
            self.assertLogs(EVENT_LOGGER, level="WARNING") as logs,
            self.assertRaises(UserError),
        ):
            self.event._set_done()
        self.assertEqual(self.event.state, "pending")
        self.assertIn(
            f"event {self.event.id} from state pending to done", logs.output[0]
        )

        order = self._create_order()
        with freeze_time(NOW):
            self.event._set_processing()
        with freeze_time(NOW + timedelta(seconds=2)):
            self.event._set_done(sale_order=order)
        self.assertEqual(self.event.state, "done")
        self.assertEqual(self.event.sale_order_id, order)
        self.assertEqual(self.event.processed_at, NOW + timedelta(seconds=2))
        self.assertAlmostEqual(self.event.duration, 2.0)
        self.assertFalse(self.event.lease_until)

    def test_failure_schedules_a_retry_within_backoff_bounds(self):
        with freeze_time(NOW):
            self._fail_once(self.event, hint="Check the provider status page.")
        self.assertEqual(self.event.state, "failed")
        self.assertEqual(self.event.last_error, "Provider timed out")
        self.assertEqual(self.event.error_hint, "Check the provider status page.")
        self.assertFalse(self.event.lease_until)
        # First retry: between half the base delay and the base delay.
        self.assertGreaterEqual(self.event.next_attempt_at, NOW + timedelta(seconds=30))
        self.assertLessEqual(self.event.next_attempt_at, NOW + timedelta(seconds=60))

        with freeze_time(NOW):
            self._fail_once(self.event)
        self.assertEqual(self.event.attempts, 2)
        self.assertGreaterEqual(self.event.next_attempt_at, NOW + timedelta(seconds=60))
        self.assertLessEqual(self.event.next_attempt_at, NOW + timedelta(seconds=120))
        self.assertFalse(self.event.dead_letter_ids)

    def test_retry_after_is_a_lower_bound(self):
        with freeze_time(NOW):
            self._fail_once(self.event, retry_after=1800)
        self.assertGreaterEqual(
            self.event.next_attempt_at, NOW + timedelta(seconds=1800)
        )
        self.assertLessEqual(self.event.next_attempt_at, NOW + timedelta(seconds=1801))

        # A shorter retry_after does not bring the retry before the backoff.
        with freeze_time(NOW):
            self._fail_once(self.event, retry_after=1)
        self.assertGreaterEqual(self.event.next_attempt_at, NOW + timedelta(seconds=60))

    def test_exhausted_attempts_go_to_dead_letter(self):
        for _attempt in range(3):
            self._fail_once(self.event, error="HTTP 503 from provider")
        self.assertEqual(self.event.state, "dead")
        self.assertEqual(self.event.attempts, 3)
        letter = self.event.dead_letter_ids
        self.assertEqual(len(letter), 1)
        self.assertEqual(letter.reason, "exhausted")
        self.assertEqual(letter.state, "open")
        self.assertEqual(letter.attempts, 3)
        self.assertEqual(letter.last_error, "HTTP 503 from provider")
        self.assertEqual(letter.source_id, self.source)

    def test_permanent_error_goes_straight_to_dead_letter(self):
        hint = "Product SP009 is not mapped: map it in Mapping Center, then Retry."
        self._fail_once(
            self.event, error="Unknown product SP009", hint=hint, permanent=True
        )
        self.assertEqual(self.event.state, "dead")
        self.assertEqual(self.event.attempts, 1)
        self.assertEqual(self.event.error_hint, hint)
        letter = self.event.dead_letter_ids
        self.assertEqual(letter.reason, "permanent")
        self.assertEqual(letter.error_hint, hint)
        self.assertEqual(letter.last_error, "Unknown product SP009")

    def test_errors_are_stored_redacted(self):
        self.source.signing_secret = SIGNING_SECRET
        self._fail_once(
            self.event, error=f"Signature check with {SIGNING_SECRET} failed"
        )
        self.assertNotIn(SIGNING_SECRET, self.event.last_error)
        self.assertIn("Signature check with", self.event.last_error)

    def test_requeue_then_second_death_reopens_the_same_letter(self):
        self._fail_once(self.event, permanent=True)
        letter = self.event.dead_letter_ids
        letter.action_requeue()
        self.assertEqual(self.event.state, "pending")
        self.assertEqual(self.event.attempts, 0)
        self.assertEqual(letter.state, "requeued")
        self.assertEqual(letter.requeue_count, 1)
        with self.assertRaises(UserError):
            letter.action_requeue()

        for _attempt in range(3):
            self._fail_once(self.event, error="Still failing")
        self.assertEqual(self.event.state, "dead")
        self.assertEqual(self.event.dead_letter_ids, letter)
        self.assertEqual(
            self.env["oms.integration.dead.letter"].search_count(
                [("event_id", "=", self.event.id)]
            ),
            1,
        )
        self.assertEqual(letter.state, "open")
        self.assertEqual(letter.reason, "exhausted")
        self.assertEqual(letter.last_error, "Still failing")
        self.assertEqual(letter.requeue_count, 1)

    def test_discard(self):
        self._fail_once(self.event, permanent=True)
        self.event._set_discarded("Duplicate of order EXT-0")
        self.assertEqual(self.event.state, "discarded")
        self.assertEqual(self.event.discard_reason, "Duplicate of order EXT-0")
        self.assertEqual(self.event.dead_letter_ids.state, "discarded")

    def test_discard_refused_from_done(self):
        self.event._set_processing()
        self.event._set_done()
        with mute_logger(EVENT_LOGGER), self.assertRaises(UserError):
            self.event._set_discarded("Oops")
        self.assertEqual(self.event.state, "done")

    def test_retry_now(self):
        self._fail_once(self.event)
        self.event.action_retry_now()
        self.assertEqual(self.event.state, "pending")
        self.assertEqual(self.event.attempts, 1, "A retry keeps the attempt count.")

        self._fail_once(self.event, permanent=True)
        letter = self.event.dead_letter_ids
        self.event.action_retry_now()
        self.assertEqual(self.event.state, "pending")
        self.assertEqual(
            self.event.attempts, 0, "Retrying a dead event gives a new budget."
        )
        self.assertEqual(letter.state, "requeued")

    def test_retry_now_refused_from_done_or_processing(self):
        self.event._set_processing()
        with self.assertRaises(UserError):
            self.event.action_retry_now()
        self.assertEqual(self.event.state, "processing")
        self.event._set_done()
        with self.assertRaises(UserError):
            self.event.action_retry_now()
        self.assertEqual(self.event.state, "done")


@tagged("post_install", "-at_install")
class TestEventRecords(OmsIntegrationCommon):
    def test_delivery_id_is_unique_per_source_and_direction(self):
        self._create_event(delivery_id="wh-1")
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.cr.savepoint(),
        ):
            self._create_event(delivery_id="wh-1")
            self.env.flush_all()

    def test_same_delivery_id_in_other_direction_or_source(self):
        inbound = self._create_event(delivery_id="wh-1")
        outbound = self._create_event(delivery_id="wh-1", direction="outbound")
        other_source = self._create_event(source=self.source_b, delivery_id="wh-1")
        self.env.flush_all()
        self.assertEqual(
            self.env["oms.integration.event"].search(
                [
                    ("source_id", "in", (self.source | self.source_b).ids),
                    ("delivery_id", "=", "wh-1"),
                ]
            ),
            inbound | outbound | other_source,
        )

    def _assert_refused_as_a_repeat(self, **vals):
        with (
            self.assertRaises(IntegrityError),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self._create_event(**vals)

    def test_one_version_of_an_order_is_one_event(self):
        version = datetime(2026, 11, 22, 9, 30)
        event = self._create_event(
            external_order_id="EXT-V", external_updated_at=version
        )
        # The very same payload of the order, or the same version: refused by
        # the database, whoever stores it.
        self._assert_refused_as_a_repeat(
            payload=event.payload, external_order_id="EXT-V"
        )
        self._assert_refused_as_a_repeat(
            external_order_id="EXT-V", external_updated_at=version
        )
        # Another version, another order, another source, an outbound event,
        # or no version at all: stored.
        stored = (
            self._create_event(
                external_order_id="EXT-V",
                external_updated_at=version + timedelta(minutes=1),
            )
            | self._create_event(payload=event.payload, external_order_id="EXT-W")
            | self._create_event(
                source=self.source_b,
                payload=event.payload,
                external_order_id="EXT-V",
                external_updated_at=version,
            )
            | self._create_event(
                payload=event.payload,
                external_order_id="EXT-V",
                external_updated_at=version,
                direction="outbound",
            )
            | self._create_event(external_order_id="EXT-V")
        )
        self.assertEqual(len(stored), 5)

    def _index_exists(self, name):
        self.env.cr.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        return bool(self.env.cr.fetchone())

    def test_repeat_index_leaves_events_stored_twice_before_it(self):
        cr = self.env.cr
        name, column, condition = REPEAT_INDEXES[0]
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
        first = self._create_event(external_order_id="EXT-R")
        twice = self._create_event(payload=first.payload, external_order_id="EXT-R")
        with self.assertLogs(
            "odoo.addons.oms_integration.models.oms_integration_event", "WARNING"
        ) as logs:
            self.env["oms.integration.event"]._oms_create_repeat_index(
                name, column, condition
            )
        self.assertIn(f"up to id {twice.id}", logs.output[0])
        # That index cannot find an order's earlier events: one of their own.
        self.env["oms.integration.event"]._oms_index_inbound_orders()
        self.assertTrue(self._index_exists("oms_integration_event_inbound_order_idx"))
        # Nothing is deleted; events after them are covered again.
        self.assertTrue(first.exists() and twice.exists())
        later = self._create_event(external_order_id="EXT-S")
        self._assert_refused_as_a_repeat(
            payload=later.payload, external_order_id="EXT-S"
        )
        # A database without such events gets the index over every event.
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
        (first | twice).unlink()
        self.env["oms.integration.event"]._oms_create_repeat_index(
            name, column, condition
        )
        cr.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name])
        self.assertNotIn("id >", cr.fetchone()[0])
        self.env["oms.integration.event"]._oms_index_inbound_orders()
        self.assertFalse(self._index_exists("oms_integration_event_inbound_order_idx"))
        self._assert_refused_as_a_repeat(
            payload=later.payload, external_order_id="EXT-S"
        )

    def test_events_without_delivery_id_are_not_duplicates(self):
        events = self._create_event() | self._create_event()
        self.env.flush_all()
        self.assertEqual(len(events), 2)

    def test_payload_hash_is_computed_on_create(self):
        payload = json.dumps({"order_id": "EXT-1", "total": 20})
        event = self._create_event(payload=payload)
        self.assertEqual(
            event.payload_hash, hashlib.sha256(payload.encode()).hexdigest()
        )
        same = self._create_event(payload=payload, external_order_id="EXT-2")
        self.assertEqual(same.payload_hash, event.payload_hash)

    def test_payload_display_redacts_secrets(self):
        self.source.signing_secret = SIGNING_SECRET
        payload = json.dumps(
            {
                "order_id": "EXT-1",
                "token": "abc-def-ghi",
                "customer": {"name": "Retail Shop", "api_key": "k-123456"},
                "note": f"signed with {SIGNING_SECRET}",
            }
        )
        event = self._create_event(payload=payload)
        for user in (self.env.user, self.oms_user):
            with self.subTest(user=user.login):
                display = event.with_user(user).payload_display
                self.assertIn("EXT-1", display)
                self.assertIn("Retail Shop", display)
                self.assertNotIn("abc-def-ghi", display)
                self.assertNotIn("k-123456", display)
                self.assertNotIn(SIGNING_SECRET, display)
                self.assertIn('"token": "***"', display)
                self.assertIn("signed with ***", display)

    def test_gc_deletes_old_processed_events_only(self):
        self.source.retention_days = 30
        now = fields.Datetime.now()
        with freeze_time(now - timedelta(days=31)):
            old_done = self._create_event(delivery_id="old-done")
            old_done._set_processing()
            old_done._set_done()
            old_discarded = self._create_event(delivery_id="old-discarded")
            old_discarded._set_processing()
            old_discarded._set_failed("Bad", permanent=True)
            old_discarded._set_discarded("Not needed")
            old_pending = self._create_event(delivery_id="old-pending")
            old_dead = self._create_event(delivery_id="old-dead")
            old_dead._set_processing()
            old_dead._set_failed("Bad", permanent=True)
        old_letter = old_discarded.dead_letter_ids
        with freeze_time(now - timedelta(days=5)):
            recent_done = self._create_event(delivery_id="recent-done")
            recent_done._set_processing()
            recent_done._set_done()

        # No flush here on purpose: the cron may run in the transaction that
        # processed the events (run manually, or after a queue run).
        self._run_cron("oms_integration.ir_cron_gc_processed_events")

        self.assertFalse(old_done.exists())
        self.assertFalse(old_discarded.exists())
        self.assertFalse(old_letter.exists())
        self.assertTrue(old_pending.exists())
        self.assertTrue(old_dead.exists(), "Dead letters wait for a human.")
        self.assertTrue(recent_done.exists())

    def test_source_smart_button_counts(self):
        source = self.source
        other = self._create_source(name="Other")
        order = self._create_order(oms_source_id=source.id, oms_external_id="EXT-1")
        self._create_order(oms_source_id=other.id, oms_external_id="EXT-1")
        done = self._create_event(delivery_id="d-1")
        done._set_processing()
        done._set_done(sale_order=order)
        dead = self._create_event(delivery_id="d-2")
        dead._set_processing()
        dead._set_failed("Bad", permanent=True)
        self._create_event(delivery_id="d-3")
        self._create_event(source=other, delivery_id="d-1")
        self.env["oms.integration.mapping"]._oms_resolve(source, "product", "NEW-1")

        self.assertEqual(source.event_count, 3)
        self.assertEqual(source.dead_letter_count, 1)
        self.assertEqual(source.sale_order_count, 1)
        self.assertEqual(source.unmapped_count, 1)
        self.assertEqual(other.event_count, 1)
        self.assertEqual(other.dead_letter_count, 0)

        # A requeued dead letter no longer counts as open.
        dead.dead_letter_ids.action_requeue()
        source.invalidate_recordset(["dead_letter_count"])
        self.assertEqual(source.dead_letter_count, 0)

        self.assertEqual(
            self.env["sale.order"].search(source.action_view_sale_orders()["domain"]),
            order,
        )
        self.assertEqual(
            self.env["oms.integration.event"].search(
                source.action_view_events()["domain"]
            ),
            self.env["oms.integration.event"].search([("source_id", "=", source.id)]),
        )
