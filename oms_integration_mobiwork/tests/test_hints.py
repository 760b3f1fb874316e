"""Mobiwork's hints (the hints catalogue's keys of this addon): each is what
the operator reads where the error shows, through the Mobiwork simulator (a
real local HTTP server)."""

from odoo.tests import tagged

from odoo.addons.oms_integration.lib.status import STATUS_TYPE

from ..lib.simulator import MobiworkSimulator
from .common import READ_API_ID, READ_API_TOKEN, TOKEN_KEY, MobiworkCommon


@tagged("post_install", "-at_install")
class TestMobiworkHints(MobiworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Hints = cls.env["oms.integration.hints"]
        cls.simulator = MobiworkSimulator(
            token=TOKEN_KEY, api_id=READ_API_ID, read_token=READ_API_TOKEN
        ).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.polled = cls._create_mobiwork_source(
            scopes=("polling",),
            name="Mobiwork polled",
            mode="polling",
            mobiwork_read_api_url=cls.simulator.url,
            mobiwork_read_api_id=READ_API_ID,
            mobiwork_read_api_token=READ_API_TOKEN,
        )
        cls.sending = cls._create_mobiwork_source(
            scopes=("inbound", "outbound"),
            name="Mobiwork statuses",
            outbound_enabled=True,
            mobiwork_api_url=cls.simulator.url,
        )

    def setUp(self):
        super().setUp()
        self.simulator.sales.clear()
        self.simulator.requests.clear()
        self.simulator.scripted.clear()

    def _polled_result(self):
        self._poll(self.polled)
        self.assertEqual(self.polled.poll_failure_count, 1)
        return self.polled.poll_last_result

    def _status_event(self, status, source=None):
        event = self.env["oms.integration.event"]._oms_create_outbound(
            source or self.sending,
            {
                "event_type": STATUS_TYPE,
                "delivery_id": f"status_{status}",
                "external_order_id": "DH-2026-000123",
                "status": status,
                "payload": "{}",
                "next_attempt_at": False,
            },
        )
        event._set_processing()
        self.assertIsNone(self.env["oms.integration.sender"]._oms_build_request(event))
        return event

    def test_the_read_api_refuses_with_its_own_error(self):
        self.simulator.script(
            200,
            {"successful": False, "errors": [{"message": "Tài khoản không có quyền"}]},
        )
        problem, action = self.Hints._oms_hint(
            "mobiwork_read_api_refused",
            error="Mobiwork refused the request: Tài khoản không có quyền",
        )
        self.assertEqual(self._polled_result(), f"{problem}\n{action}")

    def test_a_read_api_answer_that_is_not_a_page(self):
        self.simulator.script(200, {"status": True, "data": "nothing"})
        problem, action = self.Hints._oms_hint(
            "mobiwork_read_api_unreadable",
            error="Mobiwork's read API answered data that is not a list.",
        )
        self.assertEqual(self._polled_result(), f"{problem}\n{action}")

    def test_no_token_key_to_send_a_status(self):
        self.sending.sudo().mobiwork_token_key_encrypted = False
        event = self._status_event("approved")
        problem, action = self.Hints._oms_hint("mobiwork_token_key_missing")
        self.assertEqual((event.last_error, event.error_hint), (problem, action))
        self.assertEqual(event.state, "dead")
        self.assertFalse(self.simulator.requests)

    def test_a_status_that_cannot_be_built(self):
        event = self._status_event("lost_in_space")
        self.assertIn("The status cannot be sent to Mobiwork", event.last_error)
        self.assertIn("lost_in_space", event.last_error)
        self.assertEqual(
            event.error_hint,
            self.Hints._oms_hint("mobiwork_status_unbuildable")[1],
        )
        self.assertEqual(event.state, "dead")
