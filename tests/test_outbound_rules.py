from datetime import datetime, timedelta, timezone

from oms_lib import outbound

NOW = datetime(2026, 11, 23, 8, 0, 0)


def test_answers_are_classified_as_the_contract_says():
    assert outbound.classify_status(200) == outbound.DELIVERED
    assert outbound.classify_status(204) == outbound.DELIVERED
    for retried in (408, 429, 500, 502, 503, 504):
        assert outbound.classify_status(retried) == outbound.RETRY, retried
    for refused in (301, 400, 401, 403, 404, 409, 410, 422):
        assert outbound.classify_status(refused) == outbound.PERMANENT, refused


def test_only_5xx_and_no_answer_are_transport_failures():
    assert outbound.is_transport_failure(None)
    assert outbound.is_transport_failure(503)
    assert not outbound.is_transport_failure(429)
    assert not outbound.is_transport_failure(400)


def test_retry_after_in_seconds_or_as_an_http_date():
    assert outbound.parse_retry_after("120") == 120
    assert outbound.parse_retry_after(" 7 ") == 7
    now = datetime(2026, 11, 23, 8, 0, 0, tzinfo=timezone.utc)
    assert outbound.parse_retry_after("Mon, 23 Nov 2026 08:01:30 GMT", now) == 90
    assert outbound.parse_retry_after("Mon, 23 Nov 2026 07:00:00 GMT", now) == 0
    assert outbound.parse_retry_after("999999999", maximum=3600) == 3600
    for unreadable in (None, "", "soon", "-5", "1.5"):
        assert outbound.parse_retry_after(unreadable) is None, unreadable


def test_rate_limit_spaces_requests_and_never_exceeds_the_limit():
    limit = 6  # one request every 10 seconds
    tat, sent, moment = None, [], NOW
    for _ in range(600):  # ten minutes, asking for one slot every second
        moments, tat = outbound.rate_slots(tat, moment, limit, 1, 0)
        sent += moments
        moment += timedelta(seconds=1)
    assert len(sent) == 60
    for start in sent:
        window = [s for s in sent if start <= s < start + timedelta(seconds=60)]
        assert len(window) <= limit


def test_a_batch_takes_the_slots_of_its_window_in_order():
    moments, tat = outbound.rate_slots(None, NOW, 6, 10, 25)
    assert moments == [NOW + timedelta(seconds=s) for s in (0, 10, 20)]
    assert tat == NOW + timedelta(seconds=30)
    # The next batch starts after them; none fits a window that ends before.
    assert outbound.rate_slots(tat, NOW, 6, 1, 5) == ([], tat)
    assert outbound.rate_slots(tat, NOW, 6, 1, 30)[0] == [tat]


def test_no_rate_limit_when_zero():
    later = NOW + timedelta(hours=1)
    assert outbound.rate_slots(later, NOW, 0, 3, 0) == ([NOW] * 3, later)


def test_circuit_opens_at_the_threshold_and_closes_on_success():
    state = outbound.CircuitState()
    state = outbound.circuit_after_failure(state, NOW, 3, 300)
    state = outbound.circuit_after_failure(state, NOW, 3, 300)
    assert not state.is_open(NOW)
    state = outbound.circuit_after_failure(state, NOW, 3, 300)
    assert state.is_open(NOW)
    assert state.open_until == NOW + timedelta(seconds=300)
    assert not state.is_open(NOW + timedelta(seconds=301))
    # Half-open: the probe fails, it opens again at once.
    later = NOW + timedelta(seconds=301)
    state = outbound.circuit_after_failure(state, later, 3, 300)
    assert state.is_open(later)
    state = outbound.circuit_after_success()
    assert state.failures == 0 and not state.is_open(later)


def test_a_closed_circuit_lets_the_whole_batch_go():
    # The sending loop stops at the failure that opens the circuit.
    assert outbound.batch_allowance(outbound.CircuitState(), NOW, 5, 50) == 50
    assert outbound.batch_allowance(outbound.CircuitState(3), NOW, 5, 50) == 50
    assert outbound.batch_allowance(outbound.CircuitState(), NOW, 0, 50) == 50


def test_nothing_while_open_and_one_probe_when_half_open():
    opened = outbound.CircuitState(5, NOW + timedelta(seconds=60))
    assert outbound.batch_allowance(opened, NOW, 5, 50) == 0
    half_open = NOW + timedelta(seconds=61)
    assert outbound.batch_allowance(opened, half_open, 5, 50) == 1
    assert outbound.batch_allowance(opened, half_open, 5, 0) == 0


def test_circuit_after_outcomes_opens_and_resumes_in_order():
    state, opened, resumed = outbound.circuit_after_outcomes(
        outbound.CircuitState(), [True, False, False], NOW, 2, 300
    )
    assert state.failures == 2 and state.is_open(NOW)
    assert opened == 2 and not resumed
    later = NOW + timedelta(seconds=301)
    state, opened, resumed = outbound.circuit_after_outcomes(
        state, [True, True], later, 2, 300
    )
    assert state == outbound.CircuitState() and resumed and opened is None


def test_circuit_after_outcomes_reopens_after_a_failed_probe():
    state = outbound.CircuitState(2, NOW)
    later = NOW + timedelta(seconds=1)
    after, opened, resumed = outbound.circuit_after_outcomes(
        state, [False], later, 2, 300
    )
    assert after.open_until == later + timedelta(seconds=300)
    assert opened == 0 and not resumed
