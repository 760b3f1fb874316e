import json
import uuid

from odoo import api, fields, models
from odoo.tools import float_compare

from .. import const
from ..lib import status as status_lib


class SaleOrder(models.Model):
    _inherit = "sale.order"

    oms_source_id = fields.Many2one(
        "oms.integration.source",
        string="Integration Source",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="restrict",
    )
    oms_external_id = fields.Char(
        string="External Order ID",
        readonly=True,
        copy=False,
        help="Unique per source: the provider's order id, followed by "
        "'/<warehouse code>' for the further parts of an order split by "
        "warehouse.",
    )
    oms_provider_order_id = fields.Char(
        string="Provider Order ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The provider's order id, the same on every part of an order "
        "split by warehouse; status callbacks are sent under it.",
    )
    oms_part_code = fields.Char(
        string="Warehouse Part",
        readonly=True,
        copy=False,
        help="For an order split by warehouse: the provider's warehouse code of "
        "this part.",
    )
    oms_part_count = fields.Integer(
        string="Parts of the External Order", compute="_compute_oms_part_count"
    )
    oms_external_ref = fields.Char(
        string="External Reference", readonly=True, copy=False
    )
    oms_updated_at = fields.Datetime(
        string="External Version",
        readonly=True,
        copy=False,
        help="The provider's updated_at of the version applied last.",
    )
    oms_sync_status = fields.Selection(
        selection=const.SYNC_STATUSES, string="Sync Status", readonly=True, copy=False
    )
    oms_sync_message = fields.Text(string="Sync Message", readonly=True, copy=False)
    # What the order showed before a status callback failed: given back once
    # a later one is accepted.
    oms_sync_status_before_callback = fields.Selection(
        selection=const.SYNC_STATUSES, readonly=True, copy=False
    )
    oms_sync_message_before_callback = fields.Text(readonly=True, copy=False)
    oms_event_ids = fields.One2many(
        "oms.integration.event",
        "sale_order_id",
        string="Integration Events",
        groups="oms_integration.group_oms_user",
    )
    oms_event_count = fields.Integer(
        string="Integration Event Count", compute="_compute_oms_event_count"
    )
    oms_last_status = fields.Selection(
        selection=const.ORDER_STATUSES,
        string="Last Status Sent",
        readonly=True,
        copy=False,
        help="The last order status the provider accepted.",
    )
    oms_last_status_at = fields.Datetime(
        string="Status Sent On", readonly=True, copy=False
    )

    _sql_constraints = [
        (
            "oms_external_id_unique",
            "UNIQUE(oms_source_id, oms_external_id)",
            "This external order was already imported from this source.",
        ),
    ]

    def _compute_oms_part_count(self):
        for order in self:
            order.oms_part_count = len(order._oms_parts()) if order.oms_part_code else 0

    def _compute_oms_event_count(self):
        counts = dict(
            self.env["oms.integration.event"]
            .sudo()
            ._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.oms_event_count = counts.get(order, 0)

    # === CRUD AND WORKFLOW OVERRIDES === #

    def _action_confirm(self):
        # Queued first: the deliveries created by the confirmation may queue
        # "processing" at once, and statuses are sent in the order queued.
        self._oms_queue_status("approved")
        return super()._action_confirm()

    def _action_cancel(self):
        result = super()._action_cancel()
        self._oms_queue_status("cancelled")
        return result

    def action_view_oms_events(self):
        self.ensure_one()
        return {
            "name": self.env._("Integration Events"),
            "type": "ir.actions.act_window",
            "res_model": "oms.integration.event",
            "view_mode": "list,form",
            "domain": [("sale_order_id", "=", self.id)],
            "context": {"create": False},
        }

    def action_view_oms_parts(self):
        self.ensure_one()
        return {
            "name": self.env._("Parts of %(order)s", order=self.oms_provider_order_id),
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "view_mode": "list,form",
            "domain": [("id", "in", self._oms_parts().ids)],
            "context": {"create": False},
        }

    # === BUSINESS METHODS === #

    def _oms_parts(self):
        """Every sale order of this order's provider order (itself included):
        more than one when the order was split by warehouse."""
        self.ensure_one()
        if not self.oms_source_id:
            return self
        return self.search(
            [
                ("oms_source_id", "=", self.oms_source_id.id),
                ("oms_provider_order_id", "=", self._oms_order_id()),
            ]
        )

    def _oms_order_id(self):
        """The provider's id of this order (the same for every part)."""
        self.ensure_one()
        return self.oms_provider_order_id or self.oms_external_id

    # === BUSINESS METHODS: STATUS CALLBACKS === #

    def _oms_queue_status(self, status, picking=None):
        """Write the outbound event telling the order's source ``status``, in
        the current transaction (the outbox): sent by the queue once this
        transaction commits, never if it rolls back.

        Orders not from a source, or whose source does not send statuses,
        cost nothing. A regression (``processing`` after ``delivered``) is
        recorded on the order and not sent; ``processing`` is sent once, for
        the first delivery. A cancellation the provider asked for itself is
        not echoed back.
        """
        if self.env.context.get("oms_from_provider_cancel") and status == "cancelled":
            return self.env["oms.integration.event"]
        Event = self.env["oms.integration.event"].sudo()
        created = Event
        for order in self.filtered("oms_source_id"):
            source = order.oms_source_id.sudo()
            if source._oms_outbox_refusal():
                continue
            previous = Event.search(
                [
                    ("source_id", "=", source.id),
                    ("direction", "=", "outbound"),
                    ("sale_order_id", "=", order.id),
                    ("status", "!=", False),
                    ("state", "!=", "discarded"),
                ],
                order="id desc",
            )
            if status == "processing" and previous.filtered(
                lambda e: e.status in ("processing", "delivered")
            ):
                continue
            vals = {
                "event_type": status_lib.STATUS_TYPE,
                "status": status,
                "external_order_id": order._oms_order_id(),
                "sale_order_id": order.id,
                "delivery_id": f"status_{uuid.uuid4().hex}",
                "payload": json.dumps(
                    order._oms_status_body(status, picking), ensure_ascii=False
                ),
            }
            last = previous[:1].status
            if source._oms_is_status_regression(last, status):
                reason = self.env._(
                    "Not sent: %(status)s after %(last)s would go backwards.",
                    status=status,
                    last=last,
                )
                vals.update(state="discarded", discard_reason=reason)
                order.message_post(body=reason)
            created |= Event._oms_create_outbound(source, vals)
        if created.filtered(lambda e: e.state == "pending"):
            Event._oms_trigger_runners("outbound")
        return created

    @api.model
    def _oms_note_callbacks(self, events):
        """Show on their sale orders what became of these status callbacks
        (outbound events): one that failed (retried by itself) or went to
        the dead letters makes its order "Provider not updated", saying
        which status was not sent and why; once a later callback is
        accepted, the order shows again the sync status it had."""
        orders = self.sudo().with_context(tracking_disable=True)
        failed = events.filtered(lambda e: e.state in ("failed", "dead"))
        for event in failed:
            order = orders.browse(event.sale_order_id.id)
            vals = {
                "oms_sync_status": "not_updated",
                "oms_sync_message": order._oms_callback_failure_message(event),
            }
            if order.oms_sync_status != "not_updated":
                vals["oms_sync_status_before_callback"] = order.oms_sync_status
                vals["oms_sync_message_before_callback"] = order.oms_sync_message
            order.write(vals)
        accepted = (events - failed).filtered(
            lambda e: (
                e.state == "done" and e.sale_order_id.oms_sync_status == "not_updated"
            )
        )
        if not accepted:
            return
        # A later callback that failed still stands.
        still_failing = (
            self.env["oms.integration.event"]
            .sudo()
            .search(
                [
                    ("direction", "=", "outbound"),
                    ("sale_order_id", "in", accepted.sale_order_id.ids),
                    ("state", "in", ("failed", "dead")),
                    ("id", ">", min(accepted.ids)),
                ]
            )
        )
        restored = orders.browse()
        for order, done in accepted.grouped("sale_order_id").items():
            last = max(done.ids)
            if not still_failing.filtered(
                lambda e, o=order, last=last: e.sale_order_id == o and e.id > last
            ):
                restored |= order
        for (status, message), group in restored.grouped(
            lambda o: (
                o.oms_sync_status_before_callback,
                o.oms_sync_message_before_callback,
            )
        ).items():
            orders.browse(group.ids).write(
                {
                    "oms_sync_status": status,
                    "oms_sync_message": message,
                    "oms_sync_status_before_callback": False,
                    "oms_sync_message_before_callback": False,
                }
            )

    def _oms_callback_failure_message(self, event):
        self.ensure_one()
        status = dict(const.ORDER_STATUSES).get(event.status, event.status)
        message = self.env._(
            "%(provider)s was not told that this order is %(status)s: %(error)s",
            provider=event.source_id.name,
            status=status,
            error=(event.last_error or "").strip(),
        )
        if event.error_hint:
            message += "\n" + event.error_hint
        if event.state == "dead":
            return (
                message
                + "\n"
                + self.env._(
                    "It will not be sent again by itself: the operations team sees "
                    "it in OMS Integration > Dead Letters."
                )
            )
        return (
            message
            + "\n"
            + self.env._(
                "It will be sent again by itself; if that keeps failing, the "
                "operations team sees it in OMS Integration > Dead Letters."
            )
        )

    def _oms_status_body(self, status, picking=None):
        """The status in the compatible format (the outbound contract); a
        delivery adds its quantities, completeness and tracking."""
        self.ensure_one()
        details = {}
        if status == "delivered":
            lines = self.order_line.filtered(
                lambda line: not line.display_type and line.product_id.type == "consu"
            )
            # Quantities in the provider's unit (5 cases, not 120 bottles).
            details["lines"] = [
                {
                    "id": line.oms_external_line_id or str(line.id),
                    "sku": line.product_id.default_code or "",
                    "quantity_delivered": line._oms_provider_quantity(
                        line.qty_delivered
                    ),
                }
                for line in lines
            ]
            # An order split by warehouse is complete when every part is.
            parts = self._oms_parts() if self.oms_part_code else self
            details["complete"] = all(
                float_compare(
                    line.qty_delivered,
                    line.product_uom_qty,
                    precision_rounding=line.product_uom.rounding,
                )
                >= 0
                for line in parts.order_line.filtered(
                    lambda line: (
                        not line.display_type and line.product_id.type == "consu"
                    )
                )
            )
            if picking and (picking.carrier_id or picking.carrier_tracking_ref):
                details["tracking"] = {
                    "carrier": self.oms_source_id._oms_carrier_code(picking.carrier_id),
                    "number": picking.carrier_tracking_ref or "",
                }
        return status_lib.build_status_body(
            self._oms_order_id(),
            self.oms_external_ref or self.client_order_ref or "",
            status,
            fields.Datetime.now(),
            self.name,
            **details,
        )
