from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import OmsIntegrationCommon


@tagged("post_install", "-at_install")
class TestDashboard(OmsIntegrationCommon):
    """The sources' cards: counters read from the queue, and a stall shown
    from the data alone (no runner needs to run to notice it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls._create_active_source(
            name="Dashboard Shop", scopes=("inbound", "outbound")
        )

    def _now(self):
        return fields.Datetime.now()

    def test_counters_of_a_card(self):
        now = self._now()
        oldest = self._create_event(
            self.shop,
            external_order_id="D-1",
            next_attempt_at=now - timedelta(minutes=10),
            received_at=now - timedelta(minutes=10),
        )
        self._create_event(
            self.shop,
            external_order_id="D-2",
            next_attempt_at=now - timedelta(minutes=2),
            received_at=now - timedelta(minutes=1),
        )
        # Failed, waiting for its retry: in the backlog, not yet due.
        self._create_event(
            self.shop,
            external_order_id="D-3",
            state="failed",
            next_attempt_at=now + timedelta(minutes=5),
            received_at=now - timedelta(minutes=30),
        )
        self._create_event(
            self.shop,
            external_order_id="D-4",
            state="done",
            received_at=now - timedelta(hours=2),
            processed_at=now - timedelta(hours=2),
        )
        self._create_event(
            self.shop,
            external_order_id="D-5",
            direction="outbound",
            event_type="order.status",
            state="done",
            received_at=now - timedelta(hours=3),
            processed_at=now - timedelta(minutes=45),
        )
        # An outbound event that failed for good is no status sent.
        self._create_event(
            self.shop,
            external_order_id="D-6",
            direction="outbound",
            event_type="order.status",
            received_at=now - timedelta(hours=3),
        )._set_dead("Refused", reason="permanent")
        self._create_order(oms_source_id=self.shop.id, oms_external_id="D-4")
        yesterday_order = self._create_order(
            oms_source_id=self.shop.id, oms_external_id="D-0"
        )
        self.env.cr.execute(
            "UPDATE sale_order SET create_date = %s WHERE id = %s",
            (self.shop._oms_today_start() - timedelta(hours=1), yesterday_order.id),
        )
        self.shop.invalidate_recordset()

        self.assertEqual(self.shop.backlog_count, 3)
        self.assertEqual(self.shop.backlog_oldest_due_at, oldest.next_attempt_at)
        self.assertEqual(self.shop.backlog_oldest_minutes, 10)
        self.assertEqual(self.shop.dead_letter_count, 1)
        self.assertEqual(self.shop.orders_today_count, 1)
        self.assertEqual(self.shop.last_order_at, now - timedelta(minutes=1))
        self.assertEqual(self.shop.last_callback_at, now - timedelta(minutes=45))
        # The dead outbound event was the last one processed.
        self.assertGreaterEqual(self.shop.last_processed_at, now)

        # The card's buttons open the same records.
        backlog = self.env["oms.integration.event"].search(
            self.shop.action_view_backlog()["domain"]
        )
        self.assertEqual(
            sorted(backlog.mapped("external_order_id")), ["D-1", "D-2", "D-3"]
        )
        today = self.env["sale.order"].search(
            self.shop.action_view_orders_today()["domain"]
        )
        self.assertEqual(today.mapped("oms_external_id"), ["D-4"])

    def test_a_source_without_activity(self):
        fresh = self._create_source(name="Nothing Yet")
        self.assertEqual(fresh.backlog_count, 0)
        self.assertFalse(fresh.backlog_oldest_due_at)
        self.assertFalse(fresh.is_stalled)
        self.assertFalse(fresh.last_order_at)
        self.assertFalse(fresh.last_callback_at)
        self.assertEqual(fresh.orders_today_count, 0)

    def test_stalled_from_the_data_alone(self):
        self.assertEqual(self.shop.stall_threshold, 15)
        event = self._create_event(
            self.shop,
            external_order_id="S-1",
            next_attempt_at=self._now() - timedelta(minutes=16),
        )
        self.assertTrue(self.shop.is_stalled)
        Source = self.env["oms.integration.source"]
        self.assertIn(self.shop, Source.search([("is_stalled", "=", True)]))
        self.assertNotIn(self.shop, Source.search([("is_stalled", "=", False)]))

        # A runner took it: nothing waits any more.
        event._set_processing()
        self.shop.invalidate_recordset()
        self.assertFalse(self.shop.is_stalled)

    def test_fresh_backlog_is_not_stalled(self):
        self._create_event(
            self.shop,
            external_order_id="F-1",
            next_attempt_at=self._now() - timedelta(minutes=14),
        )
        self.assertEqual(self.shop.backlog_count, 1)
        self.assertFalse(self.shop.is_stalled)
        # The threshold is the source's own.
        self.shop.stall_threshold = 10
        self.shop.invalidate_recordset()
        self.assertTrue(self.shop.is_stalled)

    def test_counters_cost_the_same_for_every_number_of_cards(self):
        sources = self.shop | self.source | self.source_b
        for source in sources:
            self._create_event(source, external_order_id=f"Q-{source.id}")

        def queries(records):
            records.invalidate_recordset()
            records = records.browse(records.ids)
            before = self.env.cr.sql_log_count
            records.mapped("backlog_count")
            return self.env.cr.sql_log_count - before

        self.env.flush_all()
        one_card = queries(self.shop)
        self.assertGreater(one_card, 0)
        self.assertEqual(queries(sources), one_card)
