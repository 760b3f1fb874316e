from odoo import fields, models

from .. import const


class OmsIntegrationSource(models.Model):
    _inherit = "oms.integration.source"

    provider = fields.Selection(
        selection_add=[(const.PROVIDER_CODE, "Cloudify")],
        ondelete={const.PROVIDER_CODE: "set default"},
    )
