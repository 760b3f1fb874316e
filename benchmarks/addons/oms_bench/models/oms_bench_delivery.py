from odoo import models


class OmsBenchDelivery(models.AbstractModel):
    """The table of the bare benchmark route: one row per request body.

    Abstract (no ORM table, no access rules): the route writes to it with
    plain SQL, the least an Odoo route can do to keep a delivery.
    """

    _name = "oms.bench.delivery"
    _description = "Benchmark Delivery (bare route)"

    def init(self):
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS oms_bench_delivery (
                id bigserial PRIMARY KEY,
                received_at timestamp NOT NULL DEFAULT (now() at time zone 'utc'),
                body text NOT NULL
            )
            """
        )
