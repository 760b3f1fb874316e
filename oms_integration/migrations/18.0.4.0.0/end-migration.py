"""18.0.4.0.0: the operations cockpit.

Sources made before it were never checked: their health score would read
100 until the daily check. Check them now, through the ORM, at the end of
the update (the provider addons add their checks by then).
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    sources = env["oms.integration.source"].with_context(active_test=False).search([])
    sources._oms_check_readiness()
