"""One retry schedule for a send: the code's own retries and the Cloud Tasks queue's.

A send is retried in two places: the code re-enqueues a target after a retryable WhatsApp
answer, and Cloud Tasks re-dispatches a task whose handler failed. Both follow this one
policy, expressed in Cloud Tasks' own terms (``infra/modules/tenant`` configures every queue
with it, and a test compares the two), so an operator reads one schedule, not two. Beside
it stands the one wait WhatsApp itself imposes, :data:`DEFER_MARKETING_LIMIT`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    min_backoff: timedelta
    max_backoff: timedelta
    max_doublings: int

    def delay_after(self, attempt: int) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1-based), as Cloud Tasks computes it.

        The interval doubles ``max_doublings`` times, then grows linearly by the last doubled
        interval, and never exceeds ``max_backoff``.
        """
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        retry = attempt - 1
        if retry <= self.max_doublings:
            delay = self.min_backoff * (1 << retry)
        else:
            delay = self.min_backoff * (1 << self.max_doublings) * (retry - self.max_doublings + 1)
        return min(delay, self.max_backoff)


SEND_RETRY = RetryPolicy(
    max_attempts=3,
    min_backoff=timedelta(seconds=30),
    max_backoff=timedelta(seconds=120),
    max_doublings=2,
)
"""The seed: at most three attempts per target; then 30 s and 60 s between them."""

DEFER_MARKETING_LIMIT = timedelta(hours=24, minutes=5)
"""131049 (the per-user marketing limit), however it arrives: Meta says not to retry within
24 h, so the target is planned again at least this much later (a deferral, not a retry)."""

PAUSE_RECHECK = timedelta(minutes=15)
"""A paused campaign's messages wait this long before looking again, and so does a message Meta
refused because its template is paused or disabled: after a resume they go at that recheck."""
