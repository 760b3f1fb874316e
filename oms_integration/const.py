"""Constants of the OMS integration core: states, scopes, defaults."""

# Providers shipped by the core. Provider addons add theirs with selection_add.
PROVIDER_COMPATIBLE = "compatible"

# Source modes and states.
MODES = [
    ("webhook", "Webhook"),
    ("polling", "Polling"),
    ("both", "Webhook and polling"),
]
WEBHOOK_MODES = ("webhook", "both")
POLLING_MODES = ("polling", "both")

SOURCE_STATES = [("draft", "Draft"), ("active", "Active"), ("paused", "Paused")]

# Consent scopes: what an administrator allows a source to do.
CONSENT_SCOPES = [
    ("inbound", "Inbound (receive orders by webhook)"),
    ("polling", "Polling (fetch orders from the provider)"),
    ("outbound", "Outbound (send order statuses to the provider)"),
]
# The data a source exchanges, listed in the consent dialog.
CONSENT_DATA_CATEGORIES = (
    "Customer records (names, addresses, phone numbers, emails, tax ids)",
    "Sales orders and their lines",
    "Product identifiers and names",
    "Prices, discounts and totals",
    "Order statuses (approved, processing, delivered, cancelled)",
)

# Events: the staging queue.
DIRECTIONS = [("inbound", "Inbound"), ("outbound", "Outbound")]
EVENT_STATES = [
    ("pending", "Pending"),
    ("processing", "Processing"),
    ("done", "Done"),
    ("failed", "Failed, waiting for retry"),
    ("dead", "Dead letter"),
    ("discarded", "Discarded"),
]
# Allowed source states of each target state (see _update_state).
EVENT_TRANSITIONS = {
    "pending": ("failed", "dead", "processing"),
    "processing": ("pending", "failed"),
    "done": ("processing",),
    "failed": ("pending", "processing"),
    "dead": ("pending", "processing", "failed"),
    "discarded": ("pending", "failed", "dead"),
}
# How an inbound event arrived: pushed by the provider, or found by polling
# (the polling backstop report counts these on sources that do both). The
# receiving channels of ``_oms_assert_traffic_allowed`` stored as each.
RECEIVED_VIA = [("webhook", "Webhook"), ("polling", "Polling")]
RECEIVED_VIA_BY_CHANNEL = {"inbound": "webhook", "polling": "polling"}
EVENT_TYPES = [
    ("order.created", "Order created"),
    ("order.updated", "Order updated"),
    ("order.cancelled", "Order cancelled"),
    ("order.status", "Order status"),
    ("test", "Test"),
]

# Outbound order statuses (the outbound status contract), in the order they
# happen. Provider addons map them to their own vocabulary.
ORDER_STATUSES = [
    ("approved", "Approved"),
    ("processing", "Processing"),
    ("delivered", "Delivered"),
    ("cancelled", "Cancelled"),
]
# What became of one HTTP request to a provider.
EXCHANGE_OUTCOMES = [
    ("delivered", "Accepted"),
    ("retry", "Failed, will be retried"),
    ("permanent", "Refused (permanent)"),
]

DEAD_LETTER_REASONS = [
    ("exhausted", "Retries exhausted"),
    ("permanent", "Permanent error"),
]
DEAD_LETTER_STATES = [
    ("open", "Open"),
    ("requeued", "Requeued"),
    ("discarded", "Discarded"),
]

# Mapping Center.
MAPPING_KINDS = [
    ("partner", "Customer"),
    ("address", "Delivery Address"),
    ("product", "Product"),
    ("uom", "Unit"),
    ("salesperson", "Salesperson"),
    ("warehouse", "Warehouse"),
    ("tax", "Tax"),
    ("carrier", "Carrier"),
    ("pricelist", "Pricelist"),
]
# The field of oms.integration.mapping holding the Odoo record of each kind.
MAPPING_KIND_FIELDS = {
    "partner": "partner_id",
    "address": "partner_id",
    "product": "product_id",
    # A unit is an Odoo unit of measure or a product packaging (a case of
    # 24): packaging_id when set, else uom_id (see _oms_get_record).
    "uom": "uom_id",
    "salesperson": "user_id",
    "warehouse": "warehouse_id",
    "tax": "tax_id",
    "carrier": "carrier_id",
    "pricelist": "pricelist_id",
}
MAPPING_STATES = [
    ("mapped", "Mapped"),
    ("unmapped", "Unmapped"),
    ("ignored", "Ignored"),
]

PARTNER_POLICIES = [
    ("map_only", "Mapping table only"),
    ("match", "Match by VAT, phone or email, then record the mapping"),
    ("match_create", "Match, else create the customer"),
]
PRODUCT_POLICIES = [
    ("map_only", "Mapping table only"),
    ("match", "Match by SKU (internal reference), then record the mapping"),
    ("match_create", "Match, else create the product"),
]
# Lines the integration adds to an order besides the provider's products.
EXTRA_LINE_KINDS = [
    ("shipping", "Shipping"),
    ("discount", "Order discount"),
    ("adjustment", "Total adjustment"),
]
WAREHOUSE_POLICIES = [
    ("refuse", "Fail the order with a hint"),
    ("split", "One sale order per warehouse"),
]
NO_RATE_TAX_POLICIES = [
    ("none", "No tax"),
    ("product", "The product's taxes"),
]
TOTAL_POLICIES = [
    ("block", "Block: fail the order"),
    ("warn", "Warn: create the order and flag it"),
    ("adjust", "Adjust: add an adjustment line"),
]

SYNC_STATUSES = [
    ("synced", "Synced"),
    ("warning", "Synced with warnings"),
    ("review", "Needs review"),
    ("error", "Error"),
    # A status callback failed or was dead-lettered: the provider still
    # shows the order's previous status.
    ("not_updated", "Provider not updated"),
]

# Defaults of a new source.
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_RETRY_BASE_DELAY = 60  # seconds
DEFAULT_RETRY_MAX_DELAY = 3600  # seconds
DEFAULT_BODY_SIZE_LIMIT = 1024 * 1024  # bytes
DEFAULT_TIMESTAMP_TOLERANCE = 300  # seconds
# A webhook delivery answered 503 (the database unavailable) is sent again by
# the provider after this many seconds (Retry-After).
WEBHOOK_RETRY_AFTER = 10
DEFAULT_RETENTION_DAYS = 30
DEFAULT_POLL_INTERVAL = 5  # minutes
DEFAULT_POLL_OVERLAP = 300  # seconds
DEFAULT_POLL_PAGE_SIZE = 100
DEFAULT_POLL_MAX_FAILURES = 5
# (connect, read) timeouts of every request to a provider, in seconds.
HTTP_TIMEOUTS = (5, 15)
DEFAULT_LEASE_SECONDS = 300
# Outbound: requests per minute to one provider (polling and callbacks share
# it), and the circuit breaker of status callbacks.
DEFAULT_RATE_LIMIT = 120
DEFAULT_CIRCUIT_THRESHOLD = 5
DEFAULT_CIRCUIT_COOLDOWN = 300  # seconds
# A rate-limited request waits this long at most in the worker; a longer wait
# puts the event back in the queue (not counted as an attempt).
MAX_RATE_LIMIT_SLEEP = 2.0  # seconds
# Status callbacks claimed together by the send cron: the fixed costs of a
# batch (claim, commits, the source's secrets and circuit) are shared by them.
OUTBOUND_BATCH_SIZE = 50
# A batch takes rate-limit slots for the requests that may start within this
# many seconds; the rest goes back to the queue (not counted as attempts).
OUTBOUND_BATCH_SECONDS = 30
# Inbound events claimed together by a runner, applied each in a savepoint
# and committed together (a commit clears the ORM's cache, which they share).
# Small: with several runners on one backlog, each takes a few and comes back
# for more.
INBOUND_BATCH_SIZE = 8
# A runner stops after this long even with work left (and triggers the
# runners again), so that the cron threads it shares with the other scheduled
# actions (polling, the mail queue...) are never held long.
QUEUE_TIME_BUDGET = 20  # seconds
# System parameter: how long a claimed event belongs to its worker (seconds).
LEASE_SECONDS_PARAM = "oms_integration.lease_seconds"

# Secret fields of a source: (input field, stored encrypted field).
SECRET_FIELDS = {
    "api_token": "api_token_encrypted",
    "client_secret": "client_secret_encrypted",
    "password": "password_encrypted",
    "signing_secret": "signing_secret_encrypted",
    "signing_secret_previous": "signing_secret_previous_encrypted",
}

SECRET_KEY_CONFIG_OPTION = "oms_integration_secret_key"
SECRET_KEY_ENV_VAR = "OMS_INTEGRATION_SECRET_KEY"

# The first runner that turns inbound events into sale orders (webhook
# deliveries wake it up; it wakes the others when it finds a backlog), and the
# cron that sends status callbacks.
QUEUE_CRON_XMLID = "oms_integration.ir_cron_process_queue"
SEND_CRON_XMLID = "oms_integration.ir_cron_send_statuses"

# Operations cockpit: a source is stalled when its oldest due event waits
# longer than its stall threshold (the runners are not running); the alerts
# cron tells the source's responsible when a backlog, polling, callbacks or
# the readiness score go wrong.
DEFAULT_STALL_THRESHOLD = 15  # minutes
DEFAULT_BACKLOG_ALERT_THRESHOLD = 60  # minutes
DEFAULT_SCORE_ALERT_THRESHOLD = 60  # health score, 0-100
# Polling failures, and status callbacks failed in a row, that raise an alert
# (before the source pauses, or the circuit opens, by itself).
ALERT_POLL_FAILURES = 3
ALERT_CALLBACK_FAILURES = 3
# Alert kinds: one activity type each (data/mail_activity_type_data.xml).
ALERT_ACTIVITY_TYPES = {
    "dead_letters": "oms_integration.mail_activity_type_alert_dead_letters",
    "backlog": "oms_integration.mail_activity_type_alert_backlog",
    "polling": "oms_integration.mail_activity_type_alert_polling",
    "callbacks": "oms_integration.mail_activity_type_alert_callbacks",
    "score": "oms_integration.mail_activity_type_alert_score",
}
# System parameter: the token of the monitoring endpoint (/oms/monitoring).
MONITORING_TOKEN_PARAM = "oms_integration.monitoring_token"

# Readiness: what a check finds on a source (oms.integration.readiness.finding).
# A blocking finding refuses activation (every order or status would fail); a
# warning fails some orders or degrades the source.
READINESS_SEVERITIES = [("blocking", "Blocking"), ("warning", "Warning")]
# Health score: 100 without any finding, minus these points per finding of
# each severity, never below 0 (lib/readiness.health_score). Two blocking
# findings bring a source to 20; a source with only warnings stays at 50 or
# more up to five of them.
READINESS_WEIGHTS = {"blocking": 40, "warning": 10}
# Tax rates the providers send on lines (Vietnam's VAT): each needs a sales
# tax of that percentage or a tax mapping; "KCT" (not taxable) is a category,
# found only through a tax mapping.
READINESS_TAX_RATES = ("0", "5", "8", "10", "KCT")
# A few of the duplicate product references named in a finding.
READINESS_SAMPLE_SIZE = 5
# Status callbacks that count as "recent" for readiness (hours).
READINESS_RECENT_HOURS = 24
# Where a finding's button leads (the finding's _oms_open_<target> method).
READINESS_FIX_TARGETS = [
    ("source", "The source"),
    ("mapping", "Mapping Center"),
    ("pricelists", "Pricelists"),
    ("taxes", "Taxes"),
    ("products", "Products"),
    ("warehouses", "Warehouses"),
    ("exchanges", "HTTP exchanges"),
]
# The last Test Connection of a source.
CONNECTION_STATES = [
    ("ok", "Reachable"),
    ("refused", "Credentials refused"),
    ("unreachable", "Unreachable"),
    ("failed", "Failed"),
]

# Data protection. Personal data (names, phones, e-mails, addresses, tax ids
# of customers and delivery contacts) in stored payloads, HTTP exchange
# bodies and the last polling result is blanked this many days after an
# event was received (per source; 0 keeps it), by the clean-up cron, this
# many events per transaction.
DEFAULT_PERSONAL_DATA_DAYS = 90
PERSONAL_DATA_BATCH_SIZE = 500
# The events whose personal data may be blanked: out of the queue for good
# (pending, processing and failed ones are still to be applied or sent).
PERSONAL_DATA_EVENT_STATES = ("done", "dead", "discarded")
# Odoo's own system parameter identifying a database (a restored copy keeps
# it, a duplicate gets a new one): a source remembers the one it was
# activated in, and pauses itself in any other before polling or sending.
DATABASE_UUID_PARAM = "database.uuid"
# Why a source was paused for being in a copy of its database (the form's
# banner): Odoo's neutralization (data/neutralize.sql), or a database uuid
# other than the one it was activated in.
COPY_PAUSE_CAUSES = [
    ("neutralized", "The database was neutralized"),
    ("database_changed", "The database is a copy"),
]
