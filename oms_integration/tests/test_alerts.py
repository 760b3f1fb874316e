from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.oms_integration import const

from .common import OmsIntegrationCommon


@tagged("post_install", "-at_install")
class TestAlerts(OmsIntegrationCommon):
    """The alerts cron opens one activity per kind of trouble for the
    source's responsible, never twice, and closes it once the trouble is
    gone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.shop = cls._create_active_source(
            name="Alerting Shop",
            scopes=("inbound", "outbound"),
            responsible_user_id=cls.oms_manager.id,
        )

    def setUp(self):
        super().setUp()
        # Whatever the readiness check found at activation: a healthy start.
        self.shop.health_score = 100

    # === HELPERS === #

    def _run_alerts(self):
        self.env["oms.integration.source"]._cron_raise_alerts()

    def _alerts(self, kind=None, source=None):
        source = source or self.shop
        kinds = [kind] if kind else list(const.ALERT_ACTIVITY_TYPES)
        return source.activity_search([const.ALERT_ACTIVITY_TYPES[k] for k in kinds])

    def _assert_opens_once_then_clears(self, kind, clear):
        self._run_alerts()
        alert = self._alerts(kind)
        self.assertEqual(len(alert), 1, f"one {kind} alert")
        self.assertEqual(alert.user_id, self.oms_manager)
        self.assertEqual(self._alerts(), alert, "no alert of another kind")
        self.assertIn(self.shop.name, str(alert.note))

        self._run_alerts()
        self.assertEqual(self._alerts(kind), alert, "not opened twice")

        clear()
        # A cron run starts from a fresh cache; this test's environment
        # remembers the circuit computed by the previous run.
        self.env.invalidate_all()
        self._run_alerts()
        self.assertFalse(self._alerts(kind).exists())
        self.assertFalse(alert.exists())
        done = self._messages_of(self.shop).filtered(
            lambda m: (
                m.mail_activity_type_id
                == self.env.ref(const.ALERT_ACTIVITY_TYPES[kind])
            )
        )
        self.assertIn("Cleared by itself", done[:1].body)

    # === TESTS === #

    def test_nothing_wrong_nothing_opened(self):
        self._run_alerts()
        self.assertFalse(self._alerts())

    def test_dead_letters(self):
        event = self._create_event(self.shop, external_order_id="A-1")
        event._set_dead("Product SP404 is not mapped", reason="permanent")
        self._assert_opens_once_then_clears(
            "dead_letters", lambda: event.dead_letter_ids._oms_discard("handled")
        )

    def test_backlog_waiting_too_long(self):
        event = self._create_event(
            self.shop,
            external_order_id="A-2",
            next_attempt_at=fields.Datetime.now() - timedelta(minutes=61),
        )
        self._assert_opens_once_then_clears("backlog", lambda: event._set_processing())

    def test_fresh_backlog_raises_nothing(self):
        self._create_event(
            self.shop,
            external_order_id="A-3",
            next_attempt_at=fields.Datetime.now() - timedelta(minutes=59),
        )
        self._run_alerts()
        self.assertFalse(self._alerts())

    def test_polling_failures(self):
        self.shop.poll_failure_count = const.ALERT_POLL_FAILURES - 1
        self._run_alerts()
        self.assertFalse(self._alerts())

        self.shop.poll_failure_count = const.ALERT_POLL_FAILURES

        def clear():
            self.shop.poll_failure_count = 0

        self._assert_opens_once_then_clears("polling", clear)

    def test_callbacks_failing(self):
        throttle = self.env["oms.integration.throttle"].create(
            {"source_id": self.shop.id, "failures": const.ALERT_CALLBACK_FAILURES}
        )

        def clear():
            throttle.failures = 0

        self._assert_opens_once_then_clears("callbacks", clear)

    def test_callbacks_paused_by_the_circuit(self):
        throttle = self.env["oms.integration.throttle"].create(
            {
                "source_id": self.shop.id,
                "failures": 1,
                "open_until": fields.Datetime.now() + timedelta(minutes=5),
            }
        )

        def clear():
            throttle.write({"failures": 0, "open_until": False})

        self._assert_opens_once_then_clears("callbacks", clear)

    def test_low_readiness_score(self):
        self.shop.health_score = 59

        def clear():
            self.shop.health_score = 60

        self._assert_opens_once_then_clears("score", clear)

    def test_without_responsible_every_administrator_is_told(self):
        self.shop.responsible_user_id = False
        self.shop.poll_failure_count = const.ALERT_POLL_FAILURES
        self._run_alerts()
        managers = self.env.ref("oms_integration.group_oms_manager").users.filtered(
            lambda u: not u.share and self.shop.company_id in u.company_ids
        )
        alerts = self._alerts("polling")
        self.assertIn(self.oms_manager, alerts.user_id)
        self.assertIn(self.system_admin, alerts.user_id)
        self.assertEqual(alerts.user_id, managers)
        self.assertNotIn(self.oms_user, alerts.user_id)
        # Once per administrator, also on the next run.
        self._run_alerts()
        self.assertEqual(self._alerts("polling"), alerts)

    def test_draft_source_alerts_close(self):
        self.shop.poll_failure_count = const.ALERT_POLL_FAILURES
        self._run_alerts()
        self.assertTrue(self._alerts("polling"))
        self.shop.action_set_draft()
        self._run_alerts()
        self.assertFalse(self._alerts())

    def test_responsible_defaults_to_the_creator(self):
        source = (
            self.env["oms.integration.source"]
            .with_user(self.oms_manager)
            .create({"name": "Created by a manager"})
        )
        self.assertEqual(source.responsible_user_id, self.oms_manager)
