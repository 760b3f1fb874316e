"""The queue turns inbound events into sale orders, mapping first."""

import contextlib
import copy
import json
from datetime import timedelta
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from ..exceptions import OmsProcessingError
from .common import OmsIntegrationCommon


def _payload(order_id="Q-1001", event_type="order.created", **order_overrides):
    order = {
        "id": order_id,
        "name": "WEB/2026/1001",
        "updated_at": "2026-11-22T09:30:00Z",
        "date_order": "2026-11-22T09:25:00Z",
        "currency": "VND",
        "customer": {
            "id": "QC-77",
            "name": "Tap hoa Minh Anh",
            "phone": "0901234567",
            "vat": "0312345678-QT",
        },
        "salesperson": {"id": "QNV01", "name": "Nguyen Van A"},
        "lines": [
            {
                "id": "1",
                "product": {"id": "P-1", "sku": "QSP001", "name": "Nuoc suoi"},
                "quantity": 5,
                "price_unit": 250000,
                "discount_amount": 50000,
                "tax_rate": 8,
            },
            {
                "id": "2",
                "product": {"id": "P-9", "sku": "QSP009", "name": "Tra xanh"},
                "quantity": 2,
                "price_unit": 0,
                "is_free": True,
                "tax_rate": 8,
            },
        ],
        "discount_amount": 20000,
        "amount_total": 1274400,
    }
    order.update(order_overrides)
    return {"type": event_type, "order": order}


class _SerializationFailure(psycopg2.errors.SerializationFailure):
    """What PostgreSQL raises when two transactions update one row."""

    pgcode = "40001"


class _WorkerKilled(BaseException):
    """Stands for a worker killed by the system: not an ``Exception``, so no
    handler of ours records anything."""


@tagged("post_install", "-at_install")
class TestQueueProcessing(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vnd = cls.env.ref("base.VND")
        cls.vnd.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "VND prices", "currency_id": cls.vnd.id}
        )
        cls.tax_8 = cls.env["account.tax"].create(
            {
                "name": "VAT 8% (test)",
                "amount": 8,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.water = cls.env["product.product"].create(
            {"name": "Nuoc suoi", "default_code": "QSP001", "list_price": 1}
        )
        cls.tea = cls.env["product.product"].create(
            {"name": "Tra xanh", "default_code": "QSP009", "list_price": 9000}
        )
        cls.discount_product = cls.env["product.product"].create(
            {
                "name": "Order discount",
                "type": "service",
                "taxes_id": [fields.Command.set(cls.tax_8.ids)],
            }
        )
        cls.adjustment_product = cls.env["product.product"].create(
            {"name": "Total adjustment", "type": "service", "taxes_id": False}
        )
        cls.shop = cls.env["res.partner"].create(
            {"name": "Tap hoa Minh Anh", "vat": "0312345678-QT"}
        )
        cls.queue_source = cls._create_active_source(
            name="Queue shop",
            pricelist_id=cls.pricelist.id,
            discount_product_id=cls.discount_product.id,
            adjustment_product_id=cls.adjustment_product.id,
            partner_policy="match",
            product_policy="match",
        )
        Mapping = cls.env["oms.integration.mapping"]
        Mapping.create(
            {
                "source_id": cls.queue_source.id,
                "kind": "salesperson",
                "external_code": "QNV01",
                "user_id": cls.salesman.id,
            }
        )

    # === HELPERS === #

    def _receive(self, payload, source=None, delivery_id=None):
        source = source or self.queue_source
        body = json.dumps(payload)
        return self.Event._oms_create_inbound(
            source,
            {
                "delivery_id": delivery_id,
                "event_type": payload["type"],
                "external_order_id": payload["order"]["id"],
                "payload": body,
            },
        )

    def _order_of(self, external_id, source=None):
        return super()._order_of(source or self.queue_source, external_id)

    # === CREATION === #

    def test_created_order_becomes_a_quotation_with_every_line(self):
        event = self._receive(_payload())
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        order = self._order_of("Q-1001")
        self.assertEqual(event.sale_order_id, order)
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.partner_id, self.shop)
        self.assertEqual(order.user_id, self.salesman)
        self.assertEqual(order.currency_id, self.vnd)
        self.assertEqual(order.client_order_ref, "WEB/2026/1001")
        self.assertEqual(order.oms_sync_status, "synced")
        water, tea, discount = order.order_line.sorted("sequence")
        self.assertEqual(water.product_id, self.water)
        self.assertEqual(water.product_uom_qty, 5)
        self.assertEqual(water.price_unit, 250000)
        self.assertAlmostEqual(water.discount, 4.0)
        self.assertEqual(water.tax_id, self.tax_8)
        self.assertEqual(tea.product_id, self.tea)
        self.assertEqual(tea.price_unit, 0, "A free line stays free.")
        self.assertEqual(discount.product_id, self.discount_product)
        self.assertEqual(discount.price_unit, -20000)
        # The contract's example total, computed by Odoo.
        self.assertEqual(order.amount_total, 1274400)
        self.assertIn(f"event #{event.id}", " ".join(order.message_ids.mapped("body")))
        # Matching by VAT recorded the mapping; SKU matching too.
        Mapping = self.env["oms.integration.mapping"]
        self.assertEqual(
            Mapping._oms_resolve(self.queue_source, "partner", "QC-77"), self.shop
        )
        self.assertEqual(
            Mapping._oms_resolve(self.queue_source, "product", "QSP001"), self.water
        )

    def test_order_in_the_company_currency_needs_no_pricelist(self):
        company_currency = self.company.currency_id.name
        self.queue_source.pricelist_id = False
        self.env["product.pricelist"].search(
            [("currency_id", "=", self.company.currency_id.id)]
        ).action_archive()
        event = self._receive(_payload(currency=company_currency, amount_total=None))
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        order = self._order_of("Q-1001")
        self.assertFalse(order.pricelist_id)
        self.assertEqual(order.currency_id, self.company.currency_id)

    def test_order_in_another_currency_without_pricelist_fails_with_a_hint(self):
        self.queue_source.pricelist_id = False
        # No pricelist in VND at all (demo data may have one).
        self.env["product.pricelist"].search(
            [("currency_id", "=", self.pricelist.currency_id.id)]
        ).action_archive()
        event = self._receive(_payload())
        self._run_queue()
        self.assertEqual(event.state, "dead")
        self.assertIn("No pricelist in VND", event.last_error)
        self.assertIn("requeue", event.error_hint)

    def test_auto_confirm(self):
        self.queue_source.auto_confirm = True
        self._receive(_payload())
        self._run_queue()
        self.assertEqual(self._order_of("Q-1001").state, "sale")

    def test_one_external_order_is_one_sale_order(self):
        self._receive(_payload(), delivery_id="a")
        self._receive(_payload(updated_at="2026-11-22T09:31:00Z"), delivery_id="b")
        self._run_queue()
        self.assertEqual(len(self._order_of("Q-1001")), 1)

    # === MAPPING === #

    def test_missing_mapping_dead_letters_then_requeue_after_mapping(self):
        self.queue_source.product_policy = "map_only"
        event = self._receive(_payload())
        self._run_queue()
        self.assertEqual(event.state, "dead")
        self.assertIn("QSP001", event.last_error)
        self.assertIn("Mapping Center", event.error_hint)
        self.assertFalse(self._order_of("Q-1001"), "Nothing changed in Odoo.")
        letter = event.dead_letter_ids
        self.assertEqual(letter.reason, "permanent")
        unmapped = self.env["oms.integration.mapping"].search(
            [("source_id", "=", self.queue_source.id), ("state", "=", "unmapped")]
        )
        self.assertEqual(set(unmapped.mapped("external_code")), {"QSP001", "QSP009"})
        # The administrator maps the values once, then requeues.
        for mapping in unmapped:
            mapping.product_id = (
                self.water if mapping.external_code == "QSP001" else self.tea
            )
        letter.action_requeue()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(len(self._order_of("Q-1001").order_line), 3)

    def test_carrier_and_warehouse_through_the_mapping_center(self):
        carrier = self.env["delivery.carrier"].create(
            {
                "name": "Giao Hang Nhanh",
                "product_id": self.env["product.product"]
                .create({"name": "GHN fee", "type": "service"})
                .id,
            }
        )
        warehouse = self.env["stock.warehouse"].create(
            {"name": "Kho Thu Duc", "code": "KTD"}
        )
        payload = _payload(carrier="GHN")
        for line in payload["order"]["lines"]:
            line["warehouse"] = "KHO-TD"
        event = self._receive(payload)
        self._run_queue()
        self.assertEqual(event.state, "dead")
        self.assertIn("Carrier GHN", event.last_error)
        self.assertIn("Warehouse KHO-TD", event.last_error)
        Mapping = self.env["oms.integration.mapping"]
        unmapped = Mapping.search(
            [("source_id", "=", self.queue_source.id), ("state", "=", "unmapped")]
        )
        self.assertEqual(
            set(unmapped.mapped("external_code")) & {"GHN", "KHO-TD"}, {"GHN", "KHO-TD"}
        )
        unmapped.filtered(lambda m: m.external_code == "GHN").carrier_id = carrier
        unmapped.filtered(
            lambda m: m.external_code == "KHO-TD"
        ).warehouse_id = warehouse
        event.action_retry_now()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        order = self._order_of("Q-1001")
        self.assertEqual(order.carrier_id, carrier)
        self.assertEqual(order.warehouse_id, warehouse)

    def test_unmapped_salesperson_names_the_value(self):
        payload = _payload(salesperson={"id": "QNV99", "name": "Tran Thi B"})
        event = self._receive(payload)
        self._run_queue()
        self.assertEqual(event.state, "dead")
        self.assertIn("QNV99 (Tran Thi B)", event.last_error)

    def test_partner_policies(self):
        payload = _payload(customer={"id": "QC-NEW", "name": "Cua hang Moi"})
        with self.subTest("map only"), self.env.cr.savepoint() as sp:
            self.queue_source.partner_policy = "map_only"
            event = self._receive(payload)
            self._run_queue()
            self.assertEqual(event.state, "dead")
            self.assertIn("QC-NEW", event.last_error)
            sp.rollback()
        with self.subTest("match without a match"), self.env.cr.savepoint() as sp:
            event = self._receive(payload)
            self._run_queue()
            self.assertEqual(event.state, "dead")
            sp.rollback()
        with self.subTest("match or create"), self.env.cr.savepoint() as sp:
            self.queue_source.partner_policy = "match_create"
            event = self._receive(payload)
            self._run_queue()
            self.assertEqual(event.state, "done", event.last_error)
            partner = self._order_of("Q-1001").partner_id
            self.assertEqual(partner.name, "Cua hang Moi")
            self.assertEqual(
                self.env["oms.integration.mapping"]._oms_resolve(
                    self.queue_source, "partner", "QC-NEW"
                ),
                partner,
            )
            sp.rollback()

    def test_customer_values_are_compared_exactly_never_as_patterns(self):
        boss = self.env["res.partner"].create(
            {
                "name": "The Boss",
                "email": "Boss@OurCompany.com",
                "phone": "0909111222",
                "country_id": self.env.ref("base.vn").id,
            }
        )
        for label, customer, expected in (
            ("wildcard e-mail", {"email": "%@ourcompany.com"}, None),
            ("wildcard phone", {"phone": "0909%"}, None),
            ("one-character wildcard", {"phone": "090911122_"}, None),
            ("same e-mail, other case", {"email": " boss@ourcompany.COM "}, boss),
            ("same phone", {"phone": "0909111222", "country_code": "VN"}, boss),
            (
                "same phone, international form",
                {"phone": "+84 909 111 222", "country_code": "VN"},
                boss,
            ),
        ):
            with self.subTest(label), self.env.cr.savepoint() as sp:
                payload = _payload(
                    customer=dict({"id": "QC-EXACT", "name": "Someone"}, **customer)
                )
                event = self._receive(payload)
                self._run_queue()
                if expected:
                    self.assertEqual(event.state, "done", event.last_error)
                    self.assertEqual(self._order_of("Q-1001").partner_id, expected)
                else:
                    self.assertEqual(event.state, "dead")
                    self.assertIn("QC-EXACT", event.last_error)
                sp.rollback()

    def test_product_is_created_only_when_the_policy_says_so(self):
        payload = _payload()
        payload["order"]["lines"][0]["product"] = {"sku": "QNEW1", "name": "Banh"}
        payload["order"]["amount_total"] = None
        event = self._receive(payload)
        self._run_queue()
        self.assertEqual(event.state, "dead", "Products are never created silently.")
        self.assertFalse(
            self.env["product.product"].search([("default_code", "=", "QNEW1")])
        )
        self.queue_source.product_policy = "match_create"
        event.action_retry_now()
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertTrue(
            self.env["product.product"].search([("default_code", "=", "QNEW1")])
        )

    # === TOTALS === #

    def test_total_policies(self):
        payload = _payload(amount_total=1300000)
        with self.subTest("block"), self.env.cr.savepoint() as sp:
            event = self._receive(payload)
            self._run_queue()
            self.assertEqual(event.state, "dead")
            self.assertIn("1300000", event.last_error)
            self.assertFalse(self._order_of("Q-1001"))
            sp.rollback()
        with self.subTest("warn"), self.env.cr.savepoint() as sp:
            self.queue_source.total_policy = "warn"
            event = self._receive(payload)
            self._run_queue()
            order = self._order_of("Q-1001")
            self.assertEqual(event.state, "done")
            self.assertEqual(order.oms_sync_status, "warning")
            self.assertEqual(order.amount_total, 1274400)
            sp.rollback()
        with self.subTest("adjust"), self.env.cr.savepoint() as sp:
            self.queue_source.total_policy = "adjust"
            event = self._receive(payload)
            self._run_queue()
            order = self._order_of("Q-1001")
            self.assertEqual(event.state, "done")
            self.assertEqual(order.amount_total, 1300000)
            self.assertIn(self.adjustment_product, order.order_line.product_id)
            sp.rollback()

    def test_total_within_tolerance_is_accepted(self):
        self.queue_source.total_tolerance = 5
        event = self._receive(_payload(amount_total=1274404))
        self._run_queue()
        self.assertEqual(event.state, "done")
        self.assertEqual(self._order_of("Q-1001").oms_sync_status, "synced")

    # === UPDATES AND CANCELLATIONS === #

    def test_newer_version_updates_a_quotation_older_is_skipped(self):
        self._receive(_payload(), delivery_id="v1")
        self._run_queue()
        newer = copy.deepcopy(_payload(event_type="order.updated"))
        newer["order"]["updated_at"] = "2026-11-22T10:00:00Z"
        newer["order"]["lines"][0]["quantity"] = 10
        newer["order"]["amount_total"] = None
        self._receive(newer, delivery_id="v2")
        self._run_queue()
        order = self._order_of("Q-1001")
        self.assertEqual(order.order_line.sorted("sequence")[0].product_uom_qty, 10)
        older = copy.deepcopy(newer)
        older["order"]["updated_at"] = "2026-11-22T09:45:00Z"
        older["order"]["lines"][0]["quantity"] = 1
        event = self._receive(older, delivery_id="v0")
        self._run_queue()
        self.assertEqual(event.state, "done")
        self.assertIn("older", event.result_note)
        self.assertEqual(order.order_line.sorted("sequence")[0].product_uom_qty, 10)

    def test_update_of_a_confirmed_order_is_recorded_for_review(self):
        self._receive(_payload(), delivery_id="v1")
        self._run_queue()
        order = self._order_of("Q-1001")
        order.action_confirm()
        newer = _payload(event_type="order.updated", updated_at="2026-11-22T10:00:00Z")
        newer["order"]["lines"][0]["quantity"] = 10
        event = self._receive(newer, delivery_id="v2")
        self._run_queue()
        self.assertEqual(event.state, "done")
        self.assertEqual(order.oms_sync_status, "review")
        self.assertEqual(order.order_line.sorted("sequence")[0].product_uom_qty, 5)
        self.assertTrue(order.activity_ids, "The salesperson gets an activity.")

    def test_cancellation(self):
        self._receive(_payload(), delivery_id="v1")
        self._run_queue()
        order = self._order_of("Q-1001")
        event = self._receive(
            _payload(event_type="order.cancelled", updated_at="2026-11-22T11:00:00Z"),
            delivery_id="v2",
        )
        self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(order.state, "cancel")

    def test_cancellation_of_a_locked_order_fails_with_a_hint(self):
        self._receive(_payload(), delivery_id="v1")
        self._run_queue()
        order = self._order_of("Q-1001")
        order.action_confirm()
        order.action_lock()
        event = self._receive(
            _payload(event_type="order.cancelled", updated_at="2026-11-22T11:00:00Z"),
            delivery_id="v2",
        )
        self._run_queue()
        self.assertEqual(event.state, "dead")
        self.assertIn("Cancel the order by hand", event.error_hint)
        self.assertEqual(order.state, "sale")

    # === QUEUE MECHANICS === #

    def test_events_of_one_order_wait_for_the_earlier_one(self):
        first = self._receive(_payload(), delivery_id="v1")
        second = self._receive(
            _payload(event_type="order.updated", updated_at="2026-11-22T10:00:00Z"),
            delivery_id="v2",
        )
        other = self._receive(_payload("Q-2002"), delivery_id="o1")
        claimed = self.Event._oms_claim("inbound", 10)
        self.assertEqual(claimed, first | other)
        self.assertEqual(second.state, "pending")

    def test_an_invalid_version_never_blocks_the_corrected_one(self):
        invalid = _payload("Q-FIX")
        invalid["order"]["lines"][0]["quantity"] = 0
        status, _answer = self._accept(self.queue_source, invalid, {"webhook-id": "v1"})
        self.assertEqual(status, 422)
        [stored_invalid] = self._events(self.queue_source)
        self.assertEqual(stored_invalid.state, "failed")
        corrected = _payload("Q-FIX", updated_at="2026-11-22T09:31:00Z")
        status, answer = self._accept(
            self.queue_source, corrected, {"webhook-id": "v2"}
        )
        self.assertEqual(status, 202, answer)
        self._run_queue()
        event = self.Event.browse(answer["event_id"])
        self.assertEqual(event.state, "done", event.last_error)
        self.assertTrue(self._order_of("Q-FIX"))
        self.assertEqual(stored_invalid.state, "failed", "kept for triage")

    def test_a_source_that_may_not_take_orders_keeps_them_waiting(self):
        event = self._receive(_payload("Q-WAIT"))
        for label, stop, resume in (
            (
                "paused",
                lambda s: s._oms_pause("maintenance"),
                lambda s: s.action_activate(),
            ),
            (
                "consent revoked",
                lambda s: s._oms_revoke_all_consents("audit"),
                lambda s: s._oms_give_consent(["inbound"]),
            ),
        ):
            with self.subTest(label):
                stop(self.queue_source)
                self._run_queue()
                self.assertEqual(event.state, "pending", "waits, not applied")
                self.assertEqual(event.attempts, 0, "waiting is not an attempt")
                self.assertIn("wait", event.result_note)
                self.assertFalse(self._order_of("Q-WAIT"))
                resume(self.queue_source)
                self.assertLessEqual(event.next_attempt_at, fields.Datetime.now())
                if label == "paused":
                    continue
                self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertTrue(self._order_of("Q-WAIT"))

    def test_a_failing_event_does_not_stop_the_others(self):
        bad = _payload("Q-BAD", currency="EUR")  # no EUR pricelist here
        self.env["product.pricelist"].search([("currency_id.name", "=", "EUR")]).write(
            {"active": False}
        )
        failing = self._receive(bad)
        fine = self._receive(_payload("Q-OK"))
        self._run_queue()
        self.assertEqual(failing.state, "dead")
        self.assertIn("pricelist", failing.error_hint)
        self.assertEqual(fine.state, "done", fine.last_error)

    def test_expired_lease_is_claimed_again_and_the_attempt_counts(self):
        event = self._receive(_payload())
        with freeze_time("2030-01-01 10:00:00"):
            self.Event._oms_claim("inbound", 10)
        self.assertEqual(event.state, "processing")
        self.assertEqual(event.attempts, 1)
        # The worker was killed: nothing happens before the lease ends...
        with freeze_time("2030-01-01 10:04:00"):
            self.assertFalse(self.Event._oms_claim("inbound", 10))
        # ...and after it, another worker takes the event over.
        with freeze_time("2030-01-01 10:06:00"):
            self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.attempts, 2)

    def test_an_expired_lease_is_claimed_alone_then_due_events_up_to_the_limit(self):
        stuck = self._receive(_payload("Q-STUCK"))
        with freeze_time("2030-01-01 10:00:00"):
            self.Event._oms_claim("inbound", 10)
            waiting = [self._receive(_payload(f"Q-DUE-{n}")) for n in range(3)]
        with freeze_time("2030-01-01 10:06:00"):
            claimed = self.Event._oms_claim("inbound", 2)
            self.assertEqual(claimed, stuck, "An expired lease is retried alone.")
            self.assertEqual(stuck.attempts, 2)
            claimed = self.Event._oms_claim("inbound", 2)
        self.assertEqual(claimed, waiting[0] | waiting[1])
        self.assertEqual(set(claimed.mapped("state")), {"processing"})
        self.assertEqual(waiting[2].state, "pending")

    def test_a_poison_event_is_dead_lettered_alone_after_a_killed_batch(self):
        """A worker killed in the middle of a batch (time or memory limit):
        every event of the batch loses its lease at once. Each is then tried
        alone, so only the one that kills its worker every time is
        dead-lettered; the others are applied once."""
        self.queue_source.max_attempts = 3
        events = [self._receive(_payload(f"Q-BATCH-{n}")) for n in range(3)]
        poison = events[1]
        moment = "2030-01-01 10:00:00"
        with freeze_time(moment):
            self.assertEqual(len(self.Event._oms_claim("inbound", 10)), 3)
        builder = type(self.env["oms.integration.order.builder"])
        apply = builder._oms_apply

        def kills_its_worker(self, event, order):
            if event == poison:
                # What a killed worker leaves: nothing committed, the lease.
                raise _WorkerKilled()
            return apply(self, event, order)

        minutes = 6
        with patch.object(builder, "_oms_apply", kills_its_worker):
            for _run in range(6):
                with (
                    freeze_time(f"2030-01-01 10:{minutes:02d}:00"),
                    contextlib.suppress(_WorkerKilled),
                ):
                    self._run_queue()
                minutes += 6
        self.assertEqual(poison.state, "dead")
        self.assertIn("lease expired", poison.last_error)
        self.assertEqual(poison.dead_letter_ids.reason, "exhausted")
        for event in events[:1] + events[2:]:
            self.assertEqual(event.state, "done", event.last_error)
            self.assertEqual(len(self._order_of(event.external_order_id)), 1)

    def test_a_concurrent_update_is_retried_without_counting_an_attempt(self):
        event = self._receive(_payload("Q-CONCURRENT"))
        builder = type(self.env["oms.integration.order.builder"])
        apply = builder._oms_apply
        calls = []

        def conflicting_once(self, event, order):
            calls.append(1)
            if len(calls) == 1:
                raise _SerializationFailure("could not serialize access")
            return apply(self, event, order)

        with patch.object(builder, "_oms_apply", conflicting_once):
            self._run_queue()
            self.assertEqual(event.state, "pending")
            self.assertEqual(event.attempts, 0, "not a failed attempt")
            self.assertFalse(event.last_error)
            self.assertFalse(event.dead_letter_ids)
            with freeze_time(fields.Datetime.now() + timedelta(seconds=2)):
                self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
        self.assertEqual(event.attempts, 1)
        self.assertEqual(len(self._order_of("Q-CONCURRENT")), 1)

    def test_transient_failure_is_retried_with_backoff(self):
        event = self._receive(_payload())
        builder = type(self.env["oms.integration.order.builder"])

        def flaky(*args, **kwargs):
            raise OmsProcessingError("provider timeout", "wait", permanent=False)

        with freeze_time("2030-01-01 10:00:00"):
            with patch.object(builder, "_oms_apply", flaky):
                self._run_queue()
            self.assertEqual(event.state, "failed")
            delay = event.next_attempt_at - fields.Datetime.now()
            self.assertGreaterEqual(delay, timedelta(seconds=30))
            self.assertLessEqual(delay, timedelta(seconds=60))
            # Not due yet: the queue leaves it alone.
            self._run_queue()
            self.assertEqual(event.state, "failed")
        with freeze_time("2030-01-01 10:01:01"):
            self._run_queue()
        self.assertEqual(event.state, "done", event.last_error)
