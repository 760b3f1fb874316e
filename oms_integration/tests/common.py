import itertools
import json
import os
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.tests import TransactionCase, new_test_user
from odoo.tools import config

from odoo.addons.oms_integration import const

_EVENT_VERSIONS = itertools.count(1)

SIGNING_SECRET = "whsec_c2lnbmluZy1zZWNyZXQtZm9yLXRlc3Rz"


class OmsIntegrationCommon(TransactionCase):
    """Sources, products, partners and users shared by the core tests.

    Every test runs with a freshly generated encryption key configured (as the
    server option), so secrets are really encrypted; tests about other keys
    patch the option again inside the test.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret_key = Fernet.generate_key().decode()
        env_without_key = {
            k: v for k, v in os.environ.items() if k != const.SECRET_KEY_ENV_VAR
        }
        cls.startClassPatcher(patch.dict(os.environ, env_without_key, clear=True))
        cls.startClassPatcher(
            patch.dict(config.options, {const.SECRET_KEY_CONFIG_OPTION: cls.secret_key})
        )
        cls.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", "https://odoo.example.com"
        )

        cls.company = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "OMS Company B"})

        # Users, by the groups a real deployment gives them.
        cls.oms_user = new_test_user(
            cls.env,
            login="oms_user",
            name="Olivia OMS User",
            groups="base.group_user,oms_integration.group_oms_user",
        )
        cls.oms_manager = new_test_user(
            cls.env,
            login="oms_manager",
            name="Mark OMS Administrator",
            groups="base.group_user,oms_integration.group_oms_manager",
        )
        cls.system_admin = new_test_user(
            cls.env,
            login="oms_system_admin",
            name="Sam System Administrator",
            groups="base.group_user,base.group_system,oms_integration.group_oms_manager",
        )
        cls.salesman = new_test_user(
            cls.env,
            login="oms_salesman",
            name="Sally Salesman",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        cls.other_salesman = new_test_user(
            cls.env,
            login="oms_other_salesman",
            name="Oscar Other Salesman",
            groups="base.group_user,sales_team.group_sale_salesman",
        )
        cls.salesman_all = new_test_user(
            cls.env,
            login="oms_salesman_all",
            name="Alice All Leads",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads",
        )

        cls.partner = cls.env["res.partner"].create(
            {"name": "Retail Shop Hanoi", "email": "shop@example.com"}
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Sparkling Water 500ml",
                "default_code": "SP001",
                "list_price": 10.0,
            }
        )
        cls.product_2 = cls.env["product.product"].create(
            {"name": "Orange Juice 1L", "default_code": "OJ001", "list_price": 25.0}
        )

        cls.source = cls._create_source(name="Mobile DMS")
        cls.source_b = cls._create_source(
            name="Company B Shop", company_id=cls.company_b.id
        )

    # === HELPERS === #

    @classmethod
    def _create_source(cls, **vals):
        return cls.env["oms.integration.source"].create(
            dict({"name": "Test Source", "mode": "webhook"}, **vals)
        )

    @classmethod
    def _create_active_source(cls, scopes=("inbound",), **vals):
        """A source an administrator configured: secret set, consent given, active."""
        source = cls._create_source(**vals)
        source.signing_secret = SIGNING_SECRET
        source._oms_give_consent(list(scopes))
        source.action_activate()
        return source

    @classmethod
    def _create_event(cls, source=None, **vals):
        source = source or cls.source
        # Each a version of its own: one version of an order is one event.
        payload = vals.pop(
            "payload",
            json.dumps(
                {
                    "order_id": "EXT-1",
                    "version": next(_EVENT_VERSIONS),
                    "lines": [{"sku": "SP001", "qty": 2}],
                }
            ),
        )
        return cls.env["oms.integration.event"].create(
            dict(
                {
                    "source_id": source.id,
                    "event_type": "order.created",
                    "external_order_id": "EXT-1",
                    "payload": payload,
                },
                **vals,
            )
        )

    @classmethod
    def _create_order(cls, **vals):
        return cls.env["sale.order"].create(
            dict(
                {
                    "partner_id": cls.partner.id,
                    "order_line": [
                        (0, 0, {"product_id": cls.product.id, "product_uom_qty": 1})
                    ],
                },
                **vals,
            )
        )

    def _flush_tracking(self):
        # Chatter tracking is written at commit time; tests never commit.
        self.env.flush_all()
        self.env.cr.precommit.run()

    def _messages_of(self, record):
        return self.env["mail.message"].search(
            [("model", "=", record._name), ("res_id", "=", record.id)]
        )
