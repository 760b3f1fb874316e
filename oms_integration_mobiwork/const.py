"""Constants of the Mobiwork provider.

The Mobiwork format's own names (events, paths, headers) live with the pure
code that reads and writes it, in ``lib/parser.py`` and ``lib/callbacks.py``.
"""

PROVIDER_CODE = "mobiwork"

# Our order statuses -> Mobiwork's trang_thai. Mobiwork publishes no status
# list (only "Đã bán hàng" is ever seen): these are defaults a source can
# override with its tenant's labels or codes (lib.callbacks.status_label).
DEFAULT_STATUS_LABELS = {
    "approved": "Đã duyệt",
    "processing": "Đang giao",
    "delivered": "Đã bán hàng",
    "cancelled": "Đã hủy",
}

# An order status of our own: the goods left the warehouse (the goods issue,
# POST /OpenAPI/V1/InventoryExportCustomer), queued before "delivered" (the
# Bill) when a delivery of a Mobiwork order is validated.
STATUS_GOODS_ISSUED = "goods_issued"
# The order statuses of a Mobiwork source happen in (lib.status.is_regression).
STATUS_ORDER = ("approved", "processing", STATUS_GOODS_ISSUED, "delivered", "cancelled")

# How Mobiwork's deliveries to Odoo are authenticated.
AUTH_MODES = [
    ("token", "tokenkey Header (static token)"),
    ("standard_webhooks", "Standard Webhooks Signature"),
]
DEFAULT_AUTH_MODE = "token"

DEFAULT_READ_API_URL = "https://openapi.mobiwork.vn"

# Input field -> encrypted field of the Mobiwork secrets (core's secret helper).
SECRET_FIELDS = {
    "mobiwork_token_key": "mobiwork_token_key_encrypted",
    "mobiwork_read_api_token": "mobiwork_read_api_token_encrypted",
}

# Mobiwork's keys holding customers' personal data (the outlet's name, phone
# and addresses), blanked in stored payloads and exchange bodies after the
# source's retention (``_oms_personal_data_keys``; the core's canonical keys
# apply too). Codes (ma_kh, ma_phieu, ma_sp...) and the salesperson's name
# (staff, not a customer) are kept.
PERSONAL_DATA_KEYS = frozenset({"ten_kh", "sdt", "dia_chi", "dia_chi_giao_hang"})
