"""Local calendar arithmetic: local dates, local midnights as UTC instants, months, birthdays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from shared.domain.calendar import (
    DEFAULT_TIMEZONE,
    EPOCH,
    add_months,
    birthday_keys,
    local_date,
    start_of_day,
    yesterday,
    zone,
)
from shared.domain.errors import FieldError

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MANAUS = ZoneInfo("America/Manaus")
NORONHA = ZoneInfo("America/Noronha")
TOKYO = ZoneInfo("Asia/Tokyo")
SANTIAGO = ZoneInfo("America/Santiago")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "tz", "expected"),
    [
        # São Paulo is UTC-3 (no DST since 2019): local midnight is 03:00Z.
        (utc(2026, 11, 20, 2, 30), SAO_PAULO, date(2026, 11, 19)),
        (utc(2026, 11, 20, 2, 59, 59), SAO_PAULO, date(2026, 11, 19)),
        (utc(2026, 11, 20, 3, 0), SAO_PAULO, date(2026, 11, 20)),
        (utc(2026, 11, 21, 2, 59), SAO_PAULO, date(2026, 11, 20)),
        # Manaus is UTC-4.
        (utc(2026, 11, 20, 3, 30), MANAUS, date(2026, 11, 19)),
        (utc(2026, 11, 20, 4, 0), MANAUS, date(2026, 11, 20)),
        # Fernando de Noronha is UTC-2.
        (utc(2026, 11, 20, 1, 59), NORONHA, date(2026, 11, 19)),
        (utc(2026, 11, 20, 2, 0), NORONHA, date(2026, 11, 20)),
        # Tokyo is UTC+9: its 20 Nov begins at 19 Nov 15:00Z.
        (utc(2026, 11, 19, 14, 59), TOKYO, date(2026, 11, 19)),
        (utc(2026, 11, 19, 15, 0), TOKYO, date(2026, 11, 20)),
        (utc(2026, 11, 20, 14, 59), TOKYO, date(2026, 11, 20)),
        # New Year in São Paulo.
        (utc(2027, 1, 1, 2, 0), SAO_PAULO, date(2026, 12, 31)),
        (utc(2027, 1, 1, 3, 0), SAO_PAULO, date(2027, 1, 1)),
    ],
)
def test_local_date(instant: datetime, tz: ZoneInfo, expected: date) -> None:
    assert local_date(instant, tz) == expected


def test_same_instant_in_different_zones() -> None:
    instant = utc(2026, 11, 20, 3, 30)
    assert local_date(instant, SAO_PAULO) == date(2026, 11, 20)
    assert local_date(instant, MANAUS) == date(2026, 11, 19)
    assert local_date(instant, NORONHA) == date(2026, 11, 20)
    assert local_date(instant, TOKYO) == date(2026, 11, 20)


def test_local_date_of_non_utc_aware_instant() -> None:
    # 23:30 at UTC+5 is 18:30Z = 15:30 in São Paulo, still the 20th; 00:30 at UTC-10 the next day.
    plus_five = datetime(2026, 11, 20, 23, 30, tzinfo=timezone(timedelta(hours=5)))
    assert local_date(plus_five, SAO_PAULO) == date(2026, 11, 20)
    minus_ten = datetime(2026, 11, 20, 20, 0, tzinfo=timezone(timedelta(hours=-10)))
    assert local_date(minus_ten, SAO_PAULO) == date(2026, 11, 21)


def test_local_date_rejects_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 11, 20, 12, 0), SAO_PAULO)


@pytest.mark.parametrize(
    ("day", "tz", "expected"),
    [
        (date(2026, 11, 20), SAO_PAULO, utc(2026, 11, 20, 3, 0)),
        (date(2026, 11, 20), MANAUS, utc(2026, 11, 20, 4, 0)),
        (date(2026, 11, 20), NORONHA, utc(2026, 11, 20, 2, 0)),
        (date(2026, 11, 20), TOKYO, utc(2026, 11, 19, 15, 0)),
        (date(2026, 1, 1), SAO_PAULO, utc(2026, 1, 1, 3, 0)),
        # São Paulo DST (2017-10-15 .. 2018-02-18): UTC-2, so midnight was 02:00Z.
        (date(2018, 1, 10), SAO_PAULO, utc(2018, 1, 10, 2, 0)),
        # 2018-11-04: clocks jumped from 00:00 to 01:00 (-03 -> -02); the day began at 03:00Z.
        (date(2018, 11, 4), SAO_PAULO, utc(2018, 11, 4, 3, 0)),
        (date(2018, 11, 5), SAO_PAULO, utc(2018, 11, 5, 2, 0)),
        # 2019-02-17: clocks fell back at midnight -02 to 23:00 -03 on the 16th.
        (date(2019, 2, 16), SAO_PAULO, utc(2019, 2, 16, 2, 0)),
        (date(2019, 2, 17), SAO_PAULO, utc(2019, 2, 17, 3, 0)),
    ],
)
def test_start_of_day(day: date, tz: ZoneInfo, expected: datetime) -> None:
    result = start_of_day(day, tz)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("day", "tz"),
    [
        (date(2026, 11, 20), SAO_PAULO),
        (date(2018, 11, 4), SAO_PAULO),  # spring forward at midnight
        (date(2019, 2, 17), SAO_PAULO),  # fall back at midnight
        (date(2019, 2, 16), SAO_PAULO),
        (date(2026, 9, 6), SANTIAGO),  # Chile also springs forward at midnight
        (date(2026, 4, 5), SANTIAGO),
        (date(2026, 11, 20), TOKYO),
        (date(2026, 11, 20), NORONHA),
    ],
)
def test_start_of_day_is_the_first_instant_of_the_local_day(day: date, tz: ZoneInfo) -> None:
    start = start_of_day(day, tz)
    assert local_date(start, tz) == day
    assert local_date(start - timedelta(microseconds=1), tz) == day - timedelta(days=1)


def test_day_lengths_around_sao_paulo_dst() -> None:
    # A spring-forward day has 23 hours, a fall-back day 25 (the 16th repeated 23:00-24:00).
    def length(day: date) -> timedelta:
        return start_of_day(day + timedelta(days=1), SAO_PAULO) - start_of_day(day, SAO_PAULO)

    assert length(date(2018, 11, 4)) == timedelta(hours=23)
    assert length(date(2019, 2, 16)) == timedelta(hours=25)
    assert length(date(2026, 11, 20)) == timedelta(hours=24)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 5, 31), -3, date(2026, 2, 28)),
        (date(2028, 5, 31), -3, date(2028, 2, 29)),
        (date(2026, 1, 15), -3, date(2025, 10, 15)),
        (date(2026, 11, 20), 13, date(2027, 12, 20)),
        (date(2026, 11, 20), -3, date(2026, 8, 20)),
        (date(2026, 11, 20), 0, date(2026, 11, 20)),
        (date(2026, 11, 20), -12, date(2025, 11, 20)),
        (date(2026, 11, 20), -23, date(2024, 12, 20)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 12, 31), 2, date(2027, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 10, 31), -1, date(2026, 9, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 1), -1, date(2025, 12, 1)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2100, 3, 31), -1, date(2100, 2, 28)),  # 2100 is not a leap year
        (date(2000, 3, 31), -1, date(2000, 2, 29)),  # 2000 is
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 20), ["11-20"]),
        (date(2026, 1, 5), ["01-05"]),
        (date(2027, 2, 28), ["02-28", "02-29"]),
        (date(2026, 2, 28), ["02-28", "02-29"]),
        (date(2100, 2, 28), ["02-28", "02-29"]),
        (date(2028, 2, 28), ["02-28"]),
        (date(2028, 2, 29), ["02-29"]),
        (date(2000, 2, 28), ["02-28"]),
        (date(2027, 3, 1), ["03-01"]),
        (date(2026, 12, 31), ["12-31"]),
    ],
)
def test_birthday_keys(today: date, expected: list[str]) -> None:
    assert birthday_keys(today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 20), date(2026, 11, 19)),
        (date(2026, 3, 1), date(2026, 2, 28)),
        (date(2028, 3, 1), date(2028, 2, 29)),
        (date(2027, 1, 1), date(2026, 12, 31)),
    ],
)
def test_yesterday(today: date, expected: date) -> None:
    assert yesterday(today) == expected


@pytest.mark.parametrize(
    "name", ["America/Sao_Paulo", "America/Manaus", "America/Noronha", "Asia/Tokyo", "UTC"]
)
def test_zone_known(name: str) -> None:
    assert zone(name).key == name


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",
        "",
        "America",
        "America/",
        "America/sao_paulo",
        "America/Sao_Paulo ",
        "../etc/passwd",
        "/etc/localtime",
        "zone.tab",
    ],
)
def test_zone_unknown_names_the_field(name: str) -> None:
    with pytest.raises(FieldError) as caught:
        zone(name)
    assert caught.value.field == "timezone"


def test_constants() -> None:
    assert DEFAULT_TIMEZONE == "America/Sao_Paulo"
    assert EPOCH.isoformat() == "1970-01-01T00:00:00+00:00"
    assert EPOCH.utcoffset() == timedelta(0)
