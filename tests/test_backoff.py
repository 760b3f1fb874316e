import random

import pytest
from oms_lib import backoff


def test_no_delay_before_first_attempt():
    assert backoff.retry_delay(0) == 0


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(1, 60), (2, 120), (3, 240), (6, 1920), (7, 3600), (8, 3600), (100, 3600)],
)
def test_ceiling_doubles_until_the_cap(attempt, ceiling):
    assert backoff.retry_delay(attempt, 60, 3600, jitter=False) == ceiling


def test_jitter_stays_between_half_and_full_ceiling():
    rng = random.Random(42)
    delays = [backoff.retry_delay(3, 60, 3600, rng=rng) for _ in range(500)]
    assert all(120 <= d <= 240 for d in delays)
    # Jitter spreads retries out: not all equal.
    assert len({round(d, 3) for d in delays}) > 100


def test_should_retry_until_max_attempts():
    assert backoff.should_retry(1, 8)
    assert backoff.should_retry(7, 8)
    assert not backoff.should_retry(8, 8)
