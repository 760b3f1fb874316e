from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestProviderRegistration(TransactionCase):
    def test_provider_is_offered_on_sources(self):
        selection = dict(
            self.env["oms.integration.source"]
            ._fields["provider"]
            ._description_selection(self.env)
        )
        self.assertEqual(selection.get("mobiwork"), "Mobiwork")

    def test_source_can_be_created_for_the_provider(self):
        source = self.env["oms.integration.source"].create(
            {"name": "Mobiwork tenant", "provider": "mobiwork", "mode": "webhook"}
        )
        self.assertEqual(source.provider, "mobiwork")
        self.assertEqual(source.state, "draft")
        # A provider source is held to the core's fail-closed rules.
        problems = source._oms_get_activation_problems()
        self.assertTrue(problems)
