from odoo import fields, models


class OmsBenchDelivery(models.Model):
    """The table of the bare benchmark route: one row per request body.

    A model (so that the table has access rights and goes away on
    uninstall) without the audit columns; the route writes to it with one
    plain ``INSERT``, the least an Odoo route can do to keep a delivery."""

    _name = "oms.bench.delivery"
    _description = "Benchmark Delivery (bare route)"
    _log_access = False

    received_at = fields.Datetime(required=True)
    body = fields.Text(required=True)
