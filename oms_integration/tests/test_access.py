from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import OmsIntegrationCommon


@tagged("post_install", "-at_install")
class TestAccessRights(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mapping = cls.env["oms.integration.mapping"].create(
            {
                "source_id": cls.source.id,
                "kind": "product",
                "external_code": "SP001",
                "product_id": cls.product.id,
            }
        )
        cls.failed_event = cls._create_event(delivery_id="failed-1")
        cls.failed_event._set_processing()
        cls.failed_event._set_failed("Provider timed out")
        cls.dead_event = cls._create_event(delivery_id="dead-1")
        cls.dead_event._set_processing()
        cls.dead_event._set_failed("Customer C42 is not mapped", permanent=True)
        cls.dead_letter = cls.dead_event.dead_letter_ids

    # === OMS USER === #

    def test_oms_user_reads_integration_records(self):
        env = self.env(user=self.oms_user)
        self.assertIn(self.source, env["oms.integration.source"].search([]))
        values = self.source.with_user(self.oms_user).read(["name"])
        self.assertEqual(values[0]["name"], "Mobile DMS")
        self.assertEqual(
            env["oms.integration.event"].search([("source_id", "=", self.source.id)]),
            self.failed_event | self.dead_event,
        )
        self.assertEqual(
            env["oms.integration.dead.letter"].search(
                [("source_id", "=", self.source.id)]
            ),
            self.dead_letter,
        )
        self.assertEqual(
            env["oms.integration.mapping"].search([("source_id", "=", self.source.id)]),
            self.mapping,
        )
        self.assertEqual(self.mapping.with_user(self.oms_user).product_id, self.product)

    def test_oms_user_cannot_change_configuration(self):
        env = self.env(user=self.oms_user)
        with self.assertRaises(AccessError):
            env["oms.integration.source"].create({"name": "Rogue Source"})
        with self.assertRaises(AccessError):
            self.source.with_user(self.oms_user).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            env["oms.integration.mapping"].create(
                {
                    "source_id": self.source.id,
                    "kind": "product",
                    "external_code": "OJ001",
                    "product_id": self.product_2.id,
                }
            )
        with self.assertRaises(AccessError):
            self.mapping.with_user(self.oms_user).write(
                {"product_id": self.product_2.id}
            )
        self.assertEqual(self.source.name, "Mobile DMS")
        self.assertEqual(self.mapping.product_id, self.product)

    def test_oms_user_retries_but_cannot_discard(self):
        self.failed_event.with_user(self.oms_user).action_retry_now()
        self.assertEqual(self.failed_event.state, "pending")

        with self.assertRaises(AccessError):
            self.dead_event.with_user(self.oms_user)._set_discarded("Not needed")
        self.assertEqual(self.dead_event.state, "dead")

        # Nor through the reason dialog, which OMS users may open.
        action = self.dead_event.with_user(self.oms_user).action_discard()
        wizard = (
            self.env["oms.integration.reason.wizard"]
            .with_user(self.oms_user)
            .with_context(**action["context"])
            .create({"reason": "Not needed"})
        )
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertEqual(self.dead_event.state, "dead")
        self.assertEqual(self.dead_letter.state, "open")

    def test_oms_user_requeues_a_dead_letter(self):
        self.dead_letter.with_user(self.oms_user).action_requeue()
        self.assertEqual(self.dead_event.state, "pending")
        self.assertEqual(self.dead_letter.state, "requeued")

    # === OMS ADMINISTRATOR === #

    def test_oms_manager_configures_sources_and_mappings(self):
        env = self.env(user=self.oms_manager)
        source = env["oms.integration.source"].create({"name": "Web Shop"})
        source.write({"mode": "polling", "api_base_url": "https://shop.example/api"})
        self.assertEqual(source.mode, "polling")
        mapping = env["oms.integration.mapping"].create(
            {
                "source_id": source.id,
                "kind": "product",
                "external_code": "OJ001",
                "product_id": self.product_2.id,
            }
        )
        mapping.write({"product_id": self.product.id})
        self.assertEqual(mapping.product_id, self.product)

    def test_oms_manager_discards_a_dead_letter(self):
        self.dead_event.with_user(self.oms_manager)._set_discarded("Duplicate order")
        self.assertEqual(self.dead_event.state, "discarded")
        self.assertEqual(self.dead_letter.state, "discarded")

    # === SALES USERS === #

    def test_salesman_cannot_read_integration_records(self):
        env = self.env(user=self.salesman)
        for model in (
            "oms.integration.source",
            "oms.integration.event",
            "oms.integration.dead.letter",
            "oms.integration.mapping",
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                env[model].search([])
        with self.assertRaises(AccessError):
            self.source.with_user(self.salesman).read(["name"])

    def test_salesman_sees_integration_fields_of_his_orders(self):
        order = self._create_order(
            user_id=self.salesman.id,
            oms_source_id=self.source.id,
            oms_external_id="EXT-100",
            oms_sync_status="synced",
        )
        other_order = self._create_order(
            user_id=self.other_salesman.id,
            oms_source_id=self.source.id,
            oms_external_id="EXT-200",
        )
        values = order.with_user(self.salesman).read(
            ["oms_source_id", "oms_external_id", "oms_sync_status", "oms_event_count"]
        )[0]
        self.assertEqual(values["oms_source_id"], (self.source.id, "Mobile DMS"))
        self.assertEqual(values["oms_external_id"], "EXT-100")
        self.assertEqual(values["oms_sync_status"], "synced")

        with self.assertRaises(AccessError):
            other_order.with_user(self.salesman).read(["oms_external_id"])
        self.assertEqual(
            self.env["sale.order"]
            .with_user(self.salesman)
            .search([("oms_source_id", "=", self.source.id)]),
            order,
        )
        # A salesman seeing all orders sees both.
        self.assertEqual(
            self.env["sale.order"]
            .with_user(self.salesman_all)
            .search([("oms_source_id", "=", self.source.id)]),
            order | other_order,
        )


@tagged("post_install", "-at_install")
class TestMultiCompany(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.event_b = cls._create_event(source=cls.source_b, delivery_id="b-1")
        cls.mapping_b = cls.env["oms.integration.mapping"].create(
            {
                "source_id": cls.source_b.id,
                "kind": "product",
                "external_code": "SP001",
                "product_id": cls.product.id,
            }
        )
        cls.event_b._set_processing()
        cls.event_b._set_failed("Bad payload", permanent=True)
        cls.dead_letter_b = cls.event_b.dead_letter_ids

    def test_other_company_records_are_invisible(self):
        for user in (self.oms_user, self.oms_manager):
            env = self.env(user=user)
            with self.subTest(user=user.login):
                sources = env["oms.integration.source"].search([])
                self.assertIn(self.source, sources)
                self.assertNotIn(self.source_b, sources)
                self.assertFalse(
                    env["oms.integration.event"].search(
                        [("source_id", "=", self.source_b.id)]
                    )
                )
                self.assertFalse(
                    env["oms.integration.mapping"].search(
                        [("source_id", "=", self.source_b.id)]
                    )
                )
                self.assertFalse(
                    env["oms.integration.dead.letter"].search(
                        [("source_id", "=", self.source_b.id)]
                    )
                )
                for record in (
                    self.source_b,
                    self.event_b,
                    self.mapping_b,
                    self.dead_letter_b,
                ):
                    with self.assertRaises(AccessError):
                        record.with_user(user).read(["display_name"])

    def test_user_of_both_companies_sees_both(self):
        self.oms_user.company_ids = [(4, self.company_b.id)]
        env = self.env(
            user=self.oms_user,
            context={"allowed_company_ids": [self.company.id, self.company_b.id]},
        )
        sources = env["oms.integration.source"].search([])
        self.assertIn(self.source, sources)
        self.assertIn(self.source_b, sources)
        self.assertEqual(
            env["oms.integration.event"].search([("source_id", "=", self.source_b.id)]),
            self.event_b,
        )
