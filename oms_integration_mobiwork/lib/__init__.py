"""Pure-Python building blocks of ``oms_integration_mobiwork``.

Nothing in this package imports Odoo (only the core's own pure ``lib``, as
``odoo.addons.oms_integration.lib``), so the top-level ``tests/`` suite tests
it without a database:

- :mod:`.parser`: Mobiwork webhook deliveries and read-API pages into the
  core's normalized orders, errors kept per order;
- :mod:`.callbacks`: the bodies Odoo sends back to Mobiwork (Bill, goods
  issue), status labels, and Mobiwork's error answers;
- :mod:`.vietnam`: Vietnam time, dates and whole-đồng amounts;
- :mod:`.simulator`: a local Mobiwork for tests and demos.
"""
