from . import oms_integration_event
from . import oms_integration_hints
from . import oms_integration_order_builder
from . import oms_integration_source
from . import sale_order
