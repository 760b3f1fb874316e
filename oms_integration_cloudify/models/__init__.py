from . import oms_integration_cloudify_token
from . import oms_integration_hints
from . import oms_integration_order_builder
from . import oms_integration_source_session
from . import oms_integration_source
from . import sale_order
