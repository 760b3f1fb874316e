{
    "name": "OMS Integration - Job Queue",
    "summary": "Run the OMS Integration queue as OCA queue jobs, across every "
    "Odoo worker and host",
    "version": "18.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/oms-integration/oms-integration",
    "author": "OMS Integration Team",
    "license": "LGPL-3",
    "depends": ["oms_integration", "queue_job"],
    "data": [
        "data/queue_job_data.xml",
        "data/ir_cron_data.xml",
        "views/oms_integration_event_views.xml",
    ],
    "auto_install": True,
}
