from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OmsIntegrationCommon


@tagged("post_install", "-at_install")
class TestSaleOrderExternalId(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_source = cls._create_source(name="Marketplace")
        cls.order = cls._create_order(
            oms_source_id=cls.source.id,
            oms_external_id="EXT-1",
            oms_external_ref="PO-778",
            oms_sync_status="warning",
            oms_sync_message="Total differs by 0.50",
        )

    def test_same_external_id_twice_on_one_source_is_refused(self):
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.cr.savepoint(),
        ):
            self._create_order(oms_source_id=self.source.id, oms_external_id="EXT-1")
            self.env.flush_all()

    def test_same_external_id_on_another_source_is_accepted(self):
        order = self._create_order(
            oms_source_id=self.other_source.id, oms_external_id="EXT-1"
        )
        self.env.flush_all()
        self.assertEqual(
            self.env["sale.order"].search(
                [
                    ("oms_source_id", "in", (self.source | self.other_source).ids),
                    ("oms_external_id", "=", "EXT-1"),
                ]
            ),
            self.order | order,
        )

    def test_orders_without_source_are_unaffected(self):
        orders = self._create_order() | self._create_order()
        orders |= self._create_order(oms_external_id="MANUAL") | self._create_order(
            oms_external_id="MANUAL"
        )
        self.env.flush_all()
        self.assertEqual(len(orders.exists()), 4)

    def test_copy_leaves_integration_fields_behind(self):
        copy = self.order.copy()
        self.env.flush_all()
        self.assertFalse(copy.oms_source_id)
        self.assertFalse(copy.oms_external_id)
        self.assertFalse(copy.oms_external_ref)
        self.assertFalse(copy.oms_sync_status)
        self.assertFalse(copy.oms_sync_message)
        self.assertEqual(copy.oms_event_count, 0)
        # The original still owns its external id: a second copy is fine too.
        self.order.copy()
        self.env.flush_all()


@tagged("post_install", "-at_install")
class TestSaleOrderEvents(OmsIntegrationCommon):
    def test_event_count_and_action(self):
        order = self._create_order(
            oms_source_id=self.source.id, oms_external_id="EXT-1"
        )
        other_order = self._create_order()
        created = self._create_event(delivery_id="d-1")
        created._set_processing()
        created._set_done(sale_order=order)
        updated = self._create_event(
            delivery_id="d-2", event_type="order.updated", sale_order_id=order.id
        )
        self._create_event(delivery_id="d-3", sale_order_id=other_order.id)
        self._create_event(delivery_id="d-4")

        self.assertEqual(created.sale_order_id, order)
        self.assertEqual(order.oms_event_count, 2)
        self.assertEqual(other_order.oms_event_count, 1)

        action = order.action_view_oms_events()
        self.assertEqual(action["res_model"], "oms.integration.event")
        self.assertEqual(action["domain"], [("sale_order_id", "=", order.id)])
        self.assertEqual(
            self.env[action["res_model"]].search(action["domain"]), created | updated
        )

    def test_salesman_sees_event_count_without_event_access(self):
        order = self._create_order(
            user_id=self.salesman.id, oms_source_id=self.source.id
        )
        self._create_event(delivery_id="d-1", sale_order_id=order.id)
        self.assertEqual(order.with_user(self.salesman).oms_event_count, 1)
