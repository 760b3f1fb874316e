import logging

from odoo import api, fields, models

from .. import const
from ..lib import personal_data

_logger = logging.getLogger(__name__)


class OmsIntegrationDataProtectionMixin(models.AbstractModel):
    """Personal data and copies of the database, for
    ``oms.integration.source`` (which inherits this mixin):

    - how long the personal data of the source's customers stays in stored
      payloads, exchange bodies and the last polling result (blanked by the
      clean-up cron, ``_gc_personal_data`` in
      ``oms_integration_event_runner.py``), and which keys hold it (a
      provider hook);
    - the database the source was activated in: in a copy of it (a staging
      database, a restored backup) the source pauses itself before any poll
      or status callback, as Odoo's neutralization pauses every source
      (``data/neutralize.sql``)."""

    _name = "oms.integration.data.protection.mixin"
    _description = "Integration Source Data Protection"

    # === FIELDS === #

    personal_data_days = fields.Integer(
        string="Blank Personal Data After (days)",
        default=const.DEFAULT_PERSONAL_DATA_DAYS,
        help="This many days after an order was received, the names, phones, "
        "e-mails, addresses and tax ids of its customer and delivery contact "
        "are removed from what this source stored (the order as received, the "
        "requests sent to the provider and their answers, the last polling "
        "result). Order numbers, product codes, quantities, prices, amounts, "
        "dates and statuses are kept. Orders still waiting in the queue are "
        "never touched. 0: keep them as long as the events are kept.",
    )
    database_uuid = fields.Char(
        string="Activated in Database",
        readonly=True,
        copy=False,
        groups="oms_integration.group_oms_manager",
        help="The identifier of the database the source was activated in. In "
        "another database (a copy of this one), the source pauses itself "
        "before polling or sending anything.",
    )
    copy_pause = fields.Selection(
        selection=const.COPY_PAUSE_CAUSES,
        string="Paused as a Copy",
        readonly=True,
        copy=False,
        help="The source was paused because this database is a copy of the one "
        "it was activated in (neutralized, or its identifier changed).",
    )

    _sql_constraints = [
        (
            "personal_data_days_positive",
            "CHECK(personal_data_days >= 0)",
            "The days after which personal data is blanked cannot be negative "
            "(0 keeps it).",
        ),
    ]

    # === CRUD METHODS === #

    @api.model_create_multi
    def create(self, vals_list):
        sources = super().create(vals_list)
        sources.filtered(lambda s: s.state == "active")._oms_record_database()
        return sources

    def write(self, vals):
        if vals.get("state") and vals["state"] != "paused":
            # Activated (or set to draft) here: no longer paused as a copy.
            vals = dict(vals, copy_pause=False)
        res = super().write(vals)
        if vals.get("state") == "active":
            self._oms_record_database()
        return res

    # === BUSINESS METHODS: PERSONAL DATA === #

    def _oms_personal_data_keys(self):
        """The keys of this source's payloads and bodies that hold personal
        data, as ``lib.personal_data`` reads them: ``"phone"`` (that key
        anywhere) or ``"customer.name"`` (key ``name`` in the object under
        ``customer``). Provider addons add their format's keys: call
        ``super()`` first and return the union. Default: the canonical
        order format's keys."""
        self.ensure_one()
        return personal_data.CANONICAL_KEYS

    def _oms_blank_poll_result(self, before):
        """Blank the last polling result of this source when the last poll
        ran before ``before`` (its personal-data limit): an error quoted
        from the provider may name a customer."""
        self.ensure_one()
        if (
            self.poll_last_result
            and self.poll_last_result != personal_data.REMOVED
            and (not self.poll_last_run or self.poll_last_run < before)
        ):
            self.sudo().with_context(
                tracking_disable=True
            ).poll_last_result = personal_data.REMOVED
            return True
        return False

    # === BUSINESS METHODS: COPIES OF THE DATABASE === #

    def _oms_database_uuid(self):
        # Odoo caches its system parameters: no query per call.
        return (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(const.DATABASE_UUID_PARAM, "")
        )

    def _oms_record_database(self):
        """Remember the database these sources are activated in."""
        database_uuid = self._oms_database_uuid()
        self.sudo().filtered(lambda s: s.database_uuid != database_uuid).write(
            {"database_uuid": database_uuid}
        )

    def _oms_check_same_database(self):
        """Pause the active sources among these that were activated in
        another database (this one is a copy of it: a staging database, a
        restored backup), before they poll or send anything: their URLs and
        credentials may still be production's. Returns the others, which
        may go on. Called where polling and sending start."""
        database_uuid = self._oms_database_uuid()
        active = self.sudo().filtered(lambda s: s.state == "active")
        # Activated before sources remembered their database: this one.
        active.filtered(lambda s: not s.database_uuid)._oms_record_database()
        copied = active.filtered(lambda s: s.database_uuid != database_uuid)
        for source in copied:
            _logger.warning(
                "Integration source %s paused: activated in another database "
                "(this one is a copy), nothing polled or sent",
                source.id,
            )
            source._oms_pause(
                self.env._(
                    "This database is a copy of the one %(name)s was activated "
                    "in (its database identifier changed): nothing was polled or "
                    "sent from here. Check the provider API URL, the status "
                    "callback URL and the credentials (they may still be "
                    "production's), then click Activate to resume in this "
                    "database.",
                    name=source.name,
                )
            )
            source.copy_pause = "database_changed"
        return self - copied
