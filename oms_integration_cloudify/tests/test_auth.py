"""Signing in to Cloudify (the Cloudify simulator, a real local HTTP
server): session login and OAuth2, the cached session renewed ahead of its
expiry by the cron, one renewal at a time across workers, a failing sign-in
shown on the source rather than silence, and credentials sent only to a
host the source holds consent for."""

from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import SerializationFailure

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.oms_integration.exceptions import OmsProcessingError

from ..models.oms_integration_cloudify_token import OmsIntegrationCloudifyToken
from .common import CLIENT_SECRET, PASSWORD, CloudifyCommon, cloudify_order

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
        with freeze_time(NOW):
            first = self.session_source._cloudify_get_token()
            self.oauth_source._cloudify_get_token()
        # Ten minutes before the end is the cron's window (margin + its interval).
        with freeze_time(NOW + timedelta(minutes=45)):
            self._refresh_tokens()
        self.assertEqual(self.simulator.login_count, 1)
        self.assertEqual(self.simulator.token_grant_count, 1)
        with freeze_time(NOW + timedelta(minutes=51)):
            self._refresh_tokens()
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
        self._refresh_tokens()
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
        source = self.session_source.with_user(self.manager)
        action = source.action_cloudify_sign_in()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(source.cloudify_auth_state, "ok")
        self.simulator.fail_logins()
        # Told, not raised: the failure stays recorded on the source.
        action = source.action_cloudify_sign_in()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Access Denied", action["params"]["message"])
        self.assertEqual(source.cloudify_auth_state, "failed")
        self.assertTrue(self.session_source._cloudify_auth_activities())
        self.assertEqual(self.simulator.login_attempts, 2)
        self.assertEqual(self.simulator.login_count, 1)
        with self.assertRaises(AccessError):
            self.session_source.with_user(self.salesman).action_cloudify_sign_in()
        self.assertEqual(self.simulator.login_attempts, 2)


@tagged("post_install", "-at_install")
class TestCloudifySingleFlight(CloudifyCommon):
    """Two workers need a session at once: one signs in, the other uses it.

    The renewal locks the source's token row on the worker's own cursor and
    reads it again before signing in: a worker that found no usable session
    before another renewed it finds that renewal once it holds the lock.
    Here both workers' turns run one after the other in the test's
    transaction (what the second sees once the first's lock is released);
    a renewal committed by another worker during a polling run (a
    serialization failure on the lock, in production) is simulated at the
    lock itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.source = cls._create_cloudify_source(
            "session", scopes=("polling",), mode="polling", mapped=False
        )

    def test_two_workers_refreshing_at_once_sign_in_once(self):
        with freeze_time(NOW):
            # Both workers look at the cache before either has signed in.
            self.assertIsNone(self.source._cloudify_cached_token())
            self.assertIsNone(self.source._cloudify_cached_token())
            first = self.source._cloudify_refresh()
            second = self.source._cloudify_refresh()
        self.assertEqual(self.simulator.login_count, 1)
        self.assertEqual(second, first)
        self.assertIn(first.value, self.simulator.tokens)

        # The session both used expired: each worker renews the value it was
        # refused, once for both.
        self.simulator.expire_all_tokens()
        with freeze_time(NOW + timedelta(minutes=1)):
            renewed = self.source._cloudify_refresh(stale=first.value)
            again = self.source._cloudify_refresh(stale=first.value)
        self.assertEqual(self.simulator.login_count, 2)
        self.assertNotEqual(renewed.value, first.value)
        self.assertEqual(again, renewed)
        self.assertEqual(
            self.source._oms_get_secret("cloudify_access_token"), renewed.value
        )

    def test_a_renewal_committed_by_another_worker_is_used(self):
        self.simulator.put_document(
            cloudify_order("cf_1", updated_at="2026-11-22T01:00:00Z")
        )
        lock = OmsIntegrationCloudifyToken._cloudify_lock
        others = []

        def lock_met_another_renewal(record):
            if not others:
                # Another worker signs in and commits while this one waits
                # for the lock, which then fails as PostgreSQL fails it.
                source = record.source_id
                others.append(source._cloudify_sign_in())
                record._cloudify_store(others[0])
                record.env.cr.commit()
                raise SerializationFailure("could not serialize access")
            return lock(record)

        with (
            freeze_time(NOW),
            patch.object(
                OmsIntegrationCloudifyToken,
                "_cloudify_lock",
                lock_met_another_renewal,
            ),
        ):
            self._poll(self.source)
        self.assertEqual(
            self.source.poll_failure_count, 0, self.source.poll_last_result
        )
        self.assertEqual(
            self._events(self.source).mapped("external_order_id"), ["cf_1"]
        )
        # The other worker's sign-in only (the search went through with the
        # one session granted), and its session kept.
        self.assertEqual(self.simulator.login_count, 1)
        self.assertEqual(
            self.source._oms_get_secret("cloudify_access_token"), others[0].value
        )


@tagged("post_install", "-at_install")
class TestCloudifySignInConsent(CloudifyCommon):
    """Credentials go only to a host the source holds consent for."""

    def test_no_sign_in_without_consent_for_the_tenant_host(self):
        # Webhooks only: no consent names the tenant's host.
        source = self._create_cloudify_source("session", scopes=("inbound",))
        with self.assertRaisesRegex(UserError, "No consent to send") as caught:
            source.with_user(self.manager).action_cloudify_sign_in()
        self.assertIn(source._oms_destination_hosts()["polling"], str(caught.exception))
        self.assertIn("Give Consent", str(caught.exception))
        self.assertEqual(self.simulator.login_attempts, 0)
        self.assertFalse(self.simulator.requests)
        self.assertEqual(source.cloudify_auth_state, "none")

        source._oms_give_consent(["polling"])
        action = source.with_user(self.manager).action_cloudify_sign_in()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.simulator.login_count, 1)

    def test_revoked_consent_stops_the_renewals(self):
        source = self._create_cloudify_source(
            "oauth", scopes=("polling",), mode="polling", mapped=False
        )
        source._oms_revoke_consent(["polling"], "Test: consent withdrawn.")
        self.assertEqual(source.state, "active")
        with self.assertRaisesRegex(OmsProcessingError, "No consent to send"):
            source._cloudify_get_token()
        self._refresh_tokens()
        self._poll(source)
        self.assertEqual(self.simulator.token_requests, 0)
        self.assertFalse(self.simulator.requests)

    def test_token_url_on_another_host_is_refused(self):
        source = self._create_cloudify_source(
            "oauth",
            scopes=("polling", "outbound"),
            mode="polling",
            mapped=False,
            cloudify_status_url=f"{self.simulator.url}/status",
        )
        # The simulator answers on this address too: only the check stops it.
        elsewhere = self.simulator.url.replace("127.0.0.1", "localhost")
        source.cloudify_token_url = f"{elsewhere}/oauth/token"
        self.assertTrue(source.consent_polling, "no consent names the token host")
        with self.assertRaisesRegex(UserError, "neither the tenant's host") as caught:
            source.with_user(self.manager).action_cloudify_sign_in()
        self.assertIn(elsewhere.split("//")[1], str(caught.exception))
        self._refresh_tokens()
        self.assertEqual(self.simulator.token_requests, 0)
        self.assertFalse(self.simulator.requests)
        self.assertEqual(source.cloudify_auth_state, "none")

        # Back on the tenant's host: the consent given covers it.
        source.cloudify_token_url = f"{self.simulator.url}/oauth/token"
        source.with_user(self.manager).action_cloudify_sign_in()
        self.assertEqual(self.simulator.token_grant_count, 1)

    def test_token_url_must_be_a_web_address(self):
        source = self._create_cloudify_source("oauth", mapped=False)
        for wrong in ("ftp://npp01.cloudify.vn/oauth/token", "npp01.cloudify.vn/oauth"):
            with (
                self.subTest(wrong),
                self.assertRaisesRegex(ValidationError, "not a valid URL"),
            ):
                source.cloudify_token_url = wrong
