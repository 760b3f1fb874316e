import hashlib

from odoo import SUPERUSER_ID, http
from odoo.http import request
from odoo.tools import SQL

from odoo.addons.oms_integration.lib import normalize


class OmsBenchController(http.Controller):
    """The baseline of the webhook benchmark: what any Odoo route storing a
    delivery costs at the least (the framework, one INSERT on the request's
    cursor, one commit), with the webhook route's options."""

    @http.route(
        "/oms_bench/bare",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def oms_bench_bare(self, **_kwargs):
        env = request.env(user=SUPERUSER_ID)
        body = request.httprequest.get_data(cache=False)
        env.cr.execute(
            SQL(
                "INSERT INTO oms_bench_delivery (received_at, body) "
                "VALUES (now() at time zone 'utc', %s) RETURNING id",
                body.decode("utf-8", errors="replace"),
            )
        )
        [delivery_id] = env.cr.fetchone()
        return request.make_json_response(
            {"status": "queued", "event_id": delivery_id}, status=202
        )

    @http.route(
        "/oms_bench/store_only/<string:source_key>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def oms_bench_store_only(self, source_key, **_kwargs):
        """Diagnostic (``--diagnose``): the webhook route without verifying,
        decoding or splitting the delivery: the same source look-up, the same
        storing statement (``_oms_insert_order``) for an order whose id is
        the delivery id, and the same trigger of the runners. It says how
        much of the webhook's cost is storing the event row. Never a route of
        the product."""
        env = request.env(user=SUPERUSER_ID)
        body = request.httprequest.get_data()
        source = env["oms.integration.source"]._oms_find_by_webhook_key(source_key)
        delivery_id = request.httprequest.headers["webhook-id"]
        order = normalize.NormalizedOrder(
            event_type="order.created", external_id=delivery_id, updated_at=None
        )
        event_id, repeat_id = env["oms.integration.receiver"]._oms_insert_order(
            source,
            order,
            {
                "delivery_id": delivery_id,
                "payload": body.decode("utf-8", errors="replace"),
                "payload_hash": hashlib.sha256(body).hexdigest(),
                "headers": "{}",
            },
        )
        if event_id:
            env["oms.integration.event"]._oms_trigger_runners("inbound")
        return request.make_json_response(
            {"status": "queued", "event_id": event_id or repeat_id},
            status=202 if event_id else 200,
        )
