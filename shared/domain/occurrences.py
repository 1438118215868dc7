"""Which occurrence of an API campaign is due now, and which ones lapse: pure, on a given clock.

An API campaign runs once (its start, or ``scheduled_at``) or on a recurrence. Occurrence 0 is
its first run; later ones fall on the recurrence's local days at its hour and minute, in the
tenant's zone. Ticks come hourly and a campaign can be paused for days, so when occurrences
were missed only the LATEST due one is materialised: the earlier ones lapse, and the audience
never receives a backlog of messages at once. The series ends after ``max_occurrences`` or
past ``end_date``; once every occurrence is materialised the campaign is complete (the
campaign service completes it when nothing of it is still on its way).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from shared.domain.campaign import Campaign, CampaignStatus, Recurrence


@dataclass(frozen=True, slots=True)
class Occurrence:
    index: int
    """0-based: the first run is occurrence 0."""
    at: datetime
    """When it is due."""
    day: date
    """Its local day in the tenant's zone."""
    period: str
    """The targets' period key: its local day for a recurrence, ``once`` for a one-off, so a
    recurrent campaign reaches its audience again at every occurrence and never twice in one."""


@dataclass(frozen=True, slots=True)
class Due:
    """The occurrence to materialise now."""

    occurrence: Occurrence
    lapsed: int
    """Missed occurrences before it, never materialised."""

    @property
    def occurrences_run(self) -> int:
        """The campaign's count of occurrences once this one is materialised (lapsed included)."""
        return self.occurrence.index + 1


@dataclass(frozen=True, slots=True)
class Complete:
    """Every occurrence of the series is materialised."""


def occurrence(
    recurrence: Recurrence | None, *, first_run: datetime, index: int, zone: ZoneInfo
) -> Occurrence | None:
    """Occurrence ``index`` of a series whose first run is ``first_run``; None past its end."""
    first_day = first_run.astimezone(zone).date()
    if index == 0:
        at, day = first_run, first_day
    elif recurrence is None:
        return None
    else:
        day = recurrence.occurrence(first_day, index)
        if recurrence.is_over(index, day):
            return None
        at = datetime.combine(day, time(recurrence.hour, recurrence.minute), zone)
    period = day.isoformat() if recurrence is not None else "once"
    return Occurrence(index=index, at=at, day=day, period=period)


def first_run(campaign: Campaign, *, now: datetime) -> datetime:
    """When occurrence 0 is due: ``scheduled_at``, else the start (``now``: starting now)."""
    return campaign.scheduled_at or campaign.started_at or now


def upcoming(campaign: Campaign, *, now: datetime, zone: ZoneInfo) -> Occurrence | None:
    """The first occurrence not materialised yet, due or not; None when the campaign is not
    live (only scheduled and running campaigns have occurrences) or its series is over."""
    if campaign.status == CampaignStatus.SCHEDULED and campaign.scheduled_at is None:
        return None
    if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING):
        return None
    return occurrence(
        campaign.recurrence,
        first_run=first_run(campaign, now=now),
        index=campaign.occurrences_run,
        zone=zone,
    )


def due_occurrence(campaign: Campaign, *, now: datetime, zone: ZoneInfo) -> Due | Complete | None:
    """What the campaign should materialise at ``now``: the latest due occurrence (the missed
    ones before it lapse), :class:`Complete` once the series is over, None when nothing is
    due yet or the campaign is not live."""
    if campaign.status not in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING):
        return None
    if campaign.status == CampaignStatus.SCHEDULED and (
        campaign.scheduled_at is None or campaign.scheduled_at > now
    ):
        return None
    start = first_run(campaign, now=now)
    due = occurrence(
        campaign.recurrence, first_run=start, index=campaign.occurrences_run, zone=zone
    )
    if due is None:
        return Complete()
    if due.at > now:
        return None
    while True:
        following = occurrence(campaign.recurrence, first_run=start, index=due.index + 1, zone=zone)
        if following is None or following.at > now:
            return Due(occurrence=due, lapsed=due.index - campaign.occurrences_run)
        due = following


def record_occurrence(campaign: Campaign, *, due: Due, expected: int, now: datetime) -> Campaign:
    """The campaign once ``due`` is materialised, if nobody advanced it past ``expected``
    occurrences or paused it meanwhile (then it is returned unchanged)."""
    if not _still(campaign, expected):
        return campaign
    return campaign.model_copy(
        update={
            "status": CampaignStatus.RUNNING,
            "occurrences_run": due.occurrences_run,
            "last_occurrence": due.occurrence.period,
            "updated_at": now,
        }
    )


def record_completion(campaign: Campaign, *, expected: int, now: datetime) -> Campaign:
    """The campaign completed, under the same guard as :func:`record_occurrence`."""
    if not _still(campaign, expected) or campaign.status != CampaignStatus.RUNNING:
        return campaign
    return campaign.model_copy(
        update={"status": CampaignStatus.COMPLETED, "completed_at": now, "updated_at": now}
    )


def _still(campaign: Campaign, expected: int) -> bool:
    return campaign.occurrences_run == expected and campaign.status in (
        CampaignStatus.SCHEDULED,
        CampaignStatus.RUNNING,
    )
