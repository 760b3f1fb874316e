"""From 18.0.1.x: the token cache table made by hand
(``oms_integration_cloudify_token``, one row per source keyed by
``source_id``, created by the source model's ``init()``) is now the model
``oms.integration.cloudify.token``, whose table has the same name. The old
table is set aside here, before the model creates its own; its rows are
copied over and it is dropped in the post-migration."""

from odoo.tools import SQL

OLD_TABLE = "oms_integration_cloudify_token"
SET_ASIDE = "oms_integration_cloudify_token_v1"


def _columns(cr, table):
    cr.execute(
        SQL(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            table,
        )
    )
    return {row[0] for row in cr.fetchall()}


def migrate(cr, version):
    if not version:
        return
    columns = _columns(cr, OLD_TABLE)
    if not columns or "id" in columns:
        return  # no old table, or the model's already
    cr.execute(
        SQL(
            "ALTER TABLE %s RENAME TO %s",
            SQL.identifier(OLD_TABLE),
            SQL.identifier(SET_ASIDE),
        )
    )
    # Its constraints keep their names (its primary key's index, its foreign
    # key), which the model's table is about to take.
    cr.execute(
        SQL(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass",
            SET_ASIDE,
        )
    )
    for (name,) in cr.fetchall():
        if name.startswith(OLD_TABLE + "_"):
            cr.execute(
                SQL(
                    "ALTER TABLE %s RENAME CONSTRAINT %s TO %s",
                    SQL.identifier(SET_ASIDE),
                    SQL.identifier(name),
                    SQL.identifier(SET_ASIDE + name[len(OLD_TABLE) :]),
                )
            )
