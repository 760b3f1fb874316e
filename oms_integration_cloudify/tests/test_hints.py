"""Cloudify's hints (the hints catalogue's keys of this addon): each is what
the operator reads where the error shows, through the Cloudify simulator (a
real local HTTP server)."""

from unittest.mock import patch

import requests

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.oms_integration.exceptions import OmsProcessingError
from odoo.addons.oms_integration.lib.status import STATUS_TYPE

from ..lib import callbacks
from .common import CloudifyCommon, cloudify_order


@tagged("post_install", "-at_install")
class TestCloudifyHints(CloudifyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Hints = cls.env["oms.integration.hints"]
        cls.session_source = cls._create_cloudify_source(
            "session", scopes=("polling",), mode="polling"
        )
        cls.oauth_source = cls._create_cloudify_source(
            "oauth", scopes=("polling",), mode="polling"
        )
        cls.outbound_source = cls._create_cloudify_source(
            "session",
            scopes=("inbound", "outbound"),
            outbound_enabled=True,
            cloudify_status_url=cls.simulator.url + callbacks.DEFAULT_STATUS_PATH,
        )

    def _sign_in_error(self, source):
        # Not assertRaises: it rolls back what the failure recorded.
        try:
            source._cloudify_refresh(force=True)
        except OmsProcessingError as exc:
            return exc
        return self.fail("signing in should have failed")

    def _action(self, key, **params):
        return self.Hints._oms_hint(key, **params)[1]

    def _polled_result(self, source):
        # Only this source is polled: the scripted answer is for it.
        (
            (self.session_source | self.oauth_source) - source
        ).poll_next_run = fields.Datetime.add(fields.Datetime.now(), days=1)
        self._poll(source)
        self.assertEqual(source.poll_failure_count, 1)
        return source.poll_last_result

    # === SIGNING IN === #

    def test_a_refused_login(self):
        self.simulator.fail_logins(message="Access Denied")
        error = self._sign_in_error(self.session_source)
        self.assertTrue(error.permanent)
        self.assertEqual(error.hint, self._action("cloudify_login_refused"))
        self.assertIn("Signing in to Cloudify failed", error.message)
        self.assertIn("Access Denied", self.session_source.cloudify_auth_error)

    def test_oauth2_error_codes(self):
        for code in (
            "invalid_client",
            "unauthorized_client",
            "invalid_scope",
            "unsupported_grant_type",
        ):
            with self.subTest(code):
                self.simulator.script(400, {"error": code})
                error = self._sign_in_error(self.oauth_source)
                self.assertTrue(error.permanent)
                self.assertEqual(error.hint, self._action(f"cloudify_{code}"))
                self.assertIn(code, self.oauth_source.cloudify_auth_error)

    def test_other_refusals_and_cloudify_unavailable(self):
        self.simulator.script(400, {"error": "invalid_request"})
        error = self._sign_in_error(self.oauth_source)
        self.assertTrue(error.permanent)
        self.assertEqual(error.hint, self._action("cloudify_sign_in_failed"))
        # A stored refusal is told again, without a request, with the same hint.
        requests_before = self.simulator.token_requests
        self.assertEqual(
            self._sign_in_error_cached(self.oauth_source).hint,
            self._action("cloudify_sign_in_failed"),
        )
        self.assertEqual(self.simulator.token_requests, requests_before)

        self.simulator.script(503, {"error": "temporarily_unavailable"})
        error = self._sign_in_error(self.oauth_source)
        self.assertFalse(error.permanent)
        self.assertEqual(error.hint, self._action("cloudify_sign_in_unavailable"))

    def _sign_in_error_cached(self, source):
        try:
            source._cloudify_get_token()
        except OmsProcessingError as exc:
            return exc
        return self.fail("signing in should have failed")

    def test_cloudify_unreachable_at_sign_in(self):
        with patch.object(
            requests, "request", side_effect=requests.ConnectionError("refused")
        ):
            error = self._sign_in_error(self.session_source)
        self.assertFalse(error.permanent)
        problem = self.Hints._oms_hint(
            "cloudify_sign_in_unreachable", error="ConnectionError"
        )[0]
        self.assertIn(problem, error.message)
        self.assertEqual(self.session_source.cloudify_auth_error, problem)
        self.assertEqual(error.hint, self._action("cloudify_sign_in_unavailable"))

    def test_sign_in_refused_before_sending(self):
        # No consent for the tenant's host (webhooks only).
        source = self._create_cloudify_source("session", scopes=("inbound",))
        host = source._oms_destination_hosts()["polling"]
        with self.assertRaises(UserError) as caught:
            source.with_user(self.manager).action_cloudify_sign_in()
        self.assertEqual(
            str(caught.exception),
            self.Hints._oms_hint_text("cloudify_sign_in_no_consent", host=host),
        )
        # A token URL on another host than the consented ones.
        source = self._create_cloudify_source(
            "oauth", scopes=("polling",), mode="polling", mapped=False
        )
        elsewhere = self.simulator.url.replace("127.0.0.1", "localhost")
        source.cloudify_token_url = f"{elsewhere}/oauth/token"
        with self.assertRaises(UserError) as caught:
            source.with_user(self.manager).action_cloudify_sign_in()
        self.assertEqual(
            str(caught.exception),
            self.Hints._oms_hint_text(
                "cloudify_token_url_elsewhere",
                host=elsewhere.split("//")[1],
                tenant=source._oms_destination_hosts()["polling"],
            ),
        )
        # Not a web address at all (the form refuses it; an older record may
        # still hold one).
        self.assertEqual(
            source._cloudify_sign_in_refusal("npp01.cloudify.vn/oauth"),
            self.Hints._oms_hint_text(
                "cloudify_sign_in_url_invalid", url="npp01.cloudify.vn/oauth"
            ),
        )
        self.assertEqual(self.simulator.token_requests, 0)
        self.assertEqual(self.simulator.login_attempts, 0)

    # === CALLING CLOUDIFY === #

    def test_a_session_refused_right_after_signing_in(self):
        self.simulator.put_document(
            cloudify_order("cf_1", updated_at="2026-11-22T01:00:00Z")
        )
        self.simulator.expire_after_requests = 0  # every session refused at once
        problem, action = self.Hints._oms_hint("cloudify_session_refused")
        self.assertEqual(
            self._polled_result(self.session_source), f"{problem}\n{action}"
        )
        self.assertEqual(self.simulator.login_count, 2)

    def test_a_search_answer_that_is_not_a_page(self):
        self.session_source._cloudify_get_token()  # the next request: the search
        self.simulator.script(200, {"hello": "world"})
        result = self._polled_result(self.session_source)
        self.assertIn("Cloudify's answer to the search cannot be used", result)
        self.assertIn("without a list of orders", result)
        self.assertTrue(result.endswith(self._action("cloudify_poll_unreadable")))

    def test_an_http_error_names_cloudify_settings_and_its_words(self):
        self.session_source._cloudify_get_token()
        self.simulator.script(404, {"message": "No such route"})
        result = self._polled_result(self.session_source)
        self.assertIn("HTTP 404", result)
        self.assertIn("Cloudify refused the request (HTTP 404): No such route", result)
        self.assertIn("Check the Cloudify tenant URL (tab Cloudify)", result)

    def test_a_status_that_cannot_be_built(self):
        event = self.env["oms.integration.event"]._oms_create_outbound(
            self.outbound_source,
            {
                "event_type": STATUS_TYPE,
                "delivery_id": "status_unknown_1",
                "payload": '{"order": {"id": "cf_1"}, "status": "lost_in_space"}',
                "next_attempt_at": False,
            },
        )
        event._set_processing()
        self.assertIsNone(self.env["oms.integration.sender"]._oms_build_request(event))
        self.assertIn("The status cannot be sent to Cloudify", event.last_error)
        self.assertIn("lost_in_space", event.last_error)
        self.assertEqual(
            event.error_hint,
            self._action(
                "cloudify_status_unbuildable",
                target=self.outbound_source._oms_hint_target("outbound"),
            ),
        )
        self.assertEqual(event.state, "dead")
