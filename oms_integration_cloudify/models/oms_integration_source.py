import json
import logging
from urllib.parse import urlencode

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from odoo.addons.oms_integration import const as core_const
from odoo.addons.oms_integration.exceptions import OmsProcessingError
from odoo.addons.oms_integration.lib import keys, outbound, redaction

from .. import const
from ..lib import auth, callbacks, parser
from .oms_integration_source_session import CloudifySignInRefused

_logger = logging.getLogger(__name__)


class OmsIntegrationSource(models.Model):
    _name = "oms.integration.source"
    _inherit = ["oms.integration.source", "oms.integration.cloudify.session.mixin"]

    # === FIELDS === #

    provider = fields.Selection(
        selection_add=[(const.PROVIDER_CODE, "Cloudify")],
        ondelete={const.PROVIDER_CODE: "set default"},
    )
    # Stored in the core's fields, so that consent (its destination host),
    # URL checks and activation rules apply unchanged.
    cloudify_url = fields.Char(
        string="Cloudify Tenant URL",
        related="api_base_url",
        readonly=False,
        help="The address of your Cloudify tenant, such as "
        "https://<tenant>.cloudify.vn: sign-in and polling go there. It is the "
        "source's Provider API URL.",
    )
    cloudify_status_url = fields.Char(
        string="Cloudify Status Endpoint",
        related="callback_url",
        readonly=False,
        help="Where order statuses are sent: by default "
        "/rest_api/private/sale_document/status on the tenant. It is the "
        "source's Status Callback URL.",
    )
    cloudify_auth_mode = fields.Selection(
        selection=const.AUTH_MODES,
        string="Cloudify Sign-in",
        default=const.DEFAULT_AUTH_MODE,
        help="How Odoo signs in to Cloudify. Session Login: as a Cloudify user "
        "(database, login and password of that user). OAuth2 Client "
        "Credentials: with the client ID and client secret Cloudify gives you.",
    )
    cloudify_database = fields.Char(
        help="The database name of the tenant, for the session login (and sent "
        "with polling when the server holds several databases).",
    )
    cloudify_login = fields.Char()
    cloudify_token_url = fields.Char(
        string="Cloudify Token URL",
        help="OAuth2 token endpoint, such as https://<tenant>.cloudify.vn/oauth/token. "
        "It must be on the tenant's host or the status endpoint's, which you "
        "give consent for: the client secret is sent there.",
    )
    cloudify_client_id = fields.Char()
    cloudify_scope = fields.Char(help="Only if Cloudify asks for one.")
    # Write-only secret inputs (the core's secret helper encrypts them).
    cloudify_password = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
    )
    cloudify_client_secret = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
    )
    cloudify_access_token = fields.Char(
        string="Cloudify Session or Token",
        compute="_compute_secret_inputs",
        inverse="_inverse_secret_inputs",
        groups="oms_integration.group_oms_manager",
        help="The session id or access token in use, obtained by Odoo itself.",
    )
    cloudify_password_encrypted = fields.Char(groups="base.group_system", copy=False)
    cloudify_client_secret_encrypted = fields.Char(
        groups="base.group_system", copy=False
    )
    cloudify_password_set = fields.Boolean(compute="_compute_secrets_set")
    cloudify_client_secret_set = fields.Boolean(compute="_compute_secrets_set")
    cloudify_access_token_set = fields.Boolean(compute="_compute_secrets_set")

    # The session or token in use, kept apart (oms.integration.cloudify.token):
    # its renewals never write the source's row.
    cloudify_token_ids = fields.One2many(
        "oms.integration.cloudify.token",
        "source_id",
        string="Cloudify Session",
        groups="base.group_system",
    )
    cloudify_access_token_encrypted = fields.Char(
        compute="_compute_cloudify_access_token_encrypted",
        inverse="_inverse_cloudify_access_token_encrypted",
        groups="base.group_system",
    )
    cloudify_token_expires_at = fields.Datetime(
        string="Cloudify Session Valid Until",
        compute="_compute_cloudify_token",
        help="Renewed ahead of this moment by a scheduled action and before each call.",
    )
    cloudify_auth_error = fields.Text(
        string="Cloudify Sign-in Error",
        compute="_compute_cloudify_token",
        help="Why the last sign-in failed; cleared by the next one that works.",
    )
    cloudify_auth_error_at = fields.Datetime(
        string="Cloudify Sign-in Failed On", compute="_compute_cloudify_token"
    )
    cloudify_auth_state = fields.Selection(
        selection=const.AUTH_STATES,
        string="Cloudify Sign-in State",
        compute="_compute_cloudify_token",
    )

    # === COMPUTE METHODS === #

    # Apart from the fields below: the secret helper writes it, and the
    # fields computed with a field being written keep their value meanwhile.
    @api.depends("cloudify_token_ids.token_encrypted")
    def _compute_cloudify_access_token_encrypted(self):
        for source in self:
            token = source.sudo().cloudify_token_ids[:1]
            source.cloudify_access_token_encrypted = token.token_encrypted

    @api.depends(
        "cloudify_token_ids.token_encrypted",
        "cloudify_token_ids.expires_at",
        "cloudify_token_ids.error",
        "cloudify_token_ids.error_at",
    )
    def _compute_cloudify_token(self):
        now = fields.Datetime.now()
        for source in self:
            token = source.sudo().cloudify_token_ids[:1]
            source.cloudify_token_expires_at = token.expires_at
            source.cloudify_auth_error = token.error
            source.cloudify_auth_error_at = token.error_at
            if token.error:
                source.cloudify_auth_state = "failed"
            elif token.token_encrypted and (token.expires_at or now) > now:
                source.cloudify_auth_state = "ok"
            else:
                source.cloudify_auth_state = "none"

    # === INVERSE METHODS === #

    def _inverse_cloudify_access_token_encrypted(self):
        # The core's secret helper (set, clear, re-encrypt) writes here.
        Token = self.env["oms.integration.cloudify.token"]
        for source in self:
            stored = source.sudo().cloudify_access_token_encrypted
            vals = {"token_encrypted": stored or False}
            if not stored:
                vals["expires_at"] = False
            Token._cloudify_of(source).write(vals)

    # === CONSTRAINT METHODS === #

    @api.constrains("cloudify_token_url")
    def _check_cloudify_token_url(self):
        for source in self:
            url = source.cloudify_token_url
            if url and (
                not url.startswith(("https://", "http://")) or not keys.host_of(url)
            ):
                raise ValidationError(
                    self.env._(
                        "The Cloudify token URL %(url)s is not a valid URL: enter "
                        "it with https:// and the tenant's host, such as "
                        "https://<tenant>.cloudify.vn/oauth/token.",
                        url=url,
                    )
                )

    # === CRUD METHODS === #

    def write(self, vals):
        res = super().write(vals)
        if set(const.CREDENTIAL_FIELDS) & set(vals):
            # New credentials: a failed sign-in is worth trying again, and the
            # cached session belongs to the old ones.
            cloudify = self.filtered(lambda s: s.provider == const.PROVIDER_CODE)
            if cloudify:
                self.env["oms.integration.cloudify.token"].sudo().search(
                    [("source_id", "in", cloudify.ids)]
                )._cloudify_forget()
        return res

    # === ONCHANGE METHODS === #

    @api.onchange("provider", "api_base_url", "cloudify_url")
    def _onchange_cloudify_url(self):
        tenant = (self.cloudify_url or self.api_base_url or "").rstrip("/")
        if self.provider != const.PROVIDER_CODE or not tenant:
            return
        if not self.callback_url:
            self.callback_url = tenant + callbacks.DEFAULT_STATUS_PATH
        if not self.cloudify_token_url:
            self.cloudify_token_url = tenant + "/oauth/token"

    # === ACTION METHODS === #

    def action_cloudify_sign_in(self):
        """Sign in to Cloudify now (a new session or token) and say how it
        went. Refused (nothing sent) without consent for the host the
        credentials would go to; a failed sign-in is recorded on the source
        and shown, in the request's transaction."""
        self.ensure_one()
        self._oms_check_manager()
        try:
            token = self._cloudify_refresh(force=True)
        except CloudifySignInRefused as exc:
            raise UserError(exc.message) from exc
        except OmsProcessingError as exc:
            # Recorded on the source (its alert, its managers' activity):
            # shown, not raised, so that the record is kept.
            return self._cloudify_notification(
                self.env._("Signing in to Cloudify failed"),
                f"{exc.message}\n{exc.hint or ''}".strip(),
                "danger",
            )
        return self._cloudify_notification(
            self.env._("Signed in to Cloudify"),
            self.env._(
                "The session is valid until %(until)s (UTC).",
                until=fields.Datetime.to_string(token.expires_at),
            ),
            "success",
        )

    def _cloudify_notification(self, title, message, kind):
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

    # === BUSINESS METHODS: SETTINGS === #

    def _cloudify_state_map(self):
        """The source's state map: its status table, completed by the
        defaults."""
        self.ensure_one()
        return dict(const.DEFAULT_STATE_MAP, **self._oms_status_map())

    def _cloudify_import_state_map(self, text):
        """Copy the state map of an earlier version (a JSON object of
        Cloudify states by order status, ``text``) into the status table;
        what is not a Cloudify state of a known status is left out (the
        default stays)."""
        self.ensure_one()
        try:
            states = json.loads(text or "{}")
        except ValueError:
            states = {}
        if not isinstance(states, dict):
            states = {}
        known = dict(core_const.ORDER_STATUSES)
        self._oms_set_status_map(
            {
                status: state.strip()
                for status, state in states.items()
                if status in known
                and isinstance(state, str)
                and state.strip() in callbacks.STATES
            }
        )

    def _cloudify_tenant_url(self):
        self.ensure_one()
        return (self.api_base_url or "").rstrip("/")

    # === BUSINESS METHODS: REQUESTS === #

    def _cloudify_token_of(self, headers):
        """The session id or token a request's ``headers`` carry."""
        value = (headers or {}).get("Authorization") or ""
        if value.startswith("Bearer "):
            return value[len("Bearer ") :]
        cookie = (headers or {}).get("Cookie") or ""
        name, _sep, value = cookie.partition("=")
        return value if name == auth.SESSION_COOKIE else None

    def _cloudify_auth_headers(self, token):
        return auth.auth_headers(self.cloudify_auth_mode, token)

    def _cloudify_request(self, method, url, **kwargs):
        """One call to Cloudify's API with a valid session or token (polling,
        a cron's work: it commits, as the rate limit does): when Cloudify
        answers that it has expired, sign in again (once, one worker at a
        time) and repeat the call once. Returns the ``requests`` response;
        errors become ``OmsProcessingError`` (secrets redacted)."""
        self.ensure_one()
        self._oms_take_request_slot()
        token = self._cloudify_get_token_committed()
        response = self._cloudify_send(method, url, token, **kwargs)
        if auth.is_expired_answer(
            response.status_code, response.headers, response.content
        ):
            token = self._cloudify_get_token_committed(stale=token.value)
            response = self._cloudify_send(method, url, token, **kwargs)
            if auth.is_expired_answer(
                response.status_code, response.headers, response.content
            ):
                raise self._oms_hint_error("cloudify_session_refused", permanent=False)
        if response.status_code >= 400:
            # Cloudify's own words (JSON-RPC or REST error) after what the
            # status means; 5xx and 429 retried, any other needs a fix.
            raise self._oms_http_failure(
                response,
                answer=redaction.redact_text(
                    callbacks.read_error(response.status_code, response.content),
                    self._oms_known_secret_values(),
                ),
            )
        return response

    def _cloudify_send(self, method, url, token, **kwargs):
        """Send one call with ``token``; a transport failure becomes the
        core's retried ``OmsProcessingError`` (a timeout, TLS, DNS...)."""
        try:
            return self._oms_http_session().request(
                method,
                url,
                headers=self._cloudify_auth_headers(token),
                timeout=core_const.HTTP_TIMEOUTS,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise self._oms_http_failure(exc) from exc

    # === PROVIDER HOOKS === #

    def _oms_get_default_status_map(self):
        status_map = super()._oms_get_default_status_map()
        if self.provider != const.PROVIDER_CODE:
            return status_map
        return dict(const.DEFAULT_STATE_MAP)

    def _oms_personal_data_keys(self):
        keys = super()._oms_personal_data_keys()
        if self.provider != const.PROVIDER_CODE:
            return keys
        return keys | const.PERSONAL_DATA_KEYS

    def _oms_check_status_map_value(self, status, value):
        super()._oms_check_status_map_value(status, value)
        if self.provider != const.PROVIDER_CODE:
            return
        try:
            callbacks.cloudify_state(status, {status: value})
        except ValueError as exc:
            raise ValidationError(
                self.env._(
                    "Cloudify has no state '%(value)s': write one of %(states)s "
                    "in the status table (tab Cloudify).",
                    value=value,
                    states=", ".join(callbacks.STATES),
                )
            ) from exc

    def _oms_secret_fields(self):
        return dict(super()._oms_secret_fields(), **const.SECRET_FIELDS)

    def _oms_readiness_checks(self):
        found = super()._oms_readiness_checks()
        if self.provider != const.PROVIDER_CODE or not self._cloudify_needs_auth():
            return found
        if self.cloudify_auth_mode == const.AUTH_MODE_OAUTH:
            required = [
                (self.cloudify_token_url, self.env._("the token URL")),
                (self.cloudify_client_id, self.env._("the client ID")),
                (
                    self.sudo().cloudify_client_secret_encrypted,
                    self.env._("the client secret"),
                ),
            ]
        else:
            required = [
                (self.api_base_url, self.env._("the tenant URL")),
                (self.cloudify_database, self.env._("the database")),
                (self.cloudify_login, self.env._("the login")),
                (self.sudo().cloudify_password_encrypted, self.env._("the password")),
            ]
        missing = [label for value, label in required if not value]
        if missing:
            found.append(
                self._oms_finding(
                    "cloudify_sign_in_settings",
                    "blocking",
                    self.env._(
                        "Odoo cannot sign in to Cloudify: %(missing)s missing.",
                        missing=", ".join(missing),
                    ),
                    self.env._(
                        "Set the Cloudify sign-in settings (tab Cloudify): "
                        "%(missing)s.",
                        missing=", ".join(missing),
                    ),
                )
            )
        if self.cloudify_auth_error:
            found.append(
                self._oms_finding(
                    "cloudify_sign_in_fails",
                    "blocking",
                    self.env._(
                        "Signing in to Cloudify fails: %(error)s",
                        error=self.cloudify_auth_error,
                    ),
                    self.env._(
                        "Fix the Cloudify sign-in settings (tab Cloudify), then "
                        "click Sign In Now."
                    ),
                )
            )
        return found

    def _oms_get_order_currencies(self):
        currencies = super()._oms_get_order_currencies()
        if self.provider != const.PROVIDER_CODE:
            return currencies
        return [parser.CURRENCY]  # Cloudify sends VND, or no currency

    def _oms_connection_test_request(self, scope):
        request = super()._oms_connection_test_request(scope)
        if self.provider != const.PROVIDER_CODE or scope != "polling":
            return request
        # Signing in (or the session in use), then the smallest search.
        token = self._cloudify_get_token()
        params = parser.poll_params(None, 1, 1, db=self.cloudify_database or None)
        return {
            "method": "GET",
            "url": f"{self._cloudify_tenant_url()}{parser.SEARCH_PATH}?"
            f"{urlencode(params)}",
            "headers": self._cloudify_auth_headers(token),
            "body": None,
        }

    def _oms_hint_target(self, scope):
        target = super()._oms_hint_target(scope)
        if self.provider != const.PROVIDER_CODE:
            return target
        if scope == "outbound":
            return self.env._("the Cloudify status endpoint (tab Cloudify)")
        return self.env._("the Cloudify tenant URL (tab Cloudify)")

    def _oms_hint_credentials(self, scope):
        credentials = super()._oms_hint_credentials(scope)
        if self.provider != const.PROVIDER_CODE:
            return credentials
        return self.env._("the Cloudify sign-in settings (tab Cloudify)")

    def _oms_parse_delivery(self, body):
        result = super()._oms_parse_delivery(body)
        if self.provider != const.PROVIDER_CODE:
            return result
        return parser.parse_delivery(body)

    def _oms_fetch_page(self, since, page):
        result = super()._oms_fetch_page(since, page)
        if self.provider != const.PROVIDER_CODE:
            return result
        # Offset pages (our proposed API): see the addon's README for the
        # order that may slip past a page boundary while a poll runs.
        params = parser.poll_params(
            since or None, page, self.poll_page_size, db=self.cloudify_database or None
        )
        response = self._cloudify_request(
            "GET", self._cloudify_tenant_url() + parser.SEARCH_PATH, params=params
        )
        try:
            return parser.parse_poll_page(response.content, page, self.poll_page_size)
        except parser.PollError as exc:
            raise self._oms_hint_error(
                "cloudify_poll_unreadable", permanent=False, error=exc
            ) from exc

    def _oms_has_test_endpoint(self):
        available = super()._oms_has_test_endpoint()
        if self.provider != const.PROVIDER_CODE:
            return available
        return False  # Cloudify has no test endpoint

    def _oms_build_status_request(self, event):
        request = super()._oms_build_status_request(event)
        if self.provider != const.PROVIDER_CODE:
            return request
        try:
            body = callbacks.status_from_compatible(
                event.sudo().payload or "{}", self._cloudify_state_map()
            )
        except (ValueError, TypeError, ValidationError) as exc:
            raise self._oms_hint_error(
                "cloudify_status_unbuildable", "outbound", error=exc
            ) from exc
        token = self._cloudify_get_token()
        return {
            "method": "POST",
            "url": self.callback_url,
            "headers": {
                "Content-Type": "application/json",
                **self._cloudify_auth_headers(token),
            },
            "body": callbacks.dumps(body),
        }

    def _oms_send_request(self, request):
        response, error, duration = super()._oms_send_request(request)
        if (
            self.provider != const.PROVIDER_CODE
            or response is None
            or not auth.is_expired_answer(
                response.status_code, response.headers, response.content
            )
        ):
            return response, error, duration
        # The session expired: sign in again (once) and send once more.
        stale = self._cloudify_token_of(request.get("headers"))
        try:
            # A savepoint: the sender goes on with this transaction whatever
            # the row's lock meets.
            with self.env.cr.savepoint():
                try:
                    token = self._cloudify_get_token(stale=stale)
                except OmsProcessingError:
                    token = None  # recorded on the source (kept); retried
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            # Another worker renewed it meanwhile: this status is sent again
            # later (the expired answer says so), with that renewal.
            token = None
        if token is None:
            return response, error, duration
        request["headers"] = dict(
            request.get("headers") or {}, **self._cloudify_auth_headers(token)
        )
        retried, error, more = super()._oms_send_request(request)
        return retried, error, duration + more

    def _oms_read_status_answer(self, response, error):
        outcome, message, retry_after = super()._oms_read_status_answer(response, error)
        if self.provider != const.PROVIDER_CODE or response is None:
            return outcome, message, retry_after
        if auth.is_expired_answer(
            response.status_code, response.headers, response.content
        ):
            return (
                outbound.RETRY,
                self.env["oms.integration.hints"]._oms_hint("cloudify_session_refused")[
                    0
                ],
                retry_after,
            )
        # Cloudify may answer its errors with HTTP 200 (JSON-RPC): the body decides.
        problem = callbacks.read_error(response.status_code, response.content)
        if problem is None:
            return outbound.DELIVERED, None, None
        problem = redaction.redact_text(problem, self._oms_known_secret_values())
        if outcome == outbound.RETRY:
            return outcome, problem, retry_after
        return outbound.PERMANENT, problem, None
