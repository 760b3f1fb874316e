"""Translations: the templates (i18n/<addon>.pot) hold every string of the
code and the screens, and a Vietnamese user reads our screens and hints in
Vietnamese (i18n/vi.po)."""

import ast
import json
from pathlib import Path

from babel.messages.pofile import read_po
from lxml import etree

from odoo.modules.module import get_module_path
from odoo.tests import new_test_user, tagged
from odoo.tools.translate import TranslationModuleReader

from .common import OmsIntegrationCommon

ADDONS = ("oms_integration", "oms_integration_mobiwork", "oms_integration_cloudify")
# Names and codes a Vietnamese user reads as they are (vi.po leaves them
# empty, as Odoo's translation files do for a text that does not change).
SAME_IN_VIETNAMESE = {
    "Client ID",
    "Client Secret",
    "Cloudify",
    "ID",
    "Mobiwork",
    "OMS Integration",
    "URL",
    "Webhook",
}


def _catalog(addon, name):
    with open(Path(get_module_path(addon)) / "i18n" / name, "rb") as handle:
        return read_po(handle)


def _demo_ids(addon):
    """The xml ids of the addon's demo records: their texts are data, not
    the addon's words (a database without demo data has none of them)."""
    root = Path(get_module_path(addon))
    manifest = ast.literal_eval((root / "__manifest__.py").read_text())
    ids = set()
    for name in manifest.get("demo", []):
        for record in etree.parse(str(root / name)).iter("record"):
            ids.add(record.get("id"))
    return ids


def _is_demo(res_id, demo_ids):
    """Whether a term's record (``module.xml_id``) is demo data, or made by
    it (a product's template: ``<product's id>_product_template``)."""
    if not isinstance(res_id, str) or "." not in res_id:
        return False
    xml_id = res_id.split(".", 1)[1]
    return xml_id in demo_ids or any(xml_id.startswith(f"{d}_") for d in demo_ids)


@tagged("post_install", "-at_install")
class TestTranslations(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("vi_VN")
        cls.env["ir.module.module"]._load_module_terms(
            list(ADDONS), ["vi_VN"], overwrite=True
        )
        cls.vi_user = new_test_user(
            cls.env,
            login="oms_vi",
            groups="oms_integration.group_oms_manager,sales_team.group_sale_manager",
            lang="vi_VN",
        )
        cls.vi = {addon: _catalog(addon, "vi.po") for addon in ADDONS}

    def _vi(self, msgid, addon="oms_integration"):
        message = self.vi[addon].get(msgid)
        self.assertTrue(message and message.string, f"No translation of {msgid!r}")
        return message.string

    def _env_of(self, user):
        return self.env(user=user, context={"lang": user.lang})

    # === TEMPLATES === #

    def test_the_templates_hold_every_string_of_the_addons(self):
        reader = list(TranslationModuleReader(self.env.cr, modules=list(ADDONS)))
        for addon in ADDONS:
            demo = _demo_ids(addon)
            terms = {
                source
                for module, _type, _name, res_id, source, _value, _comments in reader
                if module == addon and not _is_demo(res_id, demo)
            }
            template = {message.id for message in _catalog(addon, f"{addon}.pot")}
            missing = sorted(terms - template)
            self.assertFalse(
                missing,
                f"{len(missing)} strings of {addon} are not in i18n/{addon}.pot "
                f"(run bash setup/export_pot.sh, then translate them in vi.po): "
                f"{missing[:10]}",
            )

    def test_every_string_of_the_templates_is_translated_in_vietnamese(self):
        for addon in ADDONS:
            untranslated = [
                message.id
                for message in _catalog(addon, f"{addon}.pot")
                if message.id
                and not (self.vi[addon].get(message.id) or message).string
                and message.id not in SAME_IN_VIETNAMESE
                and not message.id.startswith("https://")
            ]
            self.assertFalse(
                untranslated,
                f"{len(untranslated)} strings of {addon} have no Vietnamese "
                f"translation in i18n/vi.po: {untranslated[:10]}",
            )

    # === WHAT A VIETNAMESE USER READS === #

    def test_the_source_form_is_in_vietnamese(self):
        env = self._env_of(self.vi_user)
        form = env["oms.integration.source"].get_views([(False, "form")])
        arch = form["views"]["form"]["arch"]
        for english in ("Readiness", "Check Readiness", "Test Connection"):
            self.assertIn(self._vi(english), arch)
        self.assertNotIn('string="Check Readiness"', arch)
        labels = env["oms.integration.source"].fields_get(
            ["health_score", "mode", "signing_secret"], ["string", "help"]
        )
        self.assertEqual(labels["health_score"]["string"], self._vi("Health Score"))
        self.assertNotEqual(labels["mode"]["string"], "Mode")
        # An English reader of the same database keeps English.
        english = self.env(user=self.oms_manager, context={"lang": "en_US"})
        self.assertEqual(
            english["oms.integration.source"].fields_get(["health_score"])[
                "health_score"
            ]["string"],
            "Health Score",
        )

    def test_an_error_hint_is_in_the_readers_language(self):
        vnd = self.env.ref("base.VND")
        vnd.active = True
        source = self._create_active_source(
            name="Shop VI",
            product_policy="map_only",
            pricelist_id=self.env["product.pricelist"]
            .create({"name": "VND (i18n)", "currency_id": vnd.id})
            .id,
        )
        payload = {
            "type": "order.created",
            "order": {
                "id": "VI-1",
                "updated_at": "2026-11-22T09:30:00Z",
                "currency": "VND",
                "customer": {"id": "KH-1", "name": "Tap hoa VI"},
                "lines": [
                    {
                        "id": "1",
                        "product": {"sku": "KHONG-CO", "name": "Khong co"},
                        "quantity": 1,
                        "price_unit": 1000,
                    }
                ],
            },
        }
        event = self.Event._oms_create_inbound(
            source,
            {
                "event_type": "order.created",
                "external_order_id": "VI-1",
                "payload": json.dumps(payload),
            },
        )
        self._run_queue()
        self.assertEqual(event.state, "dead")
        self.assertEqual(event.error_key, "not_mapped")

        english = event.with_user(self.oms_manager).with_context(lang="en_US")
        self.assertIn("Map Product KHONG-CO", english.hint_display)
        vietnamese = event.with_env(self._env_of(self.vi_user))
        expected = self._vi(
            "Map %(values)s in the Mapping Center (OMS Integration > Mapping "
            "Center, filter Unmapped), then requeue this event."
        )
        values = event.error_values["values"]
        self.assertEqual(vietnamese.hint_display, expected % {"values": values})
        self.assertEqual(
            vietnamese.dead_letter_ids.hint_display, vietnamese.hint_display
        )
