import re

from odoo import api, models

from ..exceptions import OmsProcessingError
from ..lib import redaction

# A placeholder of a catalogue text: %(name)s.
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class _Values(dict):
    """The values of a hint's placeholders: one not given reads as nothing
    rather than failing the work that reports an error."""

    def __missing__(self, key):
        return ""


class OmsIntegrationHints(models.AbstractModel):
    """The hints catalogue: what an error operators meet means and what to
    do next, in plain words, by key (``lib.hints``).

    Why a model and a ``lib`` module: recognising an error (an HTTP status,
    a ``requests`` exception, a transport error text) needs no database and
    is tested without Odoo in ``lib/hints.py``; the words must go through
    Odoo's translations and be extended by provider addons, which inherit
    this model and add their own keys (their API's error codes) to
    ``_oms_hint_catalogue``, super() first. Every place that tells an
    operator about an error (polling, status callbacks, Test Connection,
    readiness findings, events failing on the mapping or the source's
    policies) asks here, so one error reads the same everywhere."""

    _name = "oms.integration.hints"
    _description = "Integration Hints"

    @api.model
    def _oms_hint_parameters(self):
        """The placeholders catalogue texts may use, with what they hold.
        Provider addons using more add theirs: super() first."""
        return {
            # Requests to the provider.
            "status": "the HTTP status of the provider's answer",
            "body": "the provider's answer (cut, secrets masked)",
            "error": "the error as reported (a transport error, a message)",
            "target": "the setting holding the address, 'the Provider API URL'",
            "credentials": "the credentials sent, 'the API token'",
            "limit": "the source's requests per minute",
            "provider": "the source's provider code",
            "reason": "why the source refuses the work now",
            # Orders: mapping and policies.
            "values": "the values without mapping, 'Product SP001, Unit Thùng'",
            "codes": "provider codes",
            "code": "one provider code",
            "name": "the provider's name of that code",
            "candidates": "the Odoo records matching it",
            "order": "the provider's order id, or the sale order's name",
            "unit": "the provider's unit",
            "packaging": "the packaging the unit is mapped to",
            "product": "the Odoo product",
            "uom": "the unit of measure the unit is mapped to",
            "category": "that unit's category",
            "product_uom": "the product's unit of measure",
            "pricelist": "the Odoo pricelist",
            "pricelist_currency": "that pricelist's currency",
            "currency": "the order's currency",
            "expected": "the provider's order total",
            "computed": "Odoo's order total",
            "difference": "the difference of both",
            "amount": "an amount of the order",
        }

    @api.model
    def _oms_hint_catalogue(self):
        """``{key: (problem, next action)}``, texts with ``%(name)s``
        placeholders (``_oms_hint_parameters``) filled by ``_oms_hint``; a
        literal percent sign is written ``%%``. Provider addons add their
        keys, prefixed with their provider code: super() first."""
        return {
            # === REQUESTS TO THE PROVIDER === #
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
            "page_unexpected": (
                self.env._("The provider's API answered something else than a page."),
                self.env._(
                    "Check %(target)s on the source: it must be the provider's "
                    "API address. The next run retries."
                ),
            ),
            "polling_unsupported": (
                self.env._("The provider %(provider)s cannot be polled."),
                self.env._(
                    "Set the source's Mode to Webhook at the top of its form "
                    "(OMS Integration > Sources; pause the source first if it is "
                    "active)."
                ),
            ),
            "polling_settings": (
                "%(error)s",
                self.env._(
                    "Fix the source's settings it names (OMS Integration > "
                    "Sources), then click Poll Now."
                ),
            ),
            # === STATUS CALLBACKS === #
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
            "status_unsupported": (
                self.env._(
                    "The provider %(provider)s cannot receive status callbacks."
                ),
                self.env._(
                    "Turn off Send Order Statuses on this source (OMS Integration "
                    "> Sources), then discard this event."
                ),
            ),
            "signing_secret_missing": (
                self.env._("The source has no signing secret to sign statuses."),
                self.env._(
                    "Set the signing secret on the source (OMS Integration > "
                    "Sources, tab Credentials), then click Retry Now on this "
                    "event."
                ),
            ),
            "sending_paused": (
                "%(reason)s",
                self.env._(
                    "Fix the source (active, consent, Send Order Statuses) or "
                    "wait for the pause to end, then requeue."
                ),
            ),
            # === ORDERS RECEIVED === #
            "order_invalid": (
                self.env._(
                    "The provider sent an order that does not follow its format "
                    "(see the errors)."
                ),
                self.env._(
                    "Ask the provider to fix it and send it again, then discard "
                    "this event."
                ),
            ),
            "polled_order_invalid": (
                self.env._(
                    "The provider's API returned an order that does not follow "
                    "its format."
                ),
                self.env._("Ask the provider to fix it, then discard this event."),
            ),
            "payload_invalid": (
                self.env._("The payload does not follow the provider's format."),
                self.env._(
                    "Ask the provider to send the order again, then discard this event."
                ),
            ),
            "order_not_in_payload": (
                self.env._("The payload holds no order %(order)s."),
                self.env._(
                    "Ask the provider to send the order again, then discard this event."
                ),
            ),
            "source_not_taking_orders": (
                "%(reason)s",
                self.env._(
                    "The order waits: it is applied once the source is active "
                    "with its consent again, or discard it."
                ),
            ),
            "no_parser": (
                self.env._(
                    "The provider %(provider)s has no parser: this order cannot "
                    "be read."
                ),
                self.env._(
                    "Install the provider's addon (or set the source's provider), "
                    "then Retry."
                ),
            ),
            # === ORDERS: MAPPING === #
            "not_mapped": (
                self.env._("Not mapped: %(values)s."),
                self.env._(
                    "Map %(values)s in the Mapping Center (OMS Integration > "
                    "Mapping Center, filter Unmapped), then requeue this event."
                ),
            ),
            "tax_category_not_rate": (
                self.env._("%(codes)s is a tax category, not a rate."),
                self.env._(
                    "Map it to the company's tax for it in the Mapping Center "
                    "(for KCT, a 0%% tax 'not subject to VAT')."
                ),
            ),
            "customer_ambiguous": (
                self.env._(
                    "Several customers match %(code)s (%(name)s): %(candidates)s."
                ),
                self.env._(
                    "Choose the right one for %(code)s in the Mapping Center "
                    "(or merge the duplicates), then requeue this event."
                ),
            ),
            "unit_does_not_fit": (
                self.env._("A unit of the order does not fit its product."),
                self.env._(
                    "Map the unit to a unit or packaging of the product in the "
                    "Mapping Center, then requeue this event."
                ),
            ),
            "unit_no_packaging": (
                self.env._(
                    "Unit %(unit)s is mapped to the packaging %(packaging)s, but "
                    "%(product)s has no packaging of that name."
                ),
                self.env._(
                    "Add one to the product (Inventory > Products, the product, "
                    "tab Inventory, Packaging) with its quantity, then requeue "
                    "this event."
                ),
            ),
            "unit_other_category": (
                self.env._(
                    "Unit %(unit)s is mapped to %(uom)s (%(category)s), which "
                    "cannot measure %(product)s (sold in %(product_uom)s)."
                ),
                self.env._(
                    "Map it to a packaging or to a unit of the same category in "
                    "the Mapping Center, then requeue this event."
                ),
            ),
            # === ORDERS: THE SOURCE'S POLICIES === #
            "warehouses_several": (
                self.env._(
                    "The lines of order %(order)s are for several warehouses: "
                    "%(codes)s."
                ),
                self.env._(
                    "This source does not split orders. Ask the provider to send "
                    "one order per warehouse, or set 'Lines for Several "
                    "Warehouses' to 'One sale order per warehouse' on the source "
                    "(tab Order Defaults), then requeue this event."
                ),
            ),
            "pricelist_other_currency": (
                self.env._(
                    "Price list %(code)s is mapped to %(pricelist)s, in "
                    "%(pricelist_currency)s, but the order is in %(currency)s."
                ),
                self.env._(
                    "Map price list %(code)s to a pricelist in %(currency)s in "
                    "the Mapping Center, then requeue this event."
                ),
            ),
            "pricelist_missing": (
                self.env._("No pricelist in %(currency)s."),
                self.env._(
                    "Activate the currency %(currency)s and create a pricelist in "
                    "it (Sales > Products > Pricelists), or set one on the "
                    "source, then requeue this event."
                ),
            ),
            "total_differs": (
                self.env._(
                    "The provider's total %(expected)s differs from Odoo's "
                    "%(computed)s by %(difference)s."
                ),
                self.env._(
                    "Check the prices, discounts and taxes of the products with "
                    "the provider, or raise the source's total tolerance (tab "
                    "Order Defaults), then requeue this event."
                ),
            ),
            "adjustment_product_missing": (
                self.env._(
                    "The provider's total %(expected)s differs from Odoo's "
                    "%(computed)s by %(difference)s."
                ),
                self.env._(
                    "Set the Total Adjustment Product on the source (tab Order "
                    "Defaults), then requeue this event."
                ),
            ),
            "shipping_product_missing": (
                self.env._(
                    "The order charges %(amount)s for shipping, but there is no "
                    "product to put it on."
                ),
                self.env._(
                    "Set a Shipping Product on the source (tab Order Defaults), or "
                    "map the provider's carrier to an Odoo carrier in the Mapping "
                    "Center, then requeue this event."
                ),
            ),
            "cancel_refused": (
                self.env._("Order %(order)s cannot be cancelled: %(reason)s"),
                self.env._(
                    "Cancel the order by hand once possible (unlock it, or "
                    "return its deliveries), then discard this event."
                ),
            ),
            # === ANYTHING ELSE === #
            "unexpected": (
                self.env._("Unexpected error: %(error)s"),
                self.env._("If it keeps failing, report it with this message."),
            ),
        }

    @api.model
    def _oms_hint(self, key, **params):
        """``(problem, next action)`` of ``key``, filled with ``params``
        (``target`` and ``credentials`` not given read as the generic words,
        any other placeholder not given as nothing)."""
        catalogue = self._oms_hint_catalogue()
        problem, action = catalogue.get(key) or catalogue["unexpected"]
        values = _Values(
            target=self.env._("the Provider API URL"),
            credentials=self.env._("the API credentials"),
        )
        values.update(params)
        return problem % values, action % values

    @api.model
    def _oms_hint_text(self, key, **params):
        """Problem and next action of ``key`` as one text (an advice among
        others, a message that carries its own way out)."""
        return " ".join(self._oms_hint(key, **params))

    @api.model
    def _oms_error(
        self,
        key,
        permanent=True,
        secrets=(),
        detail=None,
        unmapped=(),
        retry_after=None,
        waiting=False,
        **params,
    ):
        """The ``OmsProcessingError`` of ``key``: its problem (then
        ``detail``, such as the provider's own words) as the message
        (``secrets`` masked), its next action as the hint, ``params`` filling
        both. ``permanent``: to the dead letters at once (a person must fix
        something), else retried with backoff; ``unmapped``, ``retry_after``
        and ``waiting`` as ``OmsProcessingError`` takes them."""
        problem, action = self._oms_hint(key, **params)
        if detail:
            problem = f"{problem} {detail}"
        values = dict(params, detail=detail) if detail else dict(params)
        if secrets:
            values = {
                name: redaction.redact_text(value, secrets)
                if isinstance(value, str)
                else value
                for name, value in values.items()
            }
        return OmsProcessingError(
            redaction.redact_text(problem, secrets) if secrets else problem,
            hint=action,
            permanent=permanent,
            unmapped=unmapped,
            retry_after=retry_after,
            waiting=waiting,
            key=key,
            values=values,
        )

    @api.model
    def _oms_display(self, key, values, error, hint):
        """``(error, hint)`` to show on an event or a dead letter: rendered in
        the reader's language when they came from the catalogue (``key``),
        else as written."""
        if key:
            return self._oms_render(key, values)
        return error, hint

    @api.model
    def _oms_render(self, key, values):
        """``(problem, next action)`` of a stored ``key`` and its ``values``
        (``detail`` appended to the problem), in the reader's language."""
        values = dict(values or {})
        detail = values.pop("detail", None)
        problem, action = self._oms_hint(key, **values)
        return (f"{problem} {detail}" if detail else problem), action

    @api.model
    def _oms_hint_placeholders(self, key):
        """The placeholders the texts of ``key`` use (for checks)."""
        problem, action = self._oms_hint_catalogue()[key]
        return set(_PLACEHOLDER.findall(problem + action))
