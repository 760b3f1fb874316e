from odoo import http
from odoo.http import request


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
