{
    "name": "OMS Integration - Benchmark Routes",
    "summary": "Benchmark only: a bare route storing the request body with one "
    "INSERT, the baseline of the inbound webhook benchmark",
    "version": "18.0.2.0.0",
    "category": "Hidden",
    "website": "https://github.com/oms-integration/oms-integration",
    "author": "OMS Integration Team",
    "license": "LGPL-3",
    "depends": ["oms_integration"],
    "data": ["security/ir.model.access.csv"],
}
