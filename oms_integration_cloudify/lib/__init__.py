"""Pure-Python building blocks of ``oms_integration_cloudify``.

Nothing in this package imports Odoo (only the core's own pure ``lib``, as
``odoo.addons.oms_integration.lib``), so the top-level ``tests/`` suite tests
it without a database:

- :mod:`.parser`: Cloudify webhook events and polling pages into the core's
  normalized orders, with every error and its field path;
- :mod:`.auth`: the session login and OAuth2 token requests, reading their
  answers, token expiry, and the headers of authenticated requests;
- :mod:`.callbacks`: the status callback Odoo sends to Cloudify, and
  Cloudify's error answers as one readable line;
- :mod:`.simulator`: a local Cloudify for tests and demos.
"""
