"""18.0.3.0.0: orders imported before know their provider order id.

Before this version an external order was always one sale order, whose
external id was the provider's order id; from now on an order split by
warehouse has several, linked by ``oms_provider_order_id``.
"""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        UPDATE sale_order
           SET oms_provider_order_id = oms_external_id
         WHERE oms_source_id IS NOT NULL
           AND oms_provider_order_id IS NULL
        """
    )
