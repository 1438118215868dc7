"""``/api/v1/segments/estimate``: the audience size, by the very SQL that builds targets."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.api.deps import Reader, Services
from shared.domain.campaign_ids import is_campaign_id
from shared.domain.errors import ValidationError
from shared.domain.segmentation import Segmentation
from shared.services import campaigns as service

router = APIRouter(prefix="/api/v1/segments", tags=["segments"])


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


@router.post("/estimate", response_model=Estimate)
def estimate(body: EstimateRequest, principal: Reader, services: Services) -> Estimate:
    ports = services.campaign_ports()
    now = datetime.now(UTC)
    if body.campaign_id is not None:
        if not is_campaign_id(body.campaign_id):
            raise ValidationError("campaign_id", "not a campaign id")
        campaign = service.get_campaign(ports, principal.cnpj, body.campaign_id)
    else:
        assert body.segmentation is not None
        campaign = None
    segmentation = campaign.segmentation if campaign is not None else body.segmentation
    if segmentation is None:
        raise ValidationError("campaign_id", "built-in campaigns have no segmentation to size")
    count = service.estimate_audience(ports, principal.cnpj, segmentation, now)
    return Estimate(estimated_recipients=count, campaign_id=body.campaign_id)
