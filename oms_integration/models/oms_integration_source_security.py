import logging
import os

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from .. import const
from ..lib import keys, secretbox

_logger = logging.getLogger(__name__)


class OmsIntegrationSecurityMixin(models.AbstractModel):
    """Who may exchange what with whom, for ``oms.integration.source`` (which
    inherits this mixin): the administrator's consent per scope and
    destination host, enforced by the server on every path that receives,
    polls or sends; and the secrets, encrypted at rest, written only through
    their inputs and read only through ``_oms_get_secret``."""

    _name = "oms.integration.security.mixin"
    _description = "Integration Consent and Secrets"

    # === BUSINESS METHODS: CONSENT === #

    def _oms_traffic_refusal(self, scope):
        """Why traffic of ``scope`` (inbound, polling, outbound) is not allowed.

        Returns False when it is allowed. Every code path that receives, polls
        or sends calls this (through :meth:`_oms_assert_traffic_allowed`):
        consent is enforced on the server, not only in the form.
        """
        self.ensure_one()
        if not self.active or self.state != "active":
            return self.env._("The source %(name)s is not active.", name=self.name)
        if scope == "inbound":
            if self.mode not in const.WEBHOOK_MODES:
                return self.env._(
                    "The source %(name)s does not accept webhooks.", name=self.name
                )
            if not self.consent_inbound:
                return self.env._(
                    "No administrator consent for inbound traffic on %(name)s.",
                    name=self.name,
                )
        elif scope == "polling":
            if self.mode not in const.POLLING_MODES:
                return self.env._(
                    "The source %(name)s is not in polling mode.", name=self.name
                )
            if not self.consent_polling:
                return self.env._(
                    "No administrator consent for polling on %(name)s.",
                    name=self.name,
                )
        elif scope == "outbound":
            if not self.outbound_enabled:
                return self.env._(
                    "Sending order statuses is turned off on %(name)s.",
                    name=self.name,
                )
            if not self.consent_outbound:
                return self.env._(
                    "No administrator consent for sending order statuses on %(name)s.",
                    name=self.name,
                )
        else:
            return self.env._("Unknown traffic scope %(scope)s.", scope=scope)
        return False

    def _oms_outbox_refusal(self):
        """Why no status event may be queued for this source, or False.

        Like the outbound traffic check, except that a paused source still
        queues its statuses (sent once it is active again): pausing loses
        nothing.
        """
        self.ensure_one()
        if not self.active or self.state == "draft":
            return self.env._("The source %(name)s is not active.", name=self.name)
        if self.state == "paused":
            if not self.outbound_enabled or not self.consent_outbound:
                return self._oms_traffic_refusal("outbound") or self.env._(
                    "Sending order statuses is not allowed on %(name)s.",
                    name=self.name,
                )
            return False
        return self._oms_traffic_refusal("outbound")

    def _oms_assert_traffic_allowed(self, scope):
        refusal = self._oms_traffic_refusal(scope)
        if refusal:
            raise UserError(refusal)

    def _oms_give_consent(self, scopes):
        """Record an administrator's consent for ``scopes`` (called by the wizard)."""
        self.ensure_one()
        self._oms_check_manager()
        consent_model = self.env["oms.integration.consent"].sudo()
        hosts = self._oms_destination_hosts()
        for scope in scopes:
            # A new consent replaces the current one of the same scope.
            self.consent_ids.filtered(
                lambda c, s=scope: c.scope == s and not c.revoked
            )._oms_revoke(self.env._("Replaced by a new consent."))
            consent_model.create(
                {
                    "source_id": self.id,
                    "scope": scope,
                    "user_id": self.env.uid,
                    "destination_host": hosts.get(scope) or False,
                }
            )
        scope_labels = dict(const.CONSENT_SCOPES)
        self.message_post(
            body=self.env._(
                "%(user)s gave consent for: %(scopes)s. Data exchanged: "
                "%(data)s. Destination: %(hosts)s.",
                user=self.env.user.name,
                scopes=", ".join(scope_labels[s] for s in scopes),
                data="; ".join(const.CONSENT_DATA_CATEGORIES),
                hosts=", ".join(
                    f"{scope_labels[s]}: {hosts.get(s) or self.env._('this Odoo')}"
                    for s in scopes
                ),
            )
        )
        self._oms_check_readiness()
        if self.state == "active":
            self._oms_release_waiting()

    def _oms_destination_hosts(self):
        """The host each consent scope exchanges data with."""
        self.ensure_one()
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return {
            "inbound": keys.host_of(base_url),
            "polling": keys.host_of(self.api_base_url),
            "outbound": keys.host_of(self.callback_url),
        }

    def _oms_revoke_consent(self, scopes, reason):
        for source in self:
            consents = source.consent_ids.filtered(
                lambda c: c.scope in scopes and not c.revoked
            )
            if not consents:
                continue
            consents._oms_revoke(reason)
            scope_labels = dict(const.CONSENT_SCOPES)
            source.message_post(
                body=self.env._(
                    "Consent revoked for: %(scopes)s. Reason: %(reason)s",
                    scopes=", ".join(scope_labels[s] for s in consents.mapped("scope")),
                    reason=reason,
                )
            )
            if not self.env.context.get("oms_readiness_later"):
                # Within a save, the save checks once it is done.
                source._oms_check_readiness()

    def _oms_revoke_all_consents(self, reason):
        self._oms_check_manager()
        self._oms_revoke_consent(
            [scope for scope, _label in const.CONSENT_SCOPES], reason
        )

    # === BUSINESS METHODS: SECRETS === #

    @api.model
    def _oms_secret_keys(self):
        """The configured Fernet keys (server option, else environment)."""
        raw = config.get(const.SECRET_KEY_CONFIG_OPTION) or os.environ.get(
            const.SECRET_KEY_ENV_VAR
        )
        return secretbox.parse_keys(raw)

    def _oms_secret_fields(self):
        """``{input field: stored encrypted field}`` of every secret of a
        source. Provider addons add theirs (``dict(super()..., **mine)``),
        with an input field computed by ``_compute_secret_inputs`` and an
        inverse calling ``_oms_store_secret_inputs``: they are then encrypted,
        write-only and redacted like the core's."""
        return dict(const.SECRET_FIELDS)

    def _oms_store_secret_inputs(self, field_name):
        for source in self:
            value = source[field_name]
            if not value:
                # Write-only inputs: an empty input leaves the secret as it is.
                continue
            source._oms_set_secret(field_name, value)

    def _oms_set_secret(self, field_name, value):
        self.ensure_one()
        self._oms_check_manager()
        key_list = self._oms_secret_keys()
        if not key_list and not self.env.user._is_system():
            raise AccessError(
                self.env._(
                    "No encryption key is configured on this server, so only a "
                    "system administrator can set secrets. Ask one to set the "
                    "server option oms_integration_secret_key."
                )
            )
        try:
            sealed = secretbox.seal(value, key_list)
        except secretbox.SecretKeyError as exc:
            raise UserError(str(exc)) from exc
        self.sudo()[self._oms_secret_fields()[field_name]] = sealed
        _logger.info(
            "Secret %s of integration source %s was set by user %s",
            field_name,
            self.id,
            self.env.uid,
        )

    def _oms_get_secret(self, field_name):
        """Return the plaintext of a secret: the only way to read one.

        For server-side use only (signing, authentication): never put the
        result in a log, a message, an error or a stored payload.
        """
        self.ensure_one()
        stored = self.sudo()[self._oms_secret_fields()[field_name]]
        try:
            return secretbox.unseal_cached(stored, self._oms_secret_keys())
        except secretbox.SecretKeyError as exc:
            raise UserError(
                self.env._(
                    "%(name)s: %(field)s cannot be read. %(error)s",
                    name=self.name,
                    field=self._fields[field_name].string,
                    error=str(exc),
                )
            ) from exc

    def _oms_get_signing_secrets(self):
        """The signing secrets accepted now: current, then previous until its
        end date (a previous secret without one is not accepted)."""
        self.ensure_one()
        secrets = [self._oms_get_secret("signing_secret")]
        expiry = self.sudo().signing_secret_previous_expiry
        if expiry and expiry > fields.Datetime.now():
            secrets.append(self._oms_get_secret("signing_secret_previous"))
        return [secret for secret in secrets if secret]

    def _oms_known_secret_values(self):
        """Every secret of these sources in clear, to mask them in texts shown
        to users (errors, payloads, logs of requests). Never display the result.
        """
        values = []
        for source in self:
            for field_name in self._oms_secret_fields():
                try:
                    values.append(source._oms_get_secret(field_name))
                except UserError:
                    continue
        return [value for value in values if value]
