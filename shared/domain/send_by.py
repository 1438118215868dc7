"""How late a message may still go, and whose message goes first when the day is short.

A birthday message a day late is worse than none, and a November reactivation sent in January
is wrong; so every target is created with a send-by instant, and a target that cannot be sent
before it ends EXPIRED instead of late. Each campaign kind has a default rule:

========================  ===============================================================
kind                      send-by (priority)
========================  ===============================================================
BIRTHDAY                  the end of the customer's local birthday (time-critical)
WELCOME                   2 days after the targeting run (time-critical)
LOYALTY                   7 days after the targeting run (bulk)
REACTIVATION              the end of its period, the tenant's local month (bulk)
API campaigns (SEGMENT)   ``validity_days`` after the occurrence starts, 3 by default (normal)
========================  ===============================================================

Priority decides who gets a day's scarce capacity: a time-critical target that finds no slot
before its send-by takes the slot of a planned target of a lower priority, which is planned
again later (or expires at its own send-by). So a bulk backlog can never push a birthday off
its day, while among equals the first planned keeps its slot.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from shared.domain.calendar import add_months, start_of_day
from shared.domain.campaign_ids import SEGMENT

DEFAULT_VALIDITY_DAYS = 3
"""An API campaign's occurrence may be sent for this many days after it starts."""


class Priority(StrEnum):
    TIME_CRITICAL = "time_critical"
    NORMAL = "normal"
    BULK = "bulk"

    @property
    def rank(self) -> int:
        """0 goes first. Stored on each target, so a query can find the ones that yield."""
        return _RANKS[self]


_RANKS = {Priority.TIME_CRITICAL: 0, Priority.NORMAL: 1, Priority.BULK: 2}

DEFAULT_PRIORITY = {
    "BIRTHDAY": Priority.TIME_CRITICAL,
    "WELCOME": Priority.TIME_CRITICAL,
    "LOYALTY": Priority.BULK,
    "REACTIVATION": Priority.BULK,
    SEGMENT: Priority.NORMAL,
}


def default_priority(kind: str) -> Priority:
    return DEFAULT_PRIORITY.get(kind, Priority.NORMAL)


def lower_ranks(rank: int) -> list[int]:
    """The ranks that yield their slots to a target of ``rank``."""
    return [other.rank for other in Priority if other.rank > rank]


def send_by(
    kind: str,
    *,
    instant: datetime,
    today: date,
    tenant_zone: ZoneInfo,
    contact_zone: ZoneInfo,
    validity_days: int | None = None,
) -> datetime:
    """The instant after which a target of ``kind`` created at ``instant`` is not sent.

    ``today`` is the tenant's local date of the targeting run (the birthday it found);
    ``validity_days`` overrides the kind's rule where a campaign sets one.
    """
    if validity_days is not None:
        return instant + timedelta(days=validity_days)
    if kind == "BIRTHDAY":
        return start_of_day(today + timedelta(days=1), contact_zone)
    if kind == "WELCOME":
        return instant + timedelta(days=2)
    if kind == "LOYALTY":
        return instant + timedelta(days=7)
    if kind == "REACTIVATION":
        return start_of_day(add_months(today.replace(day=1), 1), tenant_zone)
    return instant + timedelta(days=DEFAULT_VALIDITY_DAYS)
