"""The connections kept for storing webhook deliveries (``_WebhookStore``).
Deliveries stored on them are tested end to end (``tests/e2e``): inside
Odoo's test runner, data lives in the test's transaction only."""

import time
from unittest.mock import patch

import psycopg2

from odoo.tests import TransactionCase, tagged

from odoo.addons.oms_integration.models import oms_integration_event


@tagged("post_install", "-at_install")
class TestWebhookStore(TransactionCase):
    def setUp(self):
        super().setUp()
        self.store = oms_integration_event._WebhookStore()
        self.addCleanup(self._close_all)

    def _close_all(self):
        for connections in self.store._idle.values():
            for connection, _cr in connections:
                connection.close()

    def _look(self, cr):
        cr.execute(
            """
            SELECT pg_backend_pid(), current_setting('application_name'),
                   current_setting('transaction_isolation'),
                   (SELECT count(*) FROM pg_prepared_statements WHERE name = %s)
            """,
            [oms_integration_event._WEBHOOK_PREPARED],
        )
        return cr.fetchone()

    def _wait_gone(self, pid):
        for _attempt in range(100):
            self.env.cr.execute("SELECT pg_stat_clear_snapshot()")
            self.env.cr.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            if not self.env.cr.fetchone():
                return
            time.sleep(0.05)
        self.fail(f"backend {pid} did not end")

    def test_kept_prepared_and_named_apart(self):
        dbname = self.env.cr.dbname
        pid, name, isolation, prepared = self.store.run(dbname, self._look)
        self.assertTrue(name.endswith("-oms-webhook"), name)
        self.assertEqual(isolation, "read committed")
        self.assertEqual(prepared, 1)
        # Kept: the next statement runs on the same session.
        self.assertEqual(self.store.run(dbname, self._look)[0], pid)
        # A statement's error keeps it too (autocommit: nothing to undo).
        with self.assertRaises(psycopg2.errors.DivisionByZero):
            self.store.run(dbname, lambda cr: cr.execute("SELECT 1 / 0"))
        self.assertEqual(self.store.run(dbname, self._look)[0], pid)

    def test_a_connection_the_server_ended_is_replaced_once(self):
        dbname = self.env.cr.dbname
        pid = self.store.run(dbname, self._look)[0]
        self.env.cr.execute("SELECT pg_terminate_backend(%s)", [pid])
        self._wait_gone(pid)
        new_pid, _name, _isolation, prepared = self.store.run(dbname, self._look)
        self.assertNotEqual(new_pid, pid)
        self.assertEqual(prepared, 1)

    def test_after_a_fork_the_parents_connections_are_left_alone(self):
        dbname = self.env.cr.dbname
        pid = self.store.run(dbname, self._look)[0]
        [(parents, _cr)] = self.store._idle[dbname]
        self.store._pid = -1  # as a forked worker sees its parent's store
        self.assertNotEqual(self.store.run(dbname, self._look)[0], pid)
        # Not closed: in a real fork it is the parent's session.
        self.assertFalse(parents.closed)
        parents.close()

    def test_a_failure_to_store_is_not_left_to_odoos_retries(self):
        # Odoo replays a request on its own transaction's conflicts
        # (OperationalError); a failure of the kept connection is not one:
        # the controller answers 500 and keeps the raw delivery.
        lost = psycopg2.OperationalError("server closed the connection")
        store = oms_integration_event._WEBHOOK_STORE
        params = {name: None for name, _kind in oms_integration_event._WEBHOOK_PARAMS}
        with (
            patch.object(store, "run", side_effect=lost),
            self.assertRaisesRegex(RuntimeError, "could not be stored"),
        ):
            self.env["oms.integration.event"]._oms_store_webhook_order_kept(params)
