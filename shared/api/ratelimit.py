"""Per-user rate limiting: a token bucket per (tenant, token subject), kept in process memory.

Why in memory and not a shared counter: a Firestore document per user-minute would add a
transactional write (tens of milliseconds) to every request, and at the default 120 requests
a minute it would take 2 writes/s on one document, above Firestore's sustained ~1 write/s per
document. The price is that each function instance counts on its own, so a user can reach up
to ``max instances x API_REQUESTS_PER_MINUTE`` in production (the api function's
``max_instances`` bounds it). That is a fairness and abuse guard, not a billing quota; a
global limit would belong in front of the function (API Gateway / Cloud Armor) or in
Memorystore.

Each bucket holds up to one minute of requests (a burst) and refills continuously at
``per_minute / 60`` per second. Buckets that have refilled completely are forgotten, so the
memory stays proportional to the users active in the last minute. Time is the app's injected
:data:`~shared.clock.Clock`, so a test moves it instead of sleeping; a clock that steps back
refills nothing.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.clock import Clock
from shared.domain.errors import CampaignError

_SWEEP_EVERY = timedelta(seconds=60)


class RateLimitedError(CampaignError):
    """The caller used up its requests for now; ``retry_after`` whole seconds until the next."""

    def __init__(self, retry_after: int, per_minute: int) -> None:
        super().__init__(f"more than {per_minute} requests a minute; retry in {retry_after} s")
        self.retry_after = retry_after
        self.per_minute = per_minute


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: datetime


class RateLimiter:
    def __init__(self, per_minute: int, clock: Clock) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._capacity = float(per_minute)
        self._per_second = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    @property
    def tracked(self) -> int:
        """How many callers have a bucket that is not full (the memory in use)."""
        return len(self._buckets)

    def wait(self, key: str) -> float:
        """Take one request for ``key``: 0.0 if allowed, else the seconds until one is."""
        with self._lock:
            now = self._clock()
            self._sweep(now)
            bucket = self._buckets.get(key)
            tokens = self._capacity if bucket is None else self._refilled(bucket, now)
            if tokens >= 1.0:
                self._buckets[key] = _Bucket(tokens - 1.0, now)
                return 0.0
            self._buckets[key] = _Bucket(tokens, now)
            return (1.0 - tokens) / self._per_second

    def check(self, key: str) -> None:
        """Take one request for ``key`` or raise :class:`RateLimitedError`."""
        seconds = self.wait(key)
        if seconds > 0:
            raise RateLimitedError(max(1, math.ceil(seconds)), self.per_minute)

    def _refilled(self, bucket: _Bucket, now: datetime) -> float:
        elapsed = max(0.0, (now - bucket.updated).total_seconds())
        return min(self._capacity, bucket.tokens + elapsed * self._per_second)

    def _sweep(self, now: datetime) -> None:
        if now - self._last_sweep < _SWEEP_EVERY:
            return
        self._last_sweep = now
        full = [k for k, b in self._buckets.items() if self._refilled(b, now) >= self._capacity]
        for key in full:
            del self._buckets[key]
