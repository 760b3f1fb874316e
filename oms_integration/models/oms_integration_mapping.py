from collections import Counter

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const


class OmsIntegrationMapping(models.Model):
    """Mapping Center: one external code of a source and the Odoo record it means.

    Values met while processing that have no mapping are collected here as
    unmapped, so that an administrator maps them once and requeues.
    """

    _name = "oms.integration.mapping"
    _description = "Integration Mapping"
    _order = "source_id, kind, external_code"

    source_id = fields.Many2one(
        "oms.integration.source", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="source_id.company_id", store=True, index=True)
    kind = fields.Selection(selection=const.MAPPING_KINDS, required=True)
    external_code = fields.Char(required=True)
    external_name = fields.Char()
    state = fields.Selection(
        selection=const.MAPPING_STATES,
        required=True,
        default="mapped",
    )
    partner_id = fields.Many2one("res.partner", string="Customer", ondelete="restrict")
    product_id = fields.Many2one("product.product", ondelete="restrict")
    uom_id = fields.Many2one(
        "uom.uom",
        string="Unit of Measure",
        ondelete="restrict",
        help="The Odoo unit the provider's unit stands for; it must be in the "
        "unit category of the products ordered in it.",
    )
    packaging_id = fields.Many2one(
        "product.packaging",
        ondelete="restrict",
        help="The provider's unit is a packaging (a case of 24 bottles): the "
        "line's quantity and price are converted to the product's unit. For "
        "another product, its packaging of the same name is used.",
    )
    user_id = fields.Many2one("res.users", string="Salesperson", ondelete="restrict")
    warehouse_id = fields.Many2one("stock.warehouse", ondelete="restrict")
    tax_id = fields.Many2one("account.tax", ondelete="restrict")
    carrier_id = fields.Many2one("delivery.carrier", ondelete="restrict")
    pricelist_id = fields.Many2one("product.pricelist", ondelete="restrict")
    odoo_record_name = fields.Char(
        string="Odoo Record", compute="_compute_odoo_record_name"
    )
    # No sighting counter: orders applied at once by several workers would
    # all write the same mapping rows (a conflict for every one of them).
    first_seen_at = fields.Datetime(
        string="First Seen",
        related="create_date",
        help="When this value was met first.",
    )
    waiting_dead_letter_count = fields.Integer(
        string="Orders Waiting",
        compute="_compute_waiting_dead_letter_count",
        help="Orders in Dead Letters that failed because this value had no "
        "mapping: once it is mapped, redrive them from here.",
    )

    _sql_constraints = [
        (
            "code_unique",
            "UNIQUE(source_id, kind, external_code)",
            "This external code is already in the Mapping Center for this source "
            "and kind: edit the existing line.",
        ),
    ]

    # === COMPUTE METHODS === #

    @api.depends("kind", "packaging_id", *const.MAPPING_KIND_FIELDS.values())
    def _compute_odoo_record_name(self):
        for mapping in self:
            mapping.odoo_record_name = mapping._oms_get_record().display_name or False

    def _compute_waiting_dead_letter_count(self):
        counts = Counter(
            mapping_id
            for letter in self._oms_waiting_dead_letters()
            for mapping_id in letter.event_id.waiting_mapping_ids.ids
        )
        for mapping in self:
            mapping.waiting_dead_letter_count = counts[mapping._origin.id]

    @api.depends("kind", "external_code", "external_name")
    def _compute_display_name(self):
        kinds = dict(const.MAPPING_KINDS)
        for mapping in self:
            label = mapping.external_code or ""
            if mapping.external_name:
                label = f"{label} ({mapping.external_name})"
            mapping.display_name = f"{kinds.get(mapping.kind, '')}: {label}"

    # === CONSTRAINT METHODS === #

    @api.constrains(
        "state", "kind", "packaging_id", *const.MAPPING_KIND_FIELDS.values()
    )
    def _check_mapped_record(self):
        for mapping in self:
            if mapping.state == "mapped" and not mapping._oms_get_record():
                raise ValidationError(
                    self.env._(
                        "%(value)s is marked as mapped but has no Odoo record: "
                        "choose the %(kind)s it stands for, or mark it unmapped.",
                        value=mapping.display_name,
                        kind=dict(const.MAPPING_KINDS)[mapping.kind].lower(),
                    )
                )
            if mapping.kind == "uom" and mapping.uom_id and mapping.packaging_id:
                raise ValidationError(
                    self.env._(
                        "%(value)s is either a unit of measure or a packaging, "
                        "not both: clear one of them.",
                        value=mapping.display_name,
                    )
                )

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("external_code"):
                vals["external_code"] = vals["external_code"].strip()
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("external_code"):
            vals["external_code"] = vals["external_code"].strip()
        # Choosing the Odoo record of an unmapped value maps it.
        record_fields = (
            set(const.MAPPING_KIND_FIELDS.values()) | {"packaging_id"}
        ) & set(vals)
        if (
            record_fields
            and "state" not in vals
            and any(vals[f] for f in record_fields)
        ):
            unmapped = self.filtered(lambda m: m.state == "unmapped")
            res = super().write(vals)
            unmapped.write({"state": "mapped"})
            return res
        return super().write(vals)

    # === ACTION METHODS === #

    def action_mark_mapped(self):
        missing = self.filtered(lambda m: not m._oms_get_record())
        if missing:
            raise UserError(
                self.env._(
                    "Choose the Odoo record first for: %(values)s.",
                    values=", ".join(missing.mapped("display_name")),
                )
            )
        self.write({"state": "mapped"})
        return True

    def action_mark_ignored(self):
        self.write({"state": "ignored"})
        return True

    def action_redrive_waiting(self):
        """Preview, then requeue, the dead letters waiting for this value."""
        self.ensure_one()
        letters = self._oms_waiting_dead_letters()
        if not letters:
            raise UserError(
                self.env._(
                    "No order in Dead Letters is waiting for %(value)s.",
                    value=self.display_name,
                )
            )
        return self.env["oms.integration.redrive.wizard"]._oms_open(letters)

    # === BUSINESS METHODS === #

    def _oms_waiting_dead_letters(self):
        """The open dead letters whose event failed on one of these values
        (they are its ``waiting_mapping_ids``)."""
        return self.env["oms.integration.dead.letter"].search(
            [
                ("state", "=", "open"),
                ("event_id.waiting_mapping_ids", "in", self._origin.ids),
            ]
        )

    def _oms_get_record(self):
        self.ensure_one()
        if self.kind == "uom" and self.packaging_id:
            return self.packaging_id
        field_name = const.MAPPING_KIND_FIELDS.get(self.kind)
        return self[field_name] if field_name else self.env["res.partner"]

    @api.model
    def _oms_resolve(
        self, source, kind, external_code, external_name=None, record_unknown=True
    ):
        """Return the Odoo record mapped to ``external_code``, or None.

        An unknown code is recorded as unmapped (so that it appears in the
        Mapping Center), unless ``record_unknown`` is false (a code that
        may resolve another way, such as a tax rate). A known one is only
        read: resolving writes nothing, so orders applied at once never
        conflict on a mapping row.
        """
        external_code = (external_code or "").strip()
        if not external_code:
            return None
        mapping = self._oms_find(source, kind, external_code)
        if not mapping:
            if record_unknown:
                self._oms_create_unmapped(source, kind, external_code, external_name)
            return None
        if mapping.state != "mapped":
            return None
        return mapping._oms_get_record()

    @api.model
    def _oms_find(self, source, kind, external_code):
        """The line of ``external_code`` (of ``kind``) of ``source``, if any."""
        return self.sudo().search(
            [
                ("source_id", "=", source.id),
                ("kind", "=", kind),
                ("external_code", "=", external_code),
            ],
            limit=1,
        )

    @api.model
    def _oms_create_unmapped(self, source, kind, external_code, external_name=None):
        return self.sudo().create(
            {
                "source_id": source.id,
                "kind": kind,
                "external_code": external_code,
                "external_name": external_name or False,
                "state": "unmapped",
            }
        )

    @api.model
    def _oms_note_unmapped(self, source, values):
        """Make sure each (kind, code, name) in ``values`` is in the Mapping
        Center, as unmapped when new; return their lines (what the event
        that met them waits for)."""
        mappings = self.sudo().browse()
        for kind, code, name in values:
            code = (code or "").strip()
            if code:
                mappings |= self._oms_find(
                    source, kind, code
                ) or self._oms_create_unmapped(source, kind, code, name)
        return mappings

    @api.model
    def _oms_record_mapping(
        self, source, kind, external_code, record, external_name=None
    ):
        """Remember that ``external_code`` means ``record`` (matched or created)."""
        field_name = (
            "packaging_id"
            if record._name == "product.packaging"
            else const.MAPPING_KIND_FIELDS[kind]
        )
        vals = {field_name: record.id, "state": "mapped"}
        mapping = self._oms_find(source, kind, external_code)
        if mapping:
            mapping.write(vals)
        else:
            mapping = self.sudo().create(
                dict(
                    vals,
                    source_id=source.id,
                    kind=kind,
                    external_code=external_code,
                    external_name=external_name or False,
                )
            )
        return mapping
