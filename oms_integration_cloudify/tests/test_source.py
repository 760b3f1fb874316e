"""A Cloudify source: its secrets (the cached session too), what activation
requires, its URLs and consent, its state map, its form."""

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from ..const import DEFAULT_STATE_MAP
from .common import PASSWORD, CloudifyCommon


@tagged("post_install", "-at_install")
class TestCloudifySource(CloudifyCommon):
    def _draft(self, **vals):
        return self.env["oms.integration.source"].create(
            dict({"name": "Cloudify draft", "provider": "cloudify"}, **vals)
        )

    def test_secrets_and_the_cached_session_are_encrypted_and_redacted(self):
        source = self._draft(**self._source_vals(mode="polling"))
        source.cloudify_password = PASSWORD
        source._oms_give_consent(["polling"])
        stored = source.sudo().cloudify_password_encrypted
        self.assertTrue(stored.startswith("fernet:"))
        self.assertNotIn(PASSWORD, stored)
        source.invalidate_recordset()
        self.assertFalse(source.cloudify_password)
        self.assertTrue(source.cloudify_password_set)

        token = source._cloudify_get_token()
        source.invalidate_recordset()
        cached = source.sudo().cloudify_access_token_encrypted
        self.assertTrue(cached.startswith("fernet:"))
        self.assertNotIn(token.value, cached)
        self.assertTrue(source.cloudify_access_token_set)
        self.assertEqual(source._oms_get_secret("cloudify_access_token"), token.value)
        known = source._oms_known_secret_values()
        self.assertIn(token.value, known)
        self.assertIn(PASSWORD, known)
        # Cleared like any secret: the next call signs in again.
        source.with_context(oms_secret="cloudify_access_token").action_clear_secret()
        self.assertFalse(source.cloudify_access_token_set)
        self.assertEqual(source.cloudify_auth_state, "none")
        self.assertNotEqual(source._cloudify_get_token().value, token.value)
        self.assertEqual(self.simulator.login_count, 2)

    def test_the_cached_session_is_read_by_system_administrators_only(self):
        source = self._create_cloudify_source(
            scopes=("polling",), mode="polling", mapped=False
        )
        token = source._cloudify_get_token()
        Token = self.env["oms.integration.cloudify.token"]
        # An OMS administrator sees that a session is held and until when ...
        record = Token.with_user(self.manager).search([("source_id", "=", source.id)])
        self.assertEqual(len(record), 1)
        self.assertTrue(record.expires_at)
        self.assertEqual(source.with_user(self.manager).cloudify_auth_state, "ok")
        # ... never the session itself, not even encrypted.
        with self.assertRaises(AccessError):
            record.read(["token_encrypted"])
        with self.assertRaises(AccessError):
            record.write({"error": "forged"})
        oms_user = new_test_user(
            self.env,
            login="cf_oms_user",
            groups="base.group_user,oms_integration.group_oms_user",
        )
        with self.assertRaises(AccessError):
            Token.with_user(oms_user).search([])
        self.assertNotIn(token.value, str(record.with_user(self.manager).read()))
        # Another company's sessions are not listed.
        company_b = self.env["res.company"].create({"name": "Cloudify Company B"})
        # Its orders are in VND: activation needs a pricelist in VND there.
        self.env["product.pricelist"].create(
            {
                "name": "VND B",
                "currency_id": self.env.ref("base.VND").id,
                "company_id": company_b.id,
            }
        )
        other = self._create_cloudify_source(
            scopes=("polling",),
            mode="polling",
            mapped=False,
            company_id=company_b.id,
            pricelist_id=False,
        )
        other._cloudify_get_token()
        self.assertFalse(
            Token.with_user(self.manager).search([("source_id", "=", other.id)])
        )
        # And it goes with its source.
        source.unlink()
        self.assertFalse(record.exists())

    def test_activation_requires_the_sign_in_settings_of_the_mode(self):
        source = self._draft(mode="polling", outbound_enabled=True)
        source._oms_give_consent(["polling", "outbound"])
        with self.assertRaises(UserError) as caught:
            source.action_activate()
        message = str(caught.exception)
        for expected in ("tenant URL", "database", "login", "password"):
            self.assertIn(expected, message)
        source.cloudify_auth_mode = "oauth"
        with self.assertRaises(UserError) as caught:
            source.action_activate()
        message = str(caught.exception)
        for expected in ("token URL", "client ID", "client secret"):
            self.assertIn(expected, message)

        source.write(self._source_vals("oauth", mode="polling"))
        source.cloudify_client_secret = "sim-secret-4b2d"
        source.cloudify_status_url = f"{self.simulator.url}/status"
        source._oms_give_consent(["polling", "outbound"])
        source.action_activate()
        self.assertEqual(source.state, "active")

    def test_webhook_only_needs_the_signing_secret(self):
        source = self._draft(mode="webhook")
        source._oms_give_consent(["inbound"])
        with self.assertRaises(UserError) as caught:
            source.action_activate()
        self.assertNotIn("sign-in", str(caught.exception))
        self.assertEqual(source._oms_get_signature_scheme(), "standard_webhooks")
        source.signing_secret = "whsec_c2lnbmluZy1zZWNyZXQtY2xvdWRpZnk="
        source.action_activate()
        self.assertEqual(source.state, "active")

    def test_tenant_url_is_the_consented_host(self):
        source = self._draft(
            mode="polling",
            cloudify_url="https://npp01.cloudify.vn",
            cloudify_status_url=(
                "https://npp01.cloudify.vn/rest_api/private/sale_document/status"
            ),
        )
        self.assertEqual(source.api_base_url, "https://npp01.cloudify.vn")
        self.assertEqual(
            source._oms_destination_hosts()["polling"], "npp01.cloudify.vn"
        )
        self.assertEqual(
            source._oms_destination_hosts()["outbound"], "npp01.cloudify.vn"
        )
        source._oms_give_consent(["polling"])
        self.assertTrue(source.consent_polling)
        source.cloudify_url = "https://other.cloudify.vn"
        self.assertFalse(source.consent_polling)

    def test_state_map_must_be_known_statuses_and_states(self):
        source = self._draft()
        self.assertEqual(
            {line.status: line.value for line in source.status_map_ids},
            dict(DEFAULT_STATE_MAP),
        )
        self.assertEqual(source._cloudify_state_map()["processing"], "picking")
        source._oms_set_status_map({"processing": "delivering"})
        self.assertEqual(
            source._cloudify_state_map(),
            {
                "approved": "confirmed",
                "processing": "delivering",
                "delivered": "done",
                "cancelled": "cancel",
            },
        )
        delivered = source.status_map_ids.filtered(
            lambda line: line.status == "delivered"
        )
        with self.assertRaisesRegex(ValidationError, "Cloudify has no state 'shipped'"):
            delivered.value = "shipped"

    def test_state_map_of_an_earlier_version_moves_to_the_table(self):
        source = self._draft()
        source._cloudify_import_state_map(
            '{"processing": "delivering", "delivered": "shipped", "lost": "cancel"}'
        )
        self.assertEqual(
            source._oms_status_map(),
            dict(DEFAULT_STATE_MAP, processing="delivering"),
        )

    def test_form_fills_the_status_endpoint_and_token_url(self):
        form = Form(self.env["oms.integration.source"])
        form.name = "Cloudify form"
        form.provider = "cloudify"
        form.cloudify_url = "https://npp01.cloudify.vn/"
        self.assertEqual(
            form.cloudify_status_url,
            "https://npp01.cloudify.vn/rest_api/private/sale_document/status",
        )
        self.assertEqual(
            form.cloudify_token_url, "https://npp01.cloudify.vn/oauth/token"
        )
        source = form.save()
        self.assertEqual(source.cloudify_auth_mode, "session")
        self.assertEqual(source.cloudify_auth_state, "none")
