"""A local Mobiwork, for tests and demos: the core's provider simulator
playing Mobiwork's side.

- Read API: ``GET /OpenAPI/V1/Sale?tu_ngay=dd/mm/YYYY&den_ngay=dd/mm/YYYY
  &page_number=<n>&page_size=<m>&kieu_ngay=cdate`` with HTTP Basic auth
  (``api_id`` : ``read_token``) answers
  ``{"status": true, "data": [<order>...], "total": N}``: the orders put with
  :meth:`MobiworkSimulator.put_sale` created (``cdate``) on those Vietnam
  days, both included, sorted by creation time then ``ma_phieu``.
- ERP API: ``POST /OpenAPI/V1/Bill``,
  ``POST /OpenAPI/V1/InventoryExportCustomer`` and (our design)
  ``POST /OpenAPI/V1/OrderStatus`` with the ``tokenkey`` header
  are recorded (``callbacks``, as every POST; decoded in :attr:`bills`,
  :attr:`goods_issues` and :attr:`order_statuses`) and answered
  ``{"status": true, ...}``;
  :meth:`MobiworkSimulator.script_error` makes the next answers Mobiwork's
  errors ``{"successful": false, "errors": [{"message": ...}]}``.
- Pushing: :meth:`MobiworkSimulator.push_delivery` POSTs a delivery to Odoo
  with the ``tokenkey`` header, Standard Webhooks headers, both or neither.
"""

import base64
import binascii
import json

from odoo.addons.oms_integration.lib import normalize, signatures
from odoo.addons.oms_integration.lib.simulator import ProviderSimulator

from . import callbacks, parser, vietnam


def _error(message):
    return {"successful": False, "errors": [{"message": message}]}


def delivery(*orders, event=parser.ORDER_EVENT):
    """A webhook delivery as Mobiwork sends it: ``{"event": ..., "data": [...]}``."""
    return {"event": event, "data": list(orders)}


class MobiworkSimulator(ProviderSimulator):
    def __init__(
        self,
        token="sim-token",
        api_id="sim-id",
        read_token=None,
        host="127.0.0.1",
        port=0,
    ):
        super().__init__(token=token, host=host, port=port)
        self.api_id = api_id
        self.read_token = read_token or token
        self.sales = {}  # ma_phieu -> (created at, aware UTC; order object)

    # --- data ----------------------------------------------------------------

    def put_sale(self, order, created_at=None):
        """Add or replace an order of the read API. ``created_at`` (its
        ``cdate``, a datetime or ISO text) defaults to its ``ngay_dat``."""
        created_at = normalize.parse_datetime(created_at or order["ngay_dat"])
        with self.lock:
            self.sales[order["ma_phieu"]] = (created_at, order)

    def sale_page(self, first_day, last_day, page_number=1, page_size=50):
        """The read-API answer for orders created on ``first_day`` ..
        ``last_day`` (Vietnam dates, both included)."""
        with self.lock:
            sales = sorted(self.sales.values(), key=lambda s: (s[0], s[1]["ma_phieu"]))
        chosen = [
            order
            for created_at, order in sales
            if first_day <= vietnam.local_date(created_at) <= last_day
        ]
        start = (page_number - 1) * page_size
        return {
            "status": True,
            "data": chosen[start : start + page_size],
            "total": len(chosen),
        }

    def script_error(self, message, status=400, times=1):
        """Answer the next ``times`` requests with Mobiwork's error shape."""
        self.script(status, _error(message), times=times)

    def _posted(self, path):
        with self.lock:
            recorded = [c for c in self.callbacks if c["path"].split("?")[0] == path]
        return [json.loads(c["body"]) for c in recorded]

    @property
    def bills(self):
        """The bodies of every Bill received (answered or not), decoded."""
        return self._posted(callbacks.BILL_PATH)

    @property
    def order_statuses(self):
        """The bodies of every order status received (our design), decoded."""
        return self._posted(callbacks.ORDER_STATUS_PATH)

    @property
    def goods_issues(self):
        """The bodies of every goods issue received, decoded."""
        return self._posted(callbacks.GOODS_ISSUE_PATH)

    # --- answering -----------------------------------------------------------

    def _basic_auth_ok(self, headers):
        scheme, _sep, value = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.api_id}:{self.read_token}"

    def handle_get(self, path, query, headers):
        if path.rstrip("/") != parser.READ_API_SALE_PATH:
            return 404, _error("Not found"), {}
        if not self._basic_auth_ok(headers):
            return 401, _error("Unauthorized"), {}
        if query.get("kieu_ngay", parser.READ_API_DATE_KIND) != "cdate":
            return 400, _error("The simulator only filters by kieu_ngay=cdate"), {}
        try:
            first_day = vietnam.parse_date(query.get("tu_ngay"))
            last_day = vietnam.parse_date(query.get("den_ngay"))
        except ValueError:
            return 400, _error("tu_ngay and den_ngay must be dd/mm/YYYY"), {}
        try:
            page_number = int(query.get("page_number", 1))
            page_size = int(query.get("page_size", 50))
        except ValueError:
            page_number = page_size = 0
        if page_number < 1 or page_size < 1:
            return 400, _error("page_number and page_size must be 1 or more"), {}
        return 200, self.sale_page(first_day, last_day, page_number, page_size), {}

    def handle_post(self, path, headers, body):
        if path not in (
            callbacks.BILL_PATH,
            callbacks.GOODS_ISSUE_PATH,
            callbacks.ORDER_STATUS_PATH,
        ):
            return 404, _error("Not found"), {}
        token = signatures.header(headers, callbacks.TOKEN_HEADER)
        if not signatures.static_token_verify([self.token], token).ok:
            return 401, _error("Invalid tokenkey"), {}
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            data = None
        if not isinstance(data, dict):
            return 400, _error("The body must be a JSON object"), {}
        if path == callbacks.GOODS_ISSUE_PATH:
            number = data.get("ma_don_lien_quan")
        else:
            number = data.get("ma_phieu")
        return 200, {"status": True, "message": "Success", "ma_phieu": number}, {}

    # --- pushing to Odoo -----------------------------------------------------

    @staticmethod
    def push_delivery(
        webhook_url, payload, token=None, secret=None, msg_id=None, timeout=10
    ):
        """POST a delivery to Odoo as Mobiwork would.

        ``payload`` is a JSON-ready object (sent as UTF-8, Vietnamese left
        as is) or the exact bytes/text to send (malformed bodies included).
        ``token`` adds the ``tokenkey`` header, ``secret`` Standard Webhooks
        signing headers; with neither the delivery is unauthenticated.
        """
        import requests

        if isinstance(payload, bytes):
            body = payload
        elif isinstance(payload, str):
            body = payload.encode()
        else:
            body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers[callbacks.TOKEN_HEADER] = token
        if secret is not None:
            headers.update(
                ProviderSimulator.standard_webhooks_headers(secret, body, msg_id)
            )
        return requests.post(webhook_url, data=body, headers=headers, timeout=timeout)
