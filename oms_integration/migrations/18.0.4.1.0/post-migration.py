"""18.0.4.1.0: data protection.

Sources remember the database they were activated in, and pause themselves
in a copy of it. The sources activated (or paused) before this version
remember this database, the one they are updated in.
"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    sources = (
        env["oms.integration.source"]
        .with_context(active_test=False)
        .search([("state", "!=", "draft")])
    )
    sources._oms_record_database()
