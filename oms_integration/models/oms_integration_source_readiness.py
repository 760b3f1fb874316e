import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..exceptions import OmsProcessingError
from ..lib import hints, redaction
from ..lib import status as status_lib


class OmsIntegrationReadinessMixin(models.AbstractModel):
    """Readiness of a source: the checks that tell an administrator, before
    orders die, what will make them fail (settings, consent, pricelists,
    taxes, products, warehouses, mappings, the provider's answers), stored as
    findings with a health score; and Test Connection, which asks the
    provider now.

    Provider addons add checks with ``_oms_readiness_checks`` and plug their
    connection test into ``_oms_connection_test_request`` (or
    ``_oms_test_connection``), super() first."""

    _name = "oms.integration.readiness.mixin"
    _description = "Integration Source Readiness"

    readiness_finding_ids = fields.One2many(
        "oms.integration.readiness.finding", "source_id", string="Readiness"
    )
    readiness_blocking_count = fields.Integer(
        string="Blocking Problems",
        readonly=True,
        copy=False,
        help="Problems found by the last readiness check that prevent activating "
        "the source.",
    )
    readiness_checked_at = fields.Datetime(
        string="Readiness Checked On", readonly=True, copy=False
    )
    health_score = fields.Integer(
        readonly=True,
        copy=False,
        default=100,
        help="100 when the last readiness check found nothing; each blocking "
        "problem takes 40 points off, each warning 10. Click Check Readiness "
        "to see what to fix.",
    )
    connection_state = fields.Selection(
        selection=const.CONNECTION_STATES,
        string="Last Connection Test",
        readonly=True,
        copy=False,
        help="What the last Test Connection found. Cleared when the addresses "
        "or credentials change.",
    )
    connection_message = fields.Text(
        string="Connection Test Result", readonly=True, copy=False
    )
    connection_checked_at = fields.Datetime(
        string="Connection Tested On", readonly=True, copy=False
    )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        sources = super().create(vals_list)
        # A new source shows what it lacks at once, not a score of 100.
        sources._oms_check_readiness()
        return sources

    def write(self, vals):
        if set(vals) & self._oms_connection_fields():
            # The last Test Connection was about other addresses or credentials.
            vals = dict(vals, connection_state=False, connection_message=False)
        if self.env.context.get("oms_readiness_later"):
            return super().write(vals)
        # The writes this one makes (the fields it is related to) must not
        # check halfway: the check reads the record while Odoo still holds
        # values to write, and would lose them. It runs once, at the end.
        mixin = super(
            OmsIntegrationReadinessMixin, self.with_context(oms_readiness_later=True)
        )
        res = mixin.write(vals)
        settings = self._oms_readiness_fields()
        written = {
            # A provider's field stored in a core one (related) counts as it.
            (self._fields[name].related or name).split(".")[0]
            for name in vals
            if name in self._fields
        }
        if written & settings:
            # Saved settings: the score follows (what changes elsewhere, such
            # as taxes or products, waits for the daily check or the button).
            self._oms_check_readiness()
        return res

    # === ACTION METHODS === #

    def action_check_readiness(self):
        """Check the source now and show what was found."""
        self.ensure_one()
        findings = self._oms_check_readiness()
        if not findings:
            title = self.env._("Ready")
            message = self.env._("Nothing to fix was found.")
            kind = "success"
        else:
            blocking = len(findings.filtered(lambda f: f.severity == "blocking"))
            title = self.env._("Health score %(score)s", score=self.health_score)
            message = self.env._(
                "%(blocking)s blocking problem(s), %(warnings)s warning(s): see "
                "the tab Readiness.",
                blocking=blocking,
                warnings=len(findings) - blocking,
            )
            kind = "danger" if blocking else "warning"
        return self._oms_notification(title, message, kind)

    def action_test_connection(self):
        """Ask the provider now, as polling and status callbacks would, and
        record what it answered (the exchanges, the source's last connection
        test and its readiness)."""
        self.ensure_one()
        self._oms_check_manager()
        results = self._oms_test_connection()
        if not results:
            raise UserError(
                self.env._(
                    "Nothing to test: this source neither polls the provider nor "
                    "sends order statuses (or the provider has no way to test "
                    "them). Webhooks are tested by the provider sending one."
                )
            )
        failed = [result for result in results if not result.ok]
        worst = next(
            (r for r in failed if r.state == "refused"), failed[0] if failed else None
        )
        lines = [
            f"{result.message} {result.hint}".strip() for result in (failed or results)
        ]
        self.write(
            {
                "connection_state": worst.state if worst else "ok",
                "connection_message": "\n".join(lines),
                "connection_checked_at": fields.Datetime.now(),
            }
        )
        self._oms_check_readiness()
        if worst:
            title, kind = self.env._("The connection test failed"), "danger"
        else:
            title, kind = self.env._("The provider answered"), "success"
        return self._oms_notification(title, "\n".join(lines), kind)

    def _oms_notification(self, title, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # === BUSINESS METHODS: READINESS === #

    @api.model
    def _cron_check_readiness(self):
        """Cron: check every source that is not archived (a source turning
        bad while nobody looks at it shows in its score)."""
        sources = self.search([("active", "=", True)])
        for source in sources:
            # Findings are written in the language of who reads them first.
            lang = source.responsible_user_id.lang or source.company_id.partner_id.lang
            source.with_context(lang=lang or self.env.lang)._oms_check_readiness()
        return sources

    def _oms_check_readiness(self):
        """Run the checks, replace the findings of each source with what they
        found, store the health score; returns the findings."""
        Finding = self.env["oms.integration.readiness.finding"].sudo()
        findings = Finding
        for source in self:
            found = source._oms_readiness_checks()
            source.sudo().readiness_finding_ids.unlink()
            created = Finding.create(
                [
                    dict(finding, source_id=source.id, sequence=index)
                    for index, finding in enumerate(found)
                ]
            )
            blocking = len(created.filtered(lambda f: f.severity == "blocking"))
            source.sudo().write(
                {
                    "readiness_blocking_count": blocking,
                    "readiness_checked_at": fields.Datetime.now(),
                    "health_score": hints.health_score(
                        blocking, len(created) - blocking, const.READINESS_WEIGHTS
                    ),
                }
            )
            findings |= created
        return findings.with_env(self.env)

    def _oms_readiness_fields(self):
        """The settings the checks read: saving one checks the source again.
        Provider addons add theirs (super() first)."""
        return self._oms_connection_fields() | {
            "active",
            "adjustment_product_id",
            "company_id",
            "discount_product_id",
            "no_rate_tax_policy",
            "partner_policy",
            "price_include_tax",
            "pricelist_id",
            "product_policy",
            "provider",
            "shipping_product_id",
            "total_policy",
            "warehouse_id",
            "warehouse_policy",
        }

    def _oms_get_activation_problems(self):
        """What prevents activating this source, in plain language: the
        blocking findings of its readiness checks (nothing stored). Provider
        addons add theirs through ``_oms_readiness_checks``."""
        self.ensure_one()
        return [
            f"{finding['message']} {finding.get('fix') or ''}".rstrip()
            for finding in self._oms_readiness_checks()
            if finding["severity"] == "blocking"
        ]

    def _oms_finding(self, code, severity, message, fix="", target="source", ids=None):
        """One finding's values, for ``_oms_readiness_checks``."""
        return {
            "code": code,
            "severity": severity,
            "message": message,
            "fix": fix or False,
            "fix_target": target,
            "fix_domain_ids": ids or False,
        }

    def _oms_readiness_checks(self):
        """What is wrong with this source: a list of finding values
        (``_oms_finding``: code, severity blocking or warning, message, fix in
        plain words, where the Fix button leads). Provider addons add their
        own for their provider only: super() first."""
        self.ensure_one()
        source = self.sudo()
        return [
            *source._oms_check_secret_key(),
            *source._oms_check_mode_settings(),
            *source._oms_check_pricelists(),
            *source._oms_check_taxes(),
            *source._oms_check_duplicate_references(),
            *source._oms_check_warehouse(),
            *source._oms_check_policy_products(),
            *source._oms_check_unmapped(),
            *source._oms_check_provider_answers(),
        ]

    def _oms_check_secret_key(self):
        if not self.secret_key_missing:
            return []
        return [
            self._oms_finding(
                "secret_key_missing",
                "warning",
                self.env._(
                    "No encryption key is configured on this server: the "
                    "source's secrets are stored unencrypted."
                ),
                self.env._(
                    "Ask the server's administrator to set the option "
                    "oms_integration_secret_key (see README), then click Encrypt "
                    "stored secrets (tab Credentials)."
                ),
            )
        ]

    def _oms_check_mode_settings(self):
        found = []
        if self.mode in const.WEBHOOK_MODES:
            if not self.consent_inbound:
                found.append(
                    self._oms_finding(
                        "consent_inbound",
                        "blocking",
                        self.env._("No inbound consent: webhooks are refused."),
                        self.env._(
                            "An administrator must give inbound consent (button "
                            "Give Consent)."
                        ),
                    )
                )
            if not self._oms_has_webhook_credentials():
                found.append(
                    self._oms_finding(
                        "webhook_credentials",
                        "blocking",
                        self.env._(
                            "No credentials to authenticate webhooks: they are "
                            "refused without them."
                        ),
                        self.env._(
                            "Set the credentials that authenticate webhooks (the "
                            "signing secret, tab Credentials, or the provider's "
                            "token)."
                        ),
                    )
                )
        if self.mode in const.POLLING_MODES:
            if not self.consent_polling:
                found.append(
                    self._oms_finding(
                        "consent_polling",
                        "blocking",
                        self.env._("No polling consent: orders are not fetched."),
                        self.env._(
                            "An administrator must give polling consent (button "
                            "Give Consent)."
                        ),
                    )
                )
            if not self.api_base_url:
                found.append(
                    self._oms_finding(
                        "api_url_missing",
                        "blocking",
                        self.env._("No provider API URL: polling has nowhere to go."),
                        self.env._(
                            "Set the provider API URL used for polling (tab "
                            "Connection)."
                        ),
                    )
                )
        if self.outbound_enabled:
            if not self.callback_url:
                found.append(
                    self._oms_finding(
                        "callback_url_missing",
                        "blocking",
                        self.env._(
                            "Order statuses are to be sent, but there is no status "
                            "callback URL."
                        ),
                        self.env._(
                            "Set the status callback URL (tab Connection), or turn "
                            "off Send Order Statuses."
                        ),
                    )
                )
            if not self.consent_outbound:
                found.append(
                    self._oms_finding(
                        "consent_outbound",
                        "warning",
                        self.env._(
                            "No outbound consent: order statuses are not sent to "
                            "the provider."
                        ),
                        self.env._(
                            "An administrator must give outbound consent (button "
                            "Give Consent), or turn off Send Order Statuses."
                        ),
                    )
                )
        return found

    def _oms_get_order_currencies(self):
        """The currencies (ISO codes) of the provider's orders: those the
        source must have a pricelist for. By default the source's currency;
        provider addons whose orders are always in one currency return it."""
        self.ensure_one()
        return [self.currency_id.name] if self.currency_id else []

    def _oms_check_pricelists(self):
        # The builder's own choice of a pricelist, for an order of each
        # currency without a price list code.
        Builder = self.env["oms.integration.order.builder"]
        found = []
        for currency in self._oms_get_order_currencies():
            try:
                Builder._oms_pricelist(
                    self, SimpleNamespace(currency=currency, pricelist_code="")
                )
            except OmsProcessingError as exc:
                found.append(
                    self._oms_finding(
                        "pricelist_missing",
                        "blocking",
                        self.env._(
                            "%(problem)s Every order in %(currency)s would fail.",
                            problem=exc.message,
                            currency=currency,
                        ),
                        exc.hint.replace(", then requeue this event", ""),
                        "pricelists",
                    )
                )
        return found

    def _oms_get_tax_rates(self):
        """The tax rates the provider sends on lines (normalized texts such as
        "8" or "KCT"): each needs a sales tax. Provider addons whose rates
        differ override this."""
        self.ensure_one()
        return list(const.READINESS_TAX_RATES)

    def _oms_check_taxes(self):
        # The builder's own search, for a line of each rate: what it finds
        # here it finds for orders.
        Lines = self.env["oms.integration.order.lines"]
        missing = []
        for rate in self._oms_get_tax_rates():
            unresolved = []
            Lines._oms_resolve_taxes(self, SimpleNamespace(tax_rate=rate), unresolved)
            if unresolved:
                missing.append(rate if rate.isalpha() else f"{rate}%")
        if not missing:
            return []
        return [
            self._oms_finding(
                "tax_missing",
                "warning",
                self.env._(
                    "No sales tax for the rates %(rates)s (prices %(included)s): "
                    "order lines with these rates fail.",
                    rates=", ".join(missing),
                    included=self.env._("tax included")
                    if self.price_include_tax
                    else self.env._("tax excluded"),
                ),
                self.env._(
                    "Create the company's sales tax of each percentage (Invoicing "
                    "> Configuration > Taxes), or map the rate to a tax in the "
                    "Mapping Center (kind Tax; a category such as KCT only this "
                    "way)."
                ),
                "taxes",
            )
        ]

    def _oms_check_duplicate_references(self):
        if self.product_policy not in ("match", "match_create"):
            return []
        groups = self.env["product.product"]._read_group(
            [
                ("default_code", "!=", False),
                ("company_id", "in", (False, self.company_id.id)),
                ("sale_ok", "=", True),
            ],
            ["default_code"],
            ["id:array_agg"],
            having=[("__count", ">", 1)],
        )
        if not groups:
            return []
        sample = [code for code, _ids in groups[: const.READINESS_SAMPLE_SIZE]]
        return [
            self._oms_finding(
                "duplicate_references",
                "warning",
                self.env._(
                    "%(count)s internal references are used by several products "
                    "(%(sample)s): orders naming them by SKU cannot choose one "
                    "and fail.",
                    count=len(groups),
                    sample=", ".join(sample),
                ),
                self.env._(
                    "Give each product its own internal reference, or map these "
                    "SKUs to a product in the Mapping Center."
                ),
                "products",
                sorted(i for _code, ids in groups for i in ids),
            )
        ]

    def _oms_check_warehouse(self):
        # The builder uses a mapped warehouse, else the source's, else the
        # company's first (Odoo's default on a sale order).
        if self.warehouse_id:
            return []
        count = self.env["stock.warehouse"].search_count(
            [("company_id", "=", self.company_id.id)]
        )
        if not count:
            return [
                self._oms_finding(
                    "warehouse_missing",
                    "blocking",
                    self.env._(
                        "The company %(company)s has no warehouse: its orders "
                        "cannot be delivered.",
                        company=self.company_id.name,
                    ),
                    self.env._(
                        "Create a warehouse for the company (Inventory > "
                        "Configuration > Warehouses), then set it on the source "
                        "(tab Order Defaults)."
                    ),
                    "warehouses",
                )
            ]
        if count > 1:
            return [
                self._oms_finding(
                    "warehouse_default",
                    "warning",
                    self.env._(
                        "No warehouse is set on the source: orders go to the "
                        "company's first warehouse unless the provider's "
                        "warehouse codes are mapped."
                    ),
                    self.env._("Set the Warehouse of the source (tab Order Defaults)."),
                )
            ]
        return []

    def _oms_check_policy_products(self):
        # Odoo creates its own discount product when missing: only the
        # shipping product (without a carrier giving one) and the adjustment
        # product of the 'Adjust' policy really fail.
        found = []
        if self.total_policy == "adjust" and not self.adjustment_product_id:
            found.append(
                self._oms_finding(
                    "adjustment_product_missing",
                    "blocking",
                    self.env._(
                        "When totals differ, the source adds an adjustment line, "
                        "but no Total Adjustment Product is set: such orders fail."
                    ),
                    self.env._(
                        "Set the Total Adjustment Product (tab Order Defaults), or "
                        "choose another policy for When Totals Differ."
                    ),
                )
            )
        carriers = self.env["oms.integration.mapping"].search_count(
            [
                ("source_id", "=", self.id),
                ("kind", "=", "carrier"),
                ("state", "=", "mapped"),
                ("carrier_id.product_id", "!=", False),
            ]
        )
        if not self.shipping_product_id and not carriers:
            found.append(
                self._oms_finding(
                    "shipping_product_missing",
                    "warning",
                    self.env._(
                        "No Shipping Product and no mapped carrier: orders that "
                        "charge shipping fail."
                    ),
                    self.env._(
                        "Set a Shipping Product (tab Order Defaults), or map the "
                        "provider's carriers in the Mapping Center."
                    ),
                )
            )
        return found

    def _oms_check_unmapped(self):
        count = self.env["oms.integration.mapping"].search_count(
            [("source_id", "=", self.id), ("state", "=", "unmapped")]
        )
        if not count:
            return []
        return [
            self._oms_finding(
                "unmapped_codes",
                "warning",
                self.env._(
                    "%(count)s provider codes wait in the Mapping Center: the "
                    "orders using them fail until they are mapped.",
                    count=count,
                ),
                self.env._("Map them in the Mapping Center, then Retry the orders."),
                "mapping",
            )
        ]

    def _oms_check_provider_answers(self):
        found = []
        if self.connection_state in ("refused", "unreachable", "failed"):
            found.append(
                self._oms_finding(
                    f"connection_{self.connection_state}",
                    "blocking" if self.connection_state == "refused" else "warning",
                    self.env._(
                        "The last connection test failed: %(result)s",
                        result=self.connection_message or "",
                    ),
                    self.env._("Fix it, then click Test Connection."),
                    "exchanges",
                )
            )
        if self.mode in const.POLLING_MODES and self.poll_failure_count:
            found.append(
                self._oms_finding(
                    "polling_failing",
                    "warning",
                    self.env._(
                        "The last %(count)s polling runs failed: %(result)s",
                        count=self.poll_failure_count,
                        result=self.poll_last_result or "",
                    ),
                    self.env._("Fix what the result says, then click Test Connection."),
                )
            )
        if self.outbound_enabled:
            if self.circuit_open_until:
                found.append(
                    self._oms_finding(
                        "circuit_open",
                        "warning",
                        self.env._(
                            "Status callbacks failed %(count)s times in a row: "
                            "sending is paused until %(until)s (UTC).",
                            count=self.circuit_failures,
                            until=fields.Datetime.to_string(self.circuit_open_until),
                        ),
                        self.env._(
                            "Read the provider's answers in the HTTP exchanges and "
                            "fix the cause; sending resumes by itself."
                        ),
                        "exchanges",
                    )
                )
            last = self.env["oms.integration.exchange"].search(
                [
                    ("source_id", "=", self.id),
                    (
                        "create_date",
                        ">=",
                        fields.Datetime.now()
                        - timedelta(hours=const.READINESS_RECENT_HOURS),
                    ),
                ],
                order="id desc",
                limit=1,
            )
            if last and last.outcome != "delivered" and not self.circuit_open_until:
                answer = (
                    last.error
                    or f"HTTP {last.status_code} {(last.response_body or '')[:200]}"
                )
                found.append(
                    self._oms_finding(
                        "callbacks_failing",
                        "warning",
                        self.env._(
                            "The last request to the provider failed: %(answer)s",
                            answer=answer.strip(),
                        ),
                        self.env._(
                            "Read the provider's answer in the HTTP exchanges and "
                            "fix the cause; failed statuses are retried by "
                            "themselves."
                        ),
                        "exchanges",
                    )
                )
        return found

    # === BUSINESS METHODS: TEST CONNECTION === #

    def _oms_connection_fields(self):
        """The fields that make the last connection test out of date."""
        return {
            "api_base_url",
            "callback_url",
            "client_id",
            "login",
            "mode",
            "outbound_enabled",
            *self._oms_secret_fields(),
        }

    def _oms_connection_test_request(self, scope):
        """The cheapest request that proves the provider answers and accepts
        our credentials, for ``scope``: ``polling`` (its API) or ``outbound``
        (its status endpoint, when it has no test callback): a request dict
        (method, url, headers, body), or False when the provider has none.
        Raise ``OmsProcessingError`` when it cannot be built (a sign-in
        refused). Neutral default: False."""
        self.ensure_one()
        return False

    def _oms_test_connection(self):
        """Test the provider's API (polling modes) and its status endpoint
        (when statuses are sent): a list of ``lib.hints.ConnectionResult``.
        Each request is logged as an exchange; none goes to a host without
        the consent of its scope."""
        self.ensure_one()
        results = []
        if self.mode in const.POLLING_MODES:
            results.append(self._oms_probe("polling"))
        if self.outbound_enabled:
            if self._oms_has_test_endpoint():
                results.append(self._oms_probe_test_callback())
            else:
                results.append(self._oms_probe("outbound"))
        return [result for result in results if result]

    def _oms_connection_refusal(self, scope):
        """Why no test request of ``scope`` may be sent, or False: the
        consent of the scope (it names the host: a new host revokes it),
        and, for an active source, every rule of live traffic."""
        self.ensure_one()
        if self.state == "active":
            return self._oms_traffic_refusal(scope)
        consent = self.consent_polling if scope == "polling" else self.consent_outbound
        if not consent:
            return self.env._(
                "No %(scope)s consent for %(host)s: nothing was sent. Give "
                "consent (button Give Consent), then test again.",
                scope=dict(const.CONSENT_SCOPES)[scope].split(" (")[0].lower(),
                host=self._oms_destination_hosts()[scope] or "-",
            )
        return False

    def _oms_connection_event(self, scope):
        """A test event carrying the exchanges of a connection test (never
        queued: it is done or discarded at once)."""
        payload = {
            "type": "test",
            "scope": scope,
            "occurred_at": status_lib.format_datetime(fields.Datetime.now()),
            "message": "Connection test from Odoo",
        }
        event = (
            self.env["oms.integration.event"]
            .sudo()
            .with_context(tracking_disable=True)
            .create(
                {
                    "direction": "outbound",
                    "source_id": self.id,
                    "event_type": "test",
                    "delivery_id": f"test_{uuid.uuid4().hex}",
                    "payload": json.dumps(payload),
                    "next_attempt_at": False,
                }
            )
        )
        event._set_processing()
        return event

    def _oms_probe(self, scope):
        """Send the provider's test request of ``scope`` and read its answer."""
        target = self._oms_hint_target(scope)
        refusal = self._oms_connection_refusal(scope)
        if refusal:
            return hints.ConnectionResult(scope, "failed", refusal)
        try:
            request = self._oms_connection_test_request(scope)
        except OmsProcessingError as exc:
            return hints.ConnectionResult(
                scope,
                "failed" if exc.permanent else "unreachable",
                exc.message,
                exc.hint or "",
            )
        if not request:
            return None
        event = self._oms_connection_event(scope)
        response, error, duration = self._oms_send_request(request)
        if response is None:
            key = hints.classify_error_text(error)
        else:
            key = hints.classify_status(response.status_code)
        self.env["oms.integration.exchange"]._oms_log(
            event,
            request,
            response,
            error,
            "delivered" if key is None else "permanent",
            round(duration, 3),
        )
        if key is None:
            event._set_done(note=self.env._("Connection test: the provider answered."))
            return hints.ConnectionResult(
                scope,
                "ok",
                self.env._(
                    "%(target)s answered (HTTP %(status)s).",
                    target=target[:1].upper() + target[1:],
                    status=response.status_code,
                ),
            )
        result = self._oms_connection_result(scope, key, response, error)
        # A test is never retried: its answer is shown now and kept.
        event._set_failed(result.message, result.hint)
        event._set_discarded(self.env._("Connection test (not retried)."))
        return result

    def _oms_probe_test_callback(self):
        """The provider's own test callback (a signed test status)."""
        refusal = self._oms_connection_refusal("outbound")
        if refusal:
            return hints.ConnectionResult("outbound", "failed", refusal)
        event = self._oms_connection_event("outbound")
        exchange = self.env["oms.integration.sender"]._oms_send_now(event)
        if event.state == "done":
            return hints.ConnectionResult(
                "outbound",
                "ok",
                self.env._("The status endpoint accepted a test callback."),
            )
        event._set_discarded(self.env._("Test callback (not retried)."))
        if exchange and exchange.status_code:
            key = hints.classify_status(exchange.status_code) or hints.CLIENT_ERROR
            return self._oms_connection_result(
                "outbound",
                key,
                SimpleNamespace(
                    status_code=exchange.status_code,
                    text=exchange.response_body or "",
                ),
                None,
            )
        if exchange:
            return self._oms_connection_result(
                "outbound",
                hints.classify_error_text(exchange.error),
                None,
                exchange.error,
            )
        return hints.ConnectionResult(
            "outbound", "failed", event.last_error or "", event.error_hint or ""
        )

    def _oms_connection_result(self, scope, key, response, error):
        secrets = self._oms_known_secret_values()
        problem, action = self.env["oms.integration.hints"]._oms_hint(
            key,
            status=response.status_code if response is not None else "",
            body=redaction.redact_and_cut(
                response.text if response is not None else "", secrets, 300
            ),
            error=error or "",
            target=self._oms_hint_target(scope),
            credentials=self._oms_hint_credentials(scope),
        )
        return hints.ConnectionResult(
            scope,
            hints.CONNECTION_STATE_OF.get(key, "failed"),
            redaction.redact_text(problem, secrets),
            action,
        )

    def _oms_hint_target(self, scope):
        """The setting holding the address of ``scope``, for hints. Provider
        addons naming it otherwise override this."""
        self.ensure_one()
        if scope == "outbound":
            return self.env._("the Status Callback URL")
        return self.env._("the Provider API URL")

    def _oms_hint_credentials(self, scope):
        """The credentials sent for ``scope``, for hints."""
        self.ensure_one()
        if scope == "outbound":
            return self.env._("the signing secret")
        return self.env._("the API token")
