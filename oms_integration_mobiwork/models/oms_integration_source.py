import base64
import hashlib
import json
from datetime import timedelta
from urllib.parse import urlencode

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.oms_integration import const as core_const
from odoo.addons.oms_integration.lib import normalize, outbound, redaction
from odoo.addons.oms_integration.lib import status as status_lib

from .. import const
from ..lib import callbacks, parser


class OmsIntegrationSource(models.Model):
    _inherit = "oms.integration.source"

    # === FIELDS === #

    provider = fields.Selection(
        selection_add=[(const.PROVIDER_CODE, "Mobiwork")],
        ondelete={const.PROVIDER_CODE: "set default"},
    )
    mobiwork_auth_mode = fields.Selection(
        selection=const.AUTH_MODES,
        string="Mobiwork Webhook Authentication",
        default=const.DEFAULT_AUTH_MODE,
        help="How Odoo recognises orders really sent by Mobiwork. tokenkey: "
        "Mobiwork's usual way, the same token key on every order (anyone who "
        "sees one order can send fake ones). Standard Webhooks: each order "
        "signed with the source's signing secret; choose it when your Mobiwork "
        "account can sign its orders.",
    )
    mobiwork_org_id = fields.Char(
        string="Mobiwork Organisation ID",
        help="Your organisation's id in Mobiwork (orgid), given by Mobiwork.",
    )
    # Stored in the core's fields, so that consent (its destination host),
    # URL checks and activation rules apply unchanged.
    mobiwork_api_url = fields.Char(
        string="Mobiwork ERP API URL",
        related="callback_url",
        readonly=False,
        help="Base URL of Mobiwork's ERP API, where the Bill, the goods issue "
        "and the order statuses are sent (https://...; plain http sends the "
        "token in clear). It is the source's Status Callback URL.",
    )
    mobiwork_read_api_url = fields.Char(
        string="Mobiwork Read API URL",
        related="api_base_url",
        readonly=False,
        help="Base URL of Mobiwork's read API, used for polling "
        "(https://openapi.mobiwork.vn). It is the source's Provider API URL.",
    )
    mobiwork_read_api_id = fields.Char(
        string="Mobiwork Read API ID",
        help="The user name (id) of HTTP Basic authentication on the read API.",
    )
    # Write-only secret inputs (the core's secret helper encrypts them).
    mobiwork_token_key = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
        help="The tokenkey: sent on every call to Mobiwork's ERP API, and "
        "expected on Mobiwork's deliveries in tokenkey mode.",
    )
    mobiwork_read_api_token = fields.Char(
        string="Mobiwork Read API Token",
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
    )
    mobiwork_token_key_encrypted = fields.Char(groups="base.group_system", copy=False)
    mobiwork_read_api_token_encrypted = fields.Char(
        groups="base.group_system", copy=False
    )
    mobiwork_token_key_set = fields.Boolean(compute="_compute_secrets_set")
    mobiwork_read_api_token_set = fields.Boolean(compute="_compute_secrets_set")
    mobiwork_poll_checked_until = fields.Datetime(
        string="Mobiwork Orders Read Until",
        readonly=True,
        copy=False,
        help="Every order Mobiwork created before this moment was read by a "
        "complete polling run: the next run starts from its Vietnam day, minus "
        "the polling overlap.",
    )

    # === ONCHANGE METHODS === #

    @api.onchange("provider")
    def _onchange_provider_mobiwork(self):
        if self.provider == const.PROVIDER_CODE and not self.api_base_url:
            self.api_base_url = const.DEFAULT_READ_API_URL

    # === BUSINESS METHODS === #

    def _mobiwork_status_labels(self):
        """The source's status labels (its status table) as a dict."""
        self.ensure_one()
        return self._oms_status_map()

    def _mobiwork_import_status_labels(self, text):
        """Copy the status labels of an earlier version (a JSON object of
        labels by order status, ``text``) into the status table; what is not
        a label of a known status is left out (the default stays)."""
        self.ensure_one()
        try:
            labels = json.loads(text or "{}")
        except ValueError:
            labels = {}
        if not isinstance(labels, dict):
            labels = {}
        known = dict(core_const.ORDER_STATUSES)
        self._oms_set_status_map(
            {
                status: label.strip()
                for status, label in labels.items()
                if status in known and isinstance(label, str) and label.strip()
            }
        )

    def _mobiwork_status_label(self, status):
        self.ensure_one()
        return callbacks.status_label(
            status, const.DEFAULT_STATUS_LABELS, self._mobiwork_status_labels()
        )

    def _mobiwork_external_code(self, kind, record, fallback=""):
        """The Mobiwork code of an Odoo ``record`` (Mapping Center, mapped
        values of ``kind``), else ``fallback``."""
        self.ensure_one()
        if not record:
            return fallback
        mapping = (
            self.env["oms.integration.mapping"]
            .sudo()
            .search(
                [
                    ("source_id", "=", self.id),
                    ("kind", "=", kind),
                    (core_const.MAPPING_KIND_FIELDS[kind], "=", record.id),
                    ("state", "=", "mapped"),
                ],
                order="id",
                limit=1,
            )
        )
        return mapping.external_code or fallback

    # === PROVIDER HOOKS === #

    def _oms_get_default_status_map(self):
        status_map = super()._oms_get_default_status_map()
        if self.provider != const.PROVIDER_CODE:
            return status_map
        return dict(const.DEFAULT_STATUS_LABELS)

    def _oms_personal_data_keys(self):
        keys = super()._oms_personal_data_keys()
        if self.provider != const.PROVIDER_CODE:
            return keys
        return keys | const.PERSONAL_DATA_KEYS

    def _oms_secret_fields(self):
        return dict(super()._oms_secret_fields(), **const.SECRET_FIELDS)

    def _oms_readiness_checks(self):
        found = super()._oms_readiness_checks()
        if self.provider != const.PROVIDER_CODE:
            return found
        source = self.sudo()
        missing = []
        if not self.mobiwork_org_id:
            missing.append(
                (
                    "mobiwork_org_id",
                    self.env._("No Mobiwork organisation ID."),
                    self.env._("Set the Mobiwork organisation ID (tab Mobiwork)."),
                )
            )
        needs_token = self.outbound_enabled or (
            self.mode in core_const.WEBHOOK_MODES and self.mobiwork_auth_mode == "token"
        )
        if needs_token and not source.mobiwork_token_key_encrypted:
            missing.append(
                (
                    "mobiwork_token_key",
                    self.env._(
                        "No Mobiwork token key: it authenticates Mobiwork's "
                        "deliveries and every call to Mobiwork."
                    ),
                    self.env._("Set the Mobiwork token key (tab Mobiwork)."),
                )
            )
        if self.mode in core_const.POLLING_MODES:
            if not self.mobiwork_read_api_id:
                missing.append(
                    (
                        "mobiwork_read_api_id",
                        self.env._("No Mobiwork read API ID: polling is refused."),
                        self.env._("Set the Mobiwork read API ID (tab Mobiwork)."),
                    )
                )
            if not source.mobiwork_read_api_token_encrypted:
                missing.append(
                    (
                        "mobiwork_read_api_token",
                        self.env._("No Mobiwork read API token: polling is refused."),
                        self.env._("Set the Mobiwork read API token (tab Mobiwork)."),
                    )
                )
        found.extend(
            self._oms_finding(code, "blocking", message, fix)
            for code, message, fix in missing
        )
        return found

    def _oms_get_order_currencies(self):
        currencies = super()._oms_get_order_currencies()
        if self.provider != const.PROVIDER_CODE:
            return currencies
        return [parser.CURRENCY]  # Mobiwork's orders carry no currency: đồng

    def _oms_connection_test_request(self, scope):
        request = super()._oms_connection_test_request(scope)
        if self.provider != const.PROVIDER_CODE or scope != "polling":
            return request
        # The read API's smallest question: one order created in the last day.
        until = fields.Datetime.now()
        params = parser.read_api_params(until - timedelta(days=1), until, 1, 1)
        url = f"{(self.api_base_url or '').rstrip('/')}{parser.READ_API_SALE_PATH}"
        return {
            "method": "GET",
            "url": f"{url}?{urlencode(params)}",
            "headers": self._oms_request_headers(),
            "body": None,
        }

    def _oms_hint_target(self, scope):
        target = super()._oms_hint_target(scope)
        if self.provider != const.PROVIDER_CODE:
            return target
        if scope == "outbound":
            return self.env._("the Mobiwork ERP API URL (tab Mobiwork)")
        return self.env._("the Mobiwork read API URL (tab Mobiwork)")

    def _oms_hint_credentials(self, scope):
        credentials = super()._oms_hint_credentials(scope)
        if self.provider != const.PROVIDER_CODE:
            return credentials
        if scope == "outbound":
            return self.env._("the Mobiwork token key (tab Mobiwork)")
        return self.env._("the Mobiwork read API ID and token (tab Mobiwork)")

    def _oms_get_signature_scheme(self):
        scheme = super()._oms_get_signature_scheme()
        if self.provider != const.PROVIDER_CODE or self.mobiwork_auth_mode != "token":
            return scheme
        return "static_token"

    def _oms_get_signature_header(self):
        header = super()._oms_get_signature_header()
        if self.provider != const.PROVIDER_CODE or self.mobiwork_auth_mode != "token":
            return header
        return callbacks.TOKEN_HEADER

    def _oms_get_webhook_secrets(self):
        secrets = super()._oms_get_webhook_secrets()
        if self.provider != const.PROVIDER_CODE or self.mobiwork_auth_mode != "token":
            return secrets
        token = self._oms_get_secret("mobiwork_token_key")
        return [token] if token else []

    def _oms_has_webhook_credentials(self):
        has_credentials = super()._oms_has_webhook_credentials()
        if self.provider != const.PROVIDER_CODE or self.mobiwork_auth_mode != "token":
            return has_credentials
        return bool(self.sudo().mobiwork_token_key_encrypted)

    def _oms_parse_delivery(self, body):
        result = super()._oms_parse_delivery(body)
        if self.provider != const.PROVIDER_CODE:
            return result
        return parser.parse_delivery(body).as_parse_result()

    def _oms_split_delivery(self, body):
        split = super()._oms_split_delivery(body)
        if self.provider != const.PROVIDER_CODE:
            return split
        delivery = parser.parse_delivery(body)
        items = [
            normalize.DeliveryItem(item.raw, item.result, item.index, item.external_id)
            for item in delivery.items
        ]
        return items, list(delivery.errors)

    def _oms_get_delivery_id(self, headers, item):
        delivery_id = super()._oms_get_delivery_id(headers, item)
        if self.provider != const.PROVIDER_CODE:
            return delivery_id
        # One key per version of an order: the same order sent again is a
        # duplicate, a changed order a new event (webhook-ids, when signed,
        # name the whole delivery, not its orders).
        digest = hashlib.sha256(item.raw.encode()).hexdigest()[:16]
        return f"mobiwork:{item.external_id or '-'}:{digest}"

    def _oms_fetch_page(self, since, page):
        result = super()._oms_fetch_page(since, page)
        if self.provider != const.PROVIDER_CODE:
            return result
        # The read API filters by creation day, so the core's cursor (the
        # newest updated_at, often absent) cannot bound it: the window starts
        # at the last moment a complete run read up to, minus the overlap.
        # Every page of one run reads the same window, up to the run's start.
        until = self.env.context.get("oms_poll_started_at") or fields.Datetime.now()
        checked = self.mobiwork_poll_checked_until
        start = checked - timedelta(seconds=self.poll_overlap or 0) if checked else None
        url = f"{(self.api_base_url or '').rstrip('/')}{parser.READ_API_SALE_PATH}"
        data = self._oms_request_json(
            "GET",
            url,
            params=parser.read_api_params(start, until, page, self.poll_page_size),
        )
        try:
            results, total = parser.parse_read_api_page(
                json.dumps(data, ensure_ascii=False)
            )
        except parser.ReadApiError as exc:
            raise self._oms_hint_error(
                "mobiwork_read_api_refused"
                if exc.refused
                else "mobiwork_read_api_unreadable",
                permanent=False,
                error=exc,
            ) from exc
        next_page = parser.read_api_next_page(
            page, self.poll_page_size, len(results), total
        )
        if next_page is None:
            # Committed with this last page's events, or rolled back with them.
            self.mobiwork_poll_checked_until = until
        return results, next_page

    def _oms_request_headers(self):
        headers = super()._oms_request_headers()
        if self.provider != const.PROVIDER_CODE:
            return headers
        # The read API: HTTP Basic with the read API id and token.
        token = self._oms_get_secret("mobiwork_read_api_token") or ""
        pair = f"{self.mobiwork_read_api_id or ''}:{token}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode()}"}

    def _oms_is_status_regression(self, previous_status, new_status):
        regression = super()._oms_is_status_regression(previous_status, new_status)
        if self.provider != const.PROVIDER_CODE:
            return regression
        if previous_status == "delivered" and new_status == const.STATUS_GOODS_ISSUED:
            return False  # the next delivery of a partly delivered order
        return status_lib.is_regression(
            previous_status, new_status, order=const.STATUS_ORDER
        )

    def _oms_build_status_request(self, event):
        request = super()._oms_build_status_request(event)
        if self.provider != const.PROVIDER_CODE:
            return request
        token = self._oms_get_secret("mobiwork_token_key")
        if not token:
            raise self._oms_hint_error("mobiwork_token_key_missing", "outbound")
        order = event.sale_order_id.sudo()
        status = event.status
        try:
            if status == "delivered":
                path = callbacks.BILL_PATH
                body = callbacks.build_bill(
                    order._mobiwork_bill_info(self._mobiwork_status_label(status))
                )
            elif status == const.STATUS_GOODS_ISSUED:
                path = callbacks.GOODS_ISSUE_PATH
                body = callbacks.build_goods_issue(
                    order._mobiwork_goods_issue_info(event.mobiwork_picking_id)
                )
            else:
                path = callbacks.ORDER_STATUS_PATH
                body = {
                    "ma_phieu": event.external_order_id or order._oms_order_id(),
                    "trang_thai": self._mobiwork_status_label(status),
                }
        except (ValueError, TypeError, ValidationError) as exc:
            raise self._oms_hint_error(
                "mobiwork_status_unbuildable", "outbound", error=exc
            ) from exc
        return {
            "method": "POST",
            "url": f"{(self.callback_url or '').rstrip('/')}{path}",
            "headers": {
                "Content-Type": "application/json",
                callbacks.TOKEN_HEADER: token,
            },
            "body": callbacks.dumps(body),
        }

    def _oms_read_status_answer(self, response, error):
        outcome, message, retry_after = super()._oms_read_status_answer(response, error)
        if self.provider != const.PROVIDER_CODE or response is None:
            return outcome, message, retry_after
        # Mobiwork answers errors with HTTP 200 too: its body decides.
        problem = callbacks.read_error(response.status_code, response.content)
        if problem is None:
            return outbound.DELIVERED, None, None
        problem = redaction.redact_text(problem, self._oms_known_secret_values())
        if outcome == outbound.RETRY:
            return outcome, problem, retry_after
        return outbound.PERMANENT, problem, None
