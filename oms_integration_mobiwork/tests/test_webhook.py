"""Mobiwork deliveries over real HTTP: tokenkey, one event per order,
idempotent redelivery, an invalid order beside a valid one."""

import json

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import TOKEN_KEY, MobiworkHttpCommon, delivery, mobiwork_order


@tagged("post_install", "-at_install")
class TestMobiworkWebhook(MobiworkHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_mobiwork_source()

    def _post(self, payload, token=TOKEN_KEY):
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["tokenkey"] = token
        return self.url_open(
            f"/oms/webhook/{self.source.webhook_key}",
            data=json.dumps(payload, ensure_ascii=False).encode(),
            headers=headers,
        )

    def test_one_event_per_order_and_redelivery_is_a_duplicate(self):
        payload = delivery(
            mobiwork_order("DH-1"), mobiwork_order("DH-2", ma_kh="KH00458")
        )
        response = self._post(payload)
        self.assertEqual(response.status_code, 202, response.text)
        answer = response.json()
        events = self._events(self.source)
        self.assertEqual(sorted(answer["event_ids"]), events.ids)
        self.assertEqual(events.mapped("external_order_id"), ["DH-1", "DH-2"])
        self.assertEqual(set(events.mapped("state")), {"pending"})
        # Each event keeps its own order alone, keyed by ma_phieu and content.
        self.assertEqual(json.loads(events[0].payload)["ma_phieu"], "DH-1")
        self.assertRegex(events[0].delivery_id, r"^mobiwork:DH-1:[0-9a-f]{16}$")
        self.assertNotIn(TOKEN_KEY, events[0].headers)

        again = self._post(payload)
        self.assertEqual(again.status_code, 200, again.text)
        self.assertEqual(again.json()["status"], "duplicate")
        self.assertEqual(self._events(self.source), events)

        # A changed order is a new version: a new event; the other a duplicate.
        changed = delivery(
            mobiwork_order("DH-1", ghi_chu="Giao buổi sáng"),
            mobiwork_order("DH-2", ma_kh="KH00458"),
        )
        response = self._post(changed)
        self.assertEqual(response.status_code, 202, response.text)
        new = self._events(self.source) - events
        self.assertEqual(new.mapped("external_order_id"), ["DH-1"])

    def test_an_invalid_order_does_not_block_the_valid_one(self):
        bad = mobiwork_order("DH-9")
        bad["san_pham"][0]["so_luong"] = 0
        response = self._post(delivery(mobiwork_order("DH-8"), bad))
        self.assertEqual(response.status_code, 202, response.text)
        answer = response.json()
        self.assertEqual(answer["rejected"][0]["external_id"], "DH-9")
        self.assertEqual(
            answer["rejected"][0]["errors"][0]["path"], "data[1].san_pham[0].so_luong"
        )
        valid = self._events(self.source, external_order_id="DH-8")
        invalid = self._events(self.source, external_order_id="DH-9")
        self.assertEqual(valid.state, "pending")
        self.assertEqual(invalid.state, "failed")
        self.assertIn("data[1].san_pham[0].so_luong", invalid.last_error)
        self.assertTrue(invalid.error_hint)

    @mute_logger("odoo.addons.oms_integration.controllers.main")
    def test_a_wrong_or_missing_tokenkey_is_refused(self):
        self.assertEqual(
            self._post(delivery(mobiwork_order()), "nope").status_code, 401
        )
        self.assertEqual(self._post(delivery(mobiwork_order()), None).status_code, 401)
        self.assertFalse(self._events(self.source))
