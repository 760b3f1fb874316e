from odoo import api, models


class OmsIntegrationHints(models.AbstractModel):
    """Mobiwork's hints: its read API's own errors (``successful: false``
    with ``errors[].message``, ``status`` false) and answers that are not a
    page, and the statuses, Bills and goods issues it cannot be sent."""

    _inherit = "oms.integration.hints"

    @api.model
    def _oms_hint_catalogue(self):
        catalogue = super()._oms_hint_catalogue()
        catalogue.update(
            {
                "mobiwork_read_api_refused": (
                    self.env._(
                        "Mobiwork's read API refused to list the orders: %(error)s"
                    ),
                    self.env._(
                        "Check the Mobiwork read API ID and token (tab Mobiwork) "
                        "and ask Mobiwork that this account may read sales "
                        "orders. The next run retries."
                    ),
                ),
                "mobiwork_read_api_unreadable": (
                    self.env._("Mobiwork's read API answer cannot be used: %(error)s"),
                    self.env._(
                        "Check the Mobiwork read API URL (tab Mobiwork): it must "
                        "be Mobiwork's read API, such as https://openapi.mobiwork.vn. "
                        "The next run retries."
                    ),
                ),
                "mobiwork_token_key_missing": (
                    self.env._("The source has no Mobiwork token key."),
                    self.env._(
                        "Set the token key on the source (tab Mobiwork), then "
                        "click Retry Now on this event."
                    ),
                ),
                "mobiwork_status_unbuildable": (
                    self.env._("The status cannot be sent to Mobiwork: %(error)s"),
                    self.env._(
                        "Fix the order, the status labels (tab Mobiwork) or the "
                        "codes of its products, units and warehouses in the "
                        "Mapping Center, then click Retry Now on this event."
                    ),
                ),
            }
        )
        return catalogue
