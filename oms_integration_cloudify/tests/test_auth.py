"""Signing in to Cloudify (the Cloudify simulator, a real local HTTP
server): session login and OAuth2, the cached session renewed ahead of its
expiry by the cron, one renewal at a time across workers, and a failing
sign-in shown on the source rather than silence."""

import threading
import time
from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged

from odoo.addons.oms_integration.exceptions import OmsProcessingError

from .common import CLIENT_SECRET, DB, LOGIN, PASSWORD, CloudifyCommon

NOW = datetime(2026, 11, 22, 2, 0, 0)


@tagged("post_install", "-at_install")
class TestCloudifyAuth(CloudifyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session_source = cls._create_cloudify_source(
            "session", scopes=("polling",), mode="polling"
        )
        cls.oauth_source = cls._create_cloudify_source(
            "oauth", scopes=("polling",), mode="polling", cloudify_scope="orders"
        )

    def _sign_in_error(self, source):
        # Not assertRaises: it rolls back a savepoint, and with it what the
        # failure recorded (in production, in a transaction of its own).
        try:
            source._cloudify_get_token()
        except OmsProcessingError as exc:
            return exc
        return self.fail("signing in should have failed")

    def test_session_login_is_cached_until_the_margin(self):
        source = self.session_source
        with freeze_time(NOW):
            token = source._cloudify_get_token()
            self.assertEqual(source._cloudify_get_token(), token)
            self.assertEqual(source.cloudify_auth_state, "ok")
        self.assertEqual(self.simulator.login_count, 1)
        self.assertEqual(token.expires_at, NOW + timedelta(hours=1))
        self.assertEqual(source.cloudify_token_expires_at, NOW + timedelta(hours=1))
        self.assertEqual(
            source._cloudify_auth_headers(token),
            {"Cookie": f"session_id={token.value}"},
        )
        # Within five minutes of its end, a call renews it first.
        with freeze_time(NOW + timedelta(minutes=56)):
            renewed = source._cloudify_get_token()
        self.assertNotEqual(renewed.value, token.value)
        self.assertEqual(self.simulator.login_count, 2)

    def test_oauth_client_credentials(self):
        source = self.oauth_source
        with freeze_time(NOW):
            token = source._cloudify_get_token()
            source._cloudify_get_token()
        self.assertEqual(self.simulator.token_grant_count, 1)
        self.assertEqual(self.simulator.login_count, 0)
        self.assertEqual(token.expires_at, NOW + timedelta(seconds=3600))
        self.assertEqual(
            source._cloudify_auth_headers(token),
            {"Authorization": f"Bearer {token.value}"},
        )
        [request] = [c for c in self.simulator.callbacks if c["path"] == "/oauth/token"]
        self.assertIn(b"scope=orders", request["body"])
        self.assertNotIn(CLIENT_SECRET.encode(), request["body"])  # HTTP Basic

    def test_cron_renews_ahead_of_expiry(self):
        Source = self.env["oms.integration.source"]
        with freeze_time(NOW):
            first = self.session_source._cloudify_get_token()
            self.oauth_source._cloudify_get_token()
        # Ten minutes before the end is the cron's window (margin + its interval).
        with freeze_time(NOW + timedelta(minutes=45)):
            self.assertFalse(
                Source._cron_cloudify_refresh_tokens() & self.session_source
            )
        self.assertEqual(self.simulator.login_count, 1)
        with freeze_time(NOW + timedelta(minutes=51)):
            refreshed = Source._cron_cloudify_refresh_tokens()
        self.assertIn(self.session_source, refreshed)
        self.assertIn(self.oauth_source, refreshed)
        self.assertEqual(self.simulator.login_count, 2)
        self.assertEqual(self.simulator.token_grant_count, 2)
        self.session_source.invalidate_recordset()
        self.assertEqual(
            self.session_source.cloudify_token_expires_at,
            NOW + timedelta(minutes=51, hours=1),
        )
        with freeze_time(NOW + timedelta(minutes=52)):
            self.assertNotEqual(
                self.session_source._cloudify_get_token().value, first.value
            )
        self.assertEqual(self.simulator.login_count, 2)

    def test_refused_credentials_are_shown_and_not_retried(self):
        source = self.session_source
        self.simulator.fail_logins(message="Access Denied")
        error = self._sign_in_error(source)
        self.assertTrue(error.permanent)
        self.assertIn("Sign In Now", error.hint)
        # The source says so: an error, its readiness, its activation problems.
        self.assertEqual(source.cloudify_auth_state, "failed")
        self.assertIn("Access Denied", source.cloudify_auth_error)
        self.assertNotIn(PASSWORD, source.cloudify_auth_error)
        self.assertTrue(
            any(
                "Signing in to Cloudify fails" in p
                for p in source._oms_get_activation_problems()
            )
        )
        # Every OMS manager has an activity, once.
        activities = source._cloudify_auth_activities()
        self.assertIn(self.manager, activities.user_id)
        self.assertFalse(activities.user_id.filtered("share"))
        self.assertEqual(len(activities), len(activities.user_id))
        # Wrong credentials are not tried again by every call and cron run
        # (that could lock the Cloudify user) ...
        self._sign_in_error(source)
        self.env["oms.integration.source"]._cron_cloudify_refresh_tokens()
        self.assertEqual(self.simulator.login_attempts, 1)
        self.assertEqual(source._cloudify_auth_activities(), activities)
        # ... until they change; then it works again and the alert goes away.
        source.cloudify_password = PASSWORD
        self.assertEqual(source.cloudify_auth_state, "none")
        source._cloudify_get_token()
        self.assertEqual(self.simulator.login_attempts, 2)
        self.assertEqual(source.cloudify_auth_state, "ok")
        self.assertFalse(source.cloudify_auth_error)
        self.assertFalse(activities.exists())
        self.assertIn("works again", source.message_ids[0].body)

    def test_unavailable_cloudify_is_retried_by_itself(self):
        source = self.oauth_source
        self.simulator.script(503, {"error": "temporarily_unavailable"})
        self.assertFalse(self._sign_in_error(source).permanent)
        self.assertEqual(source.cloudify_auth_state, "failed")
        self.assertTrue(source._cloudify_auth_activities())
        source._cloudify_get_token()
        self.assertEqual(source.cloudify_auth_state, "ok")
        self.assertFalse(source._cloudify_auth_activities())

    def test_sign_in_now_tells_the_result(self):
        action = self.session_source.action_cloudify_sign_in()
        self.assertEqual(action["params"]["type"], "success")
        self.simulator.fail_logins()
        with self.assertRaisesRegex(Exception, "Access Denied"):
            self.session_source.action_cloudify_sign_in()
        self.assertEqual(self.simulator.login_count, 1)


@tagged("post_install", "-at_install")
class TestCloudifySingleFlight(CloudifyCommon):
    """Two workers, each with its own cursor and transaction, need a session
    at once: one signs in, the other waits for it and uses it. The source is
    committed for real (threads cannot see the test's transaction) and
    deleted afterwards."""

    def _committed_source(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            source = env["oms.integration.source"].create(
                {
                    "name": "Cloudify single-flight",
                    "provider": "cloudify",
                    "mode": "polling",
                    "cloudify_url": self.simulator.url,
                    "cloudify_database": DB,
                    "cloudify_login": LOGIN,
                    "rate_limit": 0,
                }
            )
            source.cloudify_password = PASSWORD
            source_id = source.id
        self.addCleanup(self._delete_committed, source_id)
        return source_id

    def _delete_committed(self, source_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["oms.integration.source"].browse(source_id).unlink()

    def test_two_workers_refreshing_at_once_sign_in_once(self):
        source_id = self._committed_source()
        barrier = threading.Barrier(2)
        tokens, errors = [], []
        slow_login = self.simulator._login

        def login(body):
            time.sleep(0.5)  # long enough for the other worker to ask too
            return slow_login(body)

        def worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    source = env["oms.integration.source"].browse(source_id)
                    barrier.wait(timeout=10)
                    tokens.append(source._cloudify_get_token().value)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        with patch.object(self.simulator, "_login", login):
            threads = [threading.Thread(target=worker) for _i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        self.assertFalse(errors)
        self.assertEqual(len(tokens), 2)
        self.assertEqual(self.simulator.login_count, 1)
        self.assertEqual(tokens[0], tokens[1])
        # The session both met expired: each worker renews the value it was
        # refused, once for both.
        tokens_before = [self._cached(source_id)]
        self.assertEqual(tokens_before, tokens[:1])
        self.simulator.expire_all_tokens()
        tokens.clear()

        def expired_worker():
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    source = env["oms.integration.source"].browse(source_id)
                    barrier.wait(timeout=10)
                    tokens.append(
                        source._cloudify_get_token(stale=tokens_before[0]).value
                    )
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        with patch.object(self.simulator, "_login", login):
            threads = [threading.Thread(target=expired_worker) for _i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=30)
        self.assertFalse(errors)
        self.assertEqual(self.simulator.login_count, 2)
        self.assertEqual(tokens[0], tokens[1])
        self.assertNotEqual(tokens[0], tokens_before[0])

    def _cached(self, source_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            return (
                env["oms.integration.source"]
                .browse(source_id)
                ._oms_get_secret("cloudify_access_token")
            )
