import datetime

from oms_lib import monitoring

NOW = datetime.datetime(2025, 3, 1, 12, 0, 0)


def minutes_ago(minutes):
    return NOW - datetime.timedelta(minutes=minutes)


def test_due_age_is_zero_when_nothing_is_due():
    assert monitoring.due_age_seconds(None, NOW) == 0
    assert monitoring.due_age_seconds(NOW + datetime.timedelta(minutes=5), NOW) == 0
    assert monitoring.due_age_seconds(minutes_ago(2), NOW) == 120


def test_stalled_only_past_the_threshold():
    assert not monitoring.is_stalled(minutes_ago(15), NOW, 15)
    assert monitoring.is_stalled(minutes_ago(16), NOW, 15)
    assert not monitoring.is_stalled(None, NOW, 15)


def test_alert_kinds():
    thresholds = monitoring.Thresholds()
    healthy = monitoring.SourceHealth(backlog=3, oldest_due_at=minutes_ago(59))
    assert monitoring.alert_kinds(healthy, NOW, thresholds) == frozenset()
    sick = monitoring.SourceHealth(
        backlog=3,
        oldest_due_at=minutes_ago(61),
        dead_letters=1,
        poll_failures=3,
        callback_failures=3,
        health_score=59,
    )
    assert monitoring.alert_kinds(sick, NOW, thresholds) == {
        "dead_letters",
        "backlog",
        "polling",
        "callbacks",
        "score",
    }
    paused = monitoring.SourceHealth(circuit_open=True)
    assert monitoring.alert_kinds(paused, NOW, thresholds) == {"callbacks"}


def test_report_status_and_prometheus_text():
    thresholds = monitoring.Thresholds()
    identity = {
        "id": 7,
        "name": 'Shop "North"',
        "provider": "mobiwork",
        "state": "active",
    }
    row = monitoring.source_row(
        identity,
        monitoring.SourceHealth(backlog=2, oldest_due_at=minutes_ago(20)),
        minutes_ago(30),
        NOW,
        thresholds,
    )
    assert row["stalled"] and row["oldest_due_age_seconds"] == 1200
    assert row["last_processed_at"] == "2025-03-01T11:30:00+00:00"
    data = monitoring.report([row], NOW)
    assert data["status"] == "stalled"
    text = monitoring.prometheus_text(data)
    labels = 'source_id="7",source="Shop \\"North\\"",provider="mobiwork"'
    assert f"oms_source_backlog{{{labels}}} 2\n" in text
    assert f"oms_source_stalled{{{labels}}} 1\n" in text
    assert (
        f"oms_source_last_processed_timestamp_seconds{{{labels}}} 1740828600\n" in text
    )
    assert "oms_up 0\n" in text
    calm = dict(row, stalled=False, alerts=[])
    assert monitoring.overall_status([calm]) == "ok"
    assert monitoring.overall_status([dict(calm, alerts=["score"])]) == "degraded"
