"""The queue's health from its numbers: stalls, alerts, the monitoring report.

The dashboard, the alerts cron and the monitoring endpoint read the same
numbers of each source (``SourceHealth``) and decide here, so that they
always agree: a queue is *stalled* when its oldest due event waits longer
than the stall threshold (nothing is processing it, whatever the reason:
cron threads gone after a database restart, a server stopped), and each
alert kind has one plain rule.
"""

import dataclasses
import datetime

# Overall status of the monitoring report.
STATUS_OK = "ok"
STATUS_DEGRADED = "degraded"
STATUS_STALLED = "stalled"


@dataclasses.dataclass(frozen=True)
class SourceHealth:
    """The numbers of one source (no personal data)."""

    backlog: int = 0  # events pending or failed (waiting for a retry)
    oldest_due_at: datetime.datetime | None = None  # naive UTC
    dead_letters: int = 0  # open dead letters
    poll_failures: int = 0  # polling failures in a row
    callback_failures: int = 0  # status callbacks failed in a row
    circuit_open: bool = False  # status callbacks paused by the circuit breaker
    health_score: int = 100  # readiness score, 0-100


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """When a source is stalled, and when it raises each alert."""

    stall_minutes: int = 15
    backlog_minutes: int = 60
    score: int = 60
    poll_failures: int = 3
    callback_failures: int = 3


def due_age_seconds(oldest_due_at, now):
    """How long the oldest due event has been waiting, in whole seconds (0
    when nothing is due)."""
    if oldest_due_at is None or oldest_due_at >= now:
        return 0
    return int((now - oldest_due_at).total_seconds())


def is_stalled(oldest_due_at, now, stall_minutes):
    """Whether an event has been due for longer than ``stall_minutes``."""
    return due_age_seconds(oldest_due_at, now) > stall_minutes * 60


def alert_kinds(health, now, thresholds):
    """The alert kinds ``health`` raises now, as a frozenset of
    ``dead_letters``, ``backlog``, ``polling``, ``callbacks``, ``score``."""
    kinds = set()
    if health.dead_letters > 0:
        kinds.add("dead_letters")
    if due_age_seconds(health.oldest_due_at, now) > thresholds.backlog_minutes * 60:
        kinds.add("backlog")
    if health.poll_failures >= thresholds.poll_failures:
        kinds.add("polling")
    if health.circuit_open or health.callback_failures >= thresholds.callback_failures:
        kinds.add("callbacks")
    if health.health_score < thresholds.score:
        kinds.add("score")
    return frozenset(kinds)


def overall_status(rows):
    """``stalled`` when a source is stalled, else ``degraded`` when one
    raises an alert, else ``ok``; ``rows`` are the report's source rows."""
    if any(row["stalled"] for row in rows):
        return STATUS_STALLED
    if any(row["alerts"] for row in rows):
        return STATUS_DEGRADED
    return STATUS_OK


def _iso(moment):
    return moment.replace(tzinfo=datetime.UTC).isoformat() if moment else None


def source_row(identity, health, last_processed_at, now, thresholds):
    """One source of the monitoring report. ``identity``: its id, name,
    provider and state (configuration, never a customer's data)."""
    return dict(
        identity,
        backlog=health.backlog,
        oldest_due_age_seconds=due_age_seconds(health.oldest_due_at, now),
        dead_letters_open=health.dead_letters,
        last_processed_at=_iso(last_processed_at),
        stalled=is_stalled(health.oldest_due_at, now, thresholds.stall_minutes),
        health_score=health.health_score,
        alerts=sorted(alert_kinds(health, now, thresholds)),
    )


def report(rows, now):
    """The monitoring report: the overall status, when, and the sources."""
    return {
        "status": overall_status(rows),
        "generated_at": _iso(now),
        "sources": rows,
    }


# === PROMETHEUS TEXT FORMAT === #

_METRICS = (
    ("oms_source_backlog", "Events pending or waiting for a retry.", "backlog"),
    (
        "oms_source_oldest_due_age_seconds",
        "How long the oldest due event has been waiting.",
        "oldest_due_age_seconds",
    ),
    ("oms_source_dead_letters_open", "Open dead letters.", "dead_letters_open"),
    ("oms_source_stalled", "1 when the queue of the source is stalled.", "stalled"),
    (
        "oms_source_health_score",
        "Readiness score of the source (0-100).",
        "health_score",
    ),
)


def _label(value):
    text = str(value)
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value):
    value = float(value)
    return int(value) if value.is_integer() else round(value, 3)


def prometheus_text(data):
    """``report()`` in the Prometheus text exposition format (version 0.0.4)."""
    lines = [
        "# HELP oms_up 1 when the overall status is ok, 0 when stalled or degraded.",
        "# TYPE oms_up gauge",
        f"oms_up {int(data['status'] == STATUS_OK)}",
    ]
    metrics = _METRICS + (
        (
            "oms_source_last_processed_timestamp_seconds",
            "When an event of the source was last processed (Unix time).",
            "last_processed_at",
        ),
    )
    for name, help_text, key in metrics:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for row in data["sources"]:
            value = row[key]
            if key == "last_processed_at":
                if not value:
                    continue
                value = datetime.datetime.fromisoformat(value).timestamp()
            labels = ",".join(
                f'{label}="{_label(row[field])}"'
                for label, field in (
                    ("source_id", "id"),
                    ("source", "name"),
                    ("provider", "provider"),
                )
            )
            lines.append(f"{name}{{{labels}}} {_number(value)}")
    return "\n".join(lines) + "\n"
