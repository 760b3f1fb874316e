from odoo.tests import HttpCase, TransactionCase, new_test_user

from odoo.addons.oms_integration.tests.common import OmsTestMixin

TOKEN_KEY = "mw-token-7f3a9c2e51"
READ_API_ID = "org-42"
READ_API_TOKEN = "mw-read-token-5b8d"


def mobiwork_order(ma_phieu="DH-2026-000123", **overrides):
    """A Mobiwork order object as its webhook sends it."""
    order = {
        "ma_phieu": ma_phieu,
        "ma_kh": "KH00457",
        "ten_kh": "Tạp hóa Cô Ba Ngọc Hương",
        "sdt": "0903 456 789",
        "dia_chi": "45 Nguyễn Trãi, Quận 1",
        "ngay_dat": "2026-11-22T18:30:00Z",
        "ma_nv_dat": "NV015",
        "ten_nguoi_dat": "Trần Thị Thu Trang",
        "san_pham": [
            {
                "stt": 1,
                "ma_sp": "MW-SP001",
                "so_luong": 10,
                "ten_dvt": "Thùng",
                "don_gia": 125000,
                "chiet_khau": 0,
                "ma_kho_xuat": "KHO-HCM",
                "vat": 10,
            }
        ],
    }
    order.update(overrides)
    return order


def delivery(*orders):
    return {"event": "sales_order_create", "data": list(orders)}


class MobiworkSetupMixin(OmsTestMixin):
    """A Mobiwork source (tokenkey mode, active, consents given) of a company
    selling in VND, its products, taxes and mappings (the core's test mixin
    gives the encryption key, the runners and the helpers)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        vnd = cls.env.ref("base.VND")
        vnd.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Bảng giá VND", "currency_id": vnd.id}
        )
        cls.taxes = {
            rate: cls.env["account.tax"].create(
                {
                    "name": f"Mobiwork test VAT {rate}%",
                    "amount": rate,
                    "amount_type": "percent",
                    "type_tax_use": "sale",
                    "company_id": cls.company.id,
                }
            )
            for rate in (10, 8, 5, 0)
        }
        cls.tax_kct = cls.env["account.tax"].create(
            {
                "name": "Mobiwork test KCT (not subject to VAT)",
                "amount": 0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.products = {
            code: cls.env["product.product"].create(
                {
                    "name": f"Mobiwork product {code}",
                    "default_code": code,
                    "list_price": 50000,
                    "type": "consu",
                    "is_storable": False,  # always ready to deliver
                }
            )
            for code in ("MW-SP001", "MW-SP002", "MW-SP003", "MW-SP004", "MW-SP005")
        }
        cls.discount_product = cls.env["product.product"].create(
            {"name": "Chiết khấu đơn hàng", "type": "service"}
        )
        cls.warehouse = cls.env["stock.warehouse"].search(
            [("company_id", "=", cls.company.id)], limit=1
        )
        cls.salesman = new_test_user(
            cls.env,
            login="mw_salesman",
            name="Trần Thị Thu Trang",
            groups="base.group_user,sales_team.group_sale_salesman",
        )

    # === HELPERS === #

    @classmethod
    def _create_mobiwork_source(cls, scopes=("inbound",), mapped=True, **vals):
        source = cls.env["oms.integration.source"].create(
            dict(
                {
                    "name": "Mobiwork NPP Quận 1",
                    "provider": "mobiwork",
                    "mode": "webhook",
                    "mobiwork_org_id": "ORG-42",
                    "pricelist_id": cls.pricelist.id,
                    "discount_product_id": cls.discount_product.id,
                    "rate_limit": 0,
                },
                **vals,
            )
        )
        source.mobiwork_token_key = TOKEN_KEY
        source._oms_give_consent(list(scopes))
        source.action_activate()
        if mapped:
            cls._map(source, "salesperson", "NV015", user_id=cls.salesman.id)
            cls._map(source, "warehouse", "KHO-HCM", warehouse_id=cls.warehouse.id)
            cls._map(source, "tax", "KCT", tax_id=cls.tax_kct.id)
            # The test products are sold by the case: Mobiwork's case is
            # one Odoo unit of them.
            unit = cls.env.ref("uom.product_uom_unit")
            cls._map(source, "uom", "Thùng", uom_id=unit.id)
            cls._map(source, "uom", "Hộp", uom_id=unit.id)
        return source

    def _receive(self, source, payload, headers=None):
        """A delivery as the webhook route hands it over once verified."""
        return self._accept(source, payload, headers)


class MobiworkCommon(MobiworkSetupMixin, TransactionCase):
    pass


class MobiworkHttpCommon(MobiworkSetupMixin, HttpCase):
    pass
