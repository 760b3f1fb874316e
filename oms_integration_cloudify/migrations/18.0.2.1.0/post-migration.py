"""From 18.0.2.0: the state map was a JSON text field
(``cloudify_state_map``); it is now the source's status table. Each
Cloudify source gets the default table, then its own states from the old
column, through the ORM (Odoo drops the old column after the update)."""

import logging

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

OLD_COLUMN = "cloudify_state_map"


def migrate(cr, version):
    if not version or not column_exists(cr, "oms_integration_source", OLD_COLUMN):
        return
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    cr.execute(
        SQL(
            "SELECT id, %s FROM oms_integration_source WHERE provider = 'cloudify'",
            SQL.identifier(OLD_COLUMN),
        )
    )
    for source_id, labels in cr.fetchall():
        source = env["oms.integration.source"].browse(source_id)
        if not source.status_map_ids:
            source._oms_reset_status_map()
        source._cloudify_import_state_map(labels)
    _logger.info("Cloudify: state maps moved to the status tables")
