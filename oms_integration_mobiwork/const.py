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
