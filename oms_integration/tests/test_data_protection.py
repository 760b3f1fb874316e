"""Personal data retention, neutralization and copies of the database: old
payloads lose their customers' details (ids and amounts kept), and a copy
of the database pauses its sources before any poll or status callback."""

import json
from datetime import timedelta

from psycopg2.errors import CheckViolation

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..lib.personal_data import REMOVED
from ..lib.simulator import ProviderSimulator
from .common import SIGNING_SECRET, OmsIntegrationCommon

TOKEN = "sim-token-data-protection"


def _payload(order_id, version=1):
    return {
        "type": "order.created",
        "order": {
            "id": order_id,
            "name": f"WEB/{order_id}",
            "updated_at": f"2026-11-22T09:{version:02d}:00Z",
            "currency": "VND",
            "customer": {
                "id": "C-77",
                "name": "Tap hoa Minh Anh",
                "phone": "0901234567",
                "email": "minhanh@example.com",
                "vat": "0312345678",
                "street": "12 Le Loi",
                "city": "Ho Chi Minh",
                "country_code": "VN",
            },
            "shipping_address": {
                "id": "A-3",
                "name": "Kho Minh Anh",
                "phone": "0901234568",
                "street": "45 Nguyen Trai",
                "zip": "700000",
                "country_code": "VN",
            },
            "lines": [
                {
                    "id": "1",
                    "product": {"id": "P-1", "sku": "SP001", "name": "Nuoc suoi"},
                    "quantity": 5,
                    "price_unit": 250000,
                }
            ],
            "amount_total": 1250000,
        },
    }


PERSONAL_VALUES = (
    "Minh Anh",
    "0901234567",
    "0901234568",
    "minhanh@example.com",
    "0312345678",
    "Le Loi",
    "Nguyen Trai",
)


@tagged("post_install", "-at_install")
class TestPersonalDataRetention(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Done events are kept a year here: the retention of personal data
        # comes first.
        cls.source.write({"personal_data_days": 30, "retention_days": 365})
        cls.long_ago = fields.Datetime.now() - timedelta(days=31)

    def _event(self, order_id, state="done", received_at=None, **vals):
        payload = json.dumps(_payload(order_id), ensure_ascii=False)
        return self._create_event(
            external_order_id=order_id,
            payload=payload,
            state=state,
            received_at=received_at or fields.Datetime.now(),
            **vals,
        )

    def _clean_up(self, batch_size=None):
        """The clean-up of personal data as the cron runs it (its commits),
        on a test cursor; ``batch_size``: the batches' size."""
        if batch_size is None:
            self._run_cron("oms_integration.ir_cron_gc_processed_events")
            return
        self.env.flush_all()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["oms.integration.event"]._gc_personal_data(batch_size=batch_size)
        self.env.invalidate_all()

    def _assert_blanked(self, event):
        self.assertTrue(event.personal_data_blanked_at)
        payload = json.loads(event.payload)
        order = payload["order"]
        for key in ("name", "phone", "email", "vat", "street", "city"):
            self.assertEqual(order["customer"][key], REMOVED, key)
        for key in ("name", "phone", "street", "zip"):
            self.assertEqual(order["shipping_address"][key], REMOVED, key)
        for value in PERSONAL_VALUES:
            self.assertNotIn(value, event.payload)

    def test_an_old_event_is_blanked_and_a_recent_one_kept(self):
        old = self._event("EXT-OLD", received_at=self.long_ago)
        old_hash = old.payload_hash
        exchange = (
            self.env["oms.integration.exchange"]
            .sudo()
            .create(
                {
                    "event_id": old.id,
                    "method": "POST",
                    "url": "https://provider.example.com/status",
                    "request_body": json.dumps(_payload("EXT-OLD")),
                    "response_body": "<html>Unknown customer Tap hoa Minh Anh</html>",
                    "status_code": 400,
                    "outcome": "permanent",
                }
            )
        )
        recent = self._event("EXT-NEW")
        recent_payload = recent.payload

        self._clean_up()

        self._assert_blanked(old)
        payload = json.loads(old.payload)
        # Ids, products, quantities, amounts and the structure are kept.
        self.assertEqual(payload["order"]["id"], "EXT-OLD")
        self.assertEqual(payload["order"]["customer"]["id"], "C-77")
        self.assertEqual(payload["order"]["shipping_address"]["id"], "A-3")
        self.assertEqual(payload["order"]["amount_total"], 1250000)
        self.assertEqual(
            payload["order"]["lines"], _payload("EXT-OLD")["order"]["lines"]
        )
        self.assertEqual(payload.keys(), _payload("EXT-OLD").keys())
        # The dedup key is the hash of what was received: unchanged.
        self.assertEqual(old.payload_hash, old_hash)
        self.assertEqual(old.state, "done")
        # The HTTP exchange's bodies: the JSON blanked, the HTML removed whole.
        request = json.loads(exchange.request_body)
        self.assertEqual(request["order"]["customer"]["name"], REMOVED)
        self.assertEqual(request["order"]["id"], "EXT-OLD")
        self.assertEqual(exchange.response_body, REMOVED)
        # The recent event is as received.
        self.assertFalse(recent.personal_data_blanked_at)
        self.assertEqual(recent.payload, recent_payload)
        self.assertIn("Tap hoa Minh Anh", recent.payload)

    def test_every_event_is_done_in_batches_once(self):
        events = self.Event.browse()
        for index, state in enumerate(("done", "dead", "discarded")):
            events |= self._event(
                f"EXT-B{index}", state=state, received_at=self.long_ago
            )

        self._clean_up(batch_size=1)

        for event in events:
            self._assert_blanked(event)
        first_pass = events.mapped("personal_data_blanked_at")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(
                env["oms.integration.event"]._gc_personal_data(batch_size=1),
                0,
                "each event is blanked once",
            )
        self.env.invalidate_all()
        self.assertEqual(events.mapped("personal_data_blanked_at"), first_pass)

    def test_events_still_in_the_queue_are_untouched(self):
        waiting = self.Event.browse()
        for index, state in enumerate(("pending", "failed", "processing")):
            waiting |= self._event(
                f"EXT-Q{index}", state=state, received_at=self.long_ago
            )
        payloads = waiting.mapped("payload")

        self._clean_up()

        self.assertFalse(any(waiting.mapped("personal_data_blanked_at")))
        self.assertEqual(waiting.mapped("payload"), payloads)

    def test_a_policy_of_zero_keeps_everything(self):
        self.source.personal_data_days = 0
        old = self._event(
            "EXT-KEEP", received_at=fields.Datetime.now() - timedelta(days=3650)
        )
        self.source.sudo().write(
            {
                "poll_last_result": "Customer Tap hoa Minh Anh unknown",
                "poll_last_run": fields.Datetime.now() - timedelta(days=3650),
            }
        )

        self._clean_up()

        self.assertFalse(old.personal_data_blanked_at)
        self.assertIn("Tap hoa Minh Anh", old.payload)
        self.assertIn("Minh Anh", self.source.poll_last_result)

    def test_a_negative_policy_is_refused(self):
        with (
            self.assertRaises(CheckViolation),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self.source.personal_data_days = -1
            self.env.flush_all()

    def test_an_old_polling_result_is_blanked(self):
        self.source.sudo().write(
            {
                "poll_last_result": "Customer Tap hoa Minh Anh unknown",
                "poll_last_run": self.long_ago,
            }
        )
        self.source_b.sudo().write(
            {
                "poll_last_result": "Customer Ba unknown",
                "poll_last_run": fields.Datetime.now(),
            }
        )

        self._clean_up()

        self.assertEqual(self.source.poll_last_result, REMOVED)
        self.assertEqual(self.source_b.poll_last_result, "Customer Ba unknown")

    def test_a_blanked_dead_letter_cannot_be_requeued(self):
        event = self._event("EXT-DEAD", state="failed", received_at=self.long_ago)
        event._set_dead("Product SP404 is not mapped.")
        letter = event.dead_letter_ids
        self.assertEqual(letter.state, "open")

        self._clean_up()

        self._assert_blanked(event)
        with self.assertRaisesRegex(
            UserError, "Ask the provider to send the order again"
        ):
            letter.with_user(self.oms_user).action_requeue()
        with self.assertRaisesRegex(UserError, "no longer be applied"):
            event.with_user(self.oms_user).action_retry_now()
        self.assertEqual(letter.state, "open")
        self.assertEqual(event.state, "dead")
        # The redrive preview says so, and does not tick it.
        wizard = (
            self.env["oms.integration.redrive.wizard"]
            .with_user(self.oms_user)
            .with_context(
                active_model="oms.integration.dead.letter", active_ids=letter.ids
            )
            .create({})
        )
        self.assertEqual(wizard.line_ids.verdict, "fail")
        self.assertIn("were removed on", wizard.line_ids.reason)
        self.assertFalse(wizard.line_ids.selected)

    def test_a_dead_letter_kept_intact_can_be_requeued(self):
        event = self._event("EXT-DEAD2", state="failed")
        event._set_dead("Product SP404 is not mapped.")

        self._clean_up()

        self.assertFalse(event.personal_data_blanked_at)
        event.dead_letter_ids.with_user(self.oms_user).action_requeue()
        self.assertEqual(event.state, "pending")


@tagged("post_install", "-at_install")
class TestCopiesOfTheDatabase(OmsIntegrationCommon):
    """A neutralized database, or one whose uuid changed (a restored copy),
    sends and polls nothing until a source is activated there again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = ProviderSimulator(token=TOKEN).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.shop = cls._create_source(
            name="Copied shop",
            mode="both",
            api_base_url=cls.simulator.url,
            callback_url=f"{cls.simulator.url}/status",
            outbound_enabled=True,
            rate_limit=0,
        )
        cls.shop.signing_secret = SIGNING_SECRET
        cls.shop.api_token = TOKEN
        cls.shop._oms_give_consent(["inbound", "polling", "outbound"])
        cls.shop.action_activate()
        cls.draft = cls._create_source(name="Draft shop")

    def setUp(self):
        super().setUp()
        self.simulator.orders.clear()
        self.simulator.callbacks.clear()
        self.simulator.scripted.clear()
        self.simulator.requests.clear()
        self.simulator.put_order(
            dict(_payload("EXT-POLLED")["order"], updated_at="2026-11-22T09:00:00Z")
        )

    def _queue_status(self, order_id="EXT-1001"):
        return self.Event._oms_create_outbound(
            self.shop,
            {
                "event_type": "order.status",
                "status": "approved",
                "external_order_id": order_id,
                "delivery_id": f"status_{order_id}",
                "payload": json.dumps(
                    {
                        "type": "order.status",
                        "order": {"id": order_id},
                        "status": "approved",
                    }
                ),
            },
        )

    def _traffic(self):
        """Run the polling and the sending crons; return the requests the
        provider received."""
        self._poll(self.shop)
        self._send_statuses()
        return list(self.simulator.requests)

    def _uuid(self):
        return self.env["ir.config_parameter"].sudo().get_param("database.uuid")

    def test_activation_remembers_the_database(self):
        self.assertEqual(self.shop.database_uuid, self._uuid())
        self.assertFalse(self.draft.database_uuid)

    def _copy_database(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "database.uuid", "a-restored-copy"
        )

    def _assert_paused_as_copy(self):
        self.assertEqual(self.shop.state, "paused")
        self.assertEqual(self.shop.copy_pause, "database_changed")
        self.assertIn("database identifier changed", self.shop.paused_reason)
        messages = self._messages_of(self.shop).mapped("body")
        self.assertTrue(
            any(
                "This database is a copy" in body
                and "nothing was polled or sent" in body
                and "click Activate" in body
                for body in messages
            ),
            messages,
        )

    def test_a_changed_database_uuid_pauses_before_sending(self):
        event = self._queue_status()
        self._copy_database()

        self._send_statuses()

        self.assertEqual(self.simulator.requests, [], "nothing sent")
        self._assert_paused_as_copy()
        self.assertEqual(event.state, "pending", "the status waits, unsent")

        # Activated in this database, the source works here again.
        self.shop.action_activate()
        self.assertEqual(self.shop.database_uuid, "a-restored-copy")
        self.assertFalse(self.shop.copy_pause)
        event.next_attempt_at = fields.Datetime.now()
        self._send_statuses()
        self.assertEqual(len(self.simulator.callbacks), 1)
        self.assertEqual(event.state, "done")

    def test_a_changed_database_uuid_pauses_before_polling(self):
        self._copy_database()

        self._poll(self.shop)

        self.assertEqual(self.simulator.requests, [], "nothing polled")
        self._assert_paused_as_copy()
        self.assertFalse(self._events(self.shop, direction="inbound"))
        self.assertFalse(self.shop.poll_failure_count, "not a polling failure")

        self.shop.action_activate()
        self._poll(self.shop)
        self.assertTrue(self.simulator.requests)
        self.assertEqual(
            self._events(self.shop, direction="inbound").external_order_id,
            "EXT-POLLED",
        )

    def test_the_test_callback_pauses_a_copy_instead_of_sending(self):
        self._copy_database()
        self.shop.with_user(self.oms_manager).action_send_test_callback()
        self.assertEqual(self.shop.state, "paused")
        self.assertEqual(self.simulator.requests, [])

    def test_neutralization_pauses_sources_and_removes_url_credentials(self):
        # Credentials written into URLs, as some providers' set-ups have them.
        with_credentials = self._create_source(
            name="Shop with credentials in its URLs",
            callback_url="https://odoo:s3cret@status.example.com/cb?x=1",
            api_base_url="https://api-user:p%40ss@api.example.com:8443",
        )
        with_credentials.write({"state": "active"})
        paused = self._create_source(
            name="Paused shop", api_base_url="https://h.example.com"
        )
        paused.write({"state": "paused", "paused_reason": "Holidays"})
        event = self._queue_status()
        self.env.flush_all()

        queries = list(get_neutralization_queries(["oms_integration"]))
        self.assertEqual(len(queries), 1)
        self.env.cr.execute(queries[0])
        self.env.invalidate_all()

        for source in (self.shop, with_credentials, paused):
            self.assertEqual(source.state, "paused")
            self.assertEqual(source.copy_pause, "neutralized")
            self.assertIn("neutralized", source.paused_reason)
        self.assertEqual(self.draft.state, "draft")
        self.assertFalse(self.draft.copy_pause)
        self.assertEqual(
            with_credentials.callback_url, "https://status.example.com/cb?x=1"
        )
        self.assertEqual(with_credentials.api_base_url, "https://api.example.com:8443")
        self.assertEqual(self.shop.callback_url, f"{self.simulator.url}/status")
        self.assertEqual(paused.api_base_url, "https://h.example.com")

        self.assertEqual(self._traffic(), [], "nothing polled, nothing sent")
        self.assertEqual(event.state, "pending")
        # A paused source refuses the provider's webhooks too.
        status, _answer = self.Receiver._oms_receive_webhook(
            self.shop, {}, b"{}", lambda: ""
        )
        self.assertEqual(status, 403)

        # Once checked, Activate resumes the source in this database.
        self.shop.action_activate()
        self.assertFalse(self.shop.copy_pause)
        event.next_attempt_at = fields.Datetime.now()
        self._traffic()
        self.assertEqual(len(self.simulator.callbacks), 1)
