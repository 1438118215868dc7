"""When a campaign next creates its messages: the answer to "what is scheduled next?".

The answer follows the rules of whatever creates them:

* a built-in kind runs at ticks (the top of every UTC hour, :mod:`shared.services.process_tenant`):
  once a local day, at the first tick at or after its run hour, on the days its processor says
  it is due (reactivation from day 20 of the month, for instance); once it ran today, its next
  run is on a later day;
* an API campaign's next occurrence is the first one it has not materialised
  (:func:`shared.domain.occurrences.upcoming`): its ``scheduled_at`` while scheduled, else the
  next of its recurrence (a one-off campaign has none once started). It runs at its own
  instant, to the second: a Cloud Task at that instant runs it
  (:mod:`shared.services.occurrence_tasks`), so its next run is that instant, not a tick;
* what is due already and not done yet (a built-in kind whose hour came, an occurrence whose
  task was lost) goes at the next tick, the safety net.

Paused, cancelled, completed and draft campaigns have no next run.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from shared.campaigns import RunContext, processor_for
from shared.domain.calendar import local_date, zone
from shared.domain.campaign import Campaign, CampaignStatus
from shared.domain.campaign_ids import SEGMENT
from shared.domain.occurrences import upcoming
from shared.domain.tenant import Tenant
from shared.ports import TargetStore, Warehouse

_LOOK_AHEAD_DAYS = 62
"""Far enough for any built-in kind's due days (at most monthly)."""


def next_tick(now: datetime) -> datetime:
    """The first hourly tick after ``now`` (Cloud Scheduler's ``0 * * * *``, in UTC)."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def _tick_at_or_after(instant: datetime) -> datetime:
    utc = instant.astimezone(UTC)
    top = utc.replace(minute=0, second=0, microsecond=0)
    return top if top == utc else top + timedelta(hours=1)


def next_run(
    campaign: Campaign,
    tenant: Tenant,
    now: datetime,
    *,
    done_today: bool,
    warehouse: Warehouse,
    targets: TargetStore,
) -> datetime | None:
    """When ``campaign`` next creates messages (None: it will not by itself).

    ``done_today``: a built-in kind already ran on the tenant's local day (its run says so).
    ``warehouse`` and ``targets`` only build the kind's processor; nothing is queried.
    """
    if campaign.kind == SEGMENT:
        return _next_occurrence(campaign, tenant, now)
    if campaign.status != CampaignStatus.RUNNING:
        return None
    processor_class = processor_for(campaign.kind)
    if processor_class is None:
        return None
    processor = processor_class(warehouse, targets)
    settings = processor.settings(campaign)
    tz = zone(tenant.timezone)
    today = local_date(now, tz)
    for offset in range(_LOOK_AHEAD_DAYS):
        day = today + timedelta(days=offset)
        if offset == 0 and done_today:
            continue
        at = _tick_at_or_after(datetime.combine(day, time(settings.run_hour), tz))
        if at <= now:  # its hour has come today and it has not run yet: the next tick runs it
            at = next_tick(now)
        if local_date(at, tz) != day:
            continue
        context = RunContext(tenant=tenant, zone=tz, instant=at, today=day, run_id="")
        if processor.not_due_reason(context, settings) is None:
            return at
    return None


def _next_occurrence(campaign: Campaign, tenant: Tenant, now: datetime) -> datetime | None:
    """Its instant while ahead (its task runs it then); once past and still not materialised,
    its task was lost or failed, and the next tick runs it."""
    occurrence = upcoming(campaign, now=now, zone=zone(tenant.timezone))
    if occurrence is None:
        return None
    return occurrence.at if occurrence.at > now else next_tick(now)
