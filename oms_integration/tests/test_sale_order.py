from datetime import datetime, timedelta

from freezegun import freeze_time
from lxml import etree
from psycopg2 import IntegrityError

from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..lib.simulator import ProviderSimulator
from .common import OmsIntegrationCommon, OmsTestMixin

START = datetime(2026, 11, 23, 8, 0, 0)


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


@tagged("post_install", "-at_install")
class TestSaleOrderCallbackStatus(OmsIntegrationCommon):
    """The salesperson sees on the order when the provider could not be
    told its status, until a later status is accepted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = ProviderSimulator().start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.shop = cls._create_active_source(
            scopes=("inbound", "outbound"),
            name="Callback shop",
            outbound_enabled=True,
            callback_url=f"{cls.simulator.url}/status",
            rate_limit=0,
        )
        cls.shop.api_token = "tok-sale-order-callbacks"
        cls.product.is_storable = False  # consumable: delivered at once

    def setUp(self):
        super().setUp()
        self.simulator.callbacks.clear()
        self.simulator.scripted.clear()

    def _statuses(self, order):
        return self.Event.search(
            [("sale_order_id", "=", order.id), ("direction", "=", "outbound")],
            order="id",
        )

    def _seen_by_salesman(self, order):
        return order.with_user(self.salesman).read(
            ["oms_sync_status", "oms_sync_message"]
        )[0]

    def test_failed_then_dead_callback_then_a_later_success(self):
        order = self._create_order(
            user_id=self.salesman.id,
            oms_source_id=self.shop.id,
            oms_external_id="CB-1",
            oms_sync_status="synced",
        )
        with freeze_time(START) as frozen:
            self.simulator.script(503, {"error": "maintenance"})
            order.action_confirm()
            approved, processing = self._statuses(order)
            self._send_statuses()
            self.assertEqual(approved.state, "failed")
            seen = self._seen_by_salesman(order)
            self.assertEqual(seen["oms_sync_status"], "not_updated")
            self.assertIn("Callback shop was not told", seen["oms_sync_message"])
            self.assertIn("Approved", seen["oms_sync_message"])
            self.assertIn("HTTP 503", seen["oms_sync_message"])
            self.assertIn(approved.error_hint, seen["oms_sync_message"])
            self.assertIn("sent again by itself", seen["oms_sync_message"])

            # The provider then refuses both statuses: dead letters.
            frozen.move_to(START + timedelta(hours=2))
            self.simulator.script(400, {"error": "unknown order CB-1"}, times=2)
            self._send_statuses()
            self.assertEqual((approved | processing).mapped("state"), ["dead", "dead"])
            seen = self._seen_by_salesman(order)
            self.assertEqual(seen["oms_sync_status"], "not_updated")
            self.assertIn("Processing", seen["oms_sync_message"])
            self.assertIn("unknown order CB-1", seen["oms_sync_message"])
            self.assertIn("Dead Letters", seen["oms_sync_message"])
            self.assertIn("will not be sent again", seen["oms_sync_message"])

            # A later status is accepted: the order is in sync again.
            frozen.move_to(START + timedelta(hours=3))
            order.with_context(disable_cancel_warning=True).action_cancel()
            cancelled = self._statuses(order) - approved - processing
            self._send_statuses()
        self.assertEqual(cancelled.state, "done")
        seen = self._seen_by_salesman(order)
        self.assertEqual(seen["oms_sync_status"], "synced")
        self.assertFalse(seen["oms_sync_message"])

    def test_the_status_it_had_comes_back_and_an_earlier_success_changes_nothing(
        self,
    ):
        order = self._create_order(
            user_id=self.salesman.id,
            oms_source_id=self.shop.id,
            oms_external_id="CB-2",
            oms_sync_status="warning",
            oms_sync_message="The provider's total differs by 0.50.",
        )
        with freeze_time(START) as frozen:
            order.action_confirm()
            approved, processing = self._statuses(order)
            # Approved accepted, processing refused.
            self.simulator.script(200, {"ok": True})
            self.simulator.script(400, {"error": "no such status"})
            self._send_statuses()
            self.assertEqual((approved | processing).mapped("state"), ["done", "dead"])
            self.assertEqual(order.oms_sync_status, "not_updated")
            self.assertIn("Processing", order.oms_sync_message)
            # Requeued and accepted: the warning it had is back.
            processing.dead_letter_ids.action_requeue()
            frozen.move_to(START + timedelta(minutes=5))
            self._send_statuses()
        self.assertEqual(processing.state, "done")
        self.assertEqual(order.oms_sync_status, "warning")
        self.assertEqual(
            order.oms_sync_message, "The provider's total differs by 0.50."
        )


@tagged("post_install", "-at_install")
class TestSaleOrderSourceForSalespeople(OmsIntegrationCommon):
    """A salesperson without OMS access sees the source of their order by
    name, never a link to a form they may not open."""

    def test_salesman_reads_the_source_of_his_order_without_access_error(self):
        order = self._create_order(
            user_id=self.salesman.id,
            oms_source_id=self.source.id,
            oms_external_id="SRC-1",
            oms_sync_status="synced",
        )
        as_salesman = order.with_user(self.salesman)
        # What the web client reads to show the order (the form's fields).
        [values] = as_salesman.web_read(
            {
                "oms_source_id": {"fields": {"display_name": {}}},
                "oms_sync_status": {},
            }
        )
        self.assertEqual(
            values["oms_source_id"],
            {"id": self.source.id, "display_name": "Mobile DMS"},
        )
        form = Form(as_salesman)
        self.assertEqual(form.oms_source_id, self.source)
        arch = (
            self.env["sale.order"]
            .with_user(self.salesman)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        source_fields = etree.fromstring(arch).xpath("//field[@name='oms_source_id']")
        self.assertEqual(len(source_fields), 1)
        self.assertIn("no_open", source_fields[0].get("options", ""))
        # A salesperson who is also an OMS user gets the link.
        seller_and_operator = new_test_user(
            self.env,
            login="oms_seller_operator",
            groups="base.group_user,sales_team.group_sale_salesman,"
            "oms_integration.group_oms_user",
        )
        arch = (
            self.env["sale.order"]
            .with_user(seller_and_operator)
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        source_fields = etree.fromstring(arch).xpath("//field[@name='oms_source_id']")
        self.assertEqual(len(source_fields), 1)
        self.assertNotIn("no_open", source_fields[0].get("options") or "")


@tagged("post_install", "-at_install")
class TestSaleOrderSourceOverHttp(OmsTestMixin, HttpCase):
    """The order as the web client loads it for a salesperson, over HTTP."""

    def test_salesman_loads_his_order_with_its_source_over_http(self):
        salesman = new_test_user(
            self.env,
            login="oms_http_salesman",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        source = self.env["oms.integration.source"].create(
            {"name": "HTTP source", "mode": "webhook"}
        )
        partner = self.env["res.partner"].create({"name": "HTTP customer"})
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "user_id": salesman.id,
                "oms_source_id": source.id,
                "oms_external_id": "HTTP-1",
                "oms_sync_status": "not_updated",
                "oms_sync_message": "HTTP source was not told that this order is "
                "Approved.",
            }
        )
        self.authenticate("oms_http_salesman", "oms_http_salesman")
        [values] = self.make_jsonrpc_request(
            "/web/dataset/call_kw/sale.order/web_read",
            {
                "model": "sale.order",
                "method": "web_read",
                "args": [[order.id]],
                "kwargs": {
                    "specification": {
                        "oms_source_id": {"fields": {"display_name": {}}},
                        "oms_sync_status": {},
                        "oms_sync_message": {},
                    }
                },
            },
        )
        self.assertEqual(
            values["oms_source_id"], {"id": source.id, "display_name": "HTTP source"}
        )
        self.assertEqual(values["oms_sync_status"], "not_updated")
        self.assertIn("was not told", values["oms_sync_message"])
