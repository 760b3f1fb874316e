"""Polling Cloudify's search API (the Cloudify simulator, a real local HTTP
server): pages, the updated_since cursor with its overlap, and a session
that expires in the middle of a run."""

from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from freezegun import freeze_time

from odoo.tests import tagged

from odoo.addons.oms_integration_cloudify.lib import parser

from .common import CloudifyCommon, cloudify_order

NOW = datetime(2026, 11, 22, 4, 0, 0)


@tagged("post_install", "-at_install")
class TestCloudifyPolling(CloudifyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_cloudify_source(
            "session", scopes=("polling",), mode="polling", poll_page_size=2
        )
        cls.oauth_source = cls._create_cloudify_source(
            "oauth", scopes=("polling",), mode="polling", poll_page_size=2
        )

    def _put(self, external_id, updated_at):
        self.simulator.put_document(cloudify_order(external_id, updated_at=updated_at))

    def _searches(self):
        """The query of every search the simulator received, in order."""
        return [
            dict(parse_qsl(urlsplit(path).query))
            for method, path in self.simulator.requests
            if method == "GET" and path.startswith(parser.SEARCH_PATH)
        ]

    def test_pages_then_overlap_without_duplicates(self):
        for index in range(3):
            self._put(f"cf_{index}", f"2026-11-22T0{index + 1}:00:00Z")
        with freeze_time(NOW):
            self._poll(self.source)
        self.assertIn("3 orders fetched, 3 new events", self.source.poll_last_result)
        events = self._events(self.source)
        self.assertEqual(events.mapped("external_order_id"), ["cf_0", "cf_1", "cf_2"])
        self.assertEqual(set(events.mapped("state")), {"pending"})
        searches = self._searches()
        self.assertEqual(
            [(q["limit"], q["offset"]) for q in searches], [("2", "0"), ("2", "2")]
        )
        self.assertNotIn("updated_since", searches[0])
        self.assertEqual(searches[0]["db"], "cloudify")
        self.assertEqual(self.source.poll_cursor, "2026-11-22T03:00:00+00:00")
        # Never in the address: the session goes in a cookie.
        self.assertFalse([q for q in searches if "session_id" in q])

        # The next run asks again from the cursor minus the overlap: the late
        # order once, nothing twice.
        self._put("cf_late", "2026-11-22T02:58:00Z")
        self._put("cf_3", "2026-11-22T03:30:00Z")
        self.simulator.requests.clear()
        with freeze_time(NOW):
            self._poll(self.source)
        self.assertEqual(self._searches()[0]["updated_since"], "2026-11-22T02:55:00Z")
        self.assertIn("3 orders fetched, 2 new events", self.source.poll_last_result)
        self.assertEqual(
            self._events(self.source).mapped("external_order_id"),
            ["cf_0", "cf_1", "cf_2", "cf_late", "cf_3"],
        )
        self.assertEqual(self.simulator.login_count, 1)

    def test_session_expiring_during_a_run_is_renewed_once_and_no_page_lost(self):
        for index in range(3):
            self._put(f"cf_{index}", f"2026-11-22T0{index + 1}:00:00Z")
        # Each session serves one request only: page 2 meets an expired session.
        self.simulator.expire_after_requests = 1
        with freeze_time(NOW):
            self._poll(self.source)
        self.assertEqual(
            self.source.poll_failure_count, 0, self.source.poll_last_result
        )
        self.assertEqual(self.simulator.login_count, 2)
        self.assertEqual([q["offset"] for q in self._searches()], ["0", "2", "2"])
        self.assertEqual(
            self._events(self.source).mapped("external_order_id"),
            ["cf_0", "cf_1", "cf_2"],
        )

    def test_oauth_token_expired_is_answered_401_and_renewed(self):
        self._put("cf_1", "2026-11-22T01:00:00Z")
        with freeze_time(NOW):
            self._poll(self.oauth_source)
            self.simulator.expire_all_tokens()
            self._put("cf_2", "2026-11-22T02:00:00Z")
            self._poll(self.oauth_source)
        self.assertEqual(self.oauth_source.poll_failure_count, 0)
        self.assertEqual(self.simulator.token_grant_count, 2)
        self.assertEqual(
            self._events(self.oauth_source).mapped("external_order_id"),
            ["cf_1", "cf_2"],
        )

    def test_a_failing_sign_in_fails_the_run_with_a_hint(self):
        self._put("cf_1", "2026-11-22T01:00:00Z")
        self.simulator.fail_logins()
        with freeze_time(NOW):
            self._poll(self.source)
        self.assertEqual(self.source.poll_failure_count, 1)
        self.assertIn("Signing in to Cloudify failed", self.source.poll_last_result)
        self.assertIn("Sign In Now", self.source.poll_last_result)
        self.assertFalse(self._events(self.source))
