"""A campaign before it exists: its audience now, a sample of it, what it costs, when it ends.

A person building a campaign wants to see, before saving it, who it reaches and what it will
do. Nothing here is a rule of its own: the audience is the estimate's query
(:func:`shared.services.campaigns.estimate_audience`), the sample is the same audience query
(:func:`shared.services.segments.sample`), and the send times come from the delivery planner
(:class:`shared.domain.pacing.Planner`) built exactly as delivery builds it for this campaign,
from the campaign's own pipeline settings and the tenant's throttle.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime

from shared.domain.campaign import Campaign, CampaignFields
from shared.domain.campaign_ids import SEGMENT, new_segment_id
from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.errors import FieldError, NotFoundError
from shared.domain.pacing import Planner, PlanningError, ShardState
from shared.domain.segmentation import Segmentation
from shared.domain.tenant import Tenant
from shared.logs import mask_phone
from shared.services import segments
from shared.services.campaigns import CampaignPorts, estimate_audience
from shared.services.delivery_common import CampaignDelivery
from shared.whatsapp.requests_body import first_name

MAX_PLANNED = 20_000
"""Beyond this many messages the last send time is not worked out (None): the planner takes
about 70 µs per message here (20,000 in 1.4 s), and a laundromat's audience is hundreds or a
few thousand."""


@dataclass(frozen=True, slots=True)
class SampleMember:
    customer_id: str
    name: str
    first_name: str
    phone: str
    """Masked: enough to recognise, never a number to call."""


@dataclass(frozen=True, slots=True)
class Forecast:
    recipients: int
    cost_per_message: float
    estimated_cost: float
    first_send_at: datetime | None
    last_send_at: datetime | None
    messages_per_minute: int
    """The pace the planner keeps: the campaign's, within the tenant's and the number's."""


def draft_campaign(fields: CampaignFields, now: datetime) -> Campaign:
    """The campaign ``fields`` would create now (not stored): for its rules and settings."""
    return Campaign(
        **fields.model_dump(), id=new_segment_id(), kind=SEGMENT, created_at=now, updated_at=now
    )


def sample(
    ports: CampaignPorts, cnpj: Cnpj, segmentation: Segmentation, now: datetime, limit: int
) -> list[SampleMember]:
    """The first ``limit`` members of the audience by name, phones masked."""
    rows = segments.sample(
        ports.warehouse,
        cnpj,
        segmentation,
        as_of=now,
        opted_out_phones=ports.campaigns.opted_out_phones(cnpj),
        zone=_tenant(ports, cnpj).timezone,
        limit=limit,
    )
    return [
        SampleMember(
            customer_id=str(row["customer_id"]),
            name=str(row["name"] or ""),
            first_name=first_name(str(row["name"] or "")),
            phone=mask_phone(str(row["phone"] or "")),
        )
        for row in rows
    ]


def forecast(ports: CampaignPorts, cnpj: Cnpj, fields: CampaignFields, now: datetime) -> Forecast:
    """Audience, cost and send times of one occurrence, if the campaign started now.

    The times assume nothing else is sending (other campaigns share the tenant's pace) and
    that the recipients' send window is the tenant's zone; with an A/B test, the rest of the
    audience goes only once the test is decided, later than this.
    """
    if fields.segmentation is None:
        raise FieldError("segmentation", "a campaign needs a segmentation")
    fields.check_consistent()
    tenant = _tenant(ports, cnpj)
    recipients = estimate_audience(ports, cnpj, fields.segmentation, now)
    planner = _planner(tenant, draft_campaign(fields, now))
    earliest = max(now, fields.scheduled_at) if fields.scheduled_at is not None else now
    span = send_span(planner, earliest, recipients)
    price = fields.analytics.cost_per_message
    return Forecast(
        recipients=recipients,
        cost_per_message=price,
        estimated_cost=round(recipients * price, 2),
        first_send_at=span[0] if span else None,
        last_send_at=span[1] if span else None,
        messages_per_minute=(
            max(1, math.floor(planner.rate_per_minute))
            if isinstance(planner, CampaignPlanner)
            else planner.throttle.per_minute
        ),
    )


def send_span(
    planner: Planner | CampaignPlanner, earliest: datetime, count: int
) -> tuple[datetime, datetime] | None:
    """When the first and the last of ``count`` messages go, planned one after another.

    One shard owns every slot of the planner's throttle (and of the campaign's own pace), so
    planning the messages in order on it gives the slots all shards together would fill. None
    when there is nothing to send, too much to plan, or no slot within the planner's horizon
    (absurd settings, a far future).
    """
    if count <= 0 or count > MAX_PLANNED:
        return None
    if isinstance(planner, CampaignPlanner):
        planner = dataclasses.replace(planner, tenant=_one_shard(planner.tenant))
    else:
        planner = _one_shard(planner)
    state: ShardState = {}
    tenant_states: dict[int, ShardState] = {0: {}}
    moment = earliest
    first: datetime | None = None
    try:
        for _ in range(count):
            if isinstance(planner, CampaignPlanner):
                paced = planner.plan(moment, 0, state, tenant_states.__getitem__)
                moment, state = paced.send_at, _current(paced.campaign_state)
                tenant_states[0] = _current(paced.tenant_states[0])
            else:
                slot = planner.plan(moment, 0, state)
                moment, state = slot.send_at, _current(slot.state)
            first = first or moment
    except (PlanningError, OverflowError, ValueError):  # no slot, or past the year 9999
        return None
    assert first is not None
    return first, moment


def _one_shard(planner: Planner) -> Planner:
    return dataclasses.replace(planner, throttle=planner.throttle.model_copy(update={"shards": 1}))


def _current(state: ShardState) -> ShardState:
    """Only the latest counter of each kind: planning in order never looks back at older ones.

    Keys are ``m:``/``r:``/``h:``/``d:`` plus a fixed-width time, so the largest key of a kind
    is its latest minute, hour or day.
    """
    latest: dict[str, str] = {}
    for key in state:
        kind = key[:2]
        if key > latest.get(kind, ""):
            latest[kind] = key
    return {key: state[key] for key in latest.values()}


def _planner(tenant: Tenant, campaign: Campaign) -> Planner | CampaignPlanner:
    """The planner delivery would use for this campaign's targets (tenant's zone)."""
    ref = TargetRef(tenant.id, campaign.id, "forecast")
    record = TargetRecord(ref, Status.PENDING, "", "", "", {})
    return CampaignDelivery(tenant, campaign.pipeline).planner(record)


def _tenant(ports: CampaignPorts, cnpj: Cnpj) -> Tenant:
    """The tenant as delivery plans for it: within its share of its sending number."""
    tenant = ports.tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    return ports.numbers.applied(tenant)
