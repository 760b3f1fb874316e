"""A Mobiwork source: its secrets, what activation requires, its form."""

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import TOKEN_KEY, MobiworkCommon


@tagged("post_install", "-at_install")
class TestMobiworkSource(MobiworkCommon):
    def _draft(self, **vals):
        return self.env["oms.integration.source"].create(
            dict({"name": "Mobiwork draft", "provider": "mobiwork"}, **vals)
        )

    def test_secrets_are_encrypted_write_only_and_redacted(self):
        source = self._draft()
        source.mobiwork_token_key = TOKEN_KEY
        source.mobiwork_read_api_token = "read-secret-123"
        stored = source.sudo().mobiwork_token_key_encrypted
        self.assertTrue(stored)
        self.assertNotIn(TOKEN_KEY, stored)
        source.invalidate_recordset()
        self.assertFalse(source.mobiwork_token_key)
        self.assertTrue(source.mobiwork_token_key_set)
        self.assertTrue(source.mobiwork_read_api_token_set)
        self.assertEqual(source._oms_get_secret("mobiwork_token_key"), TOKEN_KEY)
        self.assertIn("read-secret-123", source._oms_known_secret_values())
        source.with_context(oms_secret="mobiwork_token_key").action_clear_secret()
        self.assertFalse(source.mobiwork_token_key_set)

    def test_activation_requires_the_mobiwork_settings(self):
        source = self._draft(mode="both", outbound_enabled=True)
        source._oms_give_consent(["inbound", "polling", "outbound"])
        with self.assertRaises(UserError) as caught:
            source.action_activate()
        message = str(caught.exception)
        for expected in (
            "organisation ID",
            "token key",
            "read API ID",
            "read API token",
            "status callback URL",
        ):
            self.assertIn(expected, message)
        source.write(
            {
                "mobiwork_org_id": "ORG-42",
                "mobiwork_read_api_id": "org-42",
                "mobiwork_read_api_url": "https://openapi.mobiwork.vn",
                "mobiwork_api_url": "https://apierpnext.mobiwork.vn",
                "mobiwork_token_key": TOKEN_KEY,
                "mobiwork_read_api_token": "read-secret-123",
            }
        )
        source._oms_give_consent(["inbound", "polling", "outbound"])
        source.action_activate()
        self.assertEqual(source.state, "active")
        self.assertEqual(source._oms_get_signature_scheme(), "static_token")
        self.assertEqual(source._oms_get_signature_header(), "tokenkey")
        self.assertEqual(source._oms_get_webhook_secrets(), [TOKEN_KEY])

    def test_standard_webhooks_mode_needs_the_signing_secret(self):
        source = self._draft(mobiwork_auth_mode="standard_webhooks")
        self.assertEqual(source._oms_get_signature_scheme(), "standard_webhooks")
        self.assertFalse(source._oms_has_webhook_credentials())
        source.mobiwork_token_key = TOKEN_KEY
        self.assertFalse(source._oms_has_webhook_credentials())
        source.signing_secret = "whsec_c2lnbmluZy1zZWNyZXQtbW9iaXdvcms="
        self.assertTrue(source._oms_has_webhook_credentials())

    def test_status_table_is_filled_with_mobiwork_labels(self):
        source = self._draft()
        self.assertEqual(
            {line.status: line.value for line in source.status_map_ids},
            {
                "approved": "Đã duyệt",
                "processing": "Đang giao",
                "delivered": "Đã bán hàng",
                "cancelled": "Đã hủy",
            },
        )
        self.assertEqual(source._mobiwork_status_label("delivered"), "Đã bán hàng")
        source.status_map_ids.filtered(
            lambda line: line.status == "delivered"
        ).value = "DA_BAN"
        self.assertEqual(source._mobiwork_status_label("delivered"), "DA_BAN")
        # A status removed from the table keeps Mobiwork's usual label.
        source.status_map_ids.filtered(lambda line: line.status == "approved").unlink()
        self.assertEqual(source._mobiwork_status_label("approved"), "Đã duyệt")

    def test_status_labels_of_an_earlier_version_move_to_the_table(self):
        source = self._draft()
        source._mobiwork_import_status_labels(
            '{"approved": "DA_DUYET", "shipped": "Đã gửi", "delivered": 5}'
        )
        self.assertEqual(
            source._oms_status_map(),
            {
                "approved": "DA_DUYET",
                "processing": "Đang giao",
                "delivered": "Đã bán hàng",
                "cancelled": "Đã hủy",
            },
        )
        source._mobiwork_import_status_labels("not json")
        self.assertEqual(source._oms_status_map()["approved"], "DA_DUYET")

    def test_form_shows_the_mobiwork_page(self):
        form = Form(self.env["oms.integration.source"])
        form.name = "Mobiwork form"
        form.provider = "mobiwork"
        self.assertEqual(form.mobiwork_read_api_url, "https://openapi.mobiwork.vn")
        form.mobiwork_org_id = "ORG-42"
        source = form.save()
        self.assertEqual(source.api_base_url, "https://openapi.mobiwork.vn")
        self.assertEqual(source.mobiwork_auth_mode, "token")
