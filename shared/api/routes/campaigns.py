"""``/api/v1/campaigns``: the seed's campaign endpoints, thin over the campaign service.

The tenant is always the token's; ids of another tenant's campaigns are simply not found.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from shared.api import paging
from shared.api.audit import record_write
from shared.api.deps import Now, Reader, Services, Writer
from shared.domain.campaign import (
    Campaign,
    CampaignCreate,
    CampaignPatch,
    CampaignStatus,
    Objective,
)
from shared.domain.delivery_status import Status
from shared.domain.runs import CampaignOutcome
from shared.services import campaigns as service
from shared.services.analytics import CampaignAnalytics
from shared.services.forecast import MAX_DAYS, CampaignForecast, forecast_campaign
from shared.services.message_preview import MessagePreview, campaign_preview, draft_preview
from shared.services.recipients import RecipientPage, recipients_page

router = APIRouter(prefix="/api/v1/campaigns", tags=["campaigns"])

RECIPIENTS_LISTING = "recipients1"
MAX_RECIPIENTS_PAGE = 200

CampaignId = Annotated[
    str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,39}$", description="e.g. SEG_... or BIRTHDAY")
]


class SortField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"
    STATUS = "status"


class CampaignPage(BaseModel):
    items: list[Campaign]
    page: int
    page_size: int


class RunSummary(BaseModel):
    """What a start or resume materialised at once (None when nothing was due yet)."""

    candidates: int
    created: int
    already_present: int
    skipped: dict[str, int]

    @classmethod
    def of(cls, outcome: CampaignOutcome | None) -> RunSummary | None:
        if outcome is None:
            return None
        return cls(
            candidates=outcome.candidates,
            created=outcome.created,
            already_present=outcome.already_present,
            skipped=dict(outcome.skipped),
        )


class StatusChange(BaseModel):
    campaign: Campaign
    targets: RunSummary | None = Field(
        default=None, description="targets materialised by this call (a due start or resume)"
    )


def _snap(campaign: Campaign) -> dict[str, Any]:
    return campaign.model_dump(mode="json")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=Campaign)
def create_campaign(
    body: CampaignCreate, principal: Writer, services: Services, now: Now
) -> Campaign:
    """Create a SEGMENT campaign as a draft (start it to schedule or run it)."""
    campaign = service.create_campaign(
        services.campaign_ports(), principal.cnpj, principal.subject, body, now
    )
    record_write(
        services, principal, "campaign.create", f"campaigns/{campaign.id}", None, _snap(campaign)
    )
    return campaign


@router.get("", response_model=CampaignPage)
def list_campaigns(
    principal: Reader,
    services: Services,
    status_filter: Annotated[CampaignStatus | None, Query(alias="status")] = None,
    objective: Objective | None = None,
    created_from: datetime | None = None,
    created_until: datetime | None = None,
    sort: SortField = SortField.CREATED_AT,
    order: Literal["asc", "desc"] = "desc",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CampaignPage:
    """The tenant's campaigns, built-in kinds included, filtered and sorted."""
    items = service.list_campaigns(
        services.campaign_ports(),
        principal.cnpj,
        status=status_filter,
        objective=objective,
        created_from=created_from,
        created_until=created_until,
        sort=sort.value,
        descending=order == "desc",
        page=page,
        page_size=page_size,
    )
    return CampaignPage(items=items, page=page, page_size=page_size)


@router.get("/{campaign_id}", response_model=Campaign)
def get_campaign(campaign_id: CampaignId, principal: Reader, services: Services) -> Campaign:
    return service.get_campaign(services.campaign_ports(), principal.cnpj, campaign_id)


@router.patch("/{campaign_id}", response_model=Campaign)
def patch_campaign(
    campaign_id: CampaignId, body: CampaignPatch, principal: Writer, services: Services, now: Now
) -> Campaign:
    """Edit a draft or paused campaign (any subset of the creation fields)."""
    before, after = service.patch_campaign(
        services.campaign_ports(), principal.cnpj, campaign_id, body, now
    )
    record_write(
        services,
        principal,
        "campaign.update",
        f"campaigns/{campaign_id}",
        _snap(before),
        _snap(after),
    )
    return after


@router.get("/{campaign_id}/analytics", response_model=CampaignAnalytics)
def campaign_analytics(
    campaign_id: CampaignId,
    principal: Reader,
    services: Services,
    period: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9_.-]{1,40}$",
            description="one occurrence of a recurrent campaign (see `occurrences`); all if unset",
        ),
    ] = None,
) -> CampaignAnalytics:
    """Delivery, engagement, conversions, ROI, vouchers and the A/B test, from BigQuery."""
    return service.analytics(services.campaign_ports(), principal.cnpj, campaign_id, period)


@router.get("/{campaign_id}/forecast", response_model=CampaignForecast)
def campaign_forecast(
    campaign_id: CampaignId,
    principal: Reader,
    services: Services,
    now: Now,
    days: Annotated[int, Query(ge=1, le=MAX_DAYS, description="local days, from today")] = 7,
) -> CampaignForecast:
    """Messages per local day, when the last one goes and how many will expire: the delivery
    planner run on a copy of the tenant's pace, nothing planned (the tenant's other campaigns
    count, as they share the pace)."""
    return forecast_campaign(
        services.campaign_ports(), services.outlook, principal.cnpj, campaign_id, days=days, now=now
    )


@router.get("/{campaign_id}/preview", response_model=list[MessagePreview])
def campaign_message_preview(
    campaign_id: CampaignId, principal: Reader, services: Services
) -> list[MessagePreview]:
    """Each message as a sample customer sees it (one per template: A/B variants): header
    (media link or text), body filled, footer, buttons (label, kind, URL or code)."""
    return campaign_preview(services.campaign_ports(), principal.cnpj, campaign_id)


@router.post("/preview", response_model=list[MessagePreview])
def unsaved_campaign_preview(
    body: CampaignCreate, principal: Reader, services: Services, now: Now
) -> list[MessagePreview]:
    """The same for a campaign not saved yet: its templates mapped onto the approved ones as
    saving would (a rich template no approved one fits is the same 422)."""
    body.check_consistent()
    return draft_preview(services.campaign_ports(), principal.cnpj, body, now)


@router.get(
    "/{campaign_id}/recipients",
    response_model=RecipientPage,
    summary="The campaign's recipients (its messages), paged, with their status",
)
def campaign_recipients(
    campaign_id: CampaignId,
    principal: Reader,
    services: Services,
    status_filter: Annotated[
        Status | None, Query(alias="status", description="only the messages in this state")
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_RECIPIENTS_PAGE)] = 50,
    page_token: Annotated[str | None, Query(max_length=300)] = None,
) -> RecipientPage:
    """In target-id order; phones are masked. Another tenant's campaign is not found (404)."""
    after = paging.item_id(RECIPIENTS_LISTING, page_token) if page_token is not None else None
    items, last = recipients_page(
        services.campaign_ports(),
        services.recipients,
        principal.cnpj,
        campaign_id,
        status=status_filter,
        after=after,
        limit=page_size,
    )
    token = paging.token(RECIPIENTS_LISTING, last) if last is not None else None
    return RecipientPage(campaign_id=campaign_id, items=items, next_page_token=token)


def _action(action: service.Action, summary: str) -> None:
    def endpoint(
        campaign_id: CampaignId, principal: Writer, services: Services, now: Now
    ) -> StatusChange:
        before, after, outcome = service.change_status(
            services.campaign_ports(), principal.cnpj, campaign_id, action, now
        )
        record_write(
            services,
            principal,
            f"campaign.{action}",
            f"campaigns/{campaign_id}",
            _snap(before),
            _snap(after),
        )
        return StatusChange(campaign=after, targets=RunSummary.of(outcome))

    router.add_api_route(
        f"/{{campaign_id}}/{action}",
        endpoint,
        methods=["POST"],
        response_model=StatusChange,
        summary=summary,
        name=f"{action}_campaign",
    )


_action("start", "Start: schedule it, or materialise its audience now if it is due")
_action("pause", "Pause: queued messages wait (nothing is dropped)")
_action("resume", "Resume: continue without resending anyone")
_action("cancel", "Cancel: queued messages are skipped; final")
