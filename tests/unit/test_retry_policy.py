from datetime import timedelta

import pytest

from shared.domain.retry import SEND_RETRY, RetryPolicy


def seconds(policy: RetryPolicy, attempts: int) -> list[float]:
    return [policy.delay_after(n).total_seconds() for n in range(1, attempts + 1)]


def test_follows_cloud_tasks_documented_schedule() -> None:
    # Cloud Tasks' RetryConfig documentation: min 10 s, max 300 s, 3 doublings.
    policy = RetryPolicy(9, timedelta(seconds=10), timedelta(seconds=300), 3)
    assert seconds(policy, 8) == [10, 20, 40, 80, 160, 240, 300, 300]


def test_send_retries_wait_30_then_60_seconds() -> None:
    assert SEND_RETRY.max_attempts == 3
    assert seconds(SEND_RETRY, SEND_RETRY.max_attempts - 1) == [30, 60]


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        SEND_RETRY.delay_after(0)
