import itertools
import json
import os
from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet
from werkzeug.urls import url_parse

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, new_test_user
from odoo.tests.common import HOST, _super_send
from odoo.tools import config

from odoo.addons.oms_integration import const

_EVENT_VERSIONS = itertools.count(1)

SIGNING_SECRET = "whsec_c2lnbmluZy1zZWNyZXQtZm9yLXRlc3Rz"


class OmsTestMixin:
    """What every OMS test class needs, the provider addons' too (mix it in
    before ``TransactionCase`` or ``HttpCase``):

    - a freshly generated encryption key configured (as the server option),
      so secrets are really encrypted;
    - the registry in test mode, so that the queue's runners and the polling
      cron run as in production, committing as they go, on a test cursor
      (``_run_cron``): what they commit is rolled back with the test;
    - requests to a local HTTP server (the provider simulators) let through;
    - small helpers: ``_map``, ``_accept`` (an authentic delivery as the
      webhook route hands it over once verified), ``_run_queue``,
      ``_send_statuses``, ``_poll``, ``_events``, ``_order_of``.
    """

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # Our requests carry (connect, read) timeouts, which Odoo's test guard
        # cannot compare; it only lets loopback requests through, so do we.
        if url_parse(r.url).host in (HOST, "localhost", "127.0.0.1"):
            return _super_send(s, r, **kw)
        return super()._request_handler(s, r, **kw)

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
        if not cls.registry.in_test_mode():
            cls.registry.enter_test_mode(cls.cr)
            cls.addClassCleanup(cls.registry.leave_test_mode)
        cls.Event = cls.env["oms.integration.event"]
        cls.Receiver = cls.env["oms.integration.receiver"]
        cls.Mapping = cls.env["oms.integration.mapping"]

    # === HELPERS === #

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

    def _run_cron(self, xmlid):
        """Run the scheduled action ``xmlid`` as Odoo's cron worker would
        (its code, its commits), on a test cursor; returns nothing."""
        self.env.flush_all()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env.ref(xmlid).ir_actions_server_id.run()
        self.env.invalidate_all()

    def _run_queue(self):
        self._run_cron(const.QUEUE_CRON_XMLID)

    def _send_statuses(self):
        self._run_cron(const.SEND_CRON_XMLID)

    def _poll(self, source):
        source.poll_next_run = fields.Datetime.now() - timedelta(seconds=1)
        self._run_cron("oms_integration.ir_cron_poll_sources")

    def _accept(self, source, payload, headers=None):
        """A delivery as the webhook route hands it over once its signature
        is verified: ``(http_status, answer)``."""
        body = (
            payload
            if isinstance(payload, bytes)
            else json.dumps(payload, ensure_ascii=False).encode()
        )
        return self.Receiver._oms_accept_delivery(source, headers or {}, body)

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


class OmsIntegrationCommon(OmsTestMixin, TransactionCase):
    """Sources, products, partners and users shared by the core tests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
