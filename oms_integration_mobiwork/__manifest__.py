{
    "name": "OMS Integration - Mobiwork",
    "summary": "Mobiwork DMS as an order source of OMS Integration",
    "version": "18.0.1.2.0",
    "category": "Sales/Sales",
    "website": "https://github.com/oms-integration/oms-integration",
    "author": "OMS Integration Team",
    "license": "LGPL-3",
    "depends": ["oms_integration"],
    "data": [
        "views/oms_integration_source_views.xml",
        "views/sale_order_views.xml",
    ],
}
