"""Redrive with preview: what requeueing dead letters would do now, checked
without changing anything, then requeueing the ones chosen."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import OmsIntegrationCommon


def _payload(order_id, skus, customer_id="RC-1", customer_name="Tap hoa Redrive"):
    return {
        "type": "order.created",
        "order": {
            "id": order_id,
            "name": f"WEB/{order_id}",
            "updated_at": "2026-11-22T09:30:00Z",
            "currency": "VND",
            "customer": {"id": customer_id, "name": customer_name},
            "lines": [
                {
                    "id": str(index),
                    "product": {"sku": sku, "name": f"Product {sku}"},
                    "quantity": 2,
                    "price_unit": 10000,
                }
                for index, sku in enumerate(skus, start=1)
            ],
        },
    }


@tagged("post_install", "-at_install")
class TestRedrive(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.vnd = cls.env.ref("base.VND")
        cls.vnd.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "VND prices (redrive)", "currency_id": cls.vnd.id}
        )
        cls.water = cls.env["product.product"].create(
            {"name": "Nuoc suoi", "default_code": "RSP001", "list_price": 1}
        )
        cls.redrive_source = cls._create_active_source(
            name="Redrive shop",
            pricelist_id=cls.pricelist.id,
            partner_policy="match_create",
            product_policy="map_only",
        )
        cls.other_source = cls._create_active_source(
            name="Other redrive shop",
            pricelist_id=cls.pricelist.id,
            partner_policy="match_create",
            product_policy="map_only",
        )

    # === HELPERS === #

    def _receive(self, payload, source=None):
        source = source or self.redrive_source
        return self.Event._oms_create_inbound(
            source,
            {
                "event_type": payload["type"],
                "external_order_id": payload["order"]["id"],
                "payload": json.dumps(payload),
            },
        )

    def _dead_pair(self):
        """Two orders dead-lettered for unmapped products; RSP001 is then
        mapped: the first order only needed it, the second needs RSP404 too."""
        ready = self._receive(_payload("R-READY", ["RSP001"]))
        blocked = self._receive(
            _payload(
                "R-BLOCKED",
                ["RSP001", "RSP404"],
                customer_id="RC-2",
                customer_name="Shop Two",
            )
        )
        self._run_queue()
        self.assertEqual((ready | blocked).mapped("state"), ["dead", "dead"])
        mapping = self.Mapping._oms_find(self.redrive_source, "product", "RSP001")
        self.assertEqual(mapping.state, "unmapped")
        mapping.with_user(self.oms_manager).product_id = self.water
        self.assertEqual(mapping.state, "mapped")
        return ready, blocked, mapping

    def _wizard_form(self, letters, user=None):
        return Form(
            self.env["oms.integration.redrive.wizard"]
            .with_user(user or self.oms_user)
            .with_context(active_model=letters._name, active_ids=letters.ids)
        )

    def _lines_by_order(self, form):
        return {
            line.dead_letter_id.external_order_id: line for line in form.save().line_ids
        }

    def _snapshot(self):
        """What a preview must leave as it was: the records it could create
        or change, and the sequences creating them would consume."""
        cr = self.env.cr
        self.env.flush_all()
        sequences = {}
        for table in (
            "sale_order",
            "res_partner",
            "product_product",
            "oms_integration_mapping",
            "mail_message",
        ):
            cr.execute(f"SELECT last_value, is_called FROM {table}_id_seq")  # noqa: S608
            sequences[table] = cr.fetchone()
        Event = self.Event.sudo()
        return {
            "sale orders": self.env["sale.order"].search_count([]),
            "partners": self.env["res.partner"]
            .with_context(active_test=False)
            .search_count([]),
            "products": self.env["product.product"]
            .with_context(active_test=False)
            .search_count([]),
            "mappings": sorted(
                self.Mapping.search([]).mapped(lambda m: (m.id, m.state))
            ),
            "events": sorted(Event.search([]).mapped(lambda e: (e.id, e.state))),
            "dead letters": sorted(
                self.env["oms.integration.dead.letter"]
                .search([])
                .mapped(lambda d: (d.id, d.state))
            ),
            "sale order number": self.env["ir.sequence"]
            .search([("code", "=", "sale.order")])
            .mapped("number_next_actual"),
            "sequences": sequences,
        }

    # === TESTS === #

    def test_preview_tells_what_would_succeed_and_what_would_still_fail(self):
        ready, blocked, _mapping = self._dead_pair()
        letters = (ready | blocked).dead_letter_ids
        form = self._wizard_form(letters)
        self.assertEqual(form.succeed_count, 1)
        self.assertEqual(form.fail_count, 1)
        lines = self._lines_by_order(form)
        would = lines["R-READY"]
        self.assertEqual(would.verdict, "succeed")
        self.assertTrue(would.selected, "ticked: it would succeed")
        self.assertIn("Would create a sale order", would.reason)
        # The source's policy would create the customer when applied.
        self.assertIn("Tap hoa Redrive would be created", would.reason)
        still = lines["R-BLOCKED"]
        self.assertEqual(still.verdict, "fail")
        self.assertFalse(still.selected)
        self.assertIn("RSP404", still.reason)
        self.assertNotIn("RSP001", still.reason, "RSP001 is mapped now")
        self.assertIn("Mapping Center", still.hint)

    def test_preview_changes_nothing(self):
        ready, blocked, _mapping = self._dead_pair()
        letters = (ready | blocked).dead_letter_ids
        # A value never met before (RSP777) would be noted as unmapped and a
        # new customer created, were this processing rather than a preview.
        fresh = self._receive(_payload("R-FRESH", ["RSP777"], customer_id="RC-3"))
        fresh.with_context(tracking_disable=True).write({"state": "dead"})
        self.env["oms.integration.dead.letter"]._oms_record(fresh, "permanent")
        letters |= fresh.dead_letter_ids
        before = self._snapshot()
        wizard = self.env["oms.integration.redrive.wizard"].with_user(self.oms_user)
        lines = wizard._oms_preview(letters)
        self.assertEqual(
            [line["verdict"] for line in lines], ["succeed", "fail", "fail"]
        )
        self.assertIn("RSP777", lines[2]["reason"])
        self.assertEqual(self._snapshot(), before)
        self.assertFalse(
            self.Mapping._oms_find(self.redrive_source, "product", "RSP777"),
            "a preview notes nothing in the Mapping Center",
        )

    def test_requeue_selected_requeues_only_the_ticked_ones(self):
        ready, blocked, _mapping = self._dead_pair()
        form = self._wizard_form((ready | blocked).dead_letter_ids)
        wizard = form.save()
        action = wizard.action_requeue()
        self.assertIn("1 dead letters requeued", action["params"]["message"])
        self.assertEqual(ready.dead_letter_ids.state, "requeued")
        self.assertEqual(ready.state, "pending")
        self.assertEqual(blocked.dead_letter_ids.state, "open")
        self.assertEqual(blocked.state, "dead")
        self._run_queue()
        self.assertEqual(ready.state, "done", ready.last_error)
        self.assertTrue(ready.sale_order_id)
        # Ticking one that would fail is the user's choice: it is requeued.
        form = self._wizard_form(blocked.dead_letter_ids)
        with form.line_ids.edit(0) as line:
            line.selected = True
        form.save().action_requeue()
        self.assertEqual(blocked.dead_letter_ids.state, "requeued")
        # Nothing ticked: nothing to do, and the user is told.
        self._run_queue()
        self.assertEqual(blocked.state, "dead")
        form = self._wizard_form(blocked.dead_letter_ids)
        with self.assertRaises(UserError):
            form.save().action_requeue()

    def test_the_mapping_line_redrives_the_events_waiting_for_it(self):
        ready, blocked, mapping = self._dead_pair()
        missing = self.Mapping._oms_find(self.redrive_source, "product", "RSP404")
        self.assertEqual(ready.waiting_mapping_ids, mapping)
        self.assertEqual(blocked.waiting_mapping_ids, mapping | missing)
        # Another source's event waiting for its own RSP001 is not listed.
        other = self._receive(_payload("R-OTHER", ["RSP001"]), self.other_source)
        self._run_queue()
        self.assertEqual(other.state, "dead")
        self.assertEqual(mapping.waiting_dead_letter_count, 2)
        self.assertEqual(missing.waiting_dead_letter_count, 1)
        action = mapping.with_user(self.oms_user).action_redrive_waiting()
        self.assertEqual(action["res_model"], "oms.integration.redrive.wizard")
        self.assertEqual(
            set(action["context"]["active_ids"]),
            set((ready | blocked).dead_letter_ids.ids),
        )
        form = Form(
            self.env[action["res_model"]]
            .with_user(self.oms_user)
            .with_context(**action["context"])
        )
        self.assertEqual(set(self._lines_by_order(form)), {"R-READY", "R-BLOCKED"})
        # Once requeued, the letter no longer waits.
        ready.dead_letter_ids.action_requeue()
        mapping.invalidate_recordset(["waiting_dead_letter_count"])
        self.assertEqual(mapping.waiting_dead_letter_count, 1)
        nothing_waits = self._map(
            self.redrive_source, "product", "RSP-NONE", product_id=self.water.id
        )
        self.assertEqual(nothing_waits.waiting_dead_letter_count, 0)
        with self.assertRaises(UserError):
            nothing_waits.with_user(self.oms_user).action_redrive_waiting()

    def test_an_outbound_dead_letter_says_whether_the_source_may_send(self):
        source = self._create_active_source(
            scopes=("inbound", "outbound"),
            name="Redrive status shop",
            outbound_enabled=True,
            callback_url="http://127.0.0.1:9/status",
        )
        event = self._create_event(
            source,
            direction="outbound",
            event_type="order.status",
            status="approved",
            delivery_id="status_redrive",
            payload="{}",
        )
        event._set_dead("HTTP 500: down", "wait")
        letter = event.dead_letter_ids
        Wizard = self.env["oms.integration.redrive.wizard"].with_user(self.oms_user)
        [line] = Wizard._oms_preview(letter)
        self.assertEqual(line["verdict"], "succeed")
        self.assertIn("only known once sent", line["reason"])
        source.outbound_enabled = False
        [line] = Wizard._oms_preview(letter)
        self.assertEqual(line["verdict"], "fail")
        self.assertIn("turned off", line["reason"])

    def test_only_oms_users_preview_and_letters_already_handled_are_not_offered(self):
        ready, _blocked, _mapping = self._dead_pair()
        letter = ready.dead_letter_ids
        letter.action_requeue()
        [line] = (
            self.env["oms.integration.redrive.wizard"]
            .with_user(self.oms_user)
            ._oms_preview(letter)
        )
        self.assertEqual(line["verdict"], "closed")
        self.assertFalse(line.get("selected"))
        with self.assertRaises(AccessError):
            self.env["oms.integration.redrive.wizard"].with_user(
                self.salesman
            )._oms_preview(letter)
