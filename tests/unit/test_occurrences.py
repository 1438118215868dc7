"""Which occurrence of an API campaign is due, and which lapse (shared/domain/occurrences.py).

Every case runs on a fixed clock. São Paulo is UTC-3 all year (Brazil has no daylight saving
time), Manaus UTC-4: 09:00 local is 12:00Z and 13:00Z.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.domain.campaign import Campaign, CampaignStatus, Recurrence
from shared.domain.occurrences import (
    Complete,
    Due,
    Occurrence,
    due_occurrence,
    occurrence,
    record_completion,
    record_occurrence,
    upcoming,
)

SP = ZoneInfo("America/Sao_Paulo")
MANAUS = ZoneInfo("America/Manaus")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def campaign(**fields: Any) -> Campaign:
    base: dict[str, Any] = {
        "id": "SEG_0123456789ABCDEF",
        "name": "Oferta",
        "segmentation": {"include_all": True},
        "status": "running",
        "created_at": at("2026-11-01T00:00:00+00:00"),
        "updated_at": at("2026-11-01T00:00:00+00:00"),
    }
    return Campaign.model_validate({**base, **fields})


def daily(**fields: Any) -> dict[str, Any]:
    return {"frequency": "daily", "hour": 9, "minute": 0, **fields}


def due(found: Due | Complete | None) -> tuple[int, str, int]:
    """(index, period, lapsed) of a due occurrence."""
    assert isinstance(found, Due), found
    return found.occurrence.index, found.occurrence.period, found.lapsed


# -- the series ------------------------------------------------------------------------------


def test_daily_recurrence_after_three_occurrences() -> None:
    every_other = Recurrence(
        frequency="daily", interval=2, end_type="after", max_occurrences=3, hour=9
    )
    first = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert occurrence(every_other, first_run=first, index=0, zone=SP) == Occurrence(
        0, first, date(2026, 11, 20), "2026-11-20"
    )
    assert occurrence(every_other, first_run=first, index=1, zone=SP) == Occurrence(
        1, datetime(2026, 11, 22, 9, 0, tzinfo=SP), date(2026, 11, 22), "2026-11-22"
    )
    assert occurrence(every_other, first_run=first, index=2, zone=SP) is not None
    assert occurrence(every_other, first_run=first, index=3, zone=SP) is None


def test_monthly_recurrence_keeps_the_day_or_the_month_s_last() -> None:
    monthly = Recurrence(frequency="monthly", end_type="on_date", end_date=date(2027, 3, 31))
    first = datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    days = [occurrence(monthly, first_run=first, index=n, zone=SP) for n in range(4)]
    assert [o.day if o else None for o in days] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        None,
    ]


def test_weekly_recurrence_never_ends() -> None:
    weekly = Recurrence(frequency="weekly", interval=1)
    first = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    found = occurrence(weekly, first_run=first, index=520, zone=SP)
    assert found is not None and found.day == date(2026, 11, 20) + timedelta(weeks=520)


def test_one_off_campaigns_have_one_occurrence() -> None:
    assert occurrence(None, first_run=NOW, index=0, zone=SP) == Occurrence(
        0, NOW, date(2026, 11, 20), "once"
    )
    assert occurrence(None, first_run=NOW, index=1, zone=SP) is None


def test_the_local_day_and_hour_are_the_zone_s() -> None:
    first = at("2026-11-20T02:00:00+00:00")  # 23:00 on the 19th in São Paulo, 22:00 in Manaus
    recurrence = Recurrence(**daily())
    in_sp = occurrence(recurrence, first_run=first, index=1, zone=SP)
    in_manaus = occurrence(recurrence, first_run=first, index=1, zone=MANAUS)
    assert in_sp is not None and in_manaus is not None
    assert (in_sp.day, in_sp.at) == (date(2026, 11, 20), at("2026-11-20T12:00:00+00:00"))
    assert (in_manaus.day, in_manaus.at) == (date(2026, 11, 20), at("2026-11-20T13:00:00+00:00"))


# -- what is due now -------------------------------------------------------------------------


def test_a_start_now_is_due_at_once() -> None:
    started = campaign(started_at=NOW)
    assert due(due_occurrence(started, now=NOW, zone=SP)) == (0, "once", 0)


def test_a_scheduled_start_waits_for_its_time() -> None:
    scheduled = campaign(status="scheduled", scheduled_at=NOW + timedelta(hours=2), started_at=NOW)
    assert due_occurrence(scheduled, now=NOW, zone=SP) is None
    later = NOW + timedelta(hours=2)
    assert due(due_occurrence(scheduled, now=later, zone=SP)) == (0, "once", 0)
    assert upcoming(scheduled, now=NOW, zone=SP) == Occurrence(0, later, date(2026, 11, 20), "once")


def test_the_next_occurrence_waits_for_its_hour() -> None:
    first = at("2026-11-19T12:00:00+00:00")  # 09:00 in São Paulo, yesterday
    ran_once = campaign(started_at=first, recurrence=daily(), occurrences_run=1)
    assert due_occurrence(ran_once, now=at("2026-11-20T11:59:00+00:00"), zone=SP) is None
    assert due(due_occurrence(ran_once, now=at("2026-11-20T12:00:00+00:00"), zone=SP)) == (
        1,
        "2026-11-20",
        0,
    )


def test_a_missed_day_lapses_and_only_today_s_goes() -> None:
    first = at("2026-11-17T12:00:00+00:00")  # three days ago, 09:00 local
    ran_once = campaign(started_at=first, recurrence=daily(), occurrences_run=1)
    # The ticks of the 18th and 19th never came (an outage): today's goes, two lapse.
    assert due(due_occurrence(ran_once, now=NOW, zone=SP)) == (3, "2026-11-20", 2)
    assert due(due_occurrence(ran_once, now=at("2026-11-20T11:00:00+00:00"), zone=SP)) == (
        2,
        "2026-11-19",
        1,
    )


def test_a_pause_over_several_occurrences() -> None:
    first = at("2026-11-01T12:00:00+00:00")
    weekly = {"frequency": "weekly", "hour": 9}
    running = campaign(started_at=first, recurrence=weekly, occurrences_run=1)
    paused = running.model_copy(update={"status": CampaignStatus.PAUSED})
    assert due_occurrence(paused, now=NOW, zone=SP) is None
    assert upcoming(paused, now=NOW, zone=SP) is None
    # Resumed on the 20th: the 8th lapses, the 15th (the latest due) goes now, then the 22nd.
    resumed = running
    assert due(due_occurrence(resumed, now=NOW, zone=SP)) == (2, "2026-11-15", 1)
    after = record_occurrence(resumed, due=_due(resumed, NOW), expected=1, now=NOW)
    assert (after.occurrences_run, after.last_occurrence) == (3, "2026-11-15")
    assert due_occurrence(after, now=NOW, zone=SP) is None
    next_one = upcoming(after, now=NOW, zone=SP)
    assert next_one is not None and next_one.day == date(2026, 11, 22)


def test_the_series_ends_after_n() -> None:
    first = at("2026-11-17T12:00:00+00:00")
    three = daily(end_type="after", max_occurrences=3)
    assert isinstance(
        due_occurrence(
            campaign(started_at=first, recurrence=three, occurrences_run=3), now=NOW, zone=SP
        ),
        Complete,
    )
    # Missed up to the end: the last one goes, the one before it lapses.
    behind = campaign(started_at=first, recurrence=three, occurrences_run=1)
    assert due(due_occurrence(behind, now=NOW, zone=SP)) == (2, "2026-11-19", 1)


def test_the_series_ends_on_its_date() -> None:
    first = at("2026-11-17T12:00:00+00:00")
    until = daily(end_type="on_date", end_date="2026-11-18")
    two_run = campaign(started_at=first, recurrence=until, occurrences_run=2)
    assert isinstance(due_occurrence(two_run, now=NOW, zone=SP), Complete)
    assert upcoming(two_run, now=NOW, zone=SP) is None
    one_run = campaign(started_at=first, recurrence=until, occurrences_run=1)
    assert due(due_occurrence(one_run, now=NOW, zone=SP)) == (1, "2026-11-18", 0)


def test_monthly_on_the_31st_goes_on_a_short_month_s_last_day() -> None:
    first = at("2027-01-31T12:00:00+00:00")
    monthly = campaign(
        started_at=first, recurrence={"frequency": "monthly", "hour": 9}, occurrences_run=1
    )
    assert due_occurrence(monthly, now=at("2027-02-27T23:00:00+00:00"), zone=SP) is None
    assert due(due_occurrence(monthly, now=at("2027-02-28T12:00:00+00:00"), zone=SP)) == (
        1,
        "2027-02-28",
        0,
    )


def test_a_one_off_is_complete_once_it_ran() -> None:
    assert isinstance(
        due_occurrence(campaign(started_at=NOW, occurrences_run=1), now=NOW, zone=SP), Complete
    )


@pytest.mark.parametrize("status", ["draft", "paused", "completed", "cancelled"])
def test_only_live_campaigns_have_anything_due(status: str) -> None:
    assert due_occurrence(campaign(status=status, started_at=NOW), now=NOW, zone=SP) is None


# -- recording it ----------------------------------------------------------------------------


def _due(found: Campaign, now: datetime) -> Due:
    result = due_occurrence(found, now=now, zone=SP)
    assert isinstance(result, Due)
    return result


def test_an_occurrence_is_recorded_only_from_the_count_read() -> None:
    scheduled = campaign(status="scheduled", scheduled_at=NOW, started_at=NOW)
    go = _due(scheduled, NOW)
    later = NOW + timedelta(minutes=1)
    recorded = record_occurrence(scheduled, due=go, expected=0, now=later)
    assert recorded.status == CampaignStatus.RUNNING
    assert (recorded.occurrences_run, recorded.last_occurrence) == (1, "once")
    assert recorded.updated_at == later
    # Another run advanced it meanwhile, or a person paused it: nothing changes.
    assert record_occurrence(recorded, due=go, expected=0, now=later) == recorded
    paused = scheduled.model_copy(update={"status": CampaignStatus.PAUSED})
    assert record_occurrence(paused, due=go, expected=0, now=later) == paused


def test_completion_is_recorded_under_the_same_guard() -> None:
    ran = campaign(started_at=NOW, occurrences_run=1)
    done = record_completion(ran, expected=1, now=NOW)
    assert (done.status, done.completed_at) == (CampaignStatus.COMPLETED, NOW)
    assert record_completion(ran, expected=0, now=NOW) == ran
    paused = ran.model_copy(update={"status": CampaignStatus.PAUSED})
    assert record_completion(paused, expected=1, now=NOW) == paused
