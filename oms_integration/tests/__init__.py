from . import test_access
from . import test_consent
from . import test_event_state
from . import test_webhook
from . import test_queue
from . import test_mapping
from . import test_sale_order
from . import test_secrets
