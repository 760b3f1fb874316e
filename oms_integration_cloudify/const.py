"""Constants of the Cloudify provider.

Kept free of imports: the no-Odoo tests load this file on its own. The
Cloudify format's own names (paths, cookie, JSON keys, lifetimes) live with
the pure code that reads and writes it, in ``lib/``.
"""

PROVIDER_CODE = "cloudify"

# Our order statuses -> Cloudify's order state (one of lib.callbacks.STATES), for
# the status callback (lib.callbacks.build_status). "processing" is queued when
# the first delivery of the order is ready in Odoo, so the goods are being
# picked; a source may map it to "delivering" instead.
DEFAULT_STATE_MAP = {
    "approved": "confirmed",
    "processing": "picking",
    "delivered": "done",
    "cancelled": "cancel",
}

# How Odoo authenticates to Cloudify's API (lib.auth).
AUTH_MODE_SESSION = "session"
AUTH_MODE_OAUTH = "oauth"
AUTH_MODES = [
    (AUTH_MODE_SESSION, "Session Login (database, login, password)"),
    (AUTH_MODE_OAUTH, "OAuth2 Client Credentials"),
]
DEFAULT_AUTH_MODE = AUTH_MODE_SESSION

# A token is refreshed this many seconds before it expires (by the cron and
# before each request), so that no request goes out with a dying token.
DEFAULT_REFRESH_MARGIN = 300
# The cron refreshes the tokens that expire within this many seconds: the
# margin plus the cron's interval (5 minutes), so that no token expires
# between two runs.
CRON_REFRESH_WINDOW = DEFAULT_REFRESH_MARGIN + 300

# Input field -> encrypted field of the Cloudify secrets (core's secret
# helper). The cached session id or access token is a secret too: its
# "encrypted field" reads and writes the token cache (see the model).
SECRET_FIELDS = {
    "cloudify_password": "cloudify_password_encrypted",
    "cloudify_client_secret": "cloudify_client_secret_encrypted",
    "cloudify_access_token": "cloudify_access_token_encrypted",
}

# Fields whose change makes a failed sign-in worth trying again.
CREDENTIAL_FIELDS = (
    "api_base_url",
    "cloudify_url",
    "cloudify_database",
    "cloudify_login",
    "cloudify_password",
    "cloudify_auth_mode",
    "cloudify_token_url",
    "cloudify_client_id",
    "cloudify_client_secret",
    "cloudify_scope",
)

# Readiness of the source's sign-in, shown on its form.
AUTH_STATES = [
    ("none", "Not signed in yet"),
    ("ok", "Signed in"),
    ("failed", "Signing in fails"),
]

# Cloudify's keys holding customers' personal data, besides the canonical
# ones (phone, email, street, zip, shipping_address.name): the outlet's name
# and tax id, and the ward and province of its and the delivery addresses. Blanked
# in stored payloads and exchange bodies after the source's retention
# (``_oms_personal_data_keys``). Codes and ids are kept.
PERSONAL_DATA_KEYS = frozenset({"outlet.name", "outlet.vat", "ward", "province"})
