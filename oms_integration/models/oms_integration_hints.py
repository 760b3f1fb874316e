from odoo import api, models


class OmsIntegrationHints(models.AbstractModel):
    """The hints catalogue: what an error operators meet means and what to
    do next, in plain words, by key (``lib.hints``).

    Why a model and a ``lib`` module: recognising an error (an HTTP status,
    a ``requests`` exception, a transport error text) needs no database and
    is tested without Odoo in ``lib/hints.py``; the words must go through
    Odoo's translations and be extended by provider addons, which inherit
    this model and add their own keys (their API's error codes) to
    ``_oms_hint_catalogue``, super() first. Every place that tells an
    operator about a provider error (polling, status callbacks, Test
    Connection, readiness findings) asks here, so one error reads the same
    everywhere."""

    _name = "oms.integration.hints"
    _description = "Integration Hints"

    @api.model
    def _oms_hint_catalogue(self):
        """``{key: (problem, next action)}``, texts with ``%(name)s``
        placeholders filled by ``_oms_hint``: ``status``, ``body``,
        ``error``, ``target`` (the setting holding the address, "the Provider
        API URL"), ``credentials`` (the credentials sent, "the API token"),
        ``limit``. Provider addons add their keys: super() first."""
        return {
            "http_unauthorized": (
                self.env._("The provider refused the credentials (HTTP %(status)s)."),
                self.env._(
                    "Check %(credentials)s on the source (type it again if it "
                    "was changed at the provider), then click Test Connection."
                ),
            ),
            "http_forbidden": (
                self.env._(
                    "The provider refused access (HTTP %(status)s): the "
                    "credentials are known but not allowed to do this."
                ),
                self.env._(
                    "Ask the provider to give this account access to orders and "
                    "statuses, or set the credentials of an account that has it, "
                    "then click Test Connection."
                ),
            ),
            "http_not_found": (
                self.env._("The provider has no such address (HTTP %(status)s)."),
                self.env._(
                    "Check %(target)s on the source: it must be the address the "
                    "provider gives, with no wrong or missing path."
                ),
            ),
            "http_rate_limited": (
                self.env._("The provider asks to slow down (HTTP %(status)s)."),
                self.env._(
                    "Nothing to do if it is rare: the next run retries. If it "
                    "keeps happening, lower Requests per Minute on the source to "
                    "what the provider allows."
                ),
            ),
            "http_server_error": (
                self.env._(
                    "The provider has an error on its side (HTTP %(status)s): %(body)s"
                ),
                self.env._(
                    "A temporary provider error: the next run retries. If it "
                    "lasts, tell the provider."
                ),
            ),
            "http_client_error": (
                self.env._("The provider answered HTTP %(status)s: %(body)s"),
                self.env._(
                    "Read the provider's answer and check the source's settings "
                    "it names."
                ),
            ),
            "http_redirect": (
                self.env._(
                    "The provider answered with a redirect (HTTP %(status)s): it "
                    "is not followed."
                ),
                self.env._(
                    "Set %(target)s the provider gives (the address it redirects "
                    "to), then give consent for that host."
                ),
            ),
            "not_json": (
                self.env._("The provider's answer is not JSON."),
                self.env._("Check %(target)s on the source."),
            ),
            "timeout": (
                self.env._("The provider did not answer in time."),
                self.env._("Nothing to do if it is rare: the next run retries."),
            ),
            "tls": (
                self.env._(
                    "Cannot reach the provider securely: its certificate is not "
                    "trusted or does not match the address (%(error)s)."
                ),
                self.env._(
                    "Check %(target)s (https:// and the exact host the provider "
                    "gives). If the provider's certificate expired, tell the "
                    "provider."
                ),
            ),
            "dns": (
                self.env._(
                    "Cannot reach the provider: its host name is not found (%(error)s)."
                ),
                self.env._(
                    "Check the spelling of %(target)s on the source, and that "
                    "this server can reach the internet."
                ),
            ),
            "unreachable": (
                self.env._("Cannot reach the provider: %(error)s"),
                self.env._("Check %(target)s on the source and the network."),
            ),
            "rate_limit_reached": (
                self.env._(
                    "The source's rate limit (%(limit)s requests per minute) is "
                    "reached."
                ),
                self.env._(
                    "Nothing to do: the next run goes on. Raise Requests per "
                    "Minute if the provider allows more."
                ),
            ),
            "status_retry": (
                self.env._("The status could not be delivered: %(error)s"),
                self.env._(
                    "The provider is unavailable or asked to wait: the status "
                    "will be sent again by itself."
                ),
            ),
            "status_refused": (
                self.env._("The provider refused the status: %(error)s"),
                self.env._(
                    "The provider refused this status. Read its answer in the "
                    "HTTP exchanges, fix the cause (mapping, order data or the "
                    "source's settings), then Retry."
                ),
            ),
            "unexpected": (
                self.env._("Unexpected error: %(error)s"),
                self.env._("If it keeps failing, report it with this message."),
            ),
        }

    @api.model
    def _oms_hint(self, key, **params):
        """``(problem, next action)`` of ``key``, filled with ``params``
        (placeholders not given read as the generic words)."""
        catalogue = self._oms_hint_catalogue()
        problem, action = catalogue.get(key) or catalogue["unexpected"]
        values = dict(
            {
                "status": "",
                "body": "",
                "error": "",
                "limit": "",
                "target": self.env._("the Provider API URL"),
                "credentials": self.env._("the API credentials"),
            },
            **params,
        )
        return problem % values, action % values
