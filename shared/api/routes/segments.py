"""``/api/v1/segments``: the audience's size and a sample of it, by the very SQL that builds
targets, and the forecast of a campaign draft (audience, cost, when its last message goes)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.api.deps import Now, Reader, Services
from shared.api.problems import MEDIA_TYPE
from shared.domain.campaign import CampaignCreate
from shared.domain.campaign_ids import is_campaign_id
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.domain.segmentation import Segmentation
from shared.services import campaign_review as review
from shared.services import campaigns as service

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])

MAX_SAMPLE = 20
_NO_SUCH_CAMPAIGN = {
    "description": "`campaign_id` is no campaign of the caller's tenant",
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


class EstimateRequest(BaseModel):
    """A segmentation to size, or the id of a campaign whose segmentation to size."""

    model_config = ConfigDict(extra="forbid")

    segmentation: Segmentation | None = None
    campaign_id: str | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _one_of(self) -> EstimateRequest:
        if (self.segmentation is None) == (self.campaign_id is None):
            raise ValueError("give exactly one of segmentation or campaign_id")
        return self


class Estimate(BaseModel):
    estimated_recipients: int = Field(
        description="audience members now (before phone checks and per-customer dedup)"
    )
    campaign_id: str | None = None


@router.post("/estimate", response_model=Estimate, responses={404: _NO_SUCH_CAMPAIGN})
def estimate(body: EstimateRequest, principal: Reader, services: Services, now: Now) -> Estimate:
    ports = services.campaign_ports()
    segmentation = _segmentation(body, ports, principal.cnpj)
    count = service.estimate_audience(ports, principal.cnpj, segmentation, now)
    return Estimate(estimated_recipients=count, campaign_id=body.campaign_id)


def _segmentation(body: EstimateRequest, ports: service.CampaignPorts, cnpj: Cnpj) -> Segmentation:
    if body.campaign_id is None:
        assert body.segmentation is not None
        return body.segmentation
    if not is_campaign_id(body.campaign_id):
        raise FieldError("campaign_id", "not a campaign id")
    segmentation = service.get_campaign(ports, cnpj, body.campaign_id).segmentation
    if segmentation is None:
        raise FieldError("campaign_id", "built-in campaigns have no segmentation to size")
    return segmentation


class SampleRequest(EstimateRequest):
    """As for the estimate, and how many members to show."""

    limit: int = Field(default=5, ge=1, le=MAX_SAMPLE)


class SampleMember(BaseModel):
    customer_id: str
    name: str
    first_name: str = Field(description="as a template's first_name shows it")
    phone_masked: str = Field(description="never the whole number", examples=["+55119*****21"])


class Sample(BaseModel):
    items: list[SampleMember] = Field(description="the first members by name")
    campaign_id: str | None = None


@router.post("/sample", response_model=Sample, responses={404: _NO_SUCH_CAMPAIGN})
def sample(body: SampleRequest, principal: Reader, services: Services, now: Now) -> Sample:
    """A few members of the audience (the estimate's query), phones masked."""
    ports = services.campaign_ports()
    segmentation = _segmentation(body, ports, principal.cnpj)
    members = review.sample(ports, principal.cnpj, segmentation, now, body.limit)
    return Sample(
        items=[
            SampleMember(
                customer_id=m.customer_id,
                name=m.name,
                first_name=m.first_name,
                phone_masked=m.phone,
            )
            for m in members
        ],
        campaign_id=body.campaign_id,
    )


class Forecast(BaseModel):
    estimated_recipients: int = Field(description="as the estimate counts them, now")
    cost_per_message: float = Field(description="BRL, the draft's analytics.cost_per_message")
    estimated_cost: float = Field(description="BRL: recipients x cost per message")
    first_send_at: datetime | None = Field(
        description="when the first message would go if the campaign started now (or at "
        "scheduled_at); null without recipients"
    )
    last_send_at: datetime | None = Field(
        description="when the last one would go at the campaign's pace, within its send window "
        "and the tenant's throttle, if nothing else were sending; null without recipients or "
        "beyond the planner's horizon. With an A/B test, the rest of the audience waits for "
        "the decision"
    )
    messages_per_minute: int = Field(description="the pace the planner keeps")


@router.post("/forecast", response_model=Forecast)
def forecast(body: CampaignCreate, principal: Reader, services: Services, now: Now) -> Forecast:
    """Review a campaign draft (the body of ``POST /api/v1/campaigns``) before creating it:
    its audience now, the cost of one occurrence and when its first and last messages go."""
    figures = review.forecast(services.campaign_ports(), principal.cnpj, body, now)
    return Forecast(
        estimated_recipients=figures.recipients,
        cost_per_message=figures.cost_per_message,
        estimated_cost=figures.estimated_cost,
        first_send_at=figures.first_send_at,
        last_send_at=figures.last_send_at,
        messages_per_minute=figures.messages_per_minute,
    )
