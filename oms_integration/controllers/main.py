import logging

import psycopg2

from odoo import http
from odoo.http import request

from .. import const
from ..lib import signatures

_logger = logging.getLogger(__name__)


class OmsWebhookController(http.Controller):
    """``POST /oms/webhook/<source_key>``: the inbound webhook contract.

    Verifies, validates and stores; never creates the sale order (the queue
    does, asynchronously). Every answer is a small JSON body.
    """

    @http.route(
        "/oms/webhook/<string:source_key>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def oms_webhook(self, source_key, **_kwargs):
        authentic = {}
        try:
            status, answer = self._oms_handle_webhook(source_key, authentic)
        except psycopg2.OperationalError:
            raise  # serialization failures: Odoo retries the whole request
        except Exception:
            _logger.exception("Unexpected error on an OMS webhook delivery")
            request.env.cr.rollback()
            if authentic:
                self._oms_keep_raw_delivery(**authentic)
            return request.make_json_response({"status": "error"}, status=500)
        return request.make_json_response(answer, status=status)

    def _oms_handle_webhook(self, source_key, authentic):
        source, queue_cron_id = (
            request.env["oms.integration.source"].sudo()._oms_webhook_lookup(source_key)
        )
        if not source:
            return 404, {"status": "not_found"}
        httprequest = request.httprequest
        limit = source.body_size_limit or const.DEFAULT_BODY_SIZE_LIMIT
        if (httprequest.content_length or 0) > limit:
            return 413, {"status": "too_large"}
        # Kept (cache): Odoo replays the request after a serialization failure.
        body = httprequest.get_data()
        if len(body) > limit:
            return 413, {"status": "too_large"}
        if source._oms_traffic_refusal("inbound"):
            return 403, {"status": "forbidden"}
        # Lower case, once: every look-up of a header is then one dict read.
        headers = signatures.request_headers(httprequest.environ)
        # The URL only when the scheme signs it: building it costs more than
        # verifying a signature.
        verification = source._oms_verify_request(
            headers, body, lambda: httprequest.url
        )
        if not verification.ok:
            source._oms_count_refusal()
            _logger.info(
                "Refused a webhook delivery for integration source %s: %s",
                source.id,
                verification.reason,
            )
            return 401, {"status": "unauthorized"}
        authentic.update(source=source, headers=headers, body=body)
        return source.env["oms.integration.event"]._oms_receive_webhook(
            source, headers, body, queue_cron_id=queue_cron_id
        )

    def _oms_keep_raw_delivery(self, source, headers, body):
        try:
            request.env["oms.integration.event"].sudo()._oms_keep_raw_delivery(
                source, headers, body
            )
        except Exception:
            _logger.exception("Could not keep an authentic OMS webhook delivery")
            request.env.cr.rollback()
