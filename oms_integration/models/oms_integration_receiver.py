import logging
from datetime import UTC, timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, mute_logger

from .. import const
from ..exceptions import OmsProcessingError
from ..lib import normalize, redaction, signatures

_logger = logging.getLogger(__name__)


def _naive_utc(moment):
    """An aware datetime as the naive UTC value Odoo stores (None stays)."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


class OmsIntegrationReceiver(models.AbstractModel):
    """Storing what providers deliver, by webhook or by polling, as inbound
    events: verified, validated and deduplicated, never applied here (the
    queue's runners do that, ``oms_integration_event.py``).

    Every authentic delivery is stored, valid or not: an invalid one as a
    failed event with its errors, so that nothing authentic is lost."""

    _name = "oms.integration.receiver"
    _description = "Integration Receiver"

    # === WEBHOOK === #

    @api.model
    def _oms_receive_webhook(self, source, headers, body, url):
        """Handle one webhook delivery for ``source`` (the controller found
        it and read the body within its size limit). ``headers``: a dict,
        names in lower case; ``url``: a function returning the request URL
        (only the schemes that sign it call it).

        Returns ``(http_status, answer)`` per the inbound webhook contract."""
        if source._oms_traffic_refusal("inbound"):
            return 403, {"status": "forbidden"}
        verification = source._oms_verify_request(headers, body, url)
        if not verification.ok:
            self.env["oms.integration.refusal"]._oms_record(
                source, verification.reason, signatures.header(headers, "webhook-id")
            )
            _logger.info(
                "Refused a webhook delivery for integration source %s: %s",
                source.id,
                verification.reason,
            )
            return 401, {"status": "unauthorized"}
        return self._oms_accept_delivery(source, headers, body)

    @api.model
    def _oms_accept_delivery(self, source, headers, body):
        """Validate and store an authentic delivery (its signature verified):
        ``(http_status, answer)``. The body is decoded once, by one rule
        (UTF-8 JSON), before anything else reads it."""
        delivery_id = signatures.header(headers, "webhook-id")
        issues = [
            issue for issue in [normalize.check_delivery_id(delivery_id)] if issue
        ]
        _text, decode_issue = normalize.decode_body(body)
        if decode_issue:
            issues.append(decode_issue)
        if issues:
            return self._oms_reject_delivery(source, delivery_id, body, headers, issues)
        items, errors = source._oms_split_delivery(body)
        if errors or not any(item.result.ok for item in items):
            errors = list(errors) + [e for item in items for e in item.result.errors]
            return self._oms_reject_delivery(source, delivery_id, body, headers, errors)
        return self._oms_store_items(source, headers, items)

    @api.model
    def _oms_store_items(self, source, headers, items):
        """Store each order of an authentic delivery: the valid ones as
        pending events (a repeat is answered as the duplicate it is), the
        invalid ones as failed events. Returns ``(http_status, answer)``."""
        Event = self.env["oms.integration.event"]
        headers_json = Event._oms_headers_json(headers)
        created, duplicates, rejected = [], [], []
        for item in items:
            item_hash = Event._oms_hash_payload(item.raw)
            item_delivery_id = source._oms_get_delivery_id(headers, item)
            if not item.result.ok:
                self._oms_store_invalid_item(
                    source, item, item_delivery_id, item_hash, headers
                )
                rejected.append(
                    {
                        "index": item.index,
                        "external_id": item.external_id,
                        "errors": [e.as_dict() for e in item.result.errors],
                    }
                )
                continue
            for order in item.result.orders:
                event_id, repeat_id = self._oms_insert_order(
                    source,
                    order,
                    {
                        "delivery_id": item_delivery_id,
                        "payload": item.raw,
                        "payload_hash": item_hash,
                        "headers": headers_json,
                    },
                )
                if event_id:
                    created.append(event_id)
                elif repeat_id:
                    duplicates.append(repeat_id)
        if not created:
            if duplicates:
                return 200, {"status": "duplicate", "event_id": duplicates[0]}
            errors = [e for item in items for e in item.result.errors]
            return 422, {"status": "rejected", "errors": [e.as_dict() for e in errors]}
        Event._oms_trigger_runners("inbound")
        answer = {"status": "queued", "event_id": created[0]}
        if len(created) > 1:
            answer["event_ids"] = created
        if rejected:
            answer["rejected"] = rejected
        return 202, answer

    @api.model
    def _oms_insert_order(self, source, order, vals, channel="inbound"):
        """Store one valid order of an authentic delivery as a pending event:
        ``(event_id, None)``, or ``(None, repeat_id)`` when it repeats a
        stored one (the same delivery id, or the same payload or version of
        the order: the unique indexes make those conflicts, skipped by
        ``ON CONFLICT DO NOTHING``, for every way an event is stored).

        One statement on the request's cursor, the row the ORM would create
        without its chatter bookkeeping (a test compares them): a search
        before it and the ORM's create were most of the cost of a delivery.
        A twin committed by another request after this transaction began is
        a serialization failure, which Odoo answers by running the request
        again: the twin is then seen, and answered as the duplicate.
        ``channel``: ``inbound`` (webhook) or ``polling``, which the source
        must allow."""
        source._oms_assert_traffic_allowed(channel)
        now = fields.Datetime.now()
        params = {
            "source": source.id,
            "provider": source.provider or None,
            "event_type": order.event_type or None,
            "external_order_id": order.external_id,
            "version": _naive_utc(order.updated_at),
            "delivery_id": vals["delivery_id"],
            "payload": vals["payload"],
            "payload_hash": vals["payload_hash"],
            "headers": vals["headers"],
            "received_via": const.RECEIVED_VIA_BY_CHANNEL[channel],
            "now": now,
            "uid": self.env.uid,
        }
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO oms_integration_event (
                    direction, source_id, provider, event_type,
                    external_order_id, external_updated_at, delivery_id,
                    payload, payload_hash, headers, received_via, state,
                    attempts, next_attempt_at, received_at,
                    create_uid, write_uid, create_date, write_date)
                VALUES ('inbound', %(source)s, %(provider)s, %(event_type)s,
                        %(external_order_id)s, %(version)s, %(delivery_id)s,
                        %(payload)s, %(payload_hash)s, %(headers)s,
                        %(received_via)s, 'pending', 0,
                        %(now)s, %(now)s, %(uid)s, %(uid)s, %(now)s, %(now)s)
                ON CONFLICT DO NOTHING
                RETURNING id
                """,
                **params,
            ),
            # A twin committed meanwhile is expected (Odoo runs the request
            # again): not a "bad query" for the log.
            log_exceptions=False,
        )
        row = self.env.cr.fetchone()
        if row:
            return row[0], None
        return None, self._oms_find_repeat(params)

    @api.model
    def _oms_find_repeat(self, params):
        """The stored inbound event that an order repeats (``params`` as for
        ``_oms_insert_order``): the same delivery id, else the newest of the
        same payload or version of the order."""
        Event = self.env["oms.integration.event"].sudo()
        base = [("source_id", "=", params["source"]), ("direction", "=", "inbound")]
        if params["delivery_id"]:
            event = Event.search(
                base + [("delivery_id", "=", params["delivery_id"])], limit=1
            )
            if event:
                return event.id
        version = [("payload_hash", "=", params["payload_hash"])]
        if params["version"]:
            version = ["|", *version, ("external_updated_at", "=", params["version"])]
        event = Event.search(
            base + [("external_order_id", "=", params["external_order_id"])] + version,
            order="id desc",
            limit=1,
        )
        return event.id or None

    @api.model
    def _oms_reject_delivery(self, source, delivery_id, body, headers, errors):
        """Keep an authentic delivery that holds no valid order as a failed
        event (nothing authentic is lost) and answer 422 with the errors."""
        errors = [issue.as_dict() for issue in errors] or [
            {"path": "$", "message": "the delivery holds no order"}
        ]
        Event = self.env["oms.integration.event"]
        if delivery_id and normalize.check_delivery_id(delivery_id):
            delivery_id = None  # too long to be stored as a key: kept in the headers
        event = self._oms_store_delivery(
            source,
            {
                "delivery_id": delivery_id or None,
                "payload": normalize.storable_text(body),
                "payload_hash": Event._oms_hash_payload(body),
                "headers": headers,
                "state": "failed",
                "next_attempt_at": False,
                "last_error": "\n".join(f"{e['path']}: {e['message']}" for e in errors),
                "error_hint": self._oms_invalid_hint(),
            },
        )
        if event is None:  # the same invalid delivery, sent twice at once
            existing = Event.sudo().search(
                [
                    ("source_id", "=", source.id),
                    ("direction", "=", "inbound"),
                    ("delivery_id", "=", delivery_id),
                ],
                limit=1,
            )
            return 200, {"status": "duplicate", "event_id": existing.id}
        return 422, {"status": "rejected", "errors": errors}

    @api.model
    def _oms_store_invalid_item(self, source, item, delivery_id, payload_hash, headers):
        """One invalid order of a delivery that holds valid ones too: a failed
        event of its own, once (a redelivery of it is not stored again)."""
        Event = self.env["oms.integration.event"].sudo()
        if Event.search_count(
            [
                ("source_id", "=", source.id),
                ("direction", "=", "inbound"),
                ("external_order_id", "=", item.external_id or False),
                ("payload_hash", "=", payload_hash),
            ],
            limit=1,
        ):
            return Event.browse()
        return (
            self._oms_store_delivery(
                source,
                {
                    "delivery_id": delivery_id,
                    "external_order_id": item.external_id or False,
                    "payload": item.raw,
                    "payload_hash": payload_hash,
                    "headers": headers,
                    "state": "failed",
                    "next_attempt_at": False,
                    "last_error": "\n".join(
                        f"{e.path}: {e.message}" for e in item.result.errors
                    ),
                    "error_hint": self._oms_invalid_hint(),
                },
            )
            or Event.browse()
        )

    @api.model
    def _oms_invalid_hint(self):
        return self.env["oms.integration.hints"]._oms_hint_text("order_invalid")

    @api.model
    def _oms_keep_raw_delivery_if_authentic(self, source, headers, body, url):
        """After an unexpected error (rolled back): keep the delivery as a
        pending event if its signature verifies. Returns the event, if any."""
        if not source._oms_verify_request(headers, body, url).ok:
            return None
        return self._oms_keep_raw_delivery(source, headers, body)

    @api.model
    def _oms_keep_raw_delivery(self, source, headers, body):
        """Store an authentic delivery whose handling failed unexpectedly as a
        pending event without order id, so that nothing authentic is lost
        (called after a rollback): the queue applies every order it holds."""
        delivery_id = signatures.header(headers, "webhook-id") or None
        if delivery_id and normalize.check_delivery_id(delivery_id):
            delivery_id = None
        return self._oms_store_delivery(
            source,
            {
                "delivery_id": delivery_id,
                "payload": normalize.storable_text(body),
                "headers": headers,
                "last_error": self.env._(
                    "An unexpected error happened while this delivery was received."
                ),
            },
        )

    @api.model
    def _oms_store_delivery(self, source, vals, channel="inbound"):
        """Create the inbound event; ``None`` when its delivery id is taken
        (the same delivery arriving concurrently)."""
        try:
            # A concurrent twin is expected here: no "bad query" in the log.
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return self.env["oms.integration.event"]._oms_create_inbound(
                    source, vals, channel=channel
                )
        except psycopg2.errors.UniqueViolation:
            return None

    # === POLLING === #

    @api.model
    def _cron_poll_sources(self):
        """Cron: poll every active source whose next poll time has come, each
        in transactions of its own: a failing source never stops the others,
        and its failure is recorded on it (the cron itself never fails)."""
        Source = self.env["oms.integration.source"]
        due = Source.search(
            [
                ("state", "=", "active"),
                ("mode", "in", ("polling", "both")),
                ("poll_next_run", "<=", fields.Datetime.now()),
            ]
        )
        cr = self.env.cr
        # In a copy of the database, its sources pause instead of polling.
        for source in due._oms_check_same_database():
            cr.commit()  # pylint: disable=invalid-commit
            try:
                self._oms_poll(source)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                # Another worker changed the source meanwhile: not the
                # provider's failure, the next run polls again.
                cr.rollback()  # pylint: disable=invalid-commit
                _logger.info(
                    "Polling source %s met a concurrent update: next run", source.id
                )
            except Exception as exc:  # noqa: BLE001 - recorded on the source
                cr.rollback()  # pylint: disable=invalid-commit
                self._oms_poll_failed(source, exc)
            cr.commit()  # pylint: disable=invalid-commit
        return due

    @api.model
    def _oms_poll(self, source, max_pages=50):
        """Fetch the orders changed since the source's cursor (minus the
        overlap) and store each as an event; each page is committed with the
        cursor it moves, so the cursor only passes what is stored. Returns
        the number of new events."""
        source._oms_assert_traffic_allowed("polling")
        started = fields.Datetime.now()
        # Every page of one run reads up to the run's start (provider hooks
        # read it from the context).
        source = source.with_context(oms_poll_started_at=started)
        cursor = source.poll_cursor and normalize.parse_datetime(source.poll_cursor)
        # The overlap re-reads the end of the last run; the import date of a
        # first run is where the administrator wants to start, exactly.
        since = cursor and cursor - timedelta(seconds=source.poll_overlap)
        if not cursor and source.poll_start_date:
            cursor = since = normalize.parse_datetime(
                fields.Datetime.to_string(source.poll_start_date) + "Z"
            )
        page, fetched, stored = 1, 0, 0
        while page and page <= max_pages:
            fetched_page = source._oms_fetch_page(since, page)
            if not fetched_page:
                raise self.env["oms.integration.hints"]._oms_error(
                    "polling_unsupported", provider=source.provider
                )
            results, next_page = fetched_page
            newest = cursor
            for body, parsed in results:
                fetched += 1
                stored += len(self._oms_store_polled(source, body, parsed))
                for order in parsed.orders:
                    if order.updated_at and (not newest or order.updated_at > newest):
                        newest = order.updated_at
            if newest and newest != cursor:
                cursor = newest
                source.poll_cursor = cursor.isoformat()
            self.env.cr.commit()  # pylint: disable=invalid-commit
            page = next_page
        source.write(
            {
                "poll_last_run": started,
                "poll_next_run": started + timedelta(minutes=source.poll_interval),
                "poll_failure_count": 0,
                "poll_last_result": self.env._(
                    "%(fetched)s orders fetched, %(stored)s new events.",
                    fetched=fetched,
                    stored=stored,
                ),
            }
        )
        if stored:
            self.env["oms.integration.event"]._oms_trigger_runners("inbound")
        return stored

    @api.model
    def _oms_poll_failed(self, source, exc):
        """Record a failed poll on the source; pause it after
        ``poll_max_failures`` in a row."""
        if isinstance(exc, OmsProcessingError):
            message, hint = exc.message, exc.hint
        elif isinstance(exc, UserError):
            message, hint = self.env["oms.integration.hints"]._oms_hint(
                "polling_settings", error=exc
            )
        else:
            _logger.exception("Polling integration source %s failed", source.id)
            message, hint = self.env["oms.integration.hints"]._oms_hint(
                "unexpected", error=exc
            )
        message = redaction.redact_text(str(message), source._oms_known_secret_values())
        now = fields.Datetime.now()
        failures = source.poll_failure_count + 1
        source.write(
            {
                "poll_last_run": now,
                "poll_next_run": now + timedelta(minutes=source.poll_interval),
                "poll_failure_count": failures,
                "poll_last_result": f"{message}\n{hint or ''}".strip(),
            }
        )
        if failures >= source.poll_max_failures and source.state == "active":
            source._oms_pause(
                self.env._(
                    "Polling failed %(count)s times in a row. Last error: "
                    "%(error)s %(hint)s Fix it, then activate the source again.",
                    count=failures,
                    error=message,
                    hint=hint or "",
                )
            )

    @api.model
    def _oms_store_polled(self, source, body, parsed):
        """Store one polled order, on its own (a savepoint: one bad order
        never fails its page), unless a webhook or an earlier poll brought
        the same version already; invalid ones are kept as failed events."""
        Event = self.env["oms.integration.event"]
        payload_hash = Event._oms_hash_payload(body)
        if parsed.errors:
            return self._oms_store_polled_invalid(
                source,
                body,
                payload_hash,
                "\n".join(f"{e.path}: {e.message}" for e in parsed.errors),
            )
        created = Event.browse()
        for order in parsed.orders:
            version = order.updated_at.isoformat() if order.updated_at else payload_hash
            vals = {
                "delivery_id": f"poll:{order.external_id}:{version}",
                "payload": body,
                "payload_hash": payload_hash,
                "headers": "{}",
            }
            try:
                with self.env.cr.savepoint():
                    event_id, _repeat = self._oms_insert_order(
                        source, order, vals, channel="polling"
                    )
            except (psycopg2.DataError, psycopg2.IntegrityError) as exc:
                return self._oms_store_polled_invalid(
                    source, body, payload_hash, str(exc).strip()
                )
            if event_id:
                created |= Event.browse(event_id)
        return created

    @api.model
    def _oms_store_polled_invalid(self, source, body, payload_hash, error):
        Event = self.env["oms.integration.event"]
        if Event.sudo().search_count(
            [
                ("source_id", "=", source.id),
                ("external_order_id", "=", False),
                ("payload_hash", "=", payload_hash),
            ],
            limit=1,
        ):
            return Event.browse()
        event = self._oms_store_delivery(
            source,
            {
                "delivery_id": f"poll:invalid:{payload_hash}",
                "payload": body,
                "payload_hash": payload_hash,
                "state": "failed",
                "next_attempt_at": False,
                "last_error": error,
                "error_hint": self.env["oms.integration.hints"]._oms_hint_text(
                    "polled_order_invalid"
                ),
            },
            channel="polling",
        )
        return event or Event.browse()
