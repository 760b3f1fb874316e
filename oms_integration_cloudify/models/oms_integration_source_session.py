import logging
from datetime import UTC

import requests
from psycopg2.errors import UniqueViolation

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from odoo.addons.oms_integration import const as core_const
from odoo.addons.oms_integration.exceptions import OmsProcessingError
from odoo.addons.oms_integration.lib import keys, redaction

from .. import const
from ..lib import auth

_logger = logging.getLogger(__name__)

# How often a renewal committed on its own is tried again after meeting
# another worker's renewal of the same source (a serialization failure).
_TRIES = 5


class CloudifySignInRefused(OmsProcessingError):
    """Signing in is not allowed (no consent for the host the credentials
    would go to): nothing was sent, nothing recorded on the source."""


class OmsIntegrationCloudifySessionMixin(models.AbstractModel):
    """Signing in to Cloudify, for ``oms.integration.source`` (which inherits
    this mixin in this addon): consent for the host the credentials go to,
    the session or token cached in ``oms.integration.cloudify.token`` and
    renewed one worker at a time (a row lock on Odoo's cursor), failures
    shown on the source with an activity for its managers."""

    _name = "oms.integration.cloudify.session.mixin"
    _description = "Cloudify Sign-in"

    # === BUSINESS METHODS: CONSENT === #

    def _cloudify_sign_in_refusal(self, url):
        """Why the Cloudify credentials may not be sent to ``url`` (the login
        or token URL), in plain words with what to do, or False.

        Credentials go only to a host the source holds an unrevoked polling
        or outbound consent for: the tenant's host (its Provider API URL) or
        the status endpoint's (its Status Callback URL), as named by the
        consent. The core revokes those consents when either host changes.
        No consent ever names the token URL's host on its own, so the token
        URL must be on one of those two hosts: moving it elsewhere is
        refused at the next sign-in (nothing is sent), and changing it
        needs no revocation."""
        self.ensure_one()
        Hints = self.env["oms.integration.hints"]
        host = keys.host_of(url)
        if not url.startswith(("https://", "http://")) or not host:
            return Hints._oms_hint_text("cloudify_sign_in_url_invalid", url=url)
        consented = {
            consent.destination_host
            for consent in self.sudo().consent_ids
            if not consent.revoked and consent.scope in ("polling", "outbound")
        }
        if host in consented:
            return False
        destinations = self._oms_destination_hosts()
        if host in (destinations["polling"], destinations["outbound"]):
            return Hints._oms_hint_text("cloudify_sign_in_no_consent", host=host)
        return Hints._oms_hint_text(
            "cloudify_token_url_elsewhere",
            host=host,
            tenant=destinations["polling"] or destinations["outbound"] or "-",
        )

    # === BUSINESS METHODS: SESSION === #

    def _cloudify_token_record(self):
        """The source's ``oms.integration.cloudify.token`` (as superuser)."""
        self.ensure_one()
        return self.env["oms.integration.cloudify.token"]._cloudify_of(self)

    def _cloudify_usable(self, token, stale=None, margin=None):
        margin = const.DEFAULT_REFRESH_MARGIN if margin is None else margin
        return bool(
            token
            and token.expires_at
            and token.value != stale
            and not auth.needs_refresh(token.expires_at, fields.Datetime.now(), margin)
        )

    def _cloudify_cached_token(self, stale=None, margin=None):
        """The cached session or token if it can be used (it is not ``stale``,
        the value Cloudify just refused, and does not expire within
        ``margin`` seconds), else None."""
        self.ensure_one()
        token = (
            self.env["oms.integration.cloudify.token"]
            .sudo()
            .search([("source_id", "=", self.id)], limit=1)
        )
        cached = token._cloudify_token() if token else None
        return cached if self._cloudify_usable(cached, stale, margin) else None

    def _cloudify_get_token(self, stale=None, margin=None):
        """A session or token to call Cloudify with: the cached one if it can
        be used, else a new one (:meth:`_cloudify_refresh`, in the caller's
        transaction)."""
        self.ensure_one()
        return self._cloudify_cached_token(stale, margin) or self._cloudify_refresh(
            stale=stale, margin=margin
        )

    def _cloudify_get_token_committed(self, stale=None, margin=None):
        """:meth:`_cloudify_get_token`, a renewal being committed at once:
        crons only (as the rate limit, it commits the caller's transaction).

        The other workers then use the renewal, and a failure stays recorded
        on the source whatever the caller rolls back later. Meeting another
        worker's renewal (a serialization failure on the row's lock), it is
        rolled back and read again: that renewal is used, not a new sign-in."""
        self.ensure_one()
        token = self._cloudify_cached_token(stale, margin)
        if token:
            return token
        cr = self.env.cr
        for attempt in range(1, _TRIES + 1):
            cr.commit()  # pylint: disable=invalid-commit
            try:
                token = self._cloudify_get_token(stale=stale, margin=margin)
            except OmsProcessingError:
                cr.commit()  # pylint: disable=invalid-commit
                raise
            except (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, UniqueViolation):
                cr.rollback()  # pylint: disable=invalid-commit
                if attempt == _TRIES:
                    raise
                _logger.info(
                    "Another worker renewed the Cloudify session of source %s: "
                    "reading it again",
                    self.id,
                )
                continue
            cr.commit()  # pylint: disable=invalid-commit
            return token
        return None

    def _cloudify_refresh(self, stale=None, force=False, margin=None):
        """Sign in to Cloudify, one worker at a time, and cache the session or
        token; returns it. Raises ``OmsProcessingError`` when signing in is
        refused (no consent for the host: nothing sent, nothing recorded) or
        fails (recorded on the source and told to its managers first).

        The token row is locked on the caller's cursor until its transaction
        ends, then read again: when it was renewed meanwhile (not ``stale``,
        not expiring within ``margin``), that one is used instead of signing
        in again. A renewal committed by another worker since this
        transaction began surfaces as a serialization failure, for the
        caller to try again later. A failure that needs a person
        (credentials refused) is not retried until the credentials change or
        a manager clicks Sign In Now (``force``): retrying wrong credentials
        could lock the Cloudify user.
        """
        self.ensure_one()
        record = self._cloudify_token_record()
        record._cloudify_lock()
        if not force:
            cached = record._cloudify_token()
            if self._cloudify_usable(cached, stale, margin):
                return cached
            if record.error and not record.error_retryable:
                raise self._cloudify_auth_error(
                    auth.AuthError(record.error, retryable=False)
                )
        had_error = bool(record.error)
        try:
            token = self._cloudify_sign_in()
        except auth.AuthError as exc:
            self._cloudify_record_auth_failure(record, str(exc), exc.retryable)
            raise self._cloudify_auth_error(exc) from exc
        record._cloudify_store(token)
        self._cloudify_auth_works_again(had_error)
        return token

    def _cloudify_auth_error(self, failure):
        """The ``OmsProcessingError`` of a failed sign-in (``auth.AuthError``):
        retried by itself when Cloudify was unavailable, else the hint of
        what Cloudify answered (its OAuth2 error code, a refused login)."""
        Hints = self.env["oms.integration.hints"]
        key = "cloudify_sign_in_failed"
        if failure.retryable:
            key = "cloudify_sign_in_unavailable"
        elif f"cloudify_{failure.code}" in Hints._oms_hint_catalogue():
            key = f"cloudify_{failure.code}"
        return Hints._oms_error(
            key, permanent=not failure.retryable, error=str(failure)
        )

    def _cloudify_sign_in_request(self):
        """The login (session mode) or token request (OAuth2 mode), holding
        the credentials; ``auth.AuthError`` when the settings are incomplete."""
        self.ensure_one()
        try:
            if self.cloudify_auth_mode == const.AUTH_MODE_OAUTH:
                return auth.oauth_token_request(
                    self.cloudify_token_url or "",
                    self.cloudify_client_id or "",
                    self._oms_get_secret("cloudify_client_secret"),
                    scope=self.cloudify_scope or None,
                )
            return auth.session_login_request(
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

    def _cloudify_sign_in(self):
        """One login (session mode) or token request (OAuth2 mode): a
        :class:`auth.Token` (its expiry naive UTC), or ``auth.AuthError`` in
        plain words. Refused with ``OmsProcessingError`` before anything is
        sent without consent for the host it goes to."""
        self.ensure_one()
        request = self._cloudify_sign_in_request()
        refusal = self._cloudify_sign_in_refusal(request["url"])
        if refusal:
            raise CloudifySignInRefused(
                refusal,
                hint=self.env._(
                    "Nothing is fetched from or sent to Cloudify until then."
                ),
            )
        secrets = self._oms_known_secret_values()
        try:
            # Not the source's shared session: its cookie jar would keep the
            # session id, and credentials are never kept in it.
            response = requests.request(
                **request, timeout=core_const.HTTP_TIMEOUTS, allow_redirects=False
            )
        except requests.RequestException as exc:
            raise auth.AuthError(
                redaction.redact_text(
                    self.env["oms.integration.hints"]._oms_hint(
                        "cloudify_sign_in_unreachable", error=exc.__class__.__name__
                    )[0],
                    secrets,
                ),
                retryable=True,
            ) from exc
        if self.cloudify_auth_mode == const.AUTH_MODE_OAUTH:
            token = auth.read_oauth_token(
                response.status_code, response.content, secrets=secrets
            )
        else:
            token = auth.read_session_login(
                response.status_code,
                response.headers,
                response.content,
                secrets=secrets,
            )
        return auth.Token(
            token.value, token.expires_at.astimezone(UTC).replace(tzinfo=None)
        )

    def _cloudify_auth_works_again(self, had_error):
        activities = self._cloudify_auth_activities()
        if had_error or activities:
            activities.unlink()
            self.sudo().message_post(
                body=self.env._("Signing in to Cloudify works again.")
            )

    def _cloudify_record_auth_failure(self, record, message, retryable):
        """Show a failed sign-in on the source (its error, its readiness) and
        give its managers an activity (once, until it works again)."""
        self.ensure_one()
        record._cloudify_record_failure(message, retryable)
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
        that no call waits for a sign-in. Each renewal is committed on its
        own; a failure is recorded on its source, a refusal (no consent for
        the host) logged: the cron itself never fails."""
        sources = self.search(
            [("provider", "=", const.PROVIDER_CODE), ("state", "=", "active")]
        ).filtered(lambda s: s._cloudify_needs_auth())
        refreshed = self.browse()
        for source in sources:
            if source._cloudify_cached_token(margin=const.CRON_REFRESH_WINDOW):
                continue
            try:
                source._cloudify_get_token_committed(margin=const.CRON_REFRESH_WINDOW)
            except OmsProcessingError as exc:
                _logger.info(
                    "Cloudify session of source %s not renewed: %s",
                    source.id,
                    exc.message,
                )
                continue
            except (*PG_CONCURRENCY_EXCEPTIONS_TO_RETRY, UniqueViolation):
                _logger.info(
                    "Cloudify session of source %s renewed concurrently: next run",
                    source.id,
                )
                continue
            refreshed |= source
        return refreshed

    def _cloudify_needs_auth(self):
        """Whether this source calls Cloudify's API (polling or statuses)."""
        self.ensure_one()
        return self.mode in core_const.POLLING_MODES or self.outbound_enabled
