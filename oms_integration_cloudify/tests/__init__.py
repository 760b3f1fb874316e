from . import test_provider_registration
