"""Pure rules of outbound requests to providers: what an answer means, how
long ``Retry-After`` asks to wait, the rate limit and the circuit breaker.

The Odoo side keeps the state (in the database, shared by every worker) and
calls these functions to decide.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

# Answers worth sending again (the outbound contract): the provider may accept
# the same request later. Any other 4xx is permanent.
RETRYABLE_STATUSES = frozenset({408, 429})

DELIVERED = "delivered"
RETRY = "retry"
PERMANENT = "permanent"


def classify_status(status_code):
    """``delivered`` (2xx), ``retry`` (408, 429, 5xx) or ``permanent``
    (any other answer: the provider refused this request as it is)."""
    if 200 <= status_code < 300:
        return DELIVERED
    if status_code in RETRYABLE_STATUSES or status_code >= 500:
        return RETRY
    return PERMANENT


def is_transport_failure(status_code):
    """Whether an answer says the provider is unavailable (counted by the
    circuit breaker): 5xx. A 429 is the provider working and asking us to
    slow down: the rate limit and ``Retry-After`` handle it."""
    return status_code is None or status_code >= 500


def parse_retry_after(value, now=None, maximum=86400):
    """Seconds asked by a ``Retry-After`` header (delay-seconds or an HTTP
    date), at most ``maximum``; ``None`` when absent or unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return min(int(value), maximum)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    seconds = (moment - now).total_seconds()
    return min(max(int(seconds + 0.999), 0), maximum)


def rate_interval(requests_per_minute):
    """The spacing between two requests allowed by a per-minute limit, or
    ``None`` when there is no limit (0 or less)."""
    if not requests_per_minute or requests_per_minute <= 0:
        return None
    return timedelta(seconds=60.0 / requests_per_minute)


def rate_slots(tat, now, requests_per_minute, count, window):
    """Generic cell rate algorithm without burst, for ``count`` requests:
    requests are spaced by ``60 / limit`` seconds, so no 60-second window
    ever holds more than the limit. ``tat`` is the stored theoretical
    arrival time (or None). Returns ``(moments, next_tat)``: the moments at
    which the requests that may start within ``window`` seconds from
    ``now`` go out (fewer than ``count``, possibly none), and the new
    theoretical arrival time to store (``tat`` unchanged when none)."""
    interval = rate_interval(requests_per_minute)
    if interval is None:
        return [now] * count, tat
    start = max(tat or now, now)
    room = (now + timedelta(seconds=window) - start).total_seconds()
    step = interval.total_seconds()
    taken = 0 if room < 0 else min(count, math.floor(room / step) + 1)
    if not taken:
        return [], tat
    return [start + i * interval for i in range(taken)], start + taken * interval


@dataclass
class CircuitState:
    failures: int = 0
    open_until: datetime | None = None

    def is_open(self, now):
        return self.open_until is not None and self.open_until > now


def circuit_after_success():
    return CircuitState(0, None)


def circuit_after_failure(state, now, threshold, cooldown_seconds):
    """One more consecutive transport failure. At ``threshold`` the circuit
    opens for ``cooldown_seconds``; after the cool-down one request goes
    through (half-open): a failure opens it again at once, a success closes
    it."""
    failures = state.failures + 1
    open_until = state.open_until
    if threshold and failures >= threshold:
        open_until = now + timedelta(seconds=cooldown_seconds)
    return CircuitState(failures, open_until)


def circuit_after_outcomes(state, successes, now, threshold, cooldown_seconds):
    """The circuit after the transport outcomes ``successes`` (booleans, in
    the order the answers were read). Returns ``(state, opened, resumed)``:
    ``opened`` the failure that opened (or re-opened) the circuit, as its
    index in ``successes`` (the last one), else None; ``resumed`` whether a
    success closed a circuit that had reached the threshold."""
    opened, resumed = None, False
    for index, success in enumerate(successes):
        if success:
            resumed |= state.failures >= threshold
            state = circuit_after_success()
            continue
        after = circuit_after_failure(state, now, threshold, cooldown_seconds)
        if after.open_until and after.open_until != state.open_until:
            opened = index
        state = after
    return state, opened, resumed


def batch_allowance(state, now, threshold, waiting):
    """How many of ``waiting`` requests a batch may send, one after the
    other, now: none while the circuit is open; one probe once the cool-down
    is over (half-open, the threshold reached); otherwise all of them (the
    sending loop stops at the failure that opens the circuit, so a dead
    endpoint never gets more than ``threshold`` requests in a row)."""
    if state.is_open(now):
        return 0
    if threshold and state.failures >= threshold:
        return min(1, waiting)
    return waiting
