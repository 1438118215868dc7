"""When a tenant's waiting messages will go, per local day, and how many will not go at all.

``campaigns forecast CNPJ`` and ``GET /api/v1/campaigns/{id}/forecast`` answer it from the
delivery planner itself, with no side effect (:mod:`shared.domain.forecast`):

* a QUEUED message has its slot already: it goes at its ``plannedAt``;
* a PENDING message (its plan is moments away) and every message of an API campaign's next
  occurrence within the horizon (its audience estimated now, as the console's estimate is) are
  planned on copies of the tenant's pacing states, together and in priority order, each with
  its campaign's planner and send-by; one with no slot before its send-by would expire.

Every campaign of the tenant is simulated together because they share the tenant's pace: a
campaign's forecast includes the capacity the others will take. Built-in kinds' future runs
are not forecast (their audience is only known when their query runs, at their hour).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from shared.domain.calendar import local_date, zone
from shared.domain.campaign import Campaign
from shared.domain.campaign_ids import BUILT_IN_KINDS, SEGMENT
from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.campaign_settings import settings_model
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.errors import FieldError, NotFoundError
from shared.domain.forecast import Unplanned, per_local_day, simulate
from shared.domain.occurrences import upcoming
from shared.domain.runs import Foreseen
from shared.domain.send_by import default_priority, send_by
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.ports import DeliveryOutlook
from shared.services.campaigns import CampaignPorts, estimate_audience
from shared.services.delivery_common import CampaignDelivery

MAX_DAYS = 31
MAX_SIMULATED = 20_000
"""Beyond this many messages to plan, the rest are not simulated (``complete`` is false): the
planner takes about 70 µs a message here, and a forecast answers an HTTP request."""


class ForecastDay(BaseModel):
    day: date = Field(description="a local day of the tenant, from today")
    messages: int = Field(description="messages that go that day")


class CampaignForecast(BaseModel):
    campaign_id: str
    timezone: str = Field(description="the tenant's zone, whose days these are")
    days: list[ForecastDay] = Field(description="every local day of the horizon, today first")
    later: int = Field(description="messages that go after the horizon")
    will_expire: int = Field(
        description="messages with no slot before their send-by: they will end EXPIRED, unsent"
    )
    planned: int = Field(description="messages with a send slot already (QUEUED)")
    to_plan: int = Field(
        description="messages without one yet: PENDING, and the next occurrence's audience"
    )
    next_occurrence_at: datetime | None = Field(
        description="the API campaign's next occurrence within the horizon, if any"
    )
    next_occurrence_audience: int | None = Field(
        description="its audience as estimated now (who it would reach if it ran now)"
    )
    last_send_at: datetime | None = Field(description="when the last message goes")
    complete: bool = Field(
        description=f"false when more than {MAX_SIMULATED:,} messages had to be planned: "
        "the rest were left out"
    )


@dataclass(frozen=True, slots=True)
class _Campaign:
    campaign_id: str
    delivery: CampaignDelivery
    planned: list[datetime]
    unplanned: list[Unplanned]
    planned_keys: frozenset[str]
    """Which targets ``planned`` are (their paths)."""
    occurrence_at: datetime | None
    audience: int | None


def forecast_tenant(
    ports: CampaignPorts, outlook: DeliveryOutlook, cnpj: Cnpj, *, days: int, now: datetime
) -> list[CampaignForecast]:
    """Every campaign of the tenant with messages waiting or an occurrence within ``days``."""
    if not 1 <= days <= MAX_DAYS:
        raise FieldError("days", f"from 1 to {MAX_DAYS}")
    tenant = ports.tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    tenant = ports.numbers.applied(tenant)  # it plans within its share of its number
    horizon_end = now + timedelta(days=days)
    stored = ports.campaigns.get_many(cnpj, [*BUILT_IN_KINDS, *ports.campaigns.live(cnpj)])
    campaigns = [
        _gather(ports, outlook, tenant, campaign_id, stored.get(campaign_id), horizon_end, now)
        for campaign_id in dict.fromkeys([*BUILT_IN_KINDS, *stored])
    ]
    unplanned = [message for campaign in campaigns for message in campaign.unplanned]
    results = _simulated(outlook, tenant, unplanned[:MAX_SIMULATED])
    complete = len(unplanned) <= MAX_SIMULATED
    forecasts = []
    for campaign in campaigns:
        mine = [at for message, at in results if message.campaign_id == campaign.campaign_id]
        if not campaign.planned and not campaign.unplanned:
            continue
        forecasts.append(_forecast(tenant, campaign, mine, days=days, now=now, complete=complete))
    return forecasts


def foresee_targets(
    ports: CampaignPorts,
    outlook: DeliveryOutlook,
    cnpj: Cnpj,
    targets: Sequence[Target],
    *,
    now: datetime,
) -> Foreseen | None:
    """One campaign's foresight (:class:`RunForesight`), for a run of that campaign alone."""
    return RunForesight(ports, outlook, cnpj, now=now)(targets)


@dataclass(frozen=True, slots=True)
class _Backlog:
    """What a run's foresight reads once: the tenant and every message already waiting."""

    tenant: Tenant
    stored: dict[str, Campaign]
    planned_keys: frozenset[str]
    waiting: list[Unplanned]


class RunForesight:
    """How many of each campaign's targets (about to be created, in the order they are written)
    would be sent before their send-by and how many would expire, planned after every message
    already waiting for the tenant: the simulation of :func:`forecast_tenant`, nothing planned.
    Among messages of one priority delivery plans the first found first, so the audience's
    order (the targeting query's) decides who gets the scarce slots.

    One per run: the first campaign that finds targets reads the tenant's waiting messages,
    and each later campaign is foreseen after them and after the targets the run's earlier
    campaigns wrote, without reading them all again. None when there are more messages than
    a forecast simulates."""

    def __init__(
        self, ports: CampaignPorts, outlook: DeliveryOutlook, cnpj: Cnpj, *, now: datetime
    ) -> None:
        self._ports, self._outlook, self._cnpj, self._now = ports, outlook, cnpj, now
        self._backlog: _Backlog | None = None
        self._written: list[Unplanned] = []
        """The run's earlier campaigns' new targets, in the order they were written."""

    def __call__(self, targets: Sequence[Target]) -> Foreseen | None:
        if not targets or len(targets) > MAX_SIMULATED:
            return None
        backlog = self._backlog or self._read()
        if backlog is None:
            return None
        cnpj, tenant = self._cnpj, backlog.tenant
        fresh = {TargetRef(cnpj, target.campaign_id, target.id).path: target for target in targets}
        # A repeated run finds some of its targets created already: a planned one keeps its
        # slot; a waiting one is planned once, in its audience's place.
        waiting = [
            message for message in [*backlog.waiting, *self._written] if message.key not in fresh
        ]
        new = [
            _unplanned(
                _delivery(tenant, target.campaign_id, backlog.stored.get(target.campaign_id)),
                _record_of(TargetRef(cnpj, target.campaign_id, target.id), target),
                self._now,
            )
            for key, target in fresh.items()
            if key not in backlog.planned_keys
        ]
        self._written.extend(new)
        if len(waiting) + len(new) > MAX_SIMULATED:
            return None
        expire = sum(
            1
            for message, at in _simulated(self._outlook, tenant, [*waiting, *new])
            if at is None and message.key in fresh
        )
        return Foreseen(will_send=len(fresh) - expire, will_expire=expire)

    def _read(self) -> _Backlog | None:
        ports, cnpj = self._ports, self._cnpj
        tenant = ports.tenants.get(cnpj)
        if tenant is None:
            return None
        tenant = ports.numbers.applied(tenant)
        stored = ports.campaigns.get_many(cnpj, [*BUILT_IN_KINDS, *ports.campaigns.live(cnpj)])
        campaigns = [
            _gather(
                ports, self._outlook, tenant, campaign_id, stored.get(campaign_id), None, self._now
            )
            for campaign_id in dict.fromkeys([*BUILT_IN_KINDS, *stored])
        ]
        self._backlog = _Backlog(
            tenant,
            stored,
            frozenset(key for campaign in campaigns for key in campaign.planned_keys),
            [message for campaign in campaigns for message in campaign.unplanned],
        )
        return self._backlog


def _record_of(ref: TargetRef, target: Target) -> TargetRecord:
    return TargetRecord(
        ref,
        Status.PENDING,
        target.customer_id,
        target.name,
        target.phone,
        target.data,
        timezone=target.timezone,
        send_by=target.send_by,
        priority=target.priority,
    )


def _simulated(
    outlook: DeliveryOutlook, tenant: Tenant, unplanned: list[Unplanned]
) -> list[tuple[Unplanned, datetime | None]]:
    """Plan ``unplanned`` on copies of the tenant's pacing states (and of the campaigns' own)."""
    own_paces = {
        message.campaign_id: message.planner.shards
        for message in unplanned
        if isinstance(message.planner, CampaignPlanner)
    }
    return simulate(
        unplanned,
        outlook.pacing(tenant.id, tenant.delivery.throttle.effective_shards),
        {
            campaign_id: outlook.campaign_pacing(tenant.id, campaign_id, count)
            for campaign_id, count in own_paces.items()
        },
    )


def forecast_campaign(
    ports: CampaignPorts,
    outlook: DeliveryOutlook,
    cnpj: Cnpj,
    campaign_id: str,
    *,
    days: int,
    now: datetime,
) -> CampaignForecast:
    """One campaign's part of :func:`forecast_tenant` (all zeros when nothing waits: a draft,
    a paused or finished campaign, a built-in kind between its runs)."""
    campaign = ports.campaigns.get(cnpj, campaign_id)
    if campaign_id not in BUILT_IN_KINDS and campaign is None:
        raise NotFoundError(f"campaign {campaign_id} not found")
    for forecast in forecast_tenant(ports, outlook, cnpj, days=days, now=now):
        if forecast.campaign_id == campaign_id:
            return forecast
    tenant = ports.tenants.get(cnpj)
    assert tenant is not None  # forecast_tenant found it
    delivery = _delivery(tenant, campaign_id, campaign)
    empty = _Campaign(campaign_id, delivery, [], [], frozenset(), None, None)
    return _forecast(tenant, empty, [], days=days, now=now, complete=True)


def _gather(
    ports: CampaignPorts,
    outlook: DeliveryOutlook,
    tenant: Tenant,
    campaign_id: str,
    campaign: Campaign | None,
    horizon_end: datetime | None,
    now: datetime,
) -> _Campaign:
    """The campaign's waiting messages and, with ``horizon_end``, its next occurrence's
    audience when it starts before then."""
    delivery = _delivery(tenant, campaign_id, campaign)
    planned: list[datetime] = []
    planned_keys: set[str] = set()
    unplanned: list[Unplanned] = []
    for record in outlook.waiting(tenant.id, campaign_id):
        if record.status is Status.QUEUED and record.planned_at is not None:
            planned.append(record.planned_at)
            planned_keys.add(record.ref.path)
        else:
            unplanned.append(_unplanned(delivery, record, now))
    occurrence_at, audience = None, None
    if (
        horizon_end is not None
        and campaign is not None
        and campaign.kind == SEGMENT
        and campaign.segmentation is not None
    ):
        tenant_zone = zone(tenant.timezone)
        occurrence = upcoming(campaign, now=now, zone=tenant_zone)
        if occurrence is not None and occurrence.at < horizon_end:
            occurrence_at = occurrence.at
            audience = estimate_audience(ports, tenant.id, campaign.segmentation, now)
            start = max(now, occurrence.at)
            deadline = send_by(
                SEGMENT,
                instant=start,
                today=occurrence.day,
                tenant_zone=tenant_zone,
                contact_zone=tenant_zone,
                validity_days=delivery.settings.validity_days,
            )
            rank = (delivery.settings.priority or default_priority(SEGMENT)).rank
            for index in range(min(audience, MAX_SIMULATED)):
                ref = TargetRef(tenant.id, campaign_id, f"forecast-{occurrence.index}-{index}")
                record = TargetRecord(
                    ref, Status.PENDING, "", "", "", {}, send_by=deadline, priority=rank
                )
                unplanned.append(_unplanned(delivery, record, start))
    return _Campaign(
        campaign_id,
        delivery,
        planned,
        unplanned,
        frozenset(planned_keys),
        occurrence_at,
        audience,
    )


def _delivery(tenant: Tenant, campaign_id: str, campaign: Campaign | None) -> CampaignDelivery:
    if campaign is not None:
        return CampaignDelivery(tenant, campaign.pipeline)
    return CampaignDelivery(tenant, settings_model(campaign_id)())


def _unplanned(delivery: CampaignDelivery, record: TargetRecord, earliest: datetime) -> Unplanned:
    return Unplanned(
        campaign_id=record.ref.campaign_id,
        key=record.ref.path,
        earliest=earliest,
        send_by=record.send_by,
        priority=record.priority,
        planner=delivery.planner(record),
    )


def _forecast(
    tenant: Tenant,
    campaign: _Campaign,
    simulated: list[datetime | None],
    *,
    days: int,
    now: datetime,
    complete: bool,
) -> CampaignForecast:
    tenant_zone = zone(tenant.timezone)
    sends = [*campaign.planned, *(at for at in simulated if at is not None)]
    counts = per_local_day(sends, tenant_zone)
    today = local_date(now, tenant_zone)
    horizon = [today + timedelta(days=offset) for offset in range(days)]
    return CampaignForecast(
        campaign_id=campaign.campaign_id,
        timezone=tenant.timezone,
        days=[ForecastDay(day=day, messages=counts.get(day, 0)) for day in horizon],
        later=sum(count for day, count in counts.items() if day > horizon[-1]),
        will_expire=sum(1 for at in simulated if at is None),
        planned=len(campaign.planned),
        to_plan=len(campaign.unplanned),
        next_occurrence_at=campaign.occurrence_at,
        next_occurrence_audience=campaign.audience,
        last_send_at=max(sends, default=None),
        complete=complete,
    )
