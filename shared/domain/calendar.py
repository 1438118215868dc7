"""Local calendar arithmetic. Every targeting rule speaks in the tenant's local dates.

A laundromat in São Paulo closes its day at 21:00 local, which is already tomorrow in UTC;
using UTC's ``CURRENT_DATE()`` would send birthday wishes a day early to every evening
customer. So "today" is always the local date of the tick's instant, and each date boundary
is converted back to a UTC instant before it reaches BigQuery (where it prunes partitions).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.domain.errors import FieldError

DEFAULT_TIMEZONE = "America/Sao_Paulo"


def zone(name: str) -> ZoneInfo:
    """An IANA zone, or a FieldError naming the field (tenant settings come from users)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise FieldError("timezone", f"unknown IANA time zone {name!r}") from exc


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(tz).date()


def start_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz`` (DST-safe: the zone's offset that day)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """Calendar month arithmetic clamped to month ends (31 May - 3 months = 28/29 Feb)."""
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def birthday_keys(today: date) -> list[str]:
    """The ``MM-DD`` birthdays celebrated today: 29 Feb birthdays move to 28 Feb in common years."""
    keys = [today.strftime("%m-%d")]
    if today.month == 2 and today.day == 28 and not calendar.isleap(today.year):
        keys.append("02-29")
    return keys


def yesterday(today: date) -> date:
    return today - timedelta(days=1)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
