import hmac
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

from .. import const
from ..lib import monitoring

_logger = logging.getLogger(__name__)

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class OmsMonitoringController(http.Controller):
    """``GET /oms/monitoring``: the queue's health for an uptime checker or a
    Prometheus scraper (``?format=prometheus``).

    Thin: check the token, hand over to ``_oms_monitoring_report``. The token
    is the monitoring endpoint's own (system parameter
    ``oms_integration.monitoring_token``, set in Settings > OMS
    Integration), sent as ``Authorization: Bearer <token>`` only (an
    address is written in access logs: ``?token=`` is refused); no user
    session is involved. The report holds
    numbers and configuration only: no customer, payload or URL."""

    @http.route(
        "/oms/monitoring",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def oms_monitoring(self, token=None, **kwargs):
        if not request.db:
            return self._oms_answer(503, {"status": "unavailable"})
        env = request.env(user=SUPERUSER_ID)
        expected = env["ir.config_parameter"].get_param(const.MONITORING_TOKEN_PARAM)
        if not expected:
            return self._oms_answer(
                503,
                {
                    "status": "not_configured",
                    "message": "No monitoring token is configured: an administrator "
                    "sets one in Settings > OMS Integration.",
                },
            )
        if token is not None:
            # A token in the address is written in every access log.
            return self._oms_answer(
                400,
                {
                    "status": "bad_request",
                    "message": "Send the monitoring token in the header "
                    "'Authorization: Bearer <token>', not in the address "
                    "(addresses are written in access logs).",
                },
            )
        given = self._oms_bearer_token()
        if not given:
            return self._oms_answer(
                401,
                {"status": "unauthorized", "message": "Send the monitoring token."},
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return self._oms_answer(
                403, {"status": "forbidden", "message": "Wrong monitoring token."}
            )
        report = env["oms.integration.source"]._oms_monitoring_report()
        if kwargs.get("format") == "prometheus":
            return request.make_response(
                monitoring.prometheus_text(report),
                headers=[("Content-Type", PROMETHEUS_CONTENT_TYPE)],
            )
        return self._oms_answer(200, report)

    def _oms_bearer_token(self):
        authorization = request.httprequest.headers.get("Authorization") or ""
        scheme, _sep, value = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None

    def _oms_answer(self, status, answer, headers=None):
        headers = dict(headers or {}, **{"Cache-Control": "no-store"})
        return request.make_json_response(
            answer, status=status, headers=list(headers.items())
        )
