from . import oms_integration_source
