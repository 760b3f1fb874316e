from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.oms_integration.lib import secretbox

from ..lib import auth


class OmsIntegrationCloudifyToken(models.Model):
    """The session or access token Odoo holds for one Cloudify source, with
    its expiry and the last failed sign-in.

    One row per source, apart from the source's configuration row: a renewal
    writes here, so that an administrator's edit of the source never waits
    for it, nor it for that edit. The row's lock makes a renewal
    single-flight (``oms.integration.source._cloudify_refresh``). The token
    is a secret: stored encrypted, readable by system administrators only
    (and by the source's secret helper)."""

    _name = "oms.integration.cloudify.token"
    _description = "Cloudify Session or Token"
    _log_access = False
    _rec_name = "source_id"

    source_id = fields.Many2one(
        "oms.integration.source", required=True, ondelete="cascade", readonly=True
    )
    token_encrypted = fields.Char(
        string="Session or Token (encrypted)",
        groups="base.group_system",
        readonly=True,
        copy=False,
    )
    expires_at = fields.Datetime(string="Valid Until", readonly=True)
    refreshed_at = fields.Datetime(string="Renewed On", readonly=True)
    error = fields.Text(
        string="Sign-in Error",
        readonly=True,
        help="Why the last sign-in failed; cleared by the next one that works.",
    )
    error_at = fields.Datetime(string="Sign-in Failed On", readonly=True)
    error_retryable = fields.Boolean(
        string="Tried Again by Itself",
        readonly=True,
        help="Cloudify was unavailable: Odoo signs in again by itself. "
        "Otherwise (credentials refused) it waits for new credentials or Sign "
        "In Now.",
    )

    _sql_constraints = [
        ("source_unique", "UNIQUE(source_id)", "One Cloudify session per source."),
    ]

    # === BUSINESS METHODS === #

    @api.model
    def _cloudify_of(self, source):
        """The token row of ``source`` (created on first use), as superuser:
        only the source's own methods read and write it."""
        token = self.sudo().search([("source_id", "=", source.id)], limit=1)
        return token or self.sudo().create({"source_id": source.id})

    def _cloudify_lock(self):
        """Lock the row until the end of the transaction and read it again.

        A second worker wanting it waits here for the first one's
        transaction; if that one changed the row, the second gets a
        serialization failure (Odoo's transactions are REPEATABLE READ),
        which its caller answers by trying again later. Within one
        transaction, a renewal made earlier is seen."""
        self.ensure_one()
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id = %s FOR NO KEY UPDATE",
                SQL.identifier(self._table),
                self.id,
            )
        )
        self.invalidate_recordset()

    def _cloudify_token(self):
        """The cached :class:`auth.Token`, or None (none, or encrypted under
        a key no longer configured: signing in again is the way out)."""
        self.ensure_one()
        stored = self.sudo().token_encrypted
        if not stored:
            return None
        try:
            value = secretbox.unseal_cached(
                stored, self.env["oms.integration.source"]._oms_secret_keys()
            )
        except secretbox.SecretKeyError:
            return None
        return auth.Token(value, self.expires_at or None) if value else None

    def _cloudify_store(self, token):
        """Keep ``token`` (encrypted) and forget a past failure."""
        self.ensure_one()
        keys = self.env["oms.integration.source"]._oms_secret_keys()
        self.sudo().write(
            {
                "token_encrypted": secretbox.seal(token.value, keys),
                "expires_at": token.expires_at,
                "refreshed_at": fields.Datetime.now(),
                "error": False,
                "error_at": False,
                "error_retryable": False,
            }
        )

    def _cloudify_record_failure(self, message, retryable):
        """Forget the token and keep why signing in failed."""
        self.sudo().write(
            {
                "token_encrypted": False,
                "expires_at": False,
                "error": message,
                "error_at": fields.Datetime.now(),
                "error_retryable": retryable,
            }
        )

    def _cloudify_forget(self):
        """Forget the token and a past failure (new credentials)."""
        self.sudo().write(
            {
                "token_encrypted": False,
                "expires_at": False,
                "error": False,
                "error_at": False,
                "error_retryable": False,
            }
        )
