"""Polling a compatible provider (the simulator, a real local HTTP server)."""

from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from ..lib.simulator import ProviderSimulator
from .common import OmsIntegrationCommon

TOKEN = "sim-token-polling-123"


def _order(order_id, updated_at, quantity=1):
    return {
        "id": order_id,
        "name": f"WEB/{order_id}",
        "updated_at": updated_at,
        "currency": "VND",
        "customer": {"id": "C-1", "name": "Shop"},
        "lines": [
            {"product": {"sku": "SP001"}, "quantity": quantity, "price_unit": 1000}
        ],
    }


@tagged("post_install", "-at_install")
class TestPolling(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = ProviderSimulator(token=TOKEN).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.poll_source = cls._create_source(
            name="Polled shop",
            mode="both",
            api_base_url=cls.simulator.url,
            poll_page_size=2,
            rate_limit=0,  # the limiter has its own tests; time is frozen here
        )
        cls.poll_source.signing_secret = "whsec_" + "c2lnbmluZy1zZWNyZXQtcG9sbGluZw=="
        cls.poll_source.api_token = TOKEN
        cls.poll_source._oms_give_consent(["inbound", "polling"])
        cls.poll_source.action_activate()

    def setUp(self):
        super().setUp()
        self.simulator.orders.clear()
        self.simulator.scripted.clear()
        self.simulator.requests.clear()

    def _poll(self, source=None):
        return super()._poll(source or self.poll_source)

    def _events(self, source=None):
        return super()._events(source or self.poll_source)

    def test_pages_are_stored_and_the_cursor_advances(self):
        for index in range(5):
            self.simulator.put_order(
                _order(f"P-{index}", f"2026-11-22T09:0{index}:00Z")
            )
        with freeze_time("2026-11-22 10:00:00"):
            self._poll()
        events = self._events()
        self.assertEqual(
            events.mapped("external_order_id"), [f"P-{i}" for i in range(5)]
        )
        self.assertEqual(set(events.mapped("state")), {"pending"})
        pages = [path for method, path in self.simulator.requests if method == "GET"]
        self.assertEqual(len(pages), 3, "5 orders, 2 a page")
        self.assertEqual(self.poll_source.poll_cursor, "2026-11-22T09:04:00+00:00")
        self.assertEqual(self.poll_source.poll_next_run, datetime(2026, 11, 22, 10, 5))
        self.assertIn(
            "5 orders fetched, 5 new events", self.poll_source.poll_last_result
        )

    def test_the_first_poll_starts_at_the_import_from_date(self):
        self.simulator.put_order(_order("P-OLD", "2026-10-01T08:00:00Z"))
        self.simulator.put_order(_order("P-NEW", "2026-11-22T09:00:00Z"))
        self.poll_source.write(
            {"poll_cursor": False, "poll_start_date": "2026-11-01 00:00:00"}
        )
        self._poll()
        first = [path for method, path in self.simulator.requests if method == "GET"]
        self.assertIn("updated_since=2026-11-01T00%3A00%3A00Z", first[0])
        self.assertEqual(self._events().mapped("external_order_id"), ["P-NEW"])
        # Later polls start from the cursor, the import date no longer counts.
        self.assertEqual(self.poll_source.poll_cursor, "2026-11-22T09:00:00+00:00")
        self._poll()
        self.assertIn(
            "updated_since=2026-11-22T08%3A55%3A00Z", self.simulator.requests[-1][1]
        )

    def test_without_an_import_date_the_first_poll_asks_for_everything(self):
        self.simulator.put_order(_order("P-OLD", "2026-10-01T08:00:00Z"))
        self.poll_source.write({"poll_cursor": False, "poll_start_date": False})
        self._poll()
        self.assertNotIn("updated_since", self.simulator.requests[-1][1])
        self.assertEqual(self._events().mapped("external_order_id"), ["P-OLD"])

    def test_overlap_catches_late_orders_without_duplicates(self):
        self.simulator.put_order(_order("P-1", "2026-11-22T09:00:00Z"))
        self.simulator.put_order(_order("P-2", "2026-11-22T09:10:00Z"))
        self._poll()
        self.assertEqual(len(self._events()), 2)
        # An order committed late at the provider, stamped before the cursor
        # but within the overlap window, and a new version of P-2.
        self.simulator.put_order(_order("P-LATE", "2026-11-22T09:08:00Z"))
        self.simulator.put_order(_order("P-2", "2026-11-22T09:20:00Z", quantity=3))
        self._poll()
        self.assertIn(
            "updated_since=2026-11-22T09%3A05%3A00Z", self.simulator.requests[-1][1]
        )
        events = self._events()
        self.assertEqual(
            events.mapped("external_order_id"), ["P-1", "P-2", "P-LATE", "P-2"]
        )
        # Polling again changes nothing.
        self._poll()
        self.assertEqual(len(self._events()), 4)

    def test_webhook_and_polling_of_one_version_make_one_event(self):
        order = _order("P-9", "2026-11-22T09:00:00Z")
        payload = {"type": "order.created", "order": order}
        source = self.poll_source
        status, answer = self._accept(source, payload, {"webhook-id": "wh-1"})
        self.assertEqual(status, 202)
        self.simulator.put_order(order)
        self._poll()
        self.assertEqual(len(self._events()), 1)
        # And the other way round: polled first, then the webhook.
        later = _order("P-10", "2026-11-22T09:30:00Z")
        self.simulator.put_order(later)
        self._poll()
        status, answer = self._accept(
            source, {"type": "order.updated", "order": later}, {"webhook-id": "wh-2"}
        )
        self.assertEqual(status, 200)
        self.assertEqual(answer["status"], "duplicate")

    def test_failures_are_recorded_then_the_source_is_paused(self):
        self.poll_source.poll_max_failures = 2
        self.simulator.script(503, {"error": "maintenance"}, times=5)
        self._poll()
        self.assertEqual(self.poll_source.state, "active")
        self.assertEqual(self.poll_source.poll_failure_count, 1)
        self.assertIn("503", self.poll_source.poll_last_result)
        self.assertIn("next run retries", self.poll_source.poll_last_result)
        self._poll()
        self.assertEqual(self.poll_source.state, "paused")
        self.assertIn("2 times in a row", self.poll_source.paused_reason)
        self.assertIn(
            "Polling failed",
            " ".join(self._messages_of(self.poll_source).mapped("body")),
        )

    def test_refused_token_says_what_to_do_and_never_shows_it(self):
        self.poll_source.api_token = "wrong-token-value-42"
        self._poll()
        self.assertEqual(self.poll_source.poll_failure_count, 1)
        self.assertIn("Check the API token", self.poll_source.poll_last_result)
        self.assertNotIn("wrong-token-value-42", self.poll_source.poll_last_result)

    def test_one_failing_source_does_not_stop_the_others(self):
        broken = self._create_source(
            name="Broken", mode="polling", api_base_url="http://127.0.0.1:9"
        )
        broken.api_token = TOKEN
        broken._oms_give_consent(["polling"])
        broken.action_activate()
        broken.poll_next_run = fields.Datetime.now() - timedelta(seconds=1)
        self.simulator.put_order(_order("P-1", "2026-11-22T09:00:00Z"))
        self._poll()
        self.assertEqual(broken.poll_failure_count, 1)
        self.assertIn("Cannot reach", broken.poll_last_result)
        self.assertEqual(len(self._events()), 1)

    def test_a_redirect_is_not_followed(self):
        # Consent names a host: an answer sending the token elsewhere is a
        # failure to fix, never followed.
        self.simulator.script(
            302, {"moved": True}, {"Location": "http://127.0.0.1:9/orders"}
        )
        self._poll()
        self.assertEqual(self.poll_source.poll_failure_count, 1)
        self.assertIn("redirect", self.poll_source.poll_last_result)
        self.assertEqual(len(self.simulator.requests), 1)

    def test_no_polling_consent_means_no_request(self):
        self.poll_source._oms_revoke_consent(["polling"], "audit")
        self.simulator.put_order(_order("P-1", "2026-11-22T09:00:00Z"))
        self._poll()
        self.assertFalse(self.simulator.requests, "Nothing is sent without consent.")
        self.assertFalse(self._events())
        self.assertIn("consent", self.poll_source.poll_last_result)

    def test_invalid_polled_order_is_kept_as_a_failed_event(self):
        bad = _order("P-BAD", "2026-11-22T09:00:00Z")
        bad["lines"][0]["quantity"] = 0
        self.simulator.put_order(bad)
        self._poll()
        [event] = self._events()
        self.assertEqual(event.state, "failed")
        self.assertIn("order.lines[0].quantity", event.last_error)
        self._poll()
        self.assertEqual(len(self._events()), 1)
