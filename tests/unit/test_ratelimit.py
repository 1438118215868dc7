"""The token bucket on a clock the test moves: bursts, refill, independence, memory, threads."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shared.api.ratelimit import RateLimitedError, RateLimiter

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Clock:
    """The seconds since START the test moves by hand, answered as instants."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> datetime:
        return START + timedelta(seconds=self.now)


def test_a_minute_of_requests_at_once_then_the_next_waits() -> None:
    clock = Clock()
    limiter = RateLimiter(120, clock)
    assert all(limiter.wait("a") == 0.0 for _ in range(120))
    assert limiter.wait("a") == pytest.approx(0.5)  # 120/min refills one every 0.5 s
    with pytest.raises(RateLimitedError) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 1  # whole seconds, rounded up, never 0
    assert "120 requests a minute" in str(refused.value)


def test_refills_at_the_rate_and_never_above_one_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)
    for _ in range(60):
        limiter.check("a")
    clock.now += 10  # 10 requests' worth
    assert sum(limiter.wait("a") == 0.0 for _ in range(20)) == 10
    clock.now += 3600  # an hour idle still allows only one minute's burst
    assert sum(limiter.wait("a") == 0.0 for _ in range(100)) == 60


def test_refused_requests_do_not_count() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)
    for _ in range(60):
        limiter.check("a")
    for _ in range(50):
        assert limiter.wait("a") > 0
    clock.now += 1.0
    assert limiter.wait("a") == 0.0  # a second later one request is allowed, however many failed


def test_retry_after_grows_with_a_slow_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(1, clock)
    limiter.check("a")
    with pytest.raises(RateLimitedError) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 60
    clock.now += 59.5
    with pytest.raises(RateLimitedError) as refused:
        limiter.check("a")
    assert refused.value.retry_after == 1
    clock.now += 0.5
    limiter.check("a")


def test_a_clock_stepping_back_refills_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)
    for _ in range(60):
        limiter.check("a")
    clock.now -= 3600  # the wall clock corrected backwards by an hour
    assert limiter.wait("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert limiter.wait("a") == 0.0


def test_callers_have_their_own_buckets() -> None:
    clock = Clock()
    limiter = RateLimiter(5, clock)
    for _ in range(5):
        limiter.check("tenant-1:ana")
    with pytest.raises(RateLimitedError):
        limiter.check("tenant-1:ana")
    limiter.check("tenant-1:bia")
    limiter.check("tenant-2:ana")


def test_idle_callers_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock)
    for index in range(1000):
        limiter.check(f"user-{index}")
    limiter.check("busy")
    assert limiter.tracked == 1001
    clock.now += 59.0
    for _ in range(60):
        limiter.wait("busy")
    clock.now += 2.0  # the others' buckets are full again; the busy one is not
    limiter.wait("busy")
    assert limiter.tracked == 1
    for _ in range(10):
        assert limiter.wait("user-1") == 0.0  # forgotten means a full bucket, not a reset abuse


def test_concurrent_requests_never_exceed_the_bucket() -> None:
    limiter = RateLimiter(100, Clock())
    allowed: list[int] = []
    lock = threading.Lock()

    def hammer() -> None:
        count = sum(limiter.wait("shared") == 0.0 for _ in range(500))
        with lock:
            allowed.append(count)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(allowed) == 100


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0, Clock())
