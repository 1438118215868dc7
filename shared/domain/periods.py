"""Dedup periods: how "at most once per ..." becomes a key and a look-back boundary.

A campaign may reach a customer at most once per period. Two stores can prove a customer was
already reached: ``message_history`` in BigQuery (messages that went out) and the targets in
Firestore (messages planned but maybe not sent yet). Fixed periods (a year, a month, forever)
put their key into the target's document id, so a second create of the same target fails in
Firestore itself — across re-runs, duplicate deliveries and concurrent ticks. A rolling period
has no fixed key; its targets carry the local date as key and the processor also looks up
targets whose key is at or after :attr:`Period.rolling_since`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.domain.calendar import EPOCH, add_months, start_of_day


@dataclass(frozen=True, slots=True)
class Period:
    key: str
    """Part of the target id: ``2026`` (yearly), ``2026-11`` (monthly), ``once``, or a date."""
    history_since: datetime
    """message_history rows of this campaign sent at or after this instant block the customer."""
    rolling_since: str | None = None
    """For rolling periods: existing targets with ``period >= rolling_since`` block too."""


def yearly(today: date, tz: ZoneInfo) -> Period:
    return Period(str(today.year), start_of_day(today.replace(month=1, day=1), tz))


def monthly(today: date, tz: ZoneInfo) -> Period:
    return Period(today.strftime("%Y-%m"), start_of_day(today.replace(day=1), tz))


def once() -> Period:
    return Period("once", EPOCH)


def rolling_months(today: date, tz: ZoneInfo, months: int) -> Period:
    """Once per rolling window, inclusive at both ends like the visits it counts: a target or
    message dated on or after (today - months) blocks.

    Reached on 23 Aug, a customer is not reached on 23 Nov (the window [23 Aug, 23 Nov] holds
    that message) and may be again from 24 Nov on.
    """
    since = add_months(today, -months)
    return Period(today.isoformat(), start_of_day(since, tz), rolling_since=since.isoformat())
