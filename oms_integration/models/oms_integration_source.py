import logging

from odoo import Command, api, fields, models, tools
from odoo.exceptions import AccessError, UserError, ValidationError

from .. import const
from ..lib import keys, secretbox

_logger = logging.getLogger(__name__)


class _UnknownWebhookKey(Exception):
    """No source has this webhook key (see _oms_webhook_source_id)."""


class OmsIntegrationSource(models.Model):
    _name = "oms.integration.source"
    _description = "Integration Source"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "oms.integration.security.mixin",
        "oms.integration.provider.mixin",
        "oms.integration.readiness.mixin",
        "oms.integration.cockpit.mixin",
        "oms.integration.data.protection.mixin",
    ]
    _order = "sequence, name, id"

    # === IDENTITY === #

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    provider = fields.Selection(
        selection=[(const.PROVIDER_COMPATIBLE, "Compatible (canonical JSON)")],
        required=True,
        default=const.PROVIDER_COMPATIBLE,
        tracking=True,
        help="The system sending the orders. Choose 'Compatible' for a shop or "
        "app that follows this module's published order format.",
    )
    mode = fields.Selection(
        selection=const.MODES, required=True, default="webhook", tracking=True
    )
    state = fields.Selection(
        selection=const.SOURCE_STATES,
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        tracking=True,
    )
    paused_reason = fields.Text(readonly=True, copy=False)

    # === ENDPOINTS AND CREDENTIALS === #

    api_base_url = fields.Char(
        string="Provider API URL",
        tracking=True,
        help="Base URL of the provider's API, used for polling.",
    )
    callback_url = fields.Char(
        string="Status Callback URL",
        tracking=True,
        help="Where order statuses are sent (approved, processing, delivered, "
        "cancelled).",
    )
    outbound_enabled = fields.Boolean(
        string="Send Order Statuses",
        tracking=True,
        help="Send order status callbacks to the provider (needs outbound consent).",
    )
    test_callback_available = fields.Boolean(
        compute="_compute_test_callback_available",
        help="The provider accepts a test callback (Send Test Callback).",
    )
    client_id = fields.Char(
        string="Client ID", help="The client ID the provider gave for API access."
    )
    login = fields.Char(help="The user name Odoo signs in with at the provider.")
    # Which of the credentials above the provider uses (the form shows only
    # those): _oms_get_credential_fields.
    uses_api_token = fields.Boolean(compute="_compute_uses_credentials")
    uses_client_id = fields.Boolean(compute="_compute_uses_credentials")
    uses_login = fields.Boolean(compute="_compute_uses_credentials")
    uses_signing_secret = fields.Boolean(compute="_compute_uses_credentials")

    # Write-only secret inputs: never read back; stored encrypted below.
    api_token = fields.Char(
        string="API Token",
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
    )
    client_secret = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
    )
    password = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
    )
    signing_secret = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
        help="The secret shared with the provider: Odoo accepts an order only "
        "when it is signed with it. Copy it from the provider's webhook settings "
        "(it starts with whsec_).",
    )
    signing_secret_previous = fields.Char(
        string="Previous Signing Secret",
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
        help="The secret being rotated out: still accepted until its end date.",
    )
    signing_secret_previous_expiry = fields.Datetime(
        string="Previous Secret Valid Until",
        groups="oms_integration.group_oms_manager",
    )

    # Stored ciphertexts: only the secret helper reads them.
    api_token_encrypted = fields.Char(groups="base.group_system", copy=False)
    client_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    password_encrypted = fields.Char(groups="base.group_system", copy=False)
    signing_secret_encrypted = fields.Char(groups="base.group_system", copy=False)
    signing_secret_previous_encrypted = fields.Char(
        groups="base.group_system", copy=False
    )

    api_token_set = fields.Boolean(compute="_compute_secrets_set")
    client_secret_set = fields.Boolean(compute="_compute_secrets_set")
    password_set = fields.Boolean(compute="_compute_secrets_set")
    signing_secret_set = fields.Boolean(compute="_compute_secrets_set")
    signing_secret_previous_set = fields.Boolean(compute="_compute_secrets_set")
    secret_key_missing = fields.Boolean(compute="_compute_secret_key_missing")

    # === WEBHOOK === #

    webhook_key = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: keys.new_webhook_key(),
        groups="oms_integration.group_oms_user",
    )
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        groups="oms_integration.group_oms_user",
    )
    refusal_ids = fields.One2many(
        "oms.integration.refusal", "source_id", string="Refusals"
    )
    refused_count = fields.Integer(
        string="Refused Deliveries", compute="_compute_refusals"
    )
    last_refused_at = fields.Datetime(
        string="Last Refusal", compute="_compute_refusals"
    )

    # === POLLING === #

    poll_interval = fields.Integer(
        string="Polling Interval (minutes)", default=const.DEFAULT_POLL_INTERVAL
    )
    poll_next_run = fields.Datetime(string="Next Poll", copy=False)
    poll_cursor = fields.Char(
        string="Polling Position",
        copy=False,
        help="Where the next poll starts: the provider's position (a date or a "
        "code) after the last order stored. Polling moves it forward by "
        "itself. Editing it makes the next poll start there: an earlier value "
        "asks for orders again (those already received are recognised as "
        "duplicates and skipped), a later one skips the orders in between for "
        "good. Empty: the next poll starts from 'Import Orders From'.",
    )
    poll_start_date = fields.Datetime(
        string="Import Orders From",
        help="The first poll of the source asks for the orders changed since "
        "then (empty: the provider's whole history). Later polls start from "
        "the polling position.",
    )
    poll_last_run = fields.Datetime(string="Last Poll", readonly=True, copy=False)
    poll_last_result = fields.Text(string="Last Poll Result", readonly=True, copy=False)
    poll_overlap = fields.Integer(
        string="Polling Overlap (s)",
        default=const.DEFAULT_POLL_OVERLAP,
        help="Each run asks again for the orders changed this long before the "
        "polling position, so that nothing is missed between runs; orders "
        "already received are skipped.",
    )
    poll_page_size = fields.Integer(
        string="Polling Page Size",
        default=const.DEFAULT_POLL_PAGE_SIZE,
        help="How many orders one request to the provider asks for.",
    )
    poll_failure_count = fields.Integer(
        string="Consecutive Polling Failures", readonly=True, copy=False
    )
    poll_max_failures = fields.Integer(
        string="Pause After Failures",
        default=const.DEFAULT_POLL_MAX_FAILURES,
        help="The source is paused after this many polling failures in a row.",
    )

    # === ORDER DEFAULTS === #

    warehouse_id = fields.Many2one(
        "stock.warehouse",
        check_company=True,
        domain="[('company_id', '=', company_id)]",
    )
    pricelist_id = fields.Many2one("product.pricelist", check_company=True)
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    user_id = fields.Many2one(
        "res.users", string="Salesperson", domain="[('share', '=', False)]"
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", check_company=True)
    payment_term_id = fields.Many2one(
        "account.payment.term", string="Payment Terms", check_company=True
    )
    auto_confirm = fields.Boolean(
        string="Confirm Orders Automatically",
        help="Confirm incoming orders at once; otherwise they stay quotations.",
    )
    shipping_product_id = fields.Many2one("product.product", check_company=True)
    discount_product_id = fields.Many2one(
        "product.product", string="Order Discount Product", check_company=True
    )
    adjustment_product_id = fields.Many2one(
        "product.product",
        string="Total Adjustment Product",
        check_company=True,
        help="Used for the adjustment line when the total policy is 'Adjust'.",
    )
    price_include_tax = fields.Boolean(
        string="Provider Prices Include Tax",
        help="Tick when the provider's unit prices already include the tax of "
        "their rate: the lines then get the company's price-included tax of "
        "that rate. Untick when tax is added on top of the provider's prices.",
    )
    no_rate_tax_policy = fields.Selection(
        selection=const.NO_RATE_TAX_POLICIES,
        string="Lines Without a Tax Rate",
        required=True,
        default="none",
        help="The taxes of a line for which the provider sends no rate. A line "
        "with a rate always gets the tax of that rate (Mapping Center, else the "
        "company's sales tax of that percentage), never the product's.",
    )
    warehouse_policy = fields.Selection(
        selection=const.WAREHOUSE_POLICIES,
        string="Lines for Several Warehouses",
        required=True,
        default="refuse",
        help="When the lines of one order name different warehouses. 'Fail': "
        "the order is not imported and the event says which warehouses, until "
        "the provider splits it or you change this setting. 'One sale order "
        "per warehouse': the order becomes linked sale orders, one per "
        "warehouse; the provider's statuses are then sent for each of them.",
    )
    total_tolerance = fields.Monetary(
        currency_field="currency_id",
        default=1.0,
        help="Largest accepted difference between the provider's total and Odoo's.",
    )
    total_policy = fields.Selection(
        selection=const.TOTAL_POLICIES,
        string="When Totals Differ",
        required=True,
        default="block",
    )

    # === MATCHING === #

    partner_policy = fields.Selection(
        selection=const.PARTNER_POLICIES,
        string="Customer Matching",
        required=True,
        default="match_create",
    )
    product_policy = fields.Selection(
        selection=const.PRODUCT_POLICIES,
        string="Product Matching",
        required=True,
        default="match",
        help="Products are never created unless you choose so explicitly.",
    )

    # === RETRY AND LIMITS === #

    max_attempts = fields.Integer(
        string="Maximum Attempts", default=const.DEFAULT_MAX_ATTEMPTS
    )
    retry_base_delay = fields.Integer(
        string="Retry Base Delay (s)", default=const.DEFAULT_RETRY_BASE_DELAY
    )
    retry_max_delay = fields.Integer(
        string="Retry Delay Cap (s)", default=const.DEFAULT_RETRY_MAX_DELAY
    )
    body_size_limit = fields.Integer(
        string="Body Size Limit (bytes)",
        default=const.DEFAULT_BODY_SIZE_LIMIT,
        help="A delivery larger than this is refused (the provider is told so).",
    )
    timestamp_tolerance = fields.Integer(
        string="Timestamp Tolerance (s)",
        default=const.DEFAULT_TIMESTAMP_TOLERANCE,
        help="A delivery signed longer ago than this is refused as a possible "
        "replay. Raise it only if the provider's clock is off.",
    )
    retention_days = fields.Integer(
        string="Keep Processed Events (days)", default=const.DEFAULT_RETENTION_DAYS
    )
    rate_limit = fields.Integer(
        string="Requests per Minute",
        default=const.DEFAULT_RATE_LIMIT,
        help="At most this many requests per minute to the provider, polling and "
        "status callbacks together (0: no limit). Ask the provider what it allows.",
    )
    circuit_threshold = fields.Integer(
        string="Pause Callbacks After Failures",
        default=const.DEFAULT_CIRCUIT_THRESHOLD,
        help="After this many failed status callbacks in a row (no answer, "
        "timeout, 5xx), sending pauses for the cool-down instead of hammering "
        "a dead endpoint; it resumes by itself.",
    )
    circuit_cooldown = fields.Integer(
        string="Cool-down (s)", default=const.DEFAULT_CIRCUIT_COOLDOWN
    )
    circuit_failures = fields.Integer(
        string="Failed Callbacks in a Row", compute="_compute_circuit"
    )
    circuit_open_until = fields.Datetime(
        string="Sending Paused Until", compute="_compute_circuit"
    )

    # === STATUS TABLE === #

    status_map_ids = fields.One2many(
        "oms.integration.status.map",
        "source_id",
        string="Status Table",
        copy=True,
        help="What the provider calls each order status Odoo sends it. Filled "
        "with the provider's usual values when the source is created: change "
        "a value when your account at the provider uses another one.",
    )

    # === CONSENT === #

    consent_ids = fields.One2many(
        "oms.integration.consent", "source_id", string="Consents"
    )
    consent_inbound = fields.Boolean(
        string="Inbound Consent", compute="_compute_consents", store=True
    )
    consent_polling = fields.Boolean(
        string="Polling Consent", compute="_compute_consents", store=True
    )
    consent_outbound = fields.Boolean(
        string="Outbound Consent", compute="_compute_consents", store=True
    )

    # === COUNTS === #

    event_count = fields.Integer(compute="_compute_counts")
    dead_letter_count = fields.Integer(compute="_compute_counts")
    sale_order_count = fields.Integer(compute="_compute_counts")
    unmapped_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        (
            "webhook_key_unique",
            "UNIQUE(webhook_key)",
            "The webhook key must be unique: regenerate it.",
        ),
        (
            "max_attempts_positive",
            "CHECK(max_attempts > 0)",
            "The maximum number of attempts must be at least 1.",
        ),
        (
            "retry_delays_positive",
            "CHECK(retry_base_delay > 0 AND retry_max_delay >= retry_base_delay)",
            "The retry base delay must be positive and not above the cap.",
        ),
        (
            "limits_positive",
            "CHECK(body_size_limit > 0 AND timestamp_tolerance > 0 "
            "AND retention_days > 0 AND poll_interval > 0)",
            "Size limit, timestamp tolerance, retention and polling interval "
            "must be positive.",
        ),
        (
            "outbound_limits_valid",
            "CHECK(rate_limit >= 0 AND circuit_threshold > 0 AND circuit_cooldown > 0)",
            "The rate limit cannot be negative; the failure count and cool-down "
            "of the circuit breaker must be positive.",
        ),
    ]

    # === COMPUTE METHODS === #

    def _compute_circuit(self):
        throttles = {
            throttle.source_id.id: throttle
            for throttle in self.env["oms.integration.throttle"]
            .sudo()
            .search([("source_id", "in", self.ids)])
        }
        now = fields.Datetime.now()
        for source in self:
            throttle = throttles.get(source.id)
            source.circuit_failures = throttle.failures if throttle else 0
            open_until = throttle and throttle.open_until
            source.circuit_open_until = (
                open_until if open_until and open_until > now else False
            )

    def _compute_refusals(self):
        groups = {
            source.id: (count, last)
            for source, count, last in self.env["oms.integration.refusal"]
            .sudo()
            ._read_group(
                [("source_id", "in", self.ids)],
                ["source_id"],
                ["__count", "received_at:max"],
            )
        }
        for source in self:
            count, last = groups.get(source.id, (0, False))
            source.refused_count = count
            source.last_refused_at = last

    @api.depends("provider", "mode")
    def _compute_uses_credentials(self):
        for source in self:
            used = source._oms_get_credential_fields()
            source.uses_api_token = "api_token" in used
            source.uses_client_id = "client_id" in used
            source.uses_login = "login" in used
            source.uses_signing_secret = "signing_secret" in used

    @api.depends("provider")
    def _compute_test_callback_available(self):
        for source in self:
            source.test_callback_available = source._oms_has_test_endpoint()

    def _compute_secret_inputs(self):
        # Write-only: a stored secret is never displayed again.
        for source in self:
            for field_name in self._oms_secret_fields():
                source[field_name] = False

    # Every stored secret, the providers' too (read from the registry).
    @api.depends(lambda self: list(self._oms_secret_fields().values()))
    @api.depends_context("uid")
    def _compute_secrets_set(self):
        for source in self:
            stored = source.sudo()
            for field_name, stored_field in self._oms_secret_fields().items():
                source[f"{field_name}_set"] = bool(stored[stored_field])

    def _compute_secret_key_missing(self):
        missing = not self._oms_secret_keys()
        for source in self:
            source.secret_key_missing = missing

    @api.depends("webhook_key")
    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        for source in self:
            source.webhook_url = keys.webhook_url(base_url, source.webhook_key)

    @api.depends("pricelist_id", "company_id")
    def _compute_currency_id(self):
        for source in self:
            source.currency_id = (
                source.pricelist_id.currency_id or source.company_id.currency_id
            )

    @api.depends(
        "consent_ids.scope", "consent_ids.revoked", "consent_ids.destination_host"
    )
    def _compute_consents(self):
        for source in self:
            valid = source.consent_ids.filtered(lambda c: not c.revoked)
            scopes = set(valid.mapped("scope"))
            source.consent_inbound = "inbound" in scopes
            source.consent_polling = "polling" in scopes
            source.consent_outbound = "outbound" in scopes

    def _compute_counts(self):
        event_groups = dict(
            self.env["oms.integration.event"]._read_group(
                [("source_id", "in", self.ids)], ["source_id"], ["__count"]
            )
        )
        dead_groups = dict(
            self.env["oms.integration.dead.letter"]._read_group(
                [("source_id", "in", self.ids), ("state", "=", "open")],
                ["source_id"],
                ["__count"],
            )
        )
        order_groups = dict(
            self.env["sale.order"]._read_group(
                [("oms_source_id", "in", self.ids)], ["oms_source_id"], ["__count"]
            )
        )
        unmapped_groups = dict(
            self.env["oms.integration.mapping"]._read_group(
                [("source_id", "in", self.ids), ("state", "=", "unmapped")],
                ["source_id"],
                ["__count"],
            )
        )
        for source in self:
            source.event_count = event_groups.get(source, 0)
            source.dead_letter_count = dead_groups.get(source, 0)
            source.sale_order_count = order_groups.get(source, 0)
            source.unmapped_count = unmapped_groups.get(source, 0)

    # === INVERSE METHODS === #

    def _inverse_secret_inputs(self):
        # One inverse for every secret input, the core's and the providers':
        # a value typed in is encrypted; an empty input leaves the secret as
        # it is (write-only inputs).
        for field_name in self._oms_secret_fields():
            self._oms_store_secret_inputs(field_name)

    # === CONSTRAINT METHODS === #

    @api.constrains("api_base_url", "callback_url")
    def _check_urls(self):
        for source in self:
            for url in (source.api_base_url, source.callback_url):
                if url and (
                    not url.startswith(("https://", "http://")) or not keys.host_of(url)
                ):
                    raise ValidationError(
                        self.env._(
                            "%(url)s is not a valid URL: enter it with http:// or "
                            "https:// and a host name.",
                            url=url,
                        )
                    )

    @api.constrains(
        "signing_secret_previous_encrypted", "signing_secret_previous_expiry"
    )
    def _check_previous_secret_end_date(self):
        for source in self.sudo():
            if (
                source.signing_secret_previous_encrypted
                and not source.signing_secret_previous_expiry
            ):
                raise ValidationError(
                    self.env._(
                        "%(name)s: set the date until which the previous signing "
                        "secret is still accepted (a rotation ends): without it, "
                        "the previous secret is refused.",
                        name=source.name,
                    )
                )

    # === ONCHANGE METHODS === #

    @api.onchange("provider")
    def _onchange_provider_status_map(self):
        self.status_map_ids = [Command.clear()] + [
            Command.create(vals) for vals in self._oms_status_map_lines()
        ]

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        sources = super().create(vals_list)
        sources.filtered(lambda s: not s.status_map_ids)._oms_reset_status_map()
        return sources

    def write(self, vals):
        hosts_before = {
            source.id: (
                keys.host_of(source.api_base_url),
                keys.host_of(source.callback_url),
            )
            for source in self
        }
        providers_before = {source.id: source.provider for source in self}
        res = super().write(vals)
        if "provider" in vals and "status_map_ids" not in vals:
            # Another provider names the statuses otherwise: its defaults.
            self.filtered(
                lambda s: s.provider != providers_before[s.id]
            )._oms_reset_status_map()
        if "webhook_key" in vals:
            self.env.registry.clear_cache()  # _oms_webhook_source_id
        if {"api_base_url", "callback_url"} & set(vals):
            for source in self:
                api_before, callback_before = hosts_before[source.id]
                if (
                    keys.host_of(source.api_base_url) != api_before
                    or keys.host_of(source.callback_url) != callback_before
                ):
                    # Consent names a destination: a new host needs a new consent.
                    source._oms_revoke_consent(
                        ("polling", "outbound"),
                        self.env._("The provider API or callback host changed."),
                    )
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()  # _oms_webhook_source_id
        return res

    # === ACTION METHODS === #

    def action_activate(self):
        for source in self:
            # The readiness check (oms_integration_source_readiness.py): its
            # blocking findings refuse activation.
            blocking = source._oms_check_readiness().filtered(
                lambda f: f.severity == "blocking"
            )
            if blocking:
                raise UserError(
                    self.env._(
                        "%(name)s cannot be activated:\n%(problems)s",
                        name=source.name,
                        problems="\n".join(
                            f"- {f.message} {f.fix or ''}".rstrip() for f in blocking
                        ),
                    )
                )
        self.write({"state": "active", "paused_reason": False})
        for source in self:
            if source.mode in const.POLLING_MODES and not source.poll_next_run:
                source.poll_next_run = fields.Datetime.now()
        self._oms_release_waiting()
        return True

    def action_pause(self):
        """Open the dialog asking why the source is paused."""
        return self.env["oms.integration.reason.wizard"]._oms_open(
            self, "_oms_pause", self.env._("Pause Source")
        )

    def action_set_draft(self):
        self.write({"state": "draft", "paused_reason": False})
        return True

    def action_regenerate_webhook_key(self):
        self.ensure_one()
        self._oms_check_manager()
        self.sudo().webhook_key = keys.new_webhook_key()
        self.message_post(
            body=self.env._(
                "The webhook key was regenerated: the previous webhook URL no "
                "longer works. Give the provider the new URL."
            )
        )
        return True

    def action_give_consent(self):
        self.ensure_one()
        self._oms_check_manager()
        return {
            "name": self.env._("Give Consent"),
            "type": "ir.actions.act_window",
            "res_model": "oms.integration.consent.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_source_id": self.id},
        }

    def action_revoke_consent(self):
        self.ensure_one()
        return self.env["oms.integration.reason.wizard"]._oms_open(
            self, "_oms_revoke_all_consents", self.env._("Revoke Consent")
        )

    def action_clear_secret(self):
        """Clear the secret named in the context key ``oms_secret``."""
        self.ensure_one()
        field_name = self.env.context.get("oms_secret")
        if field_name not in self._oms_secret_fields():
            raise UserError(self.env._("Unknown secret."))
        self._oms_check_manager()
        self.sudo()[self._oms_secret_fields()[field_name]] = False
        self.message_post(
            body=self.env._(
                "%(field)s was cleared.", field=self._fields[field_name].string
            )
        )
        return True

    def action_reencrypt_secrets(self):
        """Encrypt plaintext-stored secrets and re-encrypt under the first key."""
        self._oms_check_system()
        key_list = self._oms_secret_keys()
        if not key_list:
            raise UserError(
                self.env._(
                    "No encryption key is configured: set the server option "
                    "oms_integration_secret_key first."
                )
            )
        for source in self.sudo():
            for stored_field in self._oms_secret_fields().values():
                if source[stored_field]:
                    source[stored_field] = secretbox.reseal(
                        source[stored_field], key_list
                    )
        return True

    def _oms_action_open(self, model, name, domain, context=None):
        self.ensure_one()
        return {
            "name": name,
            "type": "ir.actions.act_window",
            "res_model": model,
            "view_mode": "list,form",
            "domain": domain,
            "context": dict(context or {}, default_source_id=self.id),
        }

    def action_view_events(self):
        return self._oms_action_open(
            "oms.integration.event", self.env._("Events"), [("source_id", "=", self.id)]
        )

    def action_view_dead_letters(self):
        return self._oms_action_open(
            "oms.integration.dead.letter",
            self.env._("Dead Letters"),
            [("source_id", "=", self.id)],
            {"search_default_open": 1},
        )

    def action_view_sale_orders(self):
        action = self._oms_action_open(
            "sale.order", self.env._("Sales Orders"), [("oms_source_id", "=", self.id)]
        )
        action["context"] = {"create": False}
        return action

    def action_view_unmapped(self):
        return self._oms_action_open(
            "oms.integration.mapping",
            self.env._("Mapping Center"),
            [("source_id", "=", self.id)],
            {"search_default_unmapped": 1},
        )

    # === BUSINESS METHODS: STATE === #

    def _oms_pause(self, reason):
        for source in self:
            source.write({"state": "paused", "paused_reason": reason})
            source.message_post(
                body=self.env._(
                    "Source paused: %(reason)s",
                    reason=reason or self.env._("no reason given"),
                )
            )

    def _oms_has_webhook_credentials(self):
        """Whether incoming webhooks can be authenticated (fail closed): by
        default, a signing secret is set. Provider addons using another
        credential (a static token header, say) override this for their
        provider."""
        self.ensure_one()
        return bool(self.sudo().signing_secret_encrypted)

    def _oms_processing_refusal(self):
        """Why the queue may not apply this source's orders now, or False: the
        source must be active and hold the consent of a way it receives
        orders. Its events wait meanwhile (never applied, never
        dead-lettered for it)."""
        self.ensure_one()
        if not self.active or self.state != "active":
            return self.env._(
                "The source %(name)s is not active: its orders wait.", name=self.name
            )
        if not (
            (self.mode in const.WEBHOOK_MODES and self.consent_inbound)
            or (self.mode in const.POLLING_MODES and self.consent_polling)
        ):
            return self.env._(
                "No administrator consent to receive orders on %(name)s: its "
                "orders wait.",
                name=self.name,
            )
        return False

    def _oms_release_waiting(self):
        """The source may take orders again: its waiting events are due now."""
        Event = self.env["oms.integration.event"].sudo()
        waiting = Event.search(
            [
                ("source_id", "in", self.ids),
                ("direction", "=", "inbound"),
                ("state", "=", "pending"),
                ("next_attempt_at", ">", fields.Datetime.now()),
            ]
        )
        if waiting:
            waiting.with_context(tracking_disable=True).write(
                {"next_attempt_at": fields.Datetime.now()}
            )
        Event._oms_trigger_runners("inbound")
        return waiting

    # === BUSINESS METHODS: SETTINGS === #

    def _oms_get_credential_fields(self):
        """The credentials of the source's own fields that the provider uses,
        among ``api_token``, ``client_id`` (with ``client_secret``), ``login``
        (with ``password``) and ``signing_secret``: the form shows only
        those. Neutral default: the signing secret of webhooks."""
        self.ensure_one()
        return {"signing_secret"}

    def _oms_get_default_status_map(self):
        """The provider's usual value of each order status it is told: a dict
        of ``const.ORDER_STATUSES`` keys to texts, which fills the status
        table of a new source. Neutral default: empty (no table)."""
        self.ensure_one()
        return {}

    def _oms_check_status_map_value(self, status, value):
        """Raise a ValidationError, in plain words, when the provider does not
        accept ``value`` for our order ``status`` in the status table.
        Neutral default: any text."""
        self.ensure_one()

    def _oms_status_map_lines(self):
        self.ensure_one()
        order = [status for status, _label in const.ORDER_STATUSES]
        defaults = self._oms_get_default_status_map()
        return [
            {"status": status, "value": defaults[status], "sequence": index}
            for index, status in enumerate(order)
            if defaults.get(status)
        ]

    def _oms_reset_status_map(self):
        """Fill the status tables with the provider's defaults."""
        for source in self:
            source.status_map_ids = [Command.clear()] + [
                Command.create(vals) for vals in source._oms_status_map_lines()
            ]

    def _oms_status_map(self):
        """The status table as a dict: our order status -> provider value."""
        self.ensure_one()
        return {line.status: line.value for line in self.sudo().status_map_ids}

    def _oms_set_status_map(self, values):
        """Set the provider values of the statuses in ``values`` (a dict) in
        the status table, adding the missing lines; the others stay."""
        self.ensure_one()
        lines = {line.status: line for line in self.status_map_ids}
        order = [status for status, _label in const.ORDER_STATUSES]
        commands = []
        for status, value in values.items():
            if status in lines:
                commands.append(Command.update(lines[status].id, {"value": value}))
            else:
                commands.append(
                    Command.create(
                        {
                            "status": status,
                            "value": value,
                            "sequence": order.index(status),
                        }
                    )
                )
        self.status_map_ids = commands

    # === BUSINESS METHODS: WEBHOOK LOOK-UP === #

    @api.model
    def _oms_find_by_webhook_key(self, webhook_key):
        """The source (archived ones too) whose webhook URL ends with
        ``webhook_key``, or an empty recordset. The key is checked for its
        shape before any query (control characters, over-long...), and the
        id of a known key is remembered by the registry."""
        if not keys.is_plausible_webhook_key(webhook_key):
            return self.browse()
        try:
            return self.browse(self._oms_webhook_source_id(webhook_key))
        except _UnknownWebhookKey:
            return self.browse()

    @tools.ormcache("webhook_key")
    def _oms_webhook_source_id(self, webhook_key):
        """The id of the source of ``webhook_key``, remembered by the
        registry; a change of a key or the set of sources clears it in every
        worker (``write``, ``unlink``). An unknown key raises, so that it is
        not remembered: random keys never fill the cache."""
        source = (
            self.sudo()
            .with_context(active_test=False)
            .search([("webhook_key", "=", webhook_key)], limit=1)
        )
        if not source:
            raise _UnknownWebhookKey()
        return source.id

    def _oms_no_test_endpoint_message(self):
        self.ensure_one()
        provider = dict(self._fields["provider"]._description_selection(self.env)).get(
            self.provider, self.provider
        )
        return self.env._(
            "%(provider)s has no test endpoint: nothing was sent. Confirm a test "
            "order of this source to send a real status.",
            provider=provider,
        )

    # === BUSINESS METHODS: MAPPING === #

    def _oms_carrier_code(self, carrier):
        """The provider's code of ``carrier`` (Mapping Center), else its name."""
        self.ensure_one()
        if not carrier:
            return ""
        mapping = (
            self.env["oms.integration.mapping"]
            .sudo()
            .search(
                [
                    ("source_id", "=", self.id),
                    ("kind", "=", "carrier"),
                    ("carrier_id", "=", carrier.id),
                    ("state", "=", "mapped"),
                ],
                limit=1,
            )
        )
        return mapping.external_code or carrier.name

    # === BUSINESS METHODS: ACCESS === #

    def _oms_check_manager(self):
        if not self.env.su and not self.env.user.has_group(
            "oms_integration.group_oms_manager"
        ):
            raise AccessError(
                self.env._("Only an OMS Integration administrator can change this.")
            )

    def _oms_check_system(self):
        if not self.env.su and not self.env.user._is_system():
            raise AccessError(self.env._("Only a system administrator can do this."))
