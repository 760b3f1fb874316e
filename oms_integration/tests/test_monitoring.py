import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.oms_integration import const

from .common import OmsTestMixin

TOKEN = "monitoring-token-for-tests"
CUSTOMER = "Nguyen Thi Monitoring"


@tagged("post_install", "-at_install")
class TestMonitoringEndpoint(OmsTestMixin, HttpCase):
    """``GET /oms/monitoring`` over real HTTP: its own token, the numbers
    of every source, no personal data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls.env["oms.integration.source"].create(
            {"name": "Monitored Shop", "mode": "webhook", "stall_threshold": 15}
        )
        now = fields.Datetime.now()
        payload = json.dumps(
            {
                "order_id": "M-1",
                "customer": {"name": CUSTOMER, "phone": "+84901234567"},
                "lines": [{"sku": "SP001", "qty": 1}],
            }
        )
        Event = cls.env["oms.integration.event"]
        cls.oldest = Event.create(
            {
                "source_id": cls.source.id,
                "event_type": "order.created",
                "external_order_id": "M-1",
                "payload": payload,
                "next_attempt_at": now - timedelta(minutes=20),
            }
        )
        Event.create(
            {
                "source_id": cls.source.id,
                "event_type": "order.created",
                "external_order_id": "M-2",
                "payload": payload.replace("M-1", "M-2"),
            }
        )
        dead = Event.create(
            {
                "source_id": cls.source.id,
                "event_type": "order.created",
                "external_order_id": "M-3",
                "payload": payload.replace("M-1", "M-3"),
            }
        )
        dead._set_dead(f"Customer {CUSTOMER} has no address", reason="permanent")

    def _get(self, url="/oms/monitoring", token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return self.url_open(url, headers=headers)

    def _set_token(self, token):
        self.env["ir.config_parameter"].sudo().set_param(
            const.MONITORING_TOKEN_PARAM, token
        )

    def test_no_token_configured(self):
        self._set_token(False)
        response = self._get(token=TOKEN)
        self.assertEqual(response.status_code, 503)
        self.assertEqual(response.json()["status"], "not_configured")

    def test_token_missing(self):
        self._set_token(TOKEN)
        response = self._get()
        self.assertEqual(response.status_code, 401)
        self.assertEqual(response.headers["WWW-Authenticate"], "Bearer")

    def test_token_wrong(self):
        self._set_token(TOKEN)
        self.assertEqual(self._get(token="not-the-token").status_code, 403)
        # A user's session is no way in either.
        new_test_user(
            self.env, login="oms_monitoring_admin", groups="base.group_system"
        )
        self.authenticate("oms_monitoring_admin", "oms_monitoring_admin")
        self.assertEqual(self._get().status_code, 401)

    def test_report(self):
        self._set_token(TOKEN)
        response = self._get(token=TOKEN)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        report = response.json()
        self.assertEqual(report["status"], "stalled")
        self.assertTrue(report["generated_at"])
        row = next(r for r in report["sources"] if r["id"] == self.source.id)
        self.assertEqual(row["name"], "Monitored Shop")
        self.assertEqual(row["provider"], "compatible")
        self.assertEqual(row["state"], "draft")
        self.assertEqual(row["backlog"], 2)
        self.assertGreaterEqual(row["oldest_due_age_seconds"], 20 * 60)
        self.assertLess(row["oldest_due_age_seconds"], 25 * 60)
        self.assertEqual(row["dead_letters_open"], 1)
        self.assertTrue(row["last_processed_at"])
        self.assertTrue(row["stalled"])
        self.assertEqual(row["health_score"], self.source.health_score)
        self.assertIn("dead_letters", row["alerts"])
        # Numbers only: nothing of the customer, the payload or the errors.
        self.assertNotIn(CUSTOMER, response.text)
        self.assertNotIn("+84901234567", response.text)
        self.assertNotIn("M-1", response.text)
        self.assertNotIn(self.source.webhook_key, response.text)

    def test_a_token_in_the_address_is_refused(self):
        """Addresses are written in access logs: the token goes in a header."""
        self._set_token(TOKEN)
        response = self._get(f"/oms/monitoring?token={TOKEN}")
        self.assertEqual(response.status_code, 400)
        self.assertNotIn("sources", response.json())
        self.assertIn("Authorization: Bearer", response.json()["message"])
        response = self._get(f"/oms/monitoring?token={TOKEN}", token=TOKEN)
        self.assertEqual(response.status_code, 400)

    def test_the_stall_clears_when_the_backlog_is_fresh(self):
        self._set_token(TOKEN)
        self.oldest.write({"next_attempt_at": fields.Datetime.now()})
        response = self._get(token=TOKEN)
        self.assertEqual(response.status_code, 200)
        row = next(r for r in response.json()["sources"] if r["id"] == self.source.id)
        self.assertFalse(row["stalled"])

    def test_prometheus_format(self):
        self._set_token(TOKEN)
        response = self._get("/oms/monitoring?format=prometheus", token=TOKEN)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))
        labels = (
            f'source_id="{self.source.id}",source="Monitored Shop",'
            'provider="compatible"'
        )
        self.assertIn(f"oms_source_backlog{{{labels}}} 2\n", response.text)
        self.assertIn(f"oms_source_dead_letters_open{{{labels}}} 1\n", response.text)
        self.assertIn(f"oms_source_stalled{{{labels}}} 1\n", response.text)
        self.assertIn("oms_up 0\n", response.text)
        self.assertNotIn(CUSTOMER, response.text)
