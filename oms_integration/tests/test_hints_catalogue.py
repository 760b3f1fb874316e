"""The hints catalogue (``oms.integration.hints``): every key of the
installed addons (core and providers) renders with its documented
parameters, and a request's failure reads the same whoever makes it."""

from odoo.tests import tagged

from ..lib import hints
from .common import OmsIntegrationCommon


@tagged("post_install", "-at_install")
class TestHintsCatalogue(OmsIntegrationCommon):
    def test_every_key_renders_with_its_documented_parameters(self):
        Hints = self.env["oms.integration.hints"]
        catalogue = Hints._oms_hint_catalogue()
        documented = Hints._oms_hint_parameters()
        values = {name: f"<{name}>" for name in documented}
        installed = {
            module.name
            for module in self.env["ir.module.module"].search(
                [("state", "=", "installed"), ("name", "like", "oms_integration_")]
            )
        }
        # The provider addons installed add their keys.
        for provider in ("mobiwork", "cloudify"):
            if f"oms_integration_{provider}" in installed:
                self.assertTrue(
                    any(key.startswith(f"{provider}_") for key in catalogue), provider
                )
        for key in catalogue:
            with self.subTest(key):
                self.assertLessEqual(Hints._oms_hint_placeholders(key), set(documented))
                problem, action = Hints._oms_hint(key, **values)
                self.assertTrue(problem.strip() and action.strip())
                for text in (problem, action):
                    self.assertNotIn("%(", text)
                    self.assertNotIn("%%", text)
                for name in Hints._oms_hint_placeholders(key):
                    self.assertIn(f"<{name}>", problem + action)
        # Every kind lib.hints recognises has its words.
        kinds = [
            getattr(hints, name)
            for name in dir(hints)
            if name.isupper() and isinstance(getattr(hints, name), str)
        ]
        self.assertLessEqual(set(kinds), set(catalogue))

    def test_an_unknown_key_reads_as_unexpected(self):
        Hints = self.env["oms.integration.hints"]
        self.assertEqual(
            Hints._oms_hint("no_such_key", error="boom"),
            Hints._oms_hint("unexpected", error="boom"),
        )

    def test_a_request_failure_through_the_shared_helper(self):
        source = self._create_source(name="Hints Shop")
        error = source._oms_http_failure(
            type("Answer", (), {"status_code": 404, "text": "<html/>"})()
        )
        problem, action = self.env["oms.integration.hints"]._oms_hint(
            "http_not_found", status=404, target=source._oms_hint_target("polling")
        )
        self.assertEqual((error.message, error.hint), (problem, action))
        self.assertTrue(error.permanent)
        retried = source._oms_http_failure(
            type("Answer", (), {"status_code": 503, "text": "down"})()
        )
        self.assertFalse(retried.permanent)
        self.assertIn("down", retried.message)
