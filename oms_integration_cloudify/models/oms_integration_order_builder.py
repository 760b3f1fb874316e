from odoo import api, models

from .. import const


class OmsIntegrationOrderBuilder(models.AbstractModel):
    _inherit = "oms.integration.order.builder"

    @api.model
    def _oms_order_vals(self, event, order, resolved):
        vals = super()._oms_order_vals(event, order, resolved)
        if event.source_id.provider != const.PROVIDER_CODE:
            return vals
        # Kept with the order as received (lib.parser puts them in extra).
        extra = order.extra or {}
        vals["cloudify_distributor_code"] = extra.get("distributor_code") or False
        vals["cloudify_route_code"] = extra.get("route_code") or False
        vals["cloudify_promotions"] = (
            "\n".join(
                " ".join(
                    str(part)
                    for part in (p.get("code"), p.get("name"), p.get("amount"))
                    if part not in (None, "")
                )
                for p in extra.get("promotions") or []
                if isinstance(p, dict)
            )
            or False
        )
        return vals
