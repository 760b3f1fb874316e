"""The polling backstop report: orders that polling found and no webhook had
delivered, per source (in mode webhook and polling) and day."""

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from ..lib.simulator import ProviderSimulator
from .common import SIGNING_SECRET, OmsIntegrationCommon

TOKEN = "sim-token-backstop-123"


def _order(order_id, updated_at):
    return {
        "id": order_id,
        "name": f"WEB/{order_id}",
        "updated_at": updated_at,
        "currency": "VND",
        "customer": {"id": "C-1", "name": "Shop"},
        "lines": [{"product": {"sku": "SP001"}, "quantity": 1, "price_unit": 1000}],
    }


@tagged("post_install", "-at_install")
class TestPollingBackstop(OmsIntegrationCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = ProviderSimulator(token=TOKEN).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.both = cls._polled_source("Webhook and polling shop", "both")
        cls.polling_only = cls._polled_source("Polling only shop", "polling")

    @classmethod
    def _polled_source(cls, name, mode):
        source = cls._create_source(
            name=name, mode=mode, api_base_url=cls.simulator.url, rate_limit=0
        )
        source.signing_secret = SIGNING_SECRET
        source.api_token = TOKEN
        source._oms_give_consent(
            ["inbound", "polling"] if mode == "both" else ["polling"]
        )
        source.action_activate()
        return source

    def setUp(self):
        super().setUp()
        self.simulator.orders.clear()
        self.simulator.requests.clear()

    def _report(self):
        """The report as its menu opens it: ``{(source, day): count}``."""
        action = self.env.ref("oms_integration.oms_integration_event_action_backstop")
        context = safe_eval(action.context)
        domain = safe_eval(action.domain)
        search = self.env.ref(
            "oms_integration.oms_integration_event_view_search_backstop"
        )
        self.assertEqual(action.search_view_id, search)
        self.assertEqual(context, {"search_default_polling_only": 1})
        # The default filter of its search view.
        domain += [("received_via", "=", "polling")]
        groups = (
            self.env["oms.integration.event"]
            .with_user(self.oms_user)
            ._read_group(domain, ["source_id", "received_at:day"], ["__count"])
        )
        return {
            (source, day.date().isoformat()): count for source, day, count in groups
        }

    def test_orders_found_by_polling_alone_per_source_and_day(self):
        with freeze_time("2026-11-22 10:00:00"):
            # Delivered by webhook, then polled: one event, by webhook.
            status, _answer = self._accept(
                self.both,
                {
                    "type": "order.created",
                    "order": _order("B-1", "2026-11-22T09:00:00Z"),
                },
            )
            self.assertEqual(status, 202)
            self.simulator.put_order(_order("B-1", "2026-11-22T09:00:00Z"))
            # Polling alone found these two.
            self.simulator.put_order(_order("B-2", "2026-11-22T09:05:00Z"))
            self.simulator.put_order(_order("B-3", "2026-11-22T09:06:00Z"))
            self._poll(self.both)
            # A source that only polls is no backstop: not in the report.
            self.simulator.orders.clear()
            self.simulator.put_order(_order("P-1", "2026-11-22T09:07:00Z"))
            self._poll(self.polling_only)
        with freeze_time("2026-11-23 10:00:00"):
            self.simulator.orders.clear()
            self.simulator.put_order(_order("B-4", "2026-11-23T09:00:00Z"))
            self._poll(self.both)
        events = self._events(self.both)
        self.assertEqual(
            [(e.external_order_id, e.received_via) for e in events],
            [
                ("B-1", "webhook"),
                ("B-2", "polling"),
                ("B-3", "polling"),
                ("B-4", "polling"),
            ],
        )
        self.assertEqual(
            set(self._events(self.polling_only).mapped("received_via")), {"polling"}
        )
        self.assertEqual(
            self._report(),
            {(self.both, "2026-11-22"): 2, (self.both, "2026-11-23"): 1},
        )

    def test_events_from_before_are_unknown_not_counted(self):
        with freeze_time("2026-11-22 10:00:00"):
            self.simulator.put_order(_order("B-OLD", "2026-11-22T09:00:00Z"))
            self._poll(self.both)
        event = self._events(self.both)
        self.assertEqual(event.received_via, "polling")
        # As stored before this was recorded.
        event.write({"received_via": False})
        self.assertEqual(self._report(), {})
