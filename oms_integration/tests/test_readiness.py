"""Readiness of a source: its findings and health score, activation refused
on a blocking one, the daily check, Test Connection against the provider
simulator (a real local HTTP server), and the hints catalogue."""

import socket

import requests

from odoo.exceptions import UserError
from odoo.tests import tagged

from .. import const
from ..lib import hints
from ..lib.simulator import ProviderSimulator
from .common import SIGNING_SECRET, OmsIntegrationCommon

TOKEN = "sim-token-readiness-987"


@tagged("post_install", "-at_install")
class TestReadiness(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = ProviderSimulator(token=TOKEN).start()
        cls.addClassCleanup(cls.simulator.stop)

    def setUp(self):
        super().setUp()
        self.simulator.scripted.clear()
        self.simulator.requests.clear()

    def _codes(self, source):
        source._oms_check_readiness()
        return set(source.readiness_finding_ids.mapped("code"))

    def _finding(self, source, code):
        return source.readiness_finding_ids.filtered(lambda f: f.code == code)

    def _polling_source(self, **vals):
        source = self._create_source(
            name="Polled",
            mode="polling",
            api_base_url=self.simulator.url,
            rate_limit=0,
            **vals,
        )
        source.api_token = TOKEN
        source._oms_give_consent(["polling"])
        return source

    # === FINDINGS === #

    def test_mode_settings_are_found_then_fixed(self):
        source = self._create_source(name="New shop")
        self.assertLessEqual(
            {"consent_inbound", "webhook_credentials"}, self._codes(source)
        )
        score = source.health_score
        source.signing_secret = SIGNING_SECRET
        source._oms_give_consent(["inbound"])
        codes = self._codes(source)
        self.assertFalse({"consent_inbound", "webhook_credentials"} & codes)
        self.assertGreater(source.health_score, score)
        self.assertEqual(
            source.health_score,
            max(0, 100 - 10 * len(source.readiness_finding_ids)),
            "Only warnings are left.",
        )

    def test_pricelist_of_the_source_currency(self):
        vnd = self.env.ref("base.VND")
        vnd.active = True
        self.env["product.pricelist"].search([("currency_id", "=", vnd.id)]).write(
            {"active": False}
        )
        source = self._create_source(name="VND shop")
        source.currency_id = vnd
        self.assertIn("pricelist_missing", self._codes(source))
        finding = self._finding(source, "pricelist_missing")
        self.assertEqual(finding.severity, "blocking")
        self.assertIn("VND", finding.message)
        self.assertEqual(finding.action_open_fix()["res_model"], "product.pricelist")
        self.env["product.pricelist"].create({"name": "VND", "currency_id": vnd.id})
        self.assertNotIn("pricelist_missing", self._codes(source))

    def test_tax_of_each_rate_the_provider_sends(self):
        source = self._create_source(name="Taxed shop")
        Tax = self.env["account.tax"]
        existing = Tax.search(
            [
                ("company_id", "=", self.company.id),
                ("type_tax_use", "=", "sale"),
                ("amount_type", "=", "percent"),
                ("amount", "in", (0, 5, 8, 10)),
            ]
        )
        existing.active = False
        self.assertIn("tax_missing", self._codes(source))
        message = self._finding(source, "tax_missing").message
        for rate in ("0%", "5%", "8%", "10%", "KCT"):
            self.assertIn(rate, message)
        for rate in (0, 5, 8, 10):
            Tax.create(
                {
                    "name": f"VAT {rate}%",
                    "amount": rate,
                    "type_tax_use": "sale",
                    "company_id": self.company.id,
                }
            )
        self.assertIn("tax_missing", self._codes(source))
        self.assertNotIn("8%", self._finding(source, "tax_missing").message)
        # A category without a rate is found only through a tax mapping.
        self._map(source, "tax", "KCT", tax_id=Tax.search([("name", "=", "VAT 0%")]).id)
        self.assertNotIn("tax_missing", self._codes(source))

    def test_duplicate_internal_references(self):
        source = self._create_source(name="SKU shop")
        first = self.env["product.product"].create(
            {"name": "Water A", "default_code": "DUP-READY-1"}
        )
        second = self.env["product.product"].create(
            {"name": "Water B", "default_code": "DUP-READY-1"}
        )
        self._codes(source)
        finding = self._finding(source, "duplicate_references")
        self.assertIn("DUP-READY-1", finding.message)
        action = finding.action_open_fix()
        self.assertEqual(action["res_model"], "product.product")
        self.assertLessEqual(
            {first.id, second.id}, set(action["domain"][0][2]), "Both are shown."
        )
        second.default_code = "DUP-READY-2"
        self._codes(source)
        self.assertNotIn(
            "DUP-READY-1", self._finding(source, "duplicate_references").message or ""
        )

    def test_company_without_warehouse(self):
        source = self.source_b
        warehouses = self.env["stock.warehouse"].search(
            [("company_id", "=", self.company_b.id)]
        )
        warehouses.write({"active": False})
        self.assertIn("warehouse_missing", self._codes(source))
        self.assertEqual(
            self._finding(source, "warehouse_missing").action_open_fix()["res_model"],
            "stock.warehouse",
        )
        warehouses.write({"active": True})
        self.assertNotIn("warehouse_missing", self._codes(source))

    def test_products_the_policies_need(self):
        source = self._create_source(name="Adjusting shop", total_policy="adjust")
        codes = self._codes(source)
        self.assertIn("adjustment_product_missing", codes)
        self.assertIn("shipping_product_missing", codes)
        source.write(
            {
                "adjustment_product_id": self.product_2.id,
                "shipping_product_id": self.product.id,
            }
        )
        codes = self._codes(source)
        self.assertFalse(
            {"adjustment_product_missing", "shipping_product_missing"} & codes
        )

    def test_unmapped_codes_lead_to_the_mapping_center(self):
        source = self._create_source(name="Mapping shop")
        mapping = self.Mapping.create(
            {
                "source_id": source.id,
                "kind": "product",
                "external_code": "NEW-SKU",
                "state": "unmapped",
            }
        )
        self._codes(source)
        finding = self._finding(source, "unmapped_codes")
        self.assertIn("1 provider codes", finding.message)
        action = finding.action_open_fix()
        self.assertEqual(action["res_model"], "oms.integration.mapping")
        self.assertIn(("source_id", "=", source.id), action["domain"])
        mapping.write({"product_id": self.product.id, "state": "mapped"})
        self.assertNotIn("unmapped_codes", self._codes(source))

    def test_score_arithmetic(self):
        source = self._create_source(name="Scored shop", total_policy="adjust")
        findings = source._oms_check_readiness()
        blocking = len(findings.filtered(lambda f: f.severity == "blocking"))
        warnings = len(findings) - blocking
        self.assertTrue(blocking and warnings)
        self.assertEqual(source.readiness_blocking_count, blocking)
        self.assertEqual(
            source.health_score, max(0, 100 - 40 * blocking - 10 * warnings)
        )
        self.assertTrue(source.readiness_checked_at)
        self.assertEqual(hints.health_score(0, 0, const.READINESS_WEIGHTS), 100)
        self.assertEqual(hints.health_score(1, 2, const.READINESS_WEIGHTS), 40)
        self.assertEqual(hints.health_score(3, 1, const.READINESS_WEIGHTS), 0)
        # Each check replaces the findings: none is kept twice.
        source._oms_check_readiness()
        self.assertEqual(len(source.readiness_finding_ids), len(findings))

    def test_activation_refused_on_a_blocking_finding(self):
        source = self._create_source(name="Strict shop", total_policy="adjust")
        source.signing_secret = SIGNING_SECRET
        source._oms_give_consent(["inbound"])
        with self.assertRaises(UserError) as caught:
            source.with_user(self.oms_manager).action_activate()
        self.assertIn("Total Adjustment Product", str(caught.exception))
        self.assertEqual(source.state, "draft")
        source.adjustment_product_id = self.product_2
        source.with_user(self.oms_manager).action_activate()
        self.assertEqual(source.state, "active")
        self.assertFalse(source.readiness_blocking_count)

    def test_the_daily_cron_checks_every_source(self):
        self.source.readiness_checked_at = False
        self.source_b.readiness_checked_at = False
        self.env["oms.integration.source"]._cron_check_readiness()
        self.assertTrue(self.source.readiness_checked_at)
        self.assertTrue(self.source.readiness_finding_ids)
        cron = self.env.ref("oms_integration.ir_cron_check_readiness")
        self.assertEqual(cron.code, "model._cron_check_readiness()")

    def test_users_read_findings_and_managers_check(self):
        self.source._oms_check_readiness()
        findings = self.source.with_user(self.oms_user).readiness_finding_ids
        self.assertTrue(findings.mapped("message"))
        action = self.source.with_user(self.oms_manager).action_check_readiness()
        self.assertEqual(action["tag"], "display_notification")

    # === TEST CONNECTION === #

    def test_connection_reachable(self):
        source = self._polling_source()
        action = source.with_user(self.oms_manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(source.connection_state, "ok")
        self.assertEqual(self.simulator.requests[-1][0], "GET")
        exchange = self.env["oms.integration.exchange"].search(
            [("source_id", "=", source.id)]
        )
        self.assertEqual(len(exchange), 1)
        self.assertEqual(exchange.status_code, 200)
        self.assertNotIn(TOKEN, exchange.request_headers)
        self.assertEqual(exchange.event_id.state, "done")
        self.assertFalse(
            {"connection_refused", "connection_unreachable"} & self._codes(source)
        )

    def test_connection_credentials_refused(self):
        source = self._polling_source()
        source.api_token = "wrong-token-value-42"
        action = source.with_user(self.oms_manager).action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(source.connection_state, "refused")
        self.assertIn("refused the credentials", action["params"]["message"])
        self.assertIn("Check the API token", action["params"]["message"])
        exchange = self.env["oms.integration.exchange"].search(
            [("source_id", "=", source.id)]
        )
        self.assertEqual(exchange.status_code, 401)
        self.assertNotIn("wrong-token-value-42", exchange.request_headers)
        self.assertEqual(exchange.event_id.state, "discarded")
        finding = self._finding(source, "connection_refused")
        self.assertEqual(finding.severity, "blocking")
        self.assertNotIn("wrong-token-value-42", finding.message)
        # New credentials: the old result no longer counts.
        source.api_token = TOKEN
        self.assertFalse(source.connection_state)
        self.assertNotIn("connection_refused", self._codes(source))

    def test_connection_unreachable(self):
        source = self._polling_source()
        source.api_base_url = "http://127.0.0.1:9"
        source._oms_give_consent(["polling"])
        action = source.with_user(self.oms_manager).action_test_connection()
        self.assertEqual(source.connection_state, "unreachable")
        self.assertIn("Cannot reach", action["params"]["message"])
        exchange = self.env["oms.integration.exchange"].search(
            [("source_id", "=", source.id)]
        )
        self.assertTrue(exchange.error)
        self.assertEqual(
            self._finding(source, "connection_unreachable").severity, "warning"
        )

    def test_connection_needs_consent_for_the_host(self):
        source = self._polling_source()
        source._oms_revoke_consent(["polling"], "audit")
        source.with_user(self.oms_manager).action_test_connection()
        self.assertFalse(self.simulator.requests, "Nothing is sent without consent.")
        self.assertEqual(source.connection_state, "failed")
        self.assertIn("consent", source.connection_message)

    def test_connection_tests_the_callback_endpoint(self):
        source = self._create_active_source(
            scopes=("inbound", "outbound"),
            name="Callback shop",
            outbound_enabled=True,
            callback_url=f"{self.simulator.url}/status",
        )
        self.simulator.script(401, {"error": "bad signature"})
        action = source.with_user(self.oms_manager).action_test_connection()
        self.assertEqual(source.connection_state, "refused")
        self.assertIn("Check the signing secret", action["params"]["message"])
        self.assertNotIn(SIGNING_SECRET, action["params"]["message"])

    def test_connection_test_is_for_managers(self):
        source = self._polling_source()
        with self.assertRaises(Exception):  # noqa: B017 - AccessError
            source.with_user(self.oms_user).action_test_connection()
        self.assertFalse(self.simulator.requests)

    # === HINTS === #

    def test_hints_of_http_answers(self):
        Hints = self.env["oms.integration.hints"]
        expected = {
            401: (hints.UNAUTHORIZED, "refused the credentials"),
            403: (hints.FORBIDDEN, "refused access"),
            404: (hints.NOT_FOUND, "no such address"),
            429: (hints.RATE_LIMITED, "slow down"),
            503: (hints.SERVER_ERROR, "error on its side"),
            302: (hints.REDIRECT, "redirect"),
        }
        for status, (key, words) in expected.items():
            self.assertEqual(hints.classify_status(status), key)
            problem, action = Hints._oms_hint(key, status=status, body="x")
            self.assertIn(words, problem)
            self.assertIn(str(status), problem)
            self.assertTrue(action)
        self.assertIsNone(hints.classify_status(200))

    def test_hints_of_transport_failures(self):
        try:
            try:
                raise socket.gaierror(-2, "Name or service not known")
            except socket.gaierror as cause:
                raise requests.ConnectionError("connection failed") from cause
        except requests.ConnectionError as exc:
            dns = exc
        cases = {
            hints.TIMEOUT: requests.ConnectTimeout("timed out"),
            hints.TLS: requests.exceptions.SSLError("certificate verify failed"),
            hints.DNS: dns,
            hints.UNREACHABLE: requests.ConnectionError("Connection refused"),
        }
        Hints = self.env["oms.integration.hints"]
        for key, exc in cases.items():
            self.assertEqual(hints.classify_exception(exc), key, key)
            problem, action = Hints._oms_hint(
                key, error=exc, target="the Provider API URL"
            )
            self.assertTrue(problem and action)
        self.assertIn("host name is not found", Hints._oms_hint(hints.DNS)[0])
        self.assertIn("certificate", Hints._oms_hint(hints.TLS)[0])
        self.assertIn("in time", Hints._oms_hint(hints.TIMEOUT)[0])
        # The transport errors lib.sending reports, as text.
        self.assertEqual(hints.classify_error_text("Timeout: read"), hints.TIMEOUT)
        self.assertEqual(
            hints.classify_error_text(
                "Connection error: [SSL: CERTIFICATE_VERIFY_FAILED]"
            ),
            hints.TLS,
        )
        self.assertEqual(
            hints.classify_error_text(
                "Connection error: Failed to resolve 'x.invalid'"
            ),
            hints.DNS,
        )
