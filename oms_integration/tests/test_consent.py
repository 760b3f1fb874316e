from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.oms_integration import const

from .common import SIGNING_SECRET, OmsIntegrationCommon


@tagged("post_install", "-at_install")
class TestActivation(OmsIntegrationCommon):
    def test_webhook_source_needs_inbound_consent_and_signing_secret(self):
        source = self._create_source(mode="webhook")
        with self.assertRaises(UserError) as error:
            source.action_activate()
        message = str(error.exception)
        self.assertIn("inbound consent", message)
        self.assertIn("signing secret", message)
        self.assertEqual(source.state, "draft")

        # Consent alone is not enough: webhooks would be unauthenticated.
        source._oms_give_consent(["inbound"])
        with self.assertRaises(UserError) as error:
            source.action_activate()
        self.assertNotIn("inbound consent", str(error.exception))
        self.assertIn("signing secret", str(error.exception))
        self.assertEqual(source.state, "draft")

        source.signing_secret = SIGNING_SECRET
        source.action_activate()
        self.assertEqual(source.state, "active")

    def test_polling_source_needs_polling_consent_and_api_url(self):
        source = self._create_source(mode="polling")
        with self.assertRaises(UserError) as error:
            source.action_activate()
        message = str(error.exception)
        self.assertIn("polling consent", message)
        self.assertIn("API URL", message)
        # A polling source does not need webhook credentials.
        self.assertNotIn("signing secret", message)
        self.assertEqual(source.state, "draft")

        source.api_base_url = "https://api.provider.example/v1"
        source._oms_give_consent(["polling"])
        source.action_activate()
        self.assertEqual(source.state, "active")
        self.assertTrue(
            source.poll_next_run, "An activated polling source is scheduled."
        )

    def test_outbound_enabled_needs_callback_url(self):
        source = self._create_source(mode="webhook", outbound_enabled=True)
        source.signing_secret = SIGNING_SECRET
        source._oms_give_consent(["inbound"])
        with self.assertRaises(UserError) as error:
            source.action_activate()
        self.assertIn("callback URL", str(error.exception))
        self.assertEqual(source.state, "draft")


@tagged("post_install", "-at_install")
class TestTrafficEnforcement(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.full_source = cls._create_active_source(
            scopes=("inbound", "polling", "outbound"),
            name="Full Source",
            mode="both",
            api_base_url="https://api.provider.example/v1",
            callback_url="https://hooks.provider.example/status",
            outbound_enabled=True,
        )
        cls.Event = cls.env["oms.integration.event"]

    def _source_events(self, source):
        return self.Event.search([("source_id", "=", source.id)])

    def test_assert_traffic_allowed_with_consent(self):
        for scope in ("inbound", "polling", "outbound"):
            with self.subTest(scope=scope):
                self.full_source._oms_assert_traffic_allowed(scope)

    def test_assert_traffic_refused_without_consent(self):
        for scope in ("inbound", "polling", "outbound"):
            with self.subTest(scope=scope):
                source = self._create_active_source(
                    scopes=("inbound", "polling", "outbound"),
                    name=f"Revoked {scope}",
                    mode="both",
                    api_base_url="https://api.provider.example/v1",
                    callback_url="https://hooks.provider.example/status",
                    outbound_enabled=True,
                )
                source._oms_revoke_consent((scope,), "Test: withdraw one scope")
                with self.assertRaises(UserError):
                    source._oms_assert_traffic_allowed(scope)
                # The other scopes keep flowing.
                for other in {"inbound", "polling", "outbound"} - {scope}:
                    source._oms_assert_traffic_allowed(other)

    def test_draft_source_refuses_traffic_even_with_consent(self):
        source = self._create_source(mode="webhook")
        source._oms_give_consent(["inbound"])
        with self.assertRaises(UserError):
            source._oms_assert_traffic_allowed("inbound")

    def test_create_inbound_refused_without_consent(self):
        source = self._create_active_source(name="Soon Revoked")
        source.consent_ids._oms_revoke("Test")
        with self.assertRaises(UserError):
            self.Event._oms_create_inbound(
                source, {"delivery_id": "d-1", "payload": "{}"}
            )
        self.assertFalse(self._source_events(source))

    def test_create_inbound_refused_when_paused(self):
        source = self._create_active_source(name="Paused")
        source._oms_pause("Provider maintenance")
        self.assertEqual(source.state, "paused")
        with self.assertRaises(UserError):
            self.Event._oms_create_inbound(
                source, {"delivery_id": "d-1", "payload": "{}"}
            )
        self.assertFalse(self._source_events(source))

    def test_create_inbound_with_consent(self):
        event = self.Event._oms_create_inbound(
            self.full_source,
            {
                "delivery_id": "d-1",
                "event_type": "order.created",
                "payload": '{"order_id": "A1"}',
                "headers": {
                    "Authorization": "Bearer abcdef123456",
                    "Webhook-Id": "d-1",
                },
            },
        )
        self.assertEqual(event, self._source_events(self.full_source))
        self.assertEqual(event.direction, "inbound")
        self.assertEqual(event.state, "pending")
        # Credentials in headers are never stored.
        self.assertNotIn("abcdef123456", event.headers)
        self.assertIn("d-1", event.headers)

    def test_create_outbound(self):
        event = self.Event._oms_create_outbound(
            self.full_source,
            {"event_type": "order.status", "payload": '{"status": "done"}'},
        )
        self.assertEqual(len(event), 1)
        self.assertEqual(event.direction, "outbound")

    def test_create_outbound_refused_when_sending_is_off(self):
        self.full_source.outbound_enabled = False
        self.assertTrue(self.full_source.consent_outbound)
        event = self.Event._oms_create_outbound(
            self.full_source, {"event_type": "order.status", "payload": "{}"}
        )
        self.assertFalse(event)
        self.assertFalse(self._source_events(self.full_source))

    def test_create_outbound_refused_without_consent(self):
        self.full_source._oms_revoke_consent(("outbound",), "Test")
        event = self.Event._oms_create_outbound(
            self.full_source, {"event_type": "order.status", "payload": "{}"}
        )
        self.assertFalse(event)
        self.assertFalse(self._source_events(self.full_source))

    def test_revoke_all_consents_stops_traffic_at_once(self):
        self.Event._oms_create_inbound(self.full_source, {"delivery_id": "before"})
        self.full_source._oms_revoke_all_consents("Contract ended")
        self.assertFalse(self.full_source.consent_inbound)
        self.assertFalse(self.full_source.consent_polling)
        self.assertFalse(self.full_source.consent_outbound)
        with self.assertRaises(UserError):
            self.Event._oms_create_inbound(self.full_source, {"delivery_id": "after"})
        self.assertEqual(
            self._source_events(self.full_source).mapped("delivery_id"), ["before"]
        )
        # The history of who allowed what stays, with the revocation.
        consents = self.full_source.consent_ids
        self.assertEqual(len(consents), 3)
        self.assertTrue(all(consents.mapped("revoked")))
        self.assertEqual(set(consents.mapped("revoked_reason")), {"Contract ended"})

    def test_revoke_through_reason_wizard(self):
        manager_source = self.full_source.with_user(self.oms_manager)
        action = manager_source.action_revoke_consent()
        Wizard = self.env["oms.integration.reason.wizard"].with_user(self.oms_manager)
        wizard = Wizard.with_context(**action["context"]).create({"reason": "   "})
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertTrue(self.full_source.consent_inbound)

        wizard = Wizard.with_context(**action["context"]).create(
            {"reason": "Provider breached the contract"}
        )
        wizard.action_confirm()
        self.assertFalse(self.full_source.consent_inbound)
        self.assertEqual(
            set(self.full_source.consent_ids.mapped("revoked_user_id")),
            {self.oms_manager},
        )
        with self.assertRaises(UserError):
            self.Event._oms_create_inbound(self.full_source, {"delivery_id": "after"})

    def test_oms_user_cannot_revoke(self):
        with self.assertRaises(AccessError):
            self.full_source.with_user(self.oms_user)._oms_revoke_all_consents("No")
        self.assertTrue(self.full_source.consent_inbound)

    def test_new_destination_host_revokes_outbound_and_polling(self):
        self.full_source.callback_url = "https://evil.example.net/status"
        self.assertFalse(self.full_source.consent_outbound)
        self.assertFalse(self.full_source.consent_polling)
        self.assertTrue(self.full_source.consent_inbound)
        self.assertIn(
            "Consent revoked",
            " ".join(self._messages_of(self.full_source).mapped("body")),
        )

    def test_new_api_host_revokes_outbound_and_polling(self):
        self.full_source.api_base_url = "https://api.other-provider.example/v1"
        self.assertFalse(self.full_source.consent_polling)
        self.assertFalse(self.full_source.consent_outbound)
        self.assertTrue(self.full_source.consent_inbound)
        with self.assertRaises(UserError):
            self.full_source._oms_assert_traffic_allowed("polling")

    def test_new_path_on_same_host_keeps_consent(self):
        self.full_source.write(
            {
                "callback_url": "https://hooks.provider.example/v2/status",
                "api_base_url": "https://api.provider.example/v2",
            }
        )
        self.assertTrue(self.full_source.consent_outbound)
        self.assertTrue(self.full_source.consent_polling)
        self.assertTrue(self.full_source.consent_inbound)
        self.assertFalse(any(self.full_source.consent_ids.mapped("revoked")))


@tagged("post_install", "-at_install")
class TestConsentWizard(OmsIntegrationCommon):
    def _wizard(self, user, source, **vals):
        action = source.with_user(user).action_give_consent()
        return (
            self.env["oms.integration.consent.wizard"]
            .with_user(user)
            .with_context(**action["context"])
            .create(vals)
        )

    def test_confirmation_box_is_required(self):
        wizard = self._wizard(self.oms_manager, self.source)
        self.assertTrue(
            wizard.scope_inbound, "A webhook source proposes inbound consent."
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertFalse(self.source.consent_ids)
        self.assertFalse(self.source.consent_inbound)

    def test_consent_records_who_when_what_and_where(self):
        wizard = self._wizard(self.oms_manager, self.source, confirmed=True)
        self.assertIn(const.CONSENT_DATA_CATEGORIES[0], wizard.summary)
        wizard.action_confirm()

        consent = self.source.consent_ids
        self.assertEqual(len(consent), 1)
        self.assertEqual(consent.scope, "inbound")
        self.assertEqual(consent.user_id, self.oms_manager)
        self.assertTrue(consent.date)
        self.assertEqual(consent.destination_host, "odoo.example.com")
        self.assertFalse(consent.revoked)
        self.assertTrue(self.source.consent_inbound)

        bodies = " ".join(self._messages_of(self.source).mapped("body"))
        self.assertIn(self.oms_manager.name, bodies)
        for category in const.CONSENT_DATA_CATEGORIES:
            self.assertIn(category, bodies)

    def test_polling_consent_records_provider_host(self):
        source = self._create_source(
            mode="polling", api_base_url="https://api.provider.example/v1"
        )
        self._wizard(self.oms_manager, source, confirmed=True).action_confirm()
        self.assertEqual(source.consent_ids.scope, "polling")
        self.assertEqual(source.consent_ids.destination_host, "api.provider.example")

    def test_polling_consent_refused_without_destination(self):
        source = self._create_source(mode="polling")
        wizard = self._wizard(self.oms_manager, source, confirmed=True)
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertFalse(source.consent_ids)

    def test_new_consent_replaces_the_current_one(self):
        self._wizard(self.oms_manager, self.source, confirmed=True).action_confirm()
        self._wizard(self.oms_manager, self.source, confirmed=True).action_confirm()
        consents = self.source.consent_ids
        self.assertEqual(len(consents), 2)
        self.assertEqual(len(consents.filtered(lambda c: not c.revoked)), 1)
        self.assertTrue(self.source.consent_inbound)

    def test_oms_user_cannot_give_consent(self):
        with self.assertRaises(AccessError):
            self.source.with_user(self.oms_user)._oms_give_consent(["inbound"])
        with self.assertRaises(AccessError):
            self.source.with_user(self.oms_user).action_give_consent()
        with self.assertRaises(AccessError):
            self.env["oms.integration.consent.wizard"].with_user(self.oms_user).create(
                {"source_id": self.source.id, "scope_inbound": True, "confirmed": True}
            )
        self.assertFalse(self.source.consent_ids)
        self.assertFalse(self.source.consent_inbound)
