import hashlib
from datetime import datetime, timezone

from odoo import http
from odoo.http import request

from odoo.addons.oms_integration.lib import normalize


class OmsBenchController(http.Controller):
    """The baseline of the webhook benchmark: what any Odoo route storing a
    delivery costs at the least (the framework, one INSERT, one commit)."""

    @http.route(
        "/oms_bench/bare",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def oms_bench_bare(self, **_kwargs):
        body = request.httprequest.get_data(cache=False)
        request.env.cr.execute(
            "INSERT INTO oms_bench_delivery (body) VALUES (%s) RETURNING id",
            [body.decode("utf-8", errors="replace")],
        )
        [delivery_id] = request.env.cr.fetchone()
        return request.make_json_response(
            {"status": "queued", "event_id": delivery_id}, status=202
        )

    @http.route(
        "/oms_bench/store_only/<string:source_key>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def oms_bench_store_only(self, source_key, **_kwargs):
        """Diagnostic (``--diagnose``): what the webhook route costs with no
        verification and no validation, the same source lookup and the same
        storing statement as it (``_oms_store_webhook_order``), for an order
        whose id is the delivery id. It says how much of the webhook's cost
        is storing the event row itself. Never a route of the product."""
        body = request.httprequest.get_data()
        source, queue_cron_id = (
            request.env["oms.integration.source"].sudo()._oms_webhook_lookup(source_key)
        )
        delivery_id = request.httprequest.headers["webhook-id"]
        order = normalize.NormalizedOrder(
            event_type="order.created",
            external_id=delivery_id,
            updated_at=datetime.now(timezone.utc),
        )
        event, duplicate, _pending = (
            request.env["oms.integration.event"]
            .sudo()
            ._oms_store_webhook_order(
                source,
                order,
                {
                    "delivery_id": delivery_id,
                    "payload": body.decode("utf-8", errors="replace"),
                    "payload_hash": hashlib.sha256(body).hexdigest(),
                    "headers": "{}",
                },
                first_write=True,
                queue_cron_id=queue_cron_id,
            )
        )
        return request.make_json_response(
            {"status": "queued", "event_id": (event or duplicate).id},
            status=202 if event else 200,
        )
