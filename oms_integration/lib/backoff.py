"""Retry delays: exponential backoff with full jitter, capped."""

import random


def retry_delay(attempt, base_delay=60, max_delay=3600, jitter=True, rng=random):
    """Seconds to wait before attempt number ``attempt + 1``.

    ``attempt`` is the number of attempts already made (1 after the first
    failure). The ceiling doubles with each attempt, from ``base_delay`` up to
    ``max_delay``; with jitter, the delay is drawn uniformly between half the
    ceiling and the ceiling, so that retries of many events spread out while a
    retry never comes much earlier than planned.
    """
    if attempt < 1:
        return 0
    ceiling = min(max_delay, base_delay * (2 ** min(attempt - 1, 32)))
    if not jitter:
        return ceiling
    return rng.uniform(ceiling / 2, ceiling)


def should_retry(attempts, max_attempts):
    """Whether an event that failed ``attempts`` times may be tried again."""
    return attempts < max_attempts
