from . import oms_integration_consent_wizard
from . import oms_integration_reason_wizard
from . import oms_integration_redrive_wizard
