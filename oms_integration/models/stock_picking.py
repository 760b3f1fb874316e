from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        result = super()._action_done()
        self._oms_deliveries().filtered(lambda p: p.state == "done")._oms_notify(
            "delivered"
        )
        return result

    def _oms_deliveries(self):
        """The customer deliveries of orders that came from a source."""
        return self.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.sale_id.oms_source_id
        )

    def _oms_notify(self, status):
        for picking in self:
            picking.sale_id._oms_queue_status(status, picking=picking)
