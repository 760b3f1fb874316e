from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_assign(self, force_qty=False):
        result = super()._action_assign(force_qty=force_qty)
        # The first delivery ready (or partly ready) means "processing".
        self.picking_id._oms_deliveries().filtered(
            lambda p: p.state == "assigned"
        )._oms_notify("processing")
        return result
