"""The operations cockpit in a real browser (Odoo's tours drive a headless
Chromium; without one the test is skipped and says so)."""

import json
import logging
import re
from pathlib import Path

from babel.messages.pofile import read_po

from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, new_test_user, tagged

from .common import OmsTestMixin
from .test_i18n import SAME_IN_VIETNAMESE


@tagged("post_install", "-at_install")
class TestCockpitTour(OmsTestMixin, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        vnd = cls.env.ref("base.VND")
        vnd.active = True
        pricelist = cls.env["product.pricelist"].create(
            {"name": "VND (tour)", "currency_id": vnd.id}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Nuoc suoi (tour)", "default_code": "TOUR-SP1"}
        )
        cls.source = cls.env["oms.integration.source"].create(
            {
                "name": "Tour Shop",
                "mode": "webhook",
                "pricelist_id": pricelist.id,
                "partner_policy": "match_create",
                "product_policy": "map_only",
                "signing_secret": "whsec_first_secret_0123456789",
            }
        )
        cls.source._oms_give_consent(["inbound"])
        cls.source.action_activate()

    def _dead_letter_waiting_for_a_mapping(self):
        """Order TOUR-1 dead-lettered for an unmapped product, the product
        then mapped: a redrive would now succeed."""
        payload = {
            "type": "order.created",
            "order": {
                "id": "TOUR-1",
                "updated_at": "2026-11-22T09:30:00Z",
                "currency": "VND",
                "customer": {"id": "TC-1", "name": "Tap hoa Tour"},
                "lines": [
                    {
                        "id": "1",
                        "product": {"sku": "TOUR-SP1", "name": "Nuoc suoi"},
                        "quantity": 2,
                        "price_unit": 10000,
                    }
                ],
            },
        }
        event = self.Event._oms_create_inbound(
            self.source,
            {
                "event_type": "order.created",
                "external_order_id": "TOUR-1",
                "payload": json.dumps(payload),
            },
        )
        self._run_queue()
        self.assertEqual(event.state, "dead", event.last_error)
        mapping = self.Mapping._oms_find(self.source, "product", "TOUR-SP1")
        mapping.product_id = self.product
        return event

    def test_tour_triage_from_the_dashboard(self):
        event = self._dead_letter_waiting_for_a_mapping()
        # The provider's secret is lost: webhooks would be refused.
        self.source.with_context(oms_secret="signing_secret").action_clear_secret()
        self.source._oms_check_readiness()
        score_before = self.source.health_score
        self.assertIn(
            "webhook_credentials",
            self.source.readiness_finding_ids.filtered(
                lambda f: f.severity == "blocking"
            ).mapped("code"),
        )

        self.start_tour("/odoo", "oms_integration_cockpit_tour", login="admin")

        self.source.invalidate_recordset()
        self.assertTrue(self.source.signing_secret_set)
        self.assertEqual(self.source.readiness_blocking_count, 0)
        self.assertGreater(self.source.health_score, score_before)
        letter = event.dead_letter_ids
        self.assertEqual(letter.state, "requeued")
        self.assertEqual(event.state, "pending")
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(
            self._order_of(self.source, "TOUR-1").order_line.product_id, self.product
        )


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@tagged("post_install", "-at_install")
class TestVietnameseTour(OmsTestMixin, HttpCase):
    ADDONS = ("oms_integration", "oms_integration_mobiwork", "oms_integration_cloudify")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("vi_VN")
        cls.env["ir.module.module"]._load_module_terms(
            list(cls.ADDONS), ["vi_VN"], overwrite=True
        )
        cls.user = new_test_user(
            cls.env,
            login="oms_vi_tour",
            groups="oms_integration.group_oms_manager,sales_team.group_sale_manager",
            lang="vi_VN",
        )
        cls.source = cls.env["oms.integration.source"].create(
            {"name": "Tour Shop", "mode": "webhook"}
        )

    def _ours_in_english(self):
        """Our English texts (the templates), but the names and codes a
        Vietnamese user reads as they are."""
        english = set()
        for addon in self.ADDONS:
            pot = Path(get_module_path(addon)) / "i18n" / f"{addon}.pot"
            with open(pot, "rb") as handle:
                english |= {m.id.strip() for m in read_po(handle) if m.id}
        return english - SAME_IN_VIETNAMESE

    def test_tour_a_vietnamese_user_meets_no_english_label_of_ours(self):
        collect = _Collect()
        level = self._logger.level
        # The browser's console reaches the test's logger at level INFO.
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(collect)
        try:
            self.start_tour(
                "/odoo", "oms_integration_vietnamese_tour", login="oms_vi_tour"
            )
        finally:
            self._logger.removeHandler(collect)
            self._logger.setLevel(level)
        shown = {}
        for message in collect.messages:
            found = re.match(r"oms-labels (.+?): (\[.*\])$", message, re.S)
            if found:
                shown[found.group(1)] = json.loads(found.group(2))
        self.assertIn("dashboard", shown)
        self.assertIn("form readiness", shown)
        english = self._ours_in_english()
        left = {
            where: sorted(
                {text for text in texts if re.sub(r"[\s?:]+$", "", text) in english}
            )
            for where, texts in shown.items()
        }
        self.assertFalse(
            {where: texts for where, texts in left.items() if texts},
            "Labels of ours still in English on the Vietnamese screens",
        )
        # The screens were read in Vietnamese (not an empty capture).
        labels = {text for texts in shown.values() for text in texts}
        self.assertTrue(labels & {"Mức sẵn sàng", "Nguồn", "Thư chết"}, labels)
