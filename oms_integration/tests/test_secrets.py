from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.oms_integration import const

from .common import OmsIntegrationCommon

API_TOKEN = "tok-live-9f8e7d6c5b4a39281706"
SIGNING = "whsec_dGhpcy1pcy1hLXNpZ25pbmctc2VjcmV0"


@tagged("post_install", "-at_install")
class TestSecretStorage(OmsIntegrationCommon):
    def _raw_row(self, source):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT row_to_json(s)::text FROM oms_integration_source s WHERE id = %s",
            [source.id],
        )
        return self.env.cr.fetchone()[0]

    def _raw_value(self, source, column):
        self.env.flush_all()
        self.env.cr.execute(
            f"SELECT {column} FROM oms_integration_source WHERE id = %s",  # noqa: S608
            [source.id],
        )
        return self.env.cr.fetchone()[0]

    def _with_key(self, raw):
        return patch.dict(config.options, {const.SECRET_KEY_CONFIG_OPTION: raw})

    def test_secrets_are_encrypted_at_rest(self):
        self.source.with_user(self.oms_manager).write(
            {"api_token": API_TOKEN, "signing_secret": SIGNING}
        )
        row = self._raw_row(self.source)
        self.assertNotIn(API_TOKEN, row)
        self.assertNotIn(SIGNING, row)
        self.assertTrue(
            self._raw_value(self.source, "api_token_encrypted").startswith("fernet:")
        )
        self.assertTrue(
            self._raw_value(self.source, "signing_secret_encrypted").startswith(
                "fernet:"
            )
        )

        self.assertEqual(self.source._oms_get_secret("api_token"), API_TOKEN)
        self.assertEqual(self.source._oms_get_secret("signing_secret"), SIGNING)

    def test_secret_inputs_are_write_only(self):
        manager_source = self.source.with_user(self.oms_manager)
        manager_source.write({"api_token": API_TOKEN})
        self.source.invalidate_recordset()
        self.assertFalse(manager_source.api_token)
        self.assertEqual(manager_source.read(["api_token"])[0]["api_token"], False)
        self.assertTrue(manager_source.api_token_set)
        self.assertFalse(manager_source.client_secret_set)
        self.assertFalse(manager_source.signing_secret_set)

        # An empty input (the form saved without retyping) keeps the secret.
        manager_source.write({"api_token": False})
        self.assertEqual(self.source._oms_get_secret("api_token"), API_TOKEN)

    def test_key_rotation_keeps_secrets_readable_and_reencrypts(self):
        old_key = self.secret_key
        new_key = Fernet.generate_key().decode()
        self.source.api_token = API_TOKEN
        stored_before = self._raw_value(self.source, "api_token_encrypted")

        with self._with_key(f"{new_key},{old_key}"):
            self.assertEqual(self.source._oms_get_secret("api_token"), API_TOKEN)
            with self.assertRaises(AccessError):
                self.source.with_user(self.oms_manager).action_reencrypt_secrets()
            self.assertEqual(
                self._raw_value(self.source, "api_token_encrypted"), stored_before
            )

            self.source.with_user(self.system_admin).action_reencrypt_secrets()
            stored_after = self._raw_value(self.source, "api_token_encrypted")
            self.assertNotEqual(stored_after, stored_before)
            self.assertTrue(stored_after.startswith("fernet:"))
            self.assertNotIn(API_TOKEN, self._raw_row(self.source))

        # Re-encrypted under the new key: the old key can be dropped...
        with self._with_key(new_key):
            self.assertEqual(self.source._oms_get_secret("api_token"), API_TOKEN)
        # ...and the old key alone no longer opens it.
        with self._with_key(old_key), self.assertRaises(UserError):
            self.source._oms_get_secret("api_token")

    def test_wrong_key_error_reveals_neither_key_nor_secret(self):
        self.source.api_token = API_TOKEN
        wrong_key = Fernet.generate_key().decode()
        with self._with_key(wrong_key), self.assertRaises(UserError) as error:
            self.source._oms_get_secret("api_token")
        message = str(error.exception)
        self.assertNotIn(wrong_key, message)
        self.assertNotIn(self.secret_key, message)
        self.assertNotIn(API_TOKEN, message)

    def test_malformed_key_error_reveals_nothing(self):
        bad_key = "not-a-fernet-key-but-a-typo-4242"
        with self._with_key(bad_key), self.assertRaises(UserError) as error:
            self.source.api_token = API_TOKEN
        self.assertNotIn(bad_key, str(error.exception))
        self.assertNotIn(API_TOKEN, str(error.exception))

    def test_secret_absent_from_chatter_and_logs(self):
        # Tracking starts once the source's creation is committed.
        self._flush_tracking()
        with self.assertLogs("odoo.addons.oms_integration", level="DEBUG") as logs:
            self.source.with_user(self.oms_manager).write(
                {"api_token": API_TOKEN, "signing_secret": SIGNING, "name": "Renamed"}
            )
            self._flush_tracking()
        output = "\n".join(logs.output)
        self.assertIn(
            "api_token", output, "Setting a secret is logged (without its value)."
        )
        self.assertNotIn(API_TOKEN, output)
        self.assertNotIn(SIGNING, output)

        messages = self._messages_of(self.source)
        self.assertTrue(messages, "The rename is tracked in the chatter.")
        tracked = messages.sudo().tracking_value_ids
        chatter_text = " ".join(
            [m.body or "" for m in messages]
            + [
                str(v)
                for v in tracked.mapped("old_value_char")
                + tracked.mapped("new_value_char")
            ]
        )
        self.assertIn("Renamed", chatter_text)
        self.assertNotIn(API_TOKEN, chatter_text)
        self.assertNotIn(SIGNING, chatter_text)


@tagged("post_install", "-at_install")
class TestSecretAccess(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source.api_token = API_TOKEN

    def test_only_system_administrators_read_ciphertexts(self):
        for user in (self.oms_user, self.oms_manager, self.salesman):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.source.with_user(user).read(["api_token_encrypted"])
        values = self.source.with_user(self.system_admin).read(["api_token_encrypted"])
        self.assertTrue(values[0]["api_token_encrypted"].startswith("fernet:"))

    def test_non_administrators_cannot_set_secrets(self):
        for user in (self.oms_user, self.salesman):
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.source.with_user(user).write({"api_token": "attacker-token-0001"})
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                self.source.with_user(user)._oms_set_secret(
                    "api_token", "attacker-token-0001"
                )
        self.assertEqual(self.source._oms_get_secret("api_token"), API_TOKEN)

    def test_oms_user_sees_whether_a_secret_is_set(self):
        self.assertTrue(self.source.with_user(self.oms_user).api_token_set)


@tagged("post_install", "-at_install")
class TestSecretWithoutKey(OmsIntegrationCommon):
    def setUp(self):
        super().setUp()
        self.startPatcher(
            patch.dict(config.options, {const.SECRET_KEY_CONFIG_OPTION: ""})
        )

    def test_system_admin_stores_plaintext_and_is_warned(self):
        source = self.source.with_user(self.system_admin)
        self.assertTrue(source.secret_key_missing)
        source.api_token = API_TOKEN
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT api_token_encrypted FROM oms_integration_source WHERE id = %s",
            [source.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], "plain:" + API_TOKEN)
        self.assertEqual(source._oms_get_secret("api_token"), API_TOKEN)

    def test_oms_administrator_cannot_store_plaintext(self):
        with self.assertRaises(AccessError):
            self.source.with_user(self.oms_manager).write({"api_token": API_TOKEN})
        self.assertFalse(self.source.api_token_set)

    def test_reencrypt_upgrades_plaintext_once_a_key_is_set(self):
        self.source.with_user(self.system_admin).api_token = API_TOKEN
        with self.assertRaises(UserError):
            self.source.with_user(self.system_admin).action_reencrypt_secrets()
        with patch.dict(
            config.options, {const.SECRET_KEY_CONFIG_OPTION: self.secret_key}
        ):
            self.source.with_user(self.system_admin).action_reencrypt_secrets()
            self.env.flush_all()
            self.env.cr.execute(
                "SELECT row_to_json(s)::text, api_token_encrypted "
                "FROM oms_integration_source s WHERE id = %s",
                [self.source.id],
            )
            row, stored = self.env.cr.fetchone()
            self.assertNotIn(API_TOKEN, row)
            self.assertTrue(stored.startswith("fernet:"))
            self.assertEqual(self.source._oms_get_secret("api_token"), API_TOKEN)
