"""From 18.0.1.x: the rows of the old token cache table, set aside by the
pre-migration, become records of ``oms.integration.cloudify.token`` (the
cached sessions and the last sign-in failures are kept: nobody needs to
sign in again), then the old table goes."""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

SET_ASIDE = "oms_integration_cloudify_token_v1"


def migrate(cr, version):
    if not version:
        return
    cr.execute(SQL("SELECT to_regclass(%s)", SET_ASIDE))
    if not cr.fetchone()[0]:
        return
    cr.execute(
        SQL(
            """
            INSERT INTO oms_integration_cloudify_token (
                source_id, token_encrypted, expires_at, refreshed_at,
                error, error_at, error_retryable)
            SELECT old.source_id, old.token_encrypted, old.expires_at,
                   old.refreshed_at, old.error, old.error_at,
                   COALESCE(old.error_retryable, FALSE)
              FROM %s old
              JOIN oms_integration_source source ON source.id = old.source_id
            ON CONFLICT (source_id) DO NOTHING
            """,
            SQL.identifier(SET_ASIDE),
        )
    )
    _logger.info("Cloudify: %s cached sessions kept as records", cr.rowcount)
    cr.execute(SQL("DROP TABLE %s", SQL.identifier(SET_ASIDE)))
