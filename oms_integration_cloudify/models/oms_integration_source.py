import contextlib
import json
import logging
import threading
from datetime import UTC

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.oms_integration import const as core_const
from odoo.addons.oms_integration.exceptions import OmsProcessingError
from odoo.addons.oms_integration.lib import outbound, redaction, secretbox

from .. import const
from ..lib import auth, callbacks, parser

_logger = logging.getLogger(__name__)

# The token cache (table oms_integration_cloudify_token): one row per
# source, written in short transactions of their own (see
# _cloudify_auth_env), never on the source's row, so that a worker whose
# transaction wrote the source (a poll moving its cursor) never waits
# for itself. The row lock on it makes a refresh single-flight.


class OmsIntegrationSource(models.Model):
    _inherit = "oms.integration.source"

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
        help="Session Login: Odoo's login of a Cloudify user (database, login, "
        "password). OAuth2 Client Credentials: a token from the token URL with "
        "the client ID and secret Cloudify gives.",
    )
    cloudify_database = fields.Char(
        help="The database name of the tenant, for the session login (and sent "
        "with polling when the server holds several databases).",
    )
    cloudify_login = fields.Char()
    cloudify_token_url = fields.Char(
        string="Cloudify Token URL",
        help="OAuth2 token endpoint, such as https://<tenant>.cloudify.vn/oauth/token.",
    )
    cloudify_client_id = fields.Char()
    cloudify_scope = fields.Char(help="Only if Cloudify asks for one.")
    cloudify_state_map = fields.Text(
        default=lambda self: json.dumps(const.DEFAULT_STATE_MAP, indent=1),
        help="Our order statuses as Cloudify states, as a JSON object: keys "
        "approved, processing, delivered, cancelled; values draft, confirmed, "
        "picking, delivering, done or cancel. A status left out keeps its "
        "default state.",
    )

    # Write-only secret inputs (the core's secret helper encrypts them).
    cloudify_password = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_cloudify_password",
        groups="oms_integration.group_oms_manager",
    )
    cloudify_client_secret = fields.Char(
        compute="_compute_secret_inputs",
        inverse="_inverse_cloudify_client_secret",
        groups="oms_integration.group_oms_manager",
    )
    cloudify_access_token = fields.Char(
        string="Cloudify Session or Token",
        compute="_compute_secret_inputs",
        inverse="_inverse_cloudify_access_token",
        groups="oms_integration.group_oms_manager",
        help="The session id or access token in use, obtained by Odoo itself.",
    )
    cloudify_password_encrypted = fields.Char(groups="base.group_system", copy=False)
    cloudify_client_secret_encrypted = fields.Char(
        groups="base.group_system", copy=False
    )
    # The cached session or token, encrypted, lives in the token cache table.
    cloudify_access_token_encrypted = fields.Char(
        compute="_compute_cloudify_token_cache",
        inverse="_inverse_cloudify_access_token_encrypted",
        groups="base.group_system",
    )
    cloudify_password_set = fields.Boolean(compute="_compute_secrets_set")
    cloudify_client_secret_set = fields.Boolean(compute="_compute_secrets_set")
    cloudify_access_token_set = fields.Boolean(compute="_compute_secrets_set")

    cloudify_token_expires_at = fields.Datetime(
        string="Cloudify Session Valid Until",
        compute="_compute_cloudify_token_cache",
        help="Renewed ahead of this moment by a scheduled action and before each call.",
    )
    cloudify_auth_error = fields.Text(
        string="Cloudify Sign-in Error",
        compute="_compute_cloudify_token_cache",
        help="Why the last sign-in failed; cleared by the next one that works.",
    )
    cloudify_auth_error_at = fields.Datetime(
        string="Cloudify Sign-in Failed On", compute="_compute_cloudify_token_cache"
    )
    cloudify_auth_state = fields.Selection(
        selection=const.AUTH_STATES,
        string="Cloudify Sign-in State",
        compute="_compute_cloudify_token_cache",
    )

    def init(self):
        res = super().init()
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS oms_integration_cloudify_token (
                source_id integer PRIMARY KEY
                    REFERENCES oms_integration_source (id) ON DELETE CASCADE,
                token_encrypted varchar,
                expires_at timestamp,
                refreshed_at timestamp,
                error text,
                error_at timestamp,
                error_retryable boolean
            )
            """
        )
        return res

    # === COMPUTE METHODS === #

    @api.depends(*const.SECRET_FIELDS.values())
    def _compute_secrets_set(self):
        return super()._compute_secrets_set()

    def _compute_cloudify_token_cache(self):
        rows = self._origin._cloudify_token_rows(self.env.cr)
        now = fields.Datetime.now()
        for source in self:
            row = rows.get(source._origin.id) or {}
            source.cloudify_access_token_encrypted = row.get("token_encrypted") or False
            source.cloudify_token_expires_at = row.get("expires_at") or False
            source.cloudify_auth_error = row.get("error") or False
            source.cloudify_auth_error_at = row.get("error_at") or False
            if row.get("error"):
                source.cloudify_auth_state = "failed"
            elif row.get("token_encrypted") and (row.get("expires_at") or now) > now:
                source.cloudify_auth_state = "ok"
            else:
                source.cloudify_auth_state = "none"

    # === INVERSE METHODS === #

    def _inverse_cloudify_password(self):
        self._oms_store_secret_inputs("cloudify_password")

    def _inverse_cloudify_client_secret(self):
        self._oms_store_secret_inputs("cloudify_client_secret")

    def _inverse_cloudify_access_token(self):
        self._oms_store_secret_inputs("cloudify_access_token")

    def _inverse_cloudify_access_token_encrypted(self):
        # The core's secret helper (set, clear, re-encrypt) writes here.
        for source in self:
            stored = source.sudo().cloudify_access_token_encrypted or None
            self.env.cr.execute(
                "INSERT INTO oms_integration_cloudify_token "
                "(source_id, token_encrypted) VALUES (%s, %s) "
                "ON CONFLICT (source_id) DO UPDATE SET "
                "token_encrypted = EXCLUDED.token_encrypted, expires_at = CASE "
                "WHEN EXCLUDED.token_encrypted IS NULL THEN NULL "
                "ELSE oms_integration_cloudify_token.expires_at END",
                [source.id, stored],
            )
        self.invalidate_recordset(
            [
                name
                for name in self._cloudify_cache_fields()
                if name != "cloudify_access_token_encrypted"
            ]
        )

    # === CONSTRAINT METHODS === #

    @api.constrains("cloudify_state_map")
    def _check_cloudify_state_map(self):
        for source in self:
            if source.cloudify_state_map:
                source._cloudify_state_map()

    # === CRUD METHODS === #

    def write(self, vals):
        res = super().write(vals)
        if set(const.CREDENTIAL_FIELDS) & set(vals):
            # New credentials: a failed sign-in is worth trying again, and the
            # cached session belongs to the old ones.
            cloudify = self.filtered(lambda s: s.provider == const.PROVIDER_CODE)
            if cloudify:
                self.env.cr.execute(
                    "UPDATE oms_integration_cloudify_token SET token_encrypted = NULL, "
                    "expires_at = NULL, error = NULL, error_at = NULL, "
                    "error_retryable = NULL WHERE source_id IN %s",
                    [tuple(cloudify.ids)],
                )
                cloudify.invalidate_recordset(self._cloudify_cache_fields())
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
        """Sign in to Cloudify now (a new session or token) and say how it went."""
        self.ensure_one()
        self._oms_check_manager()
        try:
            token = self._cloudify_refresh(force=True)
        except OmsProcessingError as exc:
            raise UserError(f"{exc.message}\n{exc.hint or ''}".strip()) from exc
        self.invalidate_recordset(self._cloudify_cache_fields())
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Signed in to Cloudify"),
                "message": self.env._(
                    "The session is valid until %(until)s (UTC).",
                    until=fields.Datetime.to_string(
                        token.expires_at.replace(tzinfo=None)
                    ),
                ),
                "type": "success",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # === BUSINESS METHODS: SETTINGS === #

    def _cloudify_state_map(self):
        """The source's state map (defaults completed by its own values);
        ValidationError when the field is not a JSON object of known statuses
        and Cloudify states."""
        self.ensure_one()
        own = self._oms_read_status_map(
            "cloudify_state_map",
            const.DEFAULT_STATE_MAP,
            '{"processing": "delivering", ...}',
        )
        state_map = dict(const.DEFAULT_STATE_MAP, **own)
        for status in own:
            try:
                callbacks.cloudify_state(status, state_map)
            except ValueError as exc:
                raise ValidationError(str(exc)) from exc
        return state_map

    def _cloudify_tenant_url(self):
        self.ensure_one()
        return (self.api_base_url or "").rstrip("/")

    # === BUSINESS METHODS: TOKEN CACHE === #

    @api.model
    def _cloudify_cache_fields(self):
        return [
            "cloudify_access_token_encrypted",
            "cloudify_access_token_set",
            "cloudify_token_expires_at",
            "cloudify_auth_error",
            "cloudify_auth_error_at",
            "cloudify_auth_state",
        ]

    def _cloudify_token_rows(self, cr, lock=False):
        """``{source id: row dict}`` of the token cache, read with ``cr``;
        ``lock`` takes the rows' lock (single-flight refresh)."""
        ids = tuple(id_ for id_ in self.ids if isinstance(id_, int))
        if not ids:
            return {}
        cr.execute(
            "SELECT source_id, token_encrypted, expires_at, refreshed_at, error, "
            "error_at, error_retryable FROM oms_integration_cloudify_token "
            "WHERE source_id IN %s" + (" FOR UPDATE" if lock else ""),
            [ids],
        )
        return {row["source_id"]: row for row in cr.dictfetchall()}

    @contextlib.contextmanager
    def _cloudify_auth_env(self):
        """An environment on a cursor of its own, committed at once and in
        READ COMMITTED (after waiting for the lock, a read sees what the
        worker that held it committed). Inside Odoo's test runner, which has
        one transaction only, a savepoint of the test's cursor."""
        if getattr(threading.current_thread(), "testing", False):
            with self.env.cr.savepoint():
                yield self.env
            return
        with self.env.registry.cursor() as cr:
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
            yield self.env(cr=cr)

    def _cloudify_cached_token(self, row):
        """The :class:`auth.Token` of a cache row, or None."""
        if not row or not row.get("token_encrypted"):
            return None
        try:
            value = secretbox.unseal(row["token_encrypted"], self._oms_secret_keys())
        except secretbox.SecretKeyError:
            return None  # encrypted under a key no longer configured: sign in again
        expires_at = row.get("expires_at")
        return auth.Token(value, expires_at and expires_at.replace(tzinfo=None))

    def _cloudify_usable(self, token, stale=None, margin=const.DEFAULT_REFRESH_MARGIN):
        return bool(
            token
            and token.expires_at
            and token.value != stale
            and not auth.needs_refresh(token.expires_at, fields.Datetime.now(), margin)
        )

    def _cloudify_get_token(self, stale=None):
        """A session or token to call Cloudify with: the cached one, unless it
        expires within the refresh margin or is ``stale`` (the value Cloudify
        just refused), else a new one (:meth:`_cloudify_refresh`)."""
        self.ensure_one()
        with self._cloudify_auth_env() as env:
            row = self.with_env(env)._cloudify_token_rows(env.cr).get(self.id)
        token = self._cloudify_cached_token(row)
        if self._cloudify_usable(token, stale):
            return token
        return self._cloudify_refresh(stale=stale)

    def _cloudify_refresh(self, stale=None, force=False, margin=None):
        """Sign in to Cloudify, one worker at a time, and cache the session or
        token; returns it. Raises ``OmsProcessingError`` when signing in fails
        (recorded on the source and told to its managers first).

        Under the cache row's lock, the cache is read again: when another
        worker renewed it meanwhile (not ``stale``, not expiring within
        ``margin``), that one is used instead of signing in again. A failure
        that needs a person (credentials refused) is not retried until the
        credentials change or a manager clicks Sign In Now (``force``):
        retrying wrong credentials could lock the Cloudify user.
        """
        self.ensure_one()
        margin = const.DEFAULT_REFRESH_MARGIN if margin is None else margin
        failure = None
        with self._cloudify_auth_env() as env:
            source = self.with_env(env)
            cr = env.cr
            cr.execute(
                "INSERT INTO oms_integration_cloudify_token (source_id) VALUES (%s) "
                "ON CONFLICT DO NOTHING",
                [self.id],
            )
            row = source._cloudify_token_rows(cr, lock=True)[self.id]
            cached = source._cloudify_cached_token(row)
            if not force and source._cloudify_usable(cached, stale, margin):
                return cached
            if not force and row["error"] and not row["error_retryable"]:
                failure = auth.AuthError(row["error"], retryable=False)
            else:
                try:
                    token = source._cloudify_sign_in()
                    token = auth.Token(
                        token.value,
                        token.expires_at.astimezone(UTC).replace(tzinfo=None),
                    )
                except auth.AuthError as exc:
                    failure = exc
                    source._cloudify_record_auth_failure(str(exc), exc.retryable)
                else:
                    source._cloudify_store_token(token, had_error=bool(row["error"]))
        self.invalidate_recordset(self._cloudify_cache_fields())
        if failure:
            raise OmsProcessingError(
                self.env._(
                    "Signing in to Cloudify failed: %(error)s", error=str(failure)
                ),
                hint=self.env._(
                    "Cloudify is unavailable: Odoo tries again by itself."
                    if failure.retryable
                    else "Fix the Cloudify sign-in settings of the source (tab "
                    "Cloudify), then click Sign In Now."
                ),
                permanent=not failure.retryable,
            )
        return token

    def _cloudify_sign_in(self):
        """One login (session mode) or token request (OAuth2 mode): a
        :class:`auth.Token`, or ``auth.AuthError`` in plain words."""
        self.ensure_one()
        secrets = self._oms_known_secret_values()
        try:
            if self.cloudify_auth_mode == const.AUTH_MODE_OAUTH:
                request = auth.oauth_token_request(
                    self.cloudify_token_url or "",
                    self.cloudify_client_id or "",
                    self._oms_get_secret("cloudify_client_secret"),
                    scope=self.cloudify_scope or None,
                )
            else:
                request = auth.session_login_request(
                    self._cloudify_tenant_url(),
                    self.cloudify_database or "",
                    self.cloudify_login or "",
                    self._oms_get_secret("cloudify_password"),
                )
        except ValueError as exc:
            raise auth.AuthError(
                self.env._(
                    "%(problem)s: complete the sign-in settings of the source.",
                    problem=str(exc),
                )
            ) from exc
        try:
            # Not the source's shared session: its cookie jar would keep the
            # session id, and credentials are never kept in it.
            response = requests.request(
                **request, timeout=core_const.HTTP_TIMEOUTS, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise auth.AuthError(
                redaction.redact_text(
                    self.env._(
                        "Cannot reach Cloudify to sign in (%(error)s): it will be "
                        "tried again.",
                        error=exc.__class__.__name__,
                    ),
                    secrets,
                ),
                retryable=True,
            ) from exc
        if self.cloudify_auth_mode == const.AUTH_MODE_OAUTH:
            return auth.read_oauth_token(
                response.status_code, response.content, secrets=secrets
            )
        return auth.read_session_login(
            response.status_code,
            response.headers,
            response.content,
            secrets=secrets,
        )

    def _cloudify_store_token(self, token, had_error=False):
        """Cache ``token`` (encrypted) and clear a past failure."""
        self.ensure_one()
        sealed = secretbox.seal(token.value, self._oms_secret_keys())
        now = fields.Datetime.now()
        self.env.cr.execute(
            "UPDATE oms_integration_cloudify_token SET token_encrypted = %s, "
            "expires_at = %s, refreshed_at = %s, error = NULL, error_at = NULL, "
            "error_retryable = NULL WHERE source_id = %s",
            [sealed, token.expires_at, now, self.id],
        )
        activities = self._cloudify_auth_activities()
        if had_error or activities:
            activities.unlink()
            self.sudo().message_post(
                body=self.env._("Signing in to Cloudify works again.")
            )

    def _cloudify_record_auth_failure(self, message, retryable):
        """Show a failed sign-in on the source (its error, its readiness) and
        give its managers an activity (once, until it works again)."""
        self.ensure_one()
        self.env.cr.execute(
            "UPDATE oms_integration_cloudify_token SET token_encrypted = NULL, "
            "expires_at = NULL, error = %s, error_at = %s, error_retryable = %s "
            "WHERE source_id = %s",
            [message, fields.Datetime.now(), retryable, self.id],
        )
        _logger.warning(
            "Signing in to Cloudify failed for source %s: %s", self.id, message
        )
        if self._cloudify_auth_activities():
            return
        managers = (
            self.env.ref("oms_integration.group_oms_manager")
            .sudo()
            .users.filtered(lambda u: u.active and not u.share)
        )
        note = self.env._(
            "%(error)s Check the sign-in settings on the tab Cloudify, then click "
            "Sign In Now. Until then nothing is fetched from or sent to Cloudify.",
            error=message,
        )
        for user in managers:
            self.sudo().activity_schedule(
                "mail.mail_activity_data_todo",
                summary=self._cloudify_activity_summary(),
                note=note,
                user_id=user.id,
            )

    def _cloudify_activity_summary(self):
        return self.env._("Signing in to Cloudify fails")

    def _cloudify_auth_activities(self):
        self.ensure_one()
        return (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("summary", "=", self._cloudify_activity_summary()),
                ]
            )
        )

    @api.model
    def _cron_cloudify_refresh_tokens(self):
        """Cron: renew the sessions and tokens of active Cloudify sources that
        expire before the next run (or that none was obtained yet for), so
        that no call waits for a sign-in. Each sign-in commits in a
        transaction of its own; a failure is recorded on its source (the cron
        itself never fails)."""
        sources = self.search(
            [("provider", "=", const.PROVIDER_CODE), ("state", "=", "active")]
        )
        sources = sources.filtered(lambda s: s._cloudify_needs_auth())
        with self._cloudify_auth_env() as env:
            rows = sources.with_env(env)._cloudify_token_rows(env.cr)
        refreshed = self.browse()
        for source in sources:
            cached = source._cloudify_cached_token(rows.get(source.id))
            if source._cloudify_usable(cached, margin=const.CRON_REFRESH_WINDOW):
                continue
            try:
                source._cloudify_refresh(margin=const.CRON_REFRESH_WINDOW)
            except OmsProcessingError:
                continue  # recorded on the source by _cloudify_refresh
            refreshed |= source
        return refreshed

    def _cloudify_needs_auth(self):
        """Whether this source calls Cloudify's API (polling or statuses)."""
        self.ensure_one()
        return self.mode in core_const.POLLING_MODES or self.outbound_enabled

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
        """One call to Cloudify's API with a valid session or token: when
        Cloudify answers that it has expired, sign in again (once, one worker
        at a time) and repeat the call once. Returns the ``requests``
        response; errors become ``OmsProcessingError`` (secrets redacted)."""
        self.ensure_one()
        wait = self._oms_take_rate_slot(max_sleep=core_const.MAX_RATE_LIMIT_SLEEP * 5)
        if wait:
            raise OmsProcessingError(
                self.env._(
                    "The source's rate limit (%(limit)s requests per minute) is "
                    "reached.",
                    limit=self.rate_limit,
                ),
                hint=self.env._("Nothing to do: the next run goes on."),
                permanent=False,
            )
        token = self._cloudify_get_token()
        response = self._cloudify_send(method, url, token, **kwargs)
        if auth.is_expired_answer(
            response.status_code, response.headers, response.content
        ):
            token = self._cloudify_get_token(stale=token.value)
            response = self._cloudify_send(method, url, token, **kwargs)
            if auth.is_expired_answer(
                response.status_code, response.headers, response.content
            ):
                raise OmsProcessingError(
                    self.env._(
                        "Cloudify refused a session it had just given: the call "
                        "was not made."
                    ),
                    hint=self.env._(
                        "Nothing to do if it is rare: the next run retries. "
                        "Otherwise check the Cloudify user's access rights."
                    ),
                    permanent=False,
                )
        problem = callbacks.read_error(response.status_code, response.content)
        if problem and response.status_code >= 400:
            raise OmsProcessingError(
                redaction.redact_text(problem, self._oms_known_secret_values()),
                hint=self.env._(
                    "A temporary Cloudify error if it is 5xx or 429: the next run "
                    "retries. Otherwise check the source's Cloudify settings."
                ),
                permanent=response.status_code < 500 and response.status_code != 429,
            )
        return response

    def _cloudify_send(self, method, url, token, **kwargs):
        try:
            return self._oms_http_session().request(
                method,
                url,
                headers=self._cloudify_auth_headers(token),
                timeout=core_const.HTTP_TIMEOUTS,
                allow_redirects=False,
                **kwargs,
            )
        except requests.Timeout as exc:
            raise OmsProcessingError(
                self.env._("Cloudify did not answer in time."),
                hint=self.env._("Nothing to do if it is rare: the next run retries."),
                permanent=False,
            ) from exc
        except requests.RequestException as exc:
            raise OmsProcessingError(
                self.env._(
                    "Cannot reach Cloudify (%(error)s).", error=exc.__class__.__name__
                ),
                hint=self.env._("Check the Cloudify tenant URL and the network."),
                permanent=False,
            ) from exc

    # === PROVIDER HOOKS === #

    def _oms_secret_fields(self):
        return dict(super()._oms_secret_fields(), **const.SECRET_FIELDS)

    def _oms_known_secret_values(self):
        values = super()._oms_known_secret_values()
        # The token renewed by another worker since this transaction began.
        for source in self.filtered(lambda s: s.provider == const.PROVIDER_CODE):
            with source._cloudify_auth_env() as env:
                row = source.with_env(env)._cloudify_token_rows(env.cr).get(source.id)
            token = source._cloudify_cached_token(row)
            if token and token.value not in values:
                values.append(token.value)
        return values

    def _oms_get_activation_problems(self):
        problems = super()._oms_get_activation_problems()
        if self.provider != const.PROVIDER_CODE or not self._cloudify_needs_auth():
            return problems
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
            problems.append(
                self.env._(
                    "Set the Cloudify sign-in settings (tab Cloudify): %(missing)s.",
                    missing=", ".join(missing),
                )
            )
        if self.cloudify_auth_error:
            problems.append(
                self.env._(
                    "Signing in to Cloudify fails: %(error)s Click Sign In Now once "
                    "it is fixed.",
                    error=self.cloudify_auth_error,
                )
            )
        return problems

    def _oms_parse_delivery(self, body):
        # The default parser refuses other providers: decide before calling it.
        if self.provider != const.PROVIDER_CODE:
            return super()._oms_parse_delivery(body)
        self.ensure_one()
        return parser.parse_delivery(body)

    def _oms_fetch_page(self, since, page):
        # The default polling API refuses other providers: decide first.
        if self.provider != const.PROVIDER_CODE:
            return super()._oms_fetch_page(since, page)
        self.ensure_one()
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
            raise OmsProcessingError(
                redaction.redact_text(str(exc), self._oms_known_secret_values()),
                hint=self.env._(
                    "Check the Cloudify tenant URL of the source; the next run retries."
                ),
                permanent=False,
            ) from exc

    def _oms_has_test_endpoint(self):
        # Cloudify has no test endpoint.
        if self.provider != const.PROVIDER_CODE:
            return super()._oms_has_test_endpoint()
        return False

    def _oms_build_status_request(self, event):
        # The default request refuses other providers: decide first.
        if self.provider != const.PROVIDER_CODE:
            return super()._oms_build_status_request(event)
        self.ensure_one()
        try:
            body = callbacks.status_from_compatible(
                event.sudo().payload or "{}", self._cloudify_state_map()
            )
        except (ValueError, TypeError, ValidationError) as exc:
            raise OmsProcessingError(
                str(exc),
                hint=self.env._(
                    "Fix the order or the source's Cloudify state map, then Retry."
                ),
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
            token = self._cloudify_get_token(stale=stale)
        except OmsProcessingError:
            return response, error, duration  # recorded on the source; retried
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
                self.env._(
                    "Cloudify's session expired and signing in again did not "
                    "help: the status will be sent again."
                ),
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
