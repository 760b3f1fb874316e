"""Statuses sent to Mobiwork (the Mobiwork simulator, a real local HTTP
server): order statuses, goods issue then Bill on a validated delivery, and
Mobiwork's errors turned into a readable failure."""

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from ..lib.simulator import MobiworkSimulator
from .common import TOKEN_KEY, MobiworkCommon


@tagged("post_install", "-at_install")
class TestMobiworkStatusCallbacks(MobiworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = MobiworkSimulator(token=TOKEN_KEY).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.source = cls._create_mobiwork_source(
            scopes=("inbound", "outbound"),
            outbound_enabled=True,
            mobiwork_api_url=cls.simulator.url,
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Tạp hóa Cô Ba",
                "phone": "0903 456 789",
                "street": "45 Nguyễn Trãi",
                "city": "TP. Hồ Chí Minh",
            }
        )
        cls._map(cls.source, "partner", "KH00457", partner_id=cls.customer.id)
        cls._map(
            cls.source, "product", "SP-001", product_id=cls.products["MW-SP001"].id
        )

    def setUp(self):
        super().setUp()
        self.simulator.callbacks.clear()
        self.simulator.scripted.clear()
        self.simulator.requests.clear()

    def _order(self):
        return self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "pricelist_id": self.source.pricelist_id.id,
                "oms_source_id": self.source.id,
                "oms_external_id": "DH-2026-000123",
                "date_order": fields.Datetime.to_datetime("2026-11-22 18:30:00"),
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    fields.Command.create(
                        {
                            "product_id": self.products["MW-SP001"].id,
                            "product_uom_qty": 10,
                            "price_unit": 125000,
                            "discount": 2,
                            "tax_id": [fields.Command.set(self.taxes[10].ids)],
                        }
                    ),
                    fields.Command.create(
                        {
                            "product_id": self.products["MW-SP005"].id,
                            "product_uom_qty": 3,
                            "price_unit": 15000,
                            "tax_id": [fields.Command.set(self.tax_kct.ids)],
                        }
                    ),
                    fields.Command.create(
                        {
                            "product_id": self.products["MW-SP003"].id,
                            "product_uom_qty": 1,
                            "price_unit": 0,
                            "tax_id": [fields.Command.clear()],
                        }
                    ),
                ],
            }
        )

    def _send(self):
        self._send_statuses()

    def test_no_test_endpoint_so_no_test_callback(self):
        self.assertFalse(self.source.test_callback_available)
        with self.assertRaisesRegex(UserError, "Mobiwork has no test endpoint"):
            self.source.with_user(self.env.user).action_send_test_callback()
        test_events = self.Event.search(
            [("source_id", "=", self.source.id), ("event_type", "=", "test")]
        )
        self.assertFalse(test_events)
        # A test event stored anyway is never sent: it fails with the reason.
        event = self.Event._oms_create_outbound(
            self.source,
            {"event_type": "test", "delivery_id": "test_1", "payload": "{}"},
        )
        self._send()
        self.assertEqual(event.state, "dead")
        self.assertIn("no test endpoint", event.last_error)
        self.assertFalse(self.simulator.requests)
        self.assertFalse(self.simulator.callbacks)

    def _statuses(self, order):
        return self.Event.search(
            [("sale_order_id", "=", order.id), ("direction", "=", "outbound")],
            order="id",
        )

    def _deliver(self, order):
        picking = order.picking_ids
        picking.move_ids.picked = True
        action = picking.button_validate()
        if isinstance(action, dict) and action.get("res_model"):
            Form(self.env[action["res_model"]].with_context(**action["context"])).save()
        return picking

    def test_delivery_sends_goods_issue_then_bill(self):
        order = self._order()
        with freeze_time("2026-11-23 01:00:00"):
            order.action_confirm()
            picking = self._deliver(order)
        events = self._statuses(order)
        self.assertEqual(
            events.mapped("status"),
            ["approved", "processing", "goods_issued", "delivered"],
        )
        self.assertEqual(events[2].mobiwork_picking_id, picking)
        with freeze_time("2026-11-23 02:00:00"):
            self._send()
        self.assertEqual(
            set(events.mapped("state")), {"done"}, events.mapped("last_error")
        )
        self.assertEqual(order.oms_last_status, "delivered")
        # Every call carries the tokenkey, in the order the statuses happened.
        self.assertEqual(
            [c["path"] for c in self.simulator.callbacks],
            [
                "/OpenAPI/V1/OrderStatus",
                "/OpenAPI/V1/OrderStatus",
                "/OpenAPI/V1/InventoryExportCustomer",
                "/OpenAPI/V1/Bill",
            ],
        )
        self.assertTrue(
            all(
                c["headers"].get("tokenkey") == TOKEN_KEY
                for c in self.simulator.callbacks
            )
        )
        self.assertEqual(
            self.simulator.order_statuses,
            [
                {"ma_phieu": "DH-2026-000123", "trang_thai": "Đã duyệt"},
                {"ma_phieu": "DH-2026-000123", "trang_thai": "Đang giao"},
            ],
        )
        self.assertEqual(
            self.simulator.goods_issues,
            [
                {
                    "ma_don_lien_quan": "DH-2026-000123",
                    "ckdh": 0,
                    "kho_xuat": "KHO-HCM",
                    "ngay_xuat": "2026-11-23",
                    "data_san_pham": [
                        {
                            "ma_sp": "SP-001",
                            "ma_dvt": "Units",
                            "so_luong": 10,
                            "don_gia": 125000,
                            "chiet_khau_sp": 25000,
                            "vat": 10,
                        },
                        {
                            "ma_sp": "MW-SP005",
                            "ma_dvt": "Units",
                            "so_luong": 3,
                            "don_gia": 15000,
                            "chiet_khau_sp": 0,
                            "vat": 0,
                        },
                        {
                            "ma_sp": "MW-SP003",
                            "ma_dvt": "Units",
                            "so_luong": 1,
                            "don_gia": 0,
                            "chiet_khau_sp": 0,
                            "vat": 0,
                        },
                    ],
                }
            ],
        )
        [bill] = self.simulator.bills
        self.assertEqual(
            bill,
            {
                "trang_thai": "Đã bán hàng",
                "ma_phieu": order.name,
                "ma_phieu_dat": "DH-2026-000123",
                "ma_kh": "KH00457",
                "sdt": "0903 456 789",
                "dia_chi": "45 Nguyễn Trãi, TP. Hồ Chí Minh",
                "ngay_dat": "23/11/2026",  # 18:30 UTC is the next day in Vietnam
                "ngay_ban": "23/11/2026",
                "tong_tien_hang": 1295000,
                "tong_tien_vat": 122500,
                "tong_ck_sp": 25000,
                "ck_don_hang": 0,
                "phai_thanh_toan": 1392500,
                "san_pham": [
                    {
                        "ma_sp": "SP-001",
                        "ma_dvt": "Units",
                        "vat": 10,
                        "so_luong": 10,
                        "ma_kho_xuat": "KHO-HCM",
                        "don_gia": 125000,
                        "chiet_khau_sp": 25000,
                    },
                    {
                        "ma_sp": "MW-SP005",
                        "ma_dvt": "Units",
                        "vat": 0,
                        "so_luong": 3,
                        "ma_kho_xuat": "KHO-HCM",
                        "don_gia": 15000,
                        "chiet_khau_sp": 0,
                    },
                ],
                "san_pham_km": [
                    {
                        "ma_sp_km": "MW-SP003",
                        "ma_dvt_km": "Units",
                        "so_luong_km": 1,
                        "ma_kho_xuat_km": "KHO-HCM",
                        "ghi_chu_km": "",
                    }
                ],
            },
        )
        self.assertEqual(bill["phai_thanh_toan"], round(order.amount_total))

    def test_status_labels_are_configurable(self):
        self.source._oms_set_status_map({"approved": "DA_DUYET"})
        order = self._order()
        order.action_confirm()
        self._send()
        self.assertEqual(
            [s["trang_thai"] for s in self.simulator.order_statuses],
            ["DA_DUYET", "Đang giao"],
        )

    def test_a_mobiwork_error_answer_becomes_a_readable_failure(self):
        order = self._order()
        order.action_confirm()
        approved = self._statuses(order)[0]
        # Mobiwork answers its errors with HTTP 200 too.
        self.simulator.script_error("Khách hàng KH00457 không tồn tại", status=200)
        self._send()
        self.assertEqual(approved.state, "dead")
        self.assertEqual(
            approved.last_error,
            "Mobiwork refused the request: Khách hàng KH00457 không tồn tại",
        )
        self.assertIn("Retry", approved.error_hint)
