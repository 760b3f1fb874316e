import logging

import psycopg2

from odoo import SUPERUSER_ID, http
from odoo.http import request
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

from .. import const
from ..lib import signatures

_logger = logging.getLogger(__name__)

# The body of a delivery, once read: Odoo runs a request again after a
# serialization failure, and the input stream can be read only once.
_BODY_KEY = "oms_integration.webhook_body"


class OmsWebhookController(http.Controller):
    """``POST /oms/webhook/<source_key>``: the inbound webhook contract.

    Thin, as ``payment_stripe``'s webhook: find the source, read the body
    within its size limit, hand over to ``oms.integration.receiver``, answer
    its JSON. Failures that are ours are never answered as the provider's: a
    database that cannot be reached is 503 with ``Retry-After`` (the provider
    sends again), an unexpected error 500 with the authentic delivery kept.

    ``auth="none"``: no user is involved (the signature authenticates), and
    with ``oms_integration`` among the server-wide modules the route answers
    503 even while Odoo cannot reach the database at all (Odoo would
    otherwise serve the request without a database: a 404, which a provider
    takes as final)."""

    @http.route(
        "/oms/webhook/<string:source_key>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def oms_webhook(self, source_key, **_kwargs):
        if not request.db:
            return self._oms_unavailable()
        # The delivery is the source's, not a user's: stored by OdooBot.
        env = request.env(user=SUPERUSER_ID)
        source = env["oms.integration.source"]
        body = headers = None
        try:
            source = source._oms_find_by_webhook_key(source_key)
            if not source:
                return self._oms_answer(404, {"status": "not_found"})
            body = self._oms_read_body(source)
            if body is None:
                return self._oms_answer(413, {"status": "too_large"})
            headers = signatures.request_headers(request.httprequest.environ)
            status, answer = env["oms.integration.receiver"]._oms_receive_webhook(
                source, headers, body, lambda: request.httprequest.url
            )
            # Committed here, so that a database lost at the last moment is
            # still answered 503 rather than by Odoo's error page.
            env.cr.commit()  # pylint: disable=invalid-commit
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # a twin stored meanwhile: Odoo runs the request again
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            _logger.warning("OMS webhook: the database is unavailable", exc_info=True)
            self._oms_rollback(env)
            return self._oms_unavailable()
        except Exception:
            _logger.exception("Unexpected error on an OMS webhook delivery")
            self._oms_rollback(env)
            if source and body is not None and headers is not None:
                self._oms_keep_raw_delivery(env, source, headers, body)
            return self._oms_answer(500, {"status": "error"})
        return self._oms_answer(status, answer)

    def _oms_read_body(self, source):
        """The body, at most the source's size limit (None when larger):
        never more than that limit plus one byte is read, also from a
        chunked request without Content-Length."""
        httprequest = request.httprequest
        environ = httprequest.environ
        if _BODY_KEY in environ:
            return environ[_BODY_KEY]
        limit = source.body_size_limit or const.DEFAULT_BODY_SIZE_LIMIT
        if (httprequest.content_length or 0) > limit:
            body = None
        else:
            data = self._oms_input_stream(httprequest).read(limit + 1)
            body = None if len(data) > limit else data
        environ[_BODY_KEY] = body
        return body

    def _oms_input_stream(self, httprequest):
        """The request's input stream (werkzeug's, bounded by Content-Length
        when there is one). Odoo's request wrapper does not expose it, and
        its ``get_data()`` reads a chunked body whole, whatever its size."""
        werkzeug_request = getattr(httprequest, "_HTTPRequest__wrapped", httprequest)
        return werkzeug_request.stream

    def _oms_keep_raw_delivery(self, env, source, headers, body):
        try:
            env["oms.integration.receiver"]._oms_keep_raw_delivery_if_authentic(
                source, headers, body, lambda: request.httprequest.url
            )
            env.cr.commit()  # pylint: disable=invalid-commit
        except Exception:
            _logger.exception("Could not keep an authentic OMS webhook delivery")
            self._oms_rollback(env)

    def _oms_rollback(self, env):
        try:
            env.cr.rollback()  # pylint: disable=invalid-commit
        except psycopg2.Error:
            _logger.info("OMS webhook: rolling back failed too", exc_info=True)

    def _oms_answer(self, status, answer, headers=None):
        return request.make_json_response(answer, status=status, headers=headers)

    def _oms_unavailable(self):
        return self._oms_answer(
            503,
            {"status": "unavailable"},
            headers=[("Retry-After", str(const.WEBHOOK_RETRY_AFTER))],
        )
