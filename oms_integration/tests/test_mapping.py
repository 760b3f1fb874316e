from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OmsIntegrationCommon


@tagged("post_install", "-at_install")
class TestMapping(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Mapping = cls.env["oms.integration.mapping"]
        cls.other_source = cls._create_source(name="Marketplace")

    def _map_product(self, code, product=None, source=None, **vals):
        return self.Mapping.create(
            dict(
                {
                    "source_id": (source or self.source).id,
                    "kind": "product",
                    "external_code": code,
                    "product_id": (product or self.product).id,
                },
                **vals,
            )
        )

    def test_external_code_is_unique_per_source_and_kind(self):
        self._map_product("SP001")
        # Whitespace around a code does not make it another code.
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(IntegrityError),
            self.cr.savepoint(),
        ):
            self._map_product(" SP001  ", product=self.product_2)
            self.env.flush_all()

    def test_same_code_on_another_kind_or_source_is_allowed(self):
        product_line = self._map_product("SP001")
        other_source_line = self._map_product("SP001", source=self.other_source)
        partner_line = self.Mapping.create(
            {
                "source_id": self.source.id,
                "kind": "partner",
                "external_code": "SP001",
                "partner_id": self.partner.id,
            }
        )
        self.env.flush_all()
        self.assertEqual(
            self.Mapping.search(
                [
                    ("source_id", "in", (self.source | self.other_source).ids),
                    ("external_code", "=", "SP001"),
                ]
            ),
            product_line | other_source_line | partner_line,
        )

    def test_external_code_is_stripped(self):
        mapping = self._map_product("  SP001 ")
        self.assertEqual(mapping.external_code, "SP001")
        mapping.external_code = " SP002\t"
        self.assertEqual(mapping.external_code, "SP002")

    def test_resolve_records_unknown_codes_as_unmapped(self):
        result = self.Mapping._oms_resolve(
            self.source, "product", "NEW-42", "New Product"
        )
        self.assertIsNone(result)
        mapping = self.Mapping.search(
            [("source_id", "=", self.source.id), ("external_code", "=", "NEW-42")]
        )
        self.assertEqual(mapping.state, "unmapped")
        self.assertEqual(mapping.kind, "product")
        self.assertEqual(mapping.external_name, "New Product")
        self.assertTrue(mapping.first_seen_at)
        self.env.flush_all()
        write_date = mapping.write_date

        self.assertIsNone(self.Mapping._oms_resolve(self.source, "product", " NEW-42 "))
        self.env.flush_all()
        self.assertEqual(
            mapping.write_date, write_date, "Resolving a known code writes nothing."
        )
        self.assertEqual(
            self.Mapping.search_count(
                [("source_id", "=", self.source.id), ("external_code", "=", "NEW-42")]
            ),
            1,
            "Seeing a code again does not add a line.",
        )

        # The administrator chooses the product: the line is mapped.
        mapping.product_id = self.product
        self.assertEqual(mapping.state, "mapped")
        self.assertEqual(
            self.Mapping._oms_resolve(self.source, "product", "NEW-42"), self.product
        )

    def test_resolve_ignores_empty_codes_and_other_sources(self):
        self._map_product("SP001")
        self.assertIsNone(self.Mapping._oms_resolve(self.source, "product", "   "))
        self.assertIsNone(
            self.Mapping._oms_resolve(self.other_source, "product", "SP001")
        )
        self.assertEqual(
            self.Mapping._oms_resolve(self.source, "product", "SP001"), self.product
        )

    def test_ignored_code_does_not_resolve(self):
        mapping = self._map_product("SP001")
        mapping.action_mark_ignored()
        self.assertIsNone(self.Mapping._oms_resolve(self.source, "product", "SP001"))

    def test_mark_mapped_needs_a_record(self):
        without_record = self.Mapping.create(
            {
                "source_id": self.source.id,
                "kind": "product",
                "external_code": "NEW-1",
                "state": "unmapped",
            }
        )
        with_record = self._map_product("NEW-2", state="unmapped")
        with self.assertRaises(UserError) as error:
            (without_record | with_record).action_mark_mapped()
        self.assertIn("NEW-1", str(error.exception))
        self.assertEqual(with_record.state, "unmapped")

        with_record.action_mark_mapped()
        self.assertEqual(with_record.state, "mapped")

    def test_mapped_state_requires_a_record(self):
        with self.assertRaises(ValidationError):
            self.Mapping.create(
                {
                    "source_id": self.source.id,
                    "kind": "product",
                    "external_code": "NEW-1",
                }
            )
        mapping = self._map_product("SP001")
        with self.assertRaises(ValidationError):
            mapping.product_id = False
        # A record of another kind does not count.
        with self.assertRaises(ValidationError):
            self.Mapping.create(
                {
                    "source_id": self.source.id,
                    "kind": "product",
                    "external_code": "NEW-2",
                    "partner_id": self.partner.id,
                }
            )

    def test_record_mapping_creates_then_updates(self):
        created = self.Mapping._oms_record_mapping(
            self.source, "partner", "C42", self.partner, external_name="Retail Shop"
        )
        self.assertEqual(created.state, "mapped")
        self.assertEqual(created.partner_id, self.partner)
        self.assertEqual(created.external_name, "Retail Shop")

        self.Mapping._oms_resolve(self.source, "product", "OJ001")
        unmapped = self.Mapping.search(
            [("source_id", "=", self.source.id), ("external_code", "=", "OJ001")]
        )
        self.assertEqual(unmapped.state, "unmapped")
        updated = self.Mapping._oms_record_mapping(
            self.source, "product", "OJ001", self.product_2
        )
        self.assertEqual(updated, unmapped)
        self.assertEqual(updated.state, "mapped")
        self.assertEqual(updated.product_id, self.product_2)
        self.assertEqual(
            self.Mapping._oms_resolve(self.source, "product", "OJ001"), self.product_2
        )

    def test_source_counts_unmapped_values(self):
        self._map_product("SP001")
        for code in ("A", "B", "C"):
            self.Mapping._oms_resolve(self.source, "product", code)
        self.Mapping._oms_resolve(self.other_source, "product", "D")
        self.assertEqual(self.source.unmapped_count, 3)
        self.assertEqual(self.other_source.unmapped_count, 1)

        self.Mapping.search(
            [("source_id", "=", self.source.id), ("external_code", "=", "A")]
        ).product_id = self.product_2
        self.source.invalidate_recordset(["unmapped_count"])
        self.assertEqual(self.source.unmapped_count, 2)

        action = self.source.action_view_unmapped()
        self.assertEqual(action["res_model"], "oms.integration.mapping")
        self.assertEqual(action["context"]["default_source_id"], self.source.id)
