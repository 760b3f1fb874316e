from . import oms_integration_source
from . import oms_integration_consent
from . import oms_integration_event
from . import oms_integration_dead_letter
from . import oms_integration_mapping
from . import sale_order
from . import oms_integration_order_builder
