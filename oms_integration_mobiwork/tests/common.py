import json
import os
from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet
from werkzeug.urls import url_parse

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tests.common import HOST, _super_send
from odoo.tools import config

from odoo.addons.oms_integration import const as core_const

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


class MobiworkSetupMixin:
    """A Mobiwork source (tokenkey mode, active, consents given) of a company
    selling in VND, its products, taxes and mappings. Every test runs with a
    freshly generated encryption key, so secrets are really encrypted."""

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Our requests carry (connect, read) timeouts, which Odoo's test guard
        # cannot compare; it only lets loopback requests through, so do we.
        if url_parse(r.url).host in (HOST, "localhost"):
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env_without_key = {
            k: v for k, v in os.environ.items() if k != core_const.SECRET_KEY_ENV_VAR
        }
        cls.startClassPatcher(patch.dict(os.environ, env_without_key, clear=True))
        cls.startClassPatcher(
            patch.dict(
                config.options,
                {core_const.SECRET_KEY_CONFIG_OPTION: Fernet.generate_key().decode()},
            )
        )
        cls.Event = cls.env["oms.integration.event"]
        cls.Mapping = cls.env["oms.integration.mapping"]
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
        return source

    @classmethod
    def _map(cls, source, kind, code, **record):
        return cls.env["oms.integration.mapping"].create(
            dict(
                {
                    "source_id": source.id,
                    "kind": kind,
                    "external_code": code,
                    "state": "mapped",
                },
                **record,
            )
        )

    def _receive(self, source, payload, headers=None):
        """A delivery as the controller hands it over (authentic already)."""
        body = json.dumps(payload, ensure_ascii=False).encode()
        return self.Event._oms_receive_webhook(source, headers or {}, body)

    def _run_queue(self):
        return self.Event._cron_process_queue(time_budget=30, commit=False)

    def _events(self, source, **domain):
        return self.Event.search(
            [("source_id", "=", source.id)]
            + [(key, "=", value) for key, value in domain.items()],
            order="id",
        )

    def _order_of(self, source, external_id):
        return self.env["sale.order"].search(
            [("oms_source_id", "=", source.id), ("oms_external_id", "=", external_id)]
        )

    def _poll(self, source):
        source.poll_next_run = fields.Datetime.now() - timedelta(seconds=1)
        return self.env["oms.integration.source"]._cron_poll_sources(commit=False)


class MobiworkCommon(MobiworkSetupMixin, TransactionCase):
    pass


class MobiworkHttpCommon(MobiworkSetupMixin, HttpCase):
    pass
