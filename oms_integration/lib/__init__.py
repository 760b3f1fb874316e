"""Pure-Python building blocks of ``oms_integration``.

Nothing in this package imports Odoo: the Odoo models stay thin and call these
functions, and the top-level ``tests/`` suite tests them without a database.
"""
