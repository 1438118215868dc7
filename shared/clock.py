"""The one clock: what "now" means everywhere, and the only place that reads the wall clock.

Every rule that depends on the time (a send window, a lease, a TTL, "today" on the dashboard,
a scheduled start) takes the instant from a :data:`Clock` it was given, never from the system,
so a test can pin the time and watch the rule follow it. Production builds the system clock
once, in :class:`shared.bootstrap.Container`; durations are measured with ``time.monotonic``,
which is no clock of this kind (it has no date).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware in UTC."""


def system_clock() -> datetime:
    """The wall clock, in UTC: production's :data:`Clock`."""
    return datetime.now(UTC)


class SettableClock:
    """A :data:`Clock` that stays where it was set: simulations (tests, benchmarks) move it
    to replay days of delivery in seconds, with every rule reading the same instant."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now
