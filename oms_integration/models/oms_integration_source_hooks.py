import json
import logging
import uuid

import requests

from odoo import fields, models
from odoo.exceptions import UserError

from .. import const
from ..lib import hints, normalize, outbound, redaction, sending, signatures
from ..lib import status as status_lib

_logger = logging.getLogger(__name__)


class OmsIntegrationProviderMixin(models.AbstractModel):
    """The provider hooks of ``oms.integration.source`` (which inherits this
    mixin), each with a neutral default and a docstring saying what a
    provider addon returns, and the requests to a provider they rely on
    (rate limit, timeouts, no redirects, errors in plain words with secrets
    redacted). Provider addons override them on ``oms.integration.source``;
    the reference provider is ``oms_integration_source_compatible.py``."""

    _name = "oms.integration.provider.mixin"
    _description = "Integration Provider Hooks"

    # === PROVIDER HOOKS === #
    # Each returns a neutral value by default (as payment's _get_specific_*);
    # a provider addon overrides them all the same way: call super() first,
    # return its result unless the source is theirs, then do its own work.
    # The compatible provider (oms_integration_source_compatible.py) is
    # written exactly so. See docs/how-to-add-a-provider.md.

    def _oms_get_signature_scheme(self):
        """The signature scheme of incoming webhooks: a key of
        ``lib.signatures.SCHEMES``. The contract's own, Standard Webhooks, by
        default."""
        self.ensure_one()
        return "standard_webhooks"

    def _oms_get_signature_header(self):
        """The header holding the signature or token, for the schemes that
        read a named header (``hmac_body_*``, ``hmac_url_body``,
        ``static_token``); ``None`` otherwise."""
        self.ensure_one()
        return None

    def _oms_get_webhook_secrets(self):
        """The secrets (or tokens) that may sign a delivery now."""
        self.ensure_one()
        return self._oms_get_signing_secrets()

    def _oms_verify_request(self, headers, body, url):
        """Whether a delivery is authentic: a ``signatures.VerificationResult``.

        ``url``: the request URL, or a function returning it (read only by
        the schemes that sign it). Fails closed: without a secret, nothing is
        authentic.
        """
        self.ensure_one()
        return signatures.verify(
            self._oms_get_signature_scheme(),
            self._oms_get_webhook_secrets(),
            headers,
            body,
            url=url,
            tolerance=self.timestamp_tolerance,
            header_name=self._oms_get_signature_header(),
        )

    def _oms_parse_delivery(self, body):
        """Parse one delivery (bytes) into normalized orders or validation
        errors: a ``normalize.ParseResult`` (``orders``, one or more
        ``NormalizedOrder``, or ``errors``, ``ValidationIssue`` with field
        paths). Neutral default: False (the provider has no parser)."""
        self.ensure_one()
        return False

    def _oms_check_delivery(self, body):
        """Validate one delivery as the webhook route does before storing it,
        when the provider can do that faster than a parse: a
        ``normalize.ParseResult`` with the same errors as
        ``_oms_parse_delivery``, whose orders need carry only what storing
        reads (``event_type``, ``external_id``, ``updated_at``); the queue
        parses the stored payload in full later. Neutral default: False (the
        route then uses the parse)."""
        self.ensure_one()
        return False

    def _oms_split_delivery(self, body):
        """Split one delivery into its orders: ``(items, errors)``.

        ``items``: ``normalize.DeliveryItem`` (the raw payload to store for
        each order and its check result), ``errors``: the issues of the
        delivery as a whole. Providers whose deliveries carry several orders
        override this, so that each order is stored, validated and
        deduplicated on its own. By default one item, the whole delivery,
        checked by ``_oms_check_delivery`` (else parsed)."""
        self.ensure_one()
        result = self._oms_check_delivery(body) or self._oms_parse_delivery(body)
        if not result:
            return [], [
                normalize.ValidationIssue(
                    "$", f"the provider {self.provider} has no webhook parser"
                )
            ]
        external_id = result.orders[0].external_id if result.orders else None
        raw = normalize.storable_text(body)
        return [normalize.DeliveryItem(raw, result, 0, external_id)], []

    def _oms_fetch_page(self, since, page):
        """Fetch one page of orders changed since ``since`` (aware datetime or
        None) from the provider: ``(results, next_page)``, ``results`` a list
        of ``(raw_json, normalize.ParseResult)``, one per order, and
        ``next_page`` the next page number or None. The moment the run
        started is in the context (``oms_poll_started_at``). Raise
        ``OmsProcessingError`` for provider errors (``permanent=False`` for
        those worth retrying). Neutral default: False (cannot be polled)."""
        self.ensure_one()
        return False

    def _oms_build_status_request(self, event):
        """The HTTP request telling the provider an outbound ``event``: a dict
        with ``method``, ``url``, ``headers`` (dict) and ``body`` (bytes).

        ``event.payload`` holds the status in the compatible format (the
        outbound contract); ``event.sale_order_id`` is the order. Called at
        each attempt: sign here, with ``event.delivery_id`` as the stable
        idempotency key. Raise ``OmsProcessingError`` when it cannot be
        built. Neutral default: False (the provider takes no statuses)."""
        self.ensure_one()
        return False

    def _oms_request_headers(self):
        """Authentication headers of requests to the provider's API (polling).
        Neutral default: none."""
        self.ensure_one()
        return {}

    def _oms_has_test_endpoint(self):
        """Whether the provider accepts a test callback. Without one, the form
        hides Send Test Callback, the action refuses, and a test event is
        never sent. Neutral default: False."""
        self.ensure_one()
        return False

    def _oms_send_request(self, request):
        """Send ``request`` (a dict: method, url, headers, body) once, with
        the connect and read timeouts and no redirect followed. Returns
        ``(response, error, duration)``: the answer, or the transport error
        as text. Providers that renew a session on an expired answer override
        this."""
        self.ensure_one()
        return sending.send(self._oms_http_session(), request, const.HTTP_TIMEOUTS)

    def _oms_get_delivery_id(self, headers, item):
        """The provider's idempotency key of one order of a delivery
        (``item``: a ``normalize.DeliveryItem``), unique per source.

        The compatible provider sends one order per delivery, keyed by the
        ``webhook-id`` header.
        """
        self.ensure_one()
        delivery_id = signatures.header(headers, "webhook-id")
        if delivery_id and item.index:
            return f"{delivery_id}#{item.index}"
        return delivery_id or None

    def _oms_read_status_answer(self, response, error):
        """What the provider's answer to a status request means:
        ``(outcome, message, retry_after)``, the outcome being one of
        ``lib.outbound`` DELIVERED, RETRY or PERMANENT, the message a short
        plain-language text (secrets are redacted by the caller's log, not
        here: do not add any), ``retry_after`` the seconds asked by the
        provider or None.

        ``response`` is None when no answer came (``error`` says why): that
        is retried. Provider addons whose API answers errors with HTTP 200
        override this.
        """
        self.ensure_one()
        if response is None:
            return outbound.RETRY, error, None
        outcome = outbound.classify_status(response.status_code)
        retry_after = outbound.parse_retry_after(response.headers.get("Retry-After"))
        if outcome == outbound.DELIVERED:
            return outcome, None, None
        secrets = self._oms_known_secret_values()
        message = redaction.redact_text(
            self.env._(
                "The provider answered HTTP %(status)s: %(body)s",
                status=response.status_code,
                body=redaction.redact_and_cut(response.text, secrets, 500),
            ),
            secrets,
        )
        return outcome, message, retry_after

    def _oms_is_status_regression(self, previous_status, new_status):
        """Whether sending ``new_status`` after ``previous_status`` (the last
        status queued for the order) goes backwards: then it is recorded, not
        sent. Provider addons adding statuses of their own override this with
        their order (``lib.status.is_regression(..., order=...)``). By
        default, the contract's order; a status it does not know (a
        provider's own) is never a regression here."""
        self.ensure_one()
        known = {status for status, _label in const.ORDER_STATUSES}
        if (
            previous_status and previous_status not in known
        ) or new_status not in known:
            return False
        return status_lib.is_regression(previous_status, new_status)

    # === BUSINESS METHODS: REQUESTS TO THE PROVIDER === #

    def _oms_http_session(self):
        """The ``requests`` session of this source in this thread (connection
        reuse; credentials are passed per request, never kept in it)."""
        self.ensure_one()
        return sending.thread_session((self.env.cr.dbname, self.id))

    def _oms_take_rate_slot(self, max_sleep=const.MAX_RATE_LIMIT_SLEEP):
        """Take a request slot of the source's rate limit, sleeping up to
        ``max_sleep`` seconds for it: 0 when taken, else the seconds still to
        wait (the caller tries later). Commits the caller's transaction
        first: the limit is shared by every worker (``oms.integration.throttle``)."""
        self.ensure_one()
        return self.env["oms.integration.throttle"]._oms_take_slot(self, max_sleep)

    def _oms_hint_error(
        self, key, scope="polling", permanent=True, detail=None, **params
    ):
        """The ``OmsProcessingError`` of the hints catalogue's ``key`` for a
        request of ``scope`` (polling, outbound): the source's setting and
        credentials named, its secrets masked, ``detail`` (the provider's
        own words) after the problem."""
        self.ensure_one()
        return self.env["oms.integration.hints"]._oms_error(
            key,
            permanent=permanent,
            detail=detail,
            secrets=self._oms_known_secret_values(),
            target=self._oms_hint_target(scope),
            credentials=self._oms_hint_credentials(scope),
            **params,
        )

    def _oms_http_failure(self, failure, scope="polling", answer=None):
        """The ``OmsProcessingError`` of a request to the provider that
        failed: ``failure`` is the ``requests`` exception raised (retried),
        or the provider's answer that is not a success (5xx and 429
        retried; any other answer needs a fix: permanent). ``answer`` is the
        provider's readable error, when its addon reads one from the body
        (the raw body otherwise)."""
        self.ensure_one()
        if isinstance(failure, requests.RequestException):
            return self._oms_hint_error(
                hints.classify_exception(failure),
                scope,
                permanent=False,
                error=failure,
            )
        status = failure.status_code
        key = hints.classify_status(status) or hints.CLIENT_ERROR
        body = answer or redaction.redact_and_cut(
            failure.text, self._oms_known_secret_values(), 500
        )
        return self._oms_hint_error(
            key,
            scope,
            # 5xx and 429 are worth retrying; any other answer needs a fix.
            permanent=status < 500 and status != 429,
            # The server and client errors name the answer already; the
            # others say what it means, then the provider's words.
            detail=answer
            if key not in (hints.SERVER_ERROR, hints.CLIENT_ERROR)
            else None,
            status=status,
            body=body,
        )

    def _oms_take_request_slot(self):
        """Take a request slot of the source's rate limit for a cron's
        request, or raise the retried ``OmsProcessingError`` saying the
        limit is reached."""
        self.ensure_one()
        if self._oms_take_rate_slot(max_sleep=const.MAX_RATE_LIMIT_SLEEP * 5):
            raise self._oms_hint_error(
                hints.RATE_LIMIT_REACHED, permanent=False, limit=self.rate_limit
            )

    def _oms_request_json(self, method, url, **kwargs):
        """One request to the provider's API (polling), within the rate limit,
        with timeouts and no redirect followed; errors become
        ``OmsProcessingError`` with a plain-language hint (secrets redacted)."""
        self.ensure_one()
        self._oms_take_request_slot()
        try:
            response = self._oms_http_session().request(
                method,
                url,
                headers=self._oms_request_headers(),
                timeout=const.HTTP_TIMEOUTS,
                allow_redirects=False,
                **kwargs,
            )
        except requests.RequestException as exc:
            raise self._oms_http_failure(exc) from exc
        if hints.classify_status(response.status_code):
            raise self._oms_http_failure(response)
        try:
            return response.json()
        except ValueError as exc:
            raise self._oms_hint_error(hints.NOT_JSON) from exc

    def action_poll_now(self):
        """Poll the source now (the polling cron's work for this source)."""
        self.ensure_one()
        self._oms_check_manager()
        self.poll_next_run = fields.Datetime.now()
        self.env.ref("oms_integration.ir_cron_poll_sources").sudo()._trigger()
        return True

    def action_send_test_callback(self):
        """Send a signed test callback now and show the provider's answer."""
        self.ensure_one()
        self._oms_check_manager()
        if not self._oms_has_test_endpoint():
            raise UserError(self._oms_no_test_endpoint_message())
        if not self._oms_check_same_database():
            return True  # paused as a copy of its database: the form says why
        self._oms_assert_traffic_allowed("outbound")
        event = self.env["oms.integration.event"]._oms_create_outbound(
            self,
            {
                "event_type": "test",
                "delivery_id": f"test_{uuid.uuid4().hex}",
                "payload": json.dumps(
                    {
                        "type": "test",
                        "occurred_at": status_lib.format_datetime(
                            fields.Datetime.now()
                        ),
                        "message": "Test callback from Odoo",
                    }
                ),
                "next_attempt_at": False,
            },
        )
        event._set_processing()
        exchange = self.env["oms.integration.sender"]._oms_send_now(event)
        if event.state != "done":
            # A test is never retried: its answer is shown now and kept.
            event._set_discarded(self.env._("Test callback (not retried)."))
        if exchange.outcome == "delivered":
            kind, title = "success", self.env._("The provider accepted the test")
        else:
            kind, title = "danger", self.env._("The test callback failed")
        answer = (
            f"HTTP {exchange.status_code}: {exchange.response_body or ''}"
            if exchange.status_code
            else exchange.error or (event.last_error or "")
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": redaction.redact_and_cut(
                    answer or "", self._oms_known_secret_values(), 500
                ),
                "type": kind,
                "sticky": kind == "danger",
            },
        }
