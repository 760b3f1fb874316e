"""From 18.0.1.0.0: the core rebuilt inside Odoo.

- The rate limit and circuit breaker table made by hand
  (``oms_integration_source_throttle``) is now the model
  ``oms.integration.throttle``: the old table goes (its state is transient:
  the circuit closes, the rate limit starts afresh).
- Refused deliveries are now records (``oms.integration.refusal``), not
  counters on the source; mappings no longer count sightings: the old
  columns go.
- Polling moved to ``oms.integration.receiver``: the polling cron (created
  ``noupdate``) is pointed there.
"""

import logging

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

_OLD_COLUMNS = (
    ("oms_integration_source", "refused_count"),
    ("oms_integration_source", "last_refused_at"),
    ("oms_integration_mapping", "seen_count"),
    ("oms_integration_mapping", "last_seen_at"),
)


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    cr.execute(SQL("DROP TABLE IF EXISTS oms_integration_source_throttle"))
    for table, column in _OLD_COLUMNS:
        cr.execute(
            SQL(
                "ALTER TABLE %s DROP COLUMN IF EXISTS %s",
                SQL.identifier(table),
                SQL.identifier(column),
            )
        )
    cron = env.ref("oms_integration.ir_cron_poll_sources", raise_if_not_found=False)
    if cron:
        cron.write(
            {
                "model_id": env["ir.model"]._get_id("oms.integration.receiver"),
                "code": "model._cron_poll_sources()",
            }
        )
    cron = env.ref("oms_integration.ir_cron_process_queue", raise_if_not_found=False)
    if cron:
        cron.name = "OMS Integration: apply received orders (runner 1)"
    _logger.info("oms_integration migrated to 18.0.2.0.0 (the core inside Odoo)")
