from odoo import api, models

from .. import const


class OmsIntegrationOrderBuilder(models.AbstractModel):
    _inherit = "oms.integration.order.builder"

    @api.model
    def _oms_order_vals(self, event, order, resolved):
        vals = super()._oms_order_vals(event, order, resolved)
        if event.source_id.provider != const.PROVIDER_CODE:
            return vals
        # Kept with the order, not only in the raw payload (which the
        # clean-up deletes): lib.parser puts them in extra.
        extra = order.extra or {}
        vals["mobiwork_sales_group"] = extra.get("sales_group") or False
        total = extra.get("line_discount_total")
        vals["mobiwork_line_discount_total"] = float(total) if total else 0.0
        vals["mobiwork_promotions"] = (
            "\n".join(
                self._mobiwork_promotion_text(p) for p in extra.get("promotions") or []
            )
            or False
        )
        return vals

    @api.model
    def _mobiwork_promotion_text(self, promotion):
        """One promotion on one line: "KM11 Mua 10 tặng 1 (value 5%): SP001
        x 1, SP009"."""
        text = " ".join(
            filter(None, [str(promotion.get("id") or ""), promotion.get("name") or ""])
        )
        value = promotion.get("value")
        if value not in (None, ""):
            text += f" ({self.env._('value')} {value})"
        products = [
            " x ".join(
                filter(None, [p.get("code") or "", str(p.get("quantity") or "")])
            )
            for p in promotion.get("products") or []
        ]
        if products:
            text += ": " + ", ".join(products)
        return text
