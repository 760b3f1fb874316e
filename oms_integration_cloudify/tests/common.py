import copy

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user

from odoo.addons.oms_integration.tests.common import OmsTestMixin

from ..lib.simulator import CloudifySimulator

SIGNING_SECRET = "whsec_c2lnbmluZy1zZWNyZXQtY2xvdWRpZnk="
DB = "cloudify"
LOGIN = "api@example.vn"
PASSWORD = "sim-password-7c1e"
CLIENT_ID = "sim-client"
CLIENT_SECRET = "sim-secret-4b2d"

# The order of our proposal (docs and tests/fixtures/cloudify/event_order_created.json).
ORDER = {
    "external_id": "cf_88421",
    "name": "SO/2026/00123",
    "state": "confirmed",
    "currency": "VND",
    "distributor_code": "NPP01",
    "salesman_code": "NV0123",
    "route_code": "T2",
    "outlet": {
        "code": "CH00457",
        "name": "Tạp hóa Minh Anh",
        "vat": "0312345678",
        "street": "12 Lê Lợi",
        "ward": "Phường Bến Nghé",
        "province": "TP Hồ Chí Minh",
        "phone": "0901234567",
    },
    "date_order": "2026-11-22T09:05:00+07:00",
    "commitment_date": "2026-11-23",
    "lines": [
        {
            "seq": 1,
            "product_code": "SP001",
            "uom": "Thùng",
            "qty": 5,
            "price_unit": 250000,
            "discount_amount": 50000,
            "tax_rate": "8",
            "is_free": False,
        },
        {
            "seq": 2,
            "product_code": "SP009",
            "uom": "Chai",
            "qty": 2,
            "price_unit": 0,
            "tax_rate": "8",
            "is_free": True,
            "promotion_code": "KM2511-01",
        },
    ],
    "order_discount": 20000,
    "amount_untaxed": 1180000,
    "amount_tax": 94400,
    "amount_total": 1274400,
}


def cloudify_order(external_id="cf_88421", **overrides):
    """A Cloudify order object of our proposal."""
    order = copy.deepcopy(ORDER)
    order["external_id"] = external_id
    order.update(overrides)
    return order


class CloudifySetupMixin:
    """A company selling in VND, the products, taxes and salesperson of the
    proposal's order, and a running Cloudify simulator (a real local HTTP
    server). Mixed in before the core's ``OmsTestMixin`` (encryption key,
    registry in test mode, loopback requests, the cron helpers)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.simulator = CloudifySimulator(
            db=DB,
            login=LOGIN,
            password=PASSWORD,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
        ).start()
        cls.addClassCleanup(cls.simulator.stop)
        cls.company = cls.env.company
        vnd = cls.env.ref("base.VND")
        vnd.active = True
        cls.pricelist = cls.env["product.pricelist"].create(
            {"name": "Bảng giá VND", "currency_id": vnd.id}
        )
        cls.tax_8 = cls.env["account.tax"].create(
            {
                "name": "Cloudify test VAT 8%",
                "amount": 8,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.products = {
            code: cls.env["product.product"].create(
                {
                    "name": f"Cloudify product {code}",
                    "default_code": code,
                    "list_price": 250000,
                    "type": "consu",
                    "is_storable": False,  # always ready to deliver
                    "taxes_id": [fields.Command.set(cls.tax_8.ids)],
                }
            )
            for code in ("SP001", "SP009")
        }
        cls.discount_product = cls.env["product.product"].create(
            {
                "name": "Chiết khấu đơn hàng",
                "type": "service",
                "taxes_id": [fields.Command.set(cls.tax_8.ids)],
            }
        )
        cls.salesman = new_test_user(
            cls.env,
            login="cf_salesman",
            name="Nguyễn Văn Bình",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        cls.manager = new_test_user(
            cls.env,
            login="cf_oms_manager",
            name="Lê Thị Quản Lý",
            groups="base.group_user,oms_integration.group_oms_manager",
        )

    def setUp(self):
        super().setUp()
        self.simulator.reset()

    # === HELPERS === #

    @classmethod
    def _source_vals(cls, auth_mode="session", **vals):
        values = {
            "name": f"Cloudify NPP01 ({auth_mode})",
            "provider": "cloudify",
            "mode": "webhook",
            "cloudify_url": cls.simulator.url,
            "cloudify_auth_mode": auth_mode,
            "cloudify_database": DB,
            "cloudify_login": LOGIN,
            "cloudify_token_url": f"{cls.simulator.url}/oauth/token",
            "cloudify_client_id": CLIENT_ID,
            "pricelist_id": cls.pricelist.id,
            "discount_product_id": cls.discount_product.id,
            "rate_limit": 0,
        }
        values.update(vals)
        return values

    @classmethod
    def _create_cloudify_source(
        cls, auth_mode="session", scopes=("inbound",), mapped=True, **vals
    ):
        source = cls.env["oms.integration.source"].create(
            cls._source_vals(auth_mode, **vals)
        )
        source.signing_secret = SIGNING_SECRET
        source.cloudify_password = PASSWORD
        source.cloudify_client_secret = CLIENT_SECRET
        source._oms_give_consent(list(scopes))
        source.action_activate()
        if mapped:
            cls._map(source, "salesperson", "NV0123", user_id=cls.salesman.id)
            for code, product in cls.products.items():
                cls._map(source, "product", code, product_id=product.id)
            unit = cls.env.ref("uom.product_uom_unit")
            cls._map(source, "uom", "Thùng", uom_id=unit.id)
            cls._map(source, "uom", "Chai", uom_id=unit.id)
        return source

    def _refresh_tokens(self):
        """Run the token renewal cron as Odoo's cron worker would."""
        self._run_cron("oms_integration_cloudify.ir_cron_cloudify_refresh_tokens")


class CloudifyCommon(CloudifySetupMixin, OmsTestMixin, TransactionCase):
    pass


class CloudifyHttpCommon(CloudifySetupMixin, OmsTestMixin, HttpCase):
    pass
