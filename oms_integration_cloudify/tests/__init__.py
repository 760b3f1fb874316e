from . import test_auth
from . import test_polling
from . import test_provider_registration
from . import test_source
from . import test_status_callbacks
from . import test_webhook
from . import test_order_fidelity
from . import test_hints
