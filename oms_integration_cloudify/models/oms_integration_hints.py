from odoo import api, models


class OmsIntegrationHints(models.AbstractModel):
    """Cloudify's hints: its sign-in (OAuth2 error codes, a refused login,
    consent for the host the credentials go to), its answers that are not a
    page of orders and the statuses it cannot be sent."""

    _inherit = "oms.integration.hints"

    @api.model
    def _oms_hint_parameters(self):
        return dict(
            super()._oms_hint_parameters(),
            url=self.env._("the address Odoo would sign in at"),
            host=self.env._("the host the Cloudify credentials would go to"),
            tenant=self.env._("the tenant's host"),
        )

    @api.model
    def _oms_hint_catalogue(self):
        catalogue = super()._oms_hint_catalogue()
        sign_in_failed = self.env._("Signing in to Cloudify failed: %(error)s")
        catalogue.update(
            {
                # === SIGNING IN === #
                "cloudify_sign_in_failed": (
                    sign_in_failed,
                    self.env._(
                        "Fix the Cloudify sign-in settings of the source (tab "
                        "Cloudify), then click Sign In Now."
                    ),
                ),
                "cloudify_sign_in_unavailable": (
                    sign_in_failed,
                    self.env._("Cloudify is unavailable: Odoo tries again by itself."),
                ),
                "cloudify_login_refused": (
                    sign_in_failed,
                    self.env._(
                        "Check the database, login and password of the Cloudify "
                        "user on the source (tab Cloudify; type the password "
                        "again if it was changed in Cloudify), then click Sign In "
                        "Now."
                    ),
                ),
                "cloudify_invalid_client": (
                    sign_in_failed,
                    self.env._(
                        "Check the client ID and client secret on the source "
                        "(tab Cloudify) against the ones Cloudify gave, then "
                        "click Sign In Now."
                    ),
                ),
                "cloudify_unauthorized_client": (
                    sign_in_failed,
                    self.env._(
                        "Ask Cloudify to allow this client to sign in with its "
                        "client secret, or set another client's ID and secret "
                        "(tab Cloudify), then click Sign In Now."
                    ),
                ),
                "cloudify_invalid_scope": (
                    sign_in_failed,
                    self.env._(
                        "Correct the scope on the source (tab Cloudify; leave it "
                        "empty unless Cloudify asks for one), then click Sign In "
                        "Now."
                    ),
                ),
                "cloudify_unsupported_grant_type": (
                    sign_in_failed,
                    self.env._(
                        "Ask Cloudify to allow the client credentials grant for "
                        "this client, or choose Session Login (tab Cloudify), "
                        "then click Sign In Now."
                    ),
                ),
                "cloudify_sign_in_unreachable": (
                    self.env._(
                        "Cannot reach Cloudify to sign in (%(error)s): it will be "
                        "tried again."
                    ),
                    self.env._(
                        "Nothing to do if it is rare. If it lasts, check the "
                        "Cloudify tenant URL and token URL (tab Cloudify) and "
                        "the network."
                    ),
                ),
                "cloudify_sign_in_url_invalid": (
                    self.env._("%(url)s is not a valid URL to sign in to Cloudify."),
                    self.env._(
                        "Fix the Cloudify tenant URL or token URL (tab Cloudify), "
                        "then click Sign In Now."
                    ),
                ),
                "cloudify_sign_in_no_consent": (
                    self.env._(
                        "No consent to send the Cloudify credentials to %(host)s: "
                        "nothing was sent."
                    ),
                    self.env._(
                        "Give polling or outbound consent (button Give Consent), "
                        "then click Sign In Now."
                    ),
                ),
                "cloudify_token_url_elsewhere": (
                    self.env._(
                        "The Cloudify token URL is on %(host)s, which is neither "
                        "the tenant's host nor the status endpoint's: nothing was "
                        "sent."
                    ),
                    self.env._(
                        "Odoo sends the Cloudify credentials only to a host you "
                        "gave consent for: set a token URL on %(tenant)s (tab "
                        "Cloudify), then click Sign In Now."
                    ),
                ),
                # === CALLING CLOUDIFY === #
                "cloudify_session_refused": (
                    self.env._(
                        "Cloudify's session expired, and Cloudify refused the new "
                        "one it had just given."
                    ),
                    self.env._(
                        "Nothing to do if it is rare: Odoo tries again by itself. "
                        "If it lasts, check the Cloudify user's access rights in "
                        "Cloudify, then click Sign In Now (tab Cloudify)."
                    ),
                ),
                "cloudify_poll_unreadable": (
                    self.env._(
                        "Cloudify's answer to the search cannot be used: %(error)s"
                    ),
                    self.env._(
                        "Check the Cloudify tenant URL (tab Cloudify): it must be "
                        "the tenant's address. The next run retries."
                    ),
                ),
                "cloudify_status_unbuildable": (
                    self.env._("The status cannot be sent to Cloudify: %(error)s"),
                    self.env._(
                        "Fix the state map (tab Cloudify) or the order, then click "
                        "Retry Now on this event."
                    ),
                ),
            }
        )
        return catalogue
