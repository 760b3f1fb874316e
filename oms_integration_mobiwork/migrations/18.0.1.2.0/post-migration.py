"""From 18.0.1.1: the status labels were a JSON text field
(``mobiwork_status_labels``); they are now the source's status table. Each
Mobiwork source gets the default table, then its own labels from the old
column, through the ORM (Odoo drops the old column after the update)."""

import logging

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

OLD_COLUMN = "mobiwork_status_labels"


def migrate(cr, version):
    if not version or not column_exists(cr, "oms_integration_source", OLD_COLUMN):
        return
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    cr.execute(
        SQL(
            "SELECT id, %s FROM oms_integration_source WHERE provider = 'mobiwork'",
            SQL.identifier(OLD_COLUMN),
        )
    )
    for source_id, labels in cr.fetchall():
        source = env["oms.integration.source"].browse(source_id)
        if not source.status_map_ids:
            source._oms_reset_status_map()
        source._mobiwork_import_status_labels(labels)
    _logger.info("Mobiwork: status labels moved to the status tables")
