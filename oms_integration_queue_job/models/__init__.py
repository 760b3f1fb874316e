from . import oms_integration_event
