"""Polling Mobiwork's read API (the Mobiwork simulator, a real local HTTP
server): pages, HTTP Basic, overlap without duplicates, a safe window."""

from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

from freezegun import freeze_time

from odoo.tests import tagged

from ..lib.simulator import MobiworkSimulator
from .common import (
    READ_API_ID,
    READ_API_TOKEN,
    TOKEN_KEY,
    MobiworkCommon,
    mobiwork_order,
)


@tagged("post_install", "-at_install")
class TestMobiworkPolling(MobiworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = MobiworkSimulator(
            token=TOKEN_KEY, api_id=READ_API_ID, read_token=READ_API_TOKEN
        ).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.source = cls.env["oms.integration.source"].create(
            {
                "name": "Mobiwork polled",
                "provider": "mobiwork",
                "mode": "polling",
                "mobiwork_org_id": "ORG-42",
                "mobiwork_read_api_url": cls.simulator.url,
                "mobiwork_read_api_id": READ_API_ID,
                "pricelist_id": cls.pricelist.id,
                "poll_page_size": 2,
                "rate_limit": 0,
            }
        )
        cls.source.mobiwork_read_api_token = READ_API_TOKEN
        cls.source._oms_give_consent(["polling"])
        cls.source.action_activate()

    def setUp(self):
        super().setUp()
        self.simulator.sales.clear()
        self.simulator.requests.clear()
        self.simulator.scripted.clear()

    def _queries(self):
        """The query of every request the simulator received, in order."""
        return [
            dict(parse_qsl(urlsplit(path).query))
            for _m, path in self.simulator.requests
        ]

    def test_pages_then_overlap_without_duplicates(self):
        for index in range(3):
            self.simulator.put_sale(
                mobiwork_order(f"DH-{index}", ngay_dat=f"2026-11-23T0{index}:00:00Z")
            )
        with freeze_time("2026-11-23 10:00:00"):
            self._poll(self.source)
        self.assertIn("3 orders fetched, 3 new events", self.source.poll_last_result)
        events = self._events(self.source)
        self.assertEqual(events.mapped("external_order_id"), ["DH-0", "DH-1", "DH-2"])
        self.assertEqual(set(events.mapped("state")), {"pending"})
        queries = self._queries()
        self.assertEqual([q["page_number"] for q in queries], ["1", "2"], queries)
        self.assertEqual(queries[0]["tu_ngay"], "23/11/2026")
        self.assertEqual(queries[0]["den_ngay"], "23/11/2026")
        self.assertEqual(
            self.source.mobiwork_poll_checked_until, datetime(2026, 11, 23, 10)
        )

        # The next run reads the same day again (overlap): nothing twice, the
        # new order once.
        self.simulator.put_sale(mobiwork_order("DH-3", ngay_dat="2026-11-23T11:00:00Z"))
        with freeze_time("2026-11-23 12:00:00"):
            self._poll(self.source)
        self.assertIn("4 orders fetched, 1 new events", self.source.poll_last_result)
        self.assertEqual(
            self._events(self.source).mapped("external_order_id"),
            ["DH-0", "DH-1", "DH-2", "DH-3"],
        )

    def test_a_failed_run_keeps_the_window_for_the_next_one(self):
        self.simulator.put_sale(mobiwork_order("DH-7", ngay_dat="2026-11-22T16:00:00Z"))
        with freeze_time("2026-11-22 16:30:00"):  # 23:30 in Vietnam
            self._poll(self.source)
        self.assertEqual(
            self.source.poll_failure_count, 0, self.source.poll_last_result
        )
        self.simulator.put_sale(mobiwork_order("DH-8", ngay_dat="2026-11-22T16:50:00Z"))
        self.simulator.script(503, {"successful": False, "errors": []})
        with freeze_time("2026-11-22 17:10:00"):  # 00:10 the next day
            self._poll(self.source)
        self.assertEqual(self.source.poll_failure_count, 1)
        self.assertEqual(
            self.source.mobiwork_poll_checked_until, datetime(2026, 11, 22, 16, 30)
        )
        # Orders carry no updated_at: the window comes from the last complete
        # run, so yesterday's late order is still read after midnight.
        with freeze_time("2026-11-22 17:20:00"):
            self._poll(self.source)
        self.assertEqual(
            self._events(self.source).mapped("external_order_id"), ["DH-7", "DH-8"]
        )
        self.assertEqual(self._queries()[-1]["tu_ngay"], "22/11/2026")
        self.assertEqual(self._queries()[-1]["den_ngay"], "23/11/2026")

    def test_wrong_read_api_credentials_fail_the_run_with_a_hint(self):
        self.source.mobiwork_read_api_token = "wrong"
        with freeze_time("2026-11-23 10:00:00"):
            self._poll(self.source)
        self.assertEqual(self.source.poll_failure_count, 1)
        self.assertIn("HTTP 401", self.source.poll_last_result)
        self.assertFalse(self.source.mobiwork_poll_checked_until)
