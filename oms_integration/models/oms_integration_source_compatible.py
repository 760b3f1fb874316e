import json
import time

from odoo import models

from .. import const
from ..lib import normalize, signatures


class OmsIntegrationSource(models.Model):
    """The ``compatible`` provider: the canonical JSON of the inbound webhook
    contract, signed with Standard Webhooks, its polling API and its status
    callbacks (the outbound status contract).

    The reference provider, written exactly as a provider addon writes its
    hooks: ``super()`` first, then return early unless the source is ours.
    Copy this file to start a new provider (docs/how-to-add-a-provider.md)."""

    _inherit = "oms.integration.source"

    # === PROVIDER HOOKS === #

    def _oms_readiness_checks(self):
        found = super()._oms_readiness_checks()
        if self.provider != const.PROVIDER_COMPATIBLE:
            return found
        if self.outbound_enabled and not self.sudo().signing_secret_encrypted:
            found.append(
                self._oms_finding(
                    "compatible_signing_secret",
                    "blocking",
                    self.env._(
                        "No signing secret: status callbacks are signed with it."
                    ),
                    self.env._("Set a signing secret (tab Credentials)."),
                )
            )
        if self.mode in const.POLLING_MODES and not self.sudo().api_token_encrypted:
            found.append(
                self._oms_finding(
                    "compatible_api_token",
                    "warning",
                    self.env._(
                        "No API token: a provider that needs one refuses polling."
                    ),
                    self.env._(
                        "Set the API token (tab Credentials), then click Test "
                        "Connection."
                    ),
                )
            )
        return found

    def _oms_connection_test_request(self, scope):
        request = super()._oms_connection_test_request(scope)
        if self.provider != const.PROVIDER_COMPATIBLE or scope != "polling":
            return request
        # The polling API's cheapest page: one order, the newest first page.
        return {
            "method": "GET",
            "url": f"{(self.api_base_url or '').rstrip('/')}/orders?page=1&page_size=1",
            "headers": self._oms_request_headers(),
            "body": None,
        }

    def _oms_parse_delivery(self, body):
        result = super()._oms_parse_delivery(body)
        if self.provider != const.PROVIDER_COMPATIBLE:
            return result
        return normalize.parse_compatible(body)

    def _oms_check_delivery(self, body):
        # The lines are checked without being built: less than half the cost
        # of a parse, with the same errors (the parser's tests compare both).
        result = super()._oms_check_delivery(body)
        if self.provider != const.PROVIDER_COMPATIBLE:
            return result
        return normalize.parse_compatible(body, check_only=True)

    def _oms_fetch_page(self, since, page):
        result = super()._oms_fetch_page(since, page)
        if self.provider != const.PROVIDER_COMPATIBLE:
            return result
        params = {"page": page, "page_size": self.poll_page_size}
        if since:
            params["updated_since"] = since.isoformat().replace("+00:00", "Z")
        data = self._oms_request_json(
            "GET", f"{self.api_base_url.rstrip('/')}/orders", params=params
        )
        if not isinstance(data, dict):
            raise self._oms_hint_error("page_unexpected", permanent=False)
        results = []
        for raw_order in data.get("orders") or []:
            body = json.dumps(
                {"type": "order.updated", "order": raw_order}, ensure_ascii=False
            )
            results.append((body, normalize.parse_compatible(body)))
        return results, data.get("next_page")

    def _oms_build_status_request(self, event):
        request = super()._oms_build_status_request(event)
        if self.provider != const.PROVIDER_COMPATIBLE:
            return request
        secret = self._oms_get_secret("signing_secret")
        if not secret:
            raise self._oms_hint_error("signing_secret_missing", "outbound")
        body = (event.sudo().payload or "").encode()
        timestamp = int(time.time())
        return {
            "method": "POST",
            "url": self.callback_url,
            "headers": {
                "Content-Type": "application/json",
                "webhook-id": event.delivery_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signatures.standard_webhooks_sign(
                    secret, event.delivery_id, timestamp, body
                ),
            },
            "body": body,
        }

    def _oms_request_headers(self):
        headers = super()._oms_request_headers()
        if self.provider != const.PROVIDER_COMPATIBLE:
            return headers
        token = self._oms_get_secret("api_token")
        return dict(headers, Authorization=f"Bearer {token}") if token else headers

    def _oms_get_credential_fields(self):
        used = super()._oms_get_credential_fields()
        if self.provider != const.PROVIDER_COMPATIBLE:
            return used
        return used | {"api_token"}

    def _oms_has_test_endpoint(self):
        available = super()._oms_has_test_endpoint()
        if self.provider != const.PROVIDER_COMPATIBLE:
            return available
        return True
