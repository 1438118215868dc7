"""Dedup periods: keys that go into target ids, and the look-back boundaries."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.domain.periods import Period, monthly, once, rolling_months, yearly

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MANAUS = ZoneInfo("America/Manaus")
TOKYO = ZoneInfo("Asia/Tokyo")


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "tz", "key", "since"),
    [
        (date(2026, 11, 20), SAO_PAULO, "2026", utc(2026, 1, 1, 3)),
        (date(2026, 1, 1), SAO_PAULO, "2026", utc(2026, 1, 1, 3)),
        (date(2026, 12, 31), SAO_PAULO, "2026", utc(2026, 1, 1, 3)),
        (date(2026, 11, 20), MANAUS, "2026", utc(2026, 1, 1, 4)),
        (date(2026, 11, 20), TOKYO, "2026", utc(2025, 12, 31, 15)),
        # 1 Jan 2018 was in São Paulo's summer time (UTC-2).
        (date(2018, 6, 1), SAO_PAULO, "2018", utc(2018, 1, 1, 2)),
    ],
)
def test_yearly(today: date, tz: ZoneInfo, key: str, since: datetime) -> None:
    assert yearly(today, tz) == Period(key, since)


@pytest.mark.parametrize(
    ("today", "tz", "key", "since"),
    [
        (date(2026, 11, 20), SAO_PAULO, "2026-11", utc(2026, 11, 1, 3)),
        (date(2026, 11, 1), SAO_PAULO, "2026-11", utc(2026, 11, 1, 3)),
        (date(2026, 11, 30), SAO_PAULO, "2026-11", utc(2026, 11, 1, 3)),
        (date(2026, 2, 28), SAO_PAULO, "2026-02", utc(2026, 2, 1, 3)),
        (date(2026, 11, 20), MANAUS, "2026-11", utc(2026, 11, 1, 4)),
        (date(2026, 11, 20), TOKYO, "2026-11", utc(2026, 10, 31, 15)),
        (date(2018, 12, 5), SAO_PAULO, "2018-12", utc(2018, 12, 1, 2)),
    ],
)
def test_monthly(today: date, tz: ZoneInfo, key: str, since: datetime) -> None:
    assert monthly(today, tz) == Period(key, since)


def test_once() -> None:
    period = once()
    assert period.key == "once"
    assert period.history_since == utc(1970, 1, 1)
    assert period.rolling_since is None


def test_fixed_periods_have_no_rolling_since() -> None:
    assert yearly(date(2026, 11, 20), SAO_PAULO).rolling_since is None
    assert monthly(date(2026, 11, 20), SAO_PAULO).rolling_since is None


@pytest.mark.parametrize(
    ("today", "tz", "months", "rolling_since", "history_since"),
    [
        (date(2026, 11, 23), SAO_PAULO, 3, "2026-08-23", utc(2026, 8, 23, 3)),
        (date(2026, 11, 20), SAO_PAULO, 3, "2026-08-20", utc(2026, 8, 20, 3)),
        (date(2026, 11, 23), SAO_PAULO, 1, "2026-10-23", utc(2026, 10, 23, 3)),
        (date(2026, 1, 10), SAO_PAULO, 12, "2025-01-10", utc(2025, 1, 10, 3)),
        # 31 May - 3 months clamps to 28 Feb, where the window starts (inclusive).
        (date(2026, 5, 31), SAO_PAULO, 3, "2026-02-28", utc(2026, 2, 28, 3)),
        (date(2026, 3, 31), SAO_PAULO, 1, "2026-02-28", utc(2026, 2, 28, 3)),
        (date(2026, 11, 23), MANAUS, 3, "2026-08-23", utc(2026, 8, 23, 4)),
        (date(2026, 11, 23), TOKYO, 3, "2026-08-23", utc(2026, 8, 22, 15)),
    ],
)
def test_rolling_months(
    today: date, tz: ZoneInfo, months: int, rolling_since: str, history_since: datetime
) -> None:
    period = rolling_months(today, tz, months)
    assert period.key == today.isoformat()
    assert period.rolling_since == rolling_since
    assert period.history_since == history_since


def test_rolling_window_is_inclusive_at_both_ends() -> None:
    # Reached on 23 Aug, a customer is still blocked on 23 Nov (the window [23 Aug, 23 Nov]
    # holds that message, as it holds a visit of 23 Aug) and may be reached again from 24 Nov
    # on (period keys compare as ISO dates, i.e. as strings).
    reached = "2026-08-23"
    on_23_nov = rolling_months(date(2026, 11, 23), SAO_PAULO, 3).rolling_since
    on_24_nov = rolling_months(date(2026, 11, 24), SAO_PAULO, 3).rolling_since
    assert on_23_nov is not None
    assert on_24_nov is not None
    assert reached >= on_23_nov
    assert not reached >= on_24_nov


def test_period_is_immutable() -> None:
    period = once()
    with pytest.raises(FrozenInstanceError):
        period.key = "2026"  # type: ignore[misc]
