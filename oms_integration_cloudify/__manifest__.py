{
    "name": "OMS Integration - Cloudify",
    "summary": "Cloudify DMS as an order source of OMS Integration",
    "version": "18.0.2.1.0",
    "category": "Sales/Sales",
    "website": "https://github.com/oms-integration/oms-integration",
    "author": "OMS Integration Team",
    "license": "LGPL-3",
    "depends": ["oms_integration"],
    "data": [
        "security/ir.model.access.csv",
        "security/oms_integration_cloudify_security.xml",
        "data/ir_cron_data.xml",
        "views/oms_integration_source_views.xml",
        "views/sale_order_views.xml",
    ],
}
