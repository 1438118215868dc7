"""``/api/v1/dashboard`` and ``/api/v1/analytics/*``: the tenant's activity across campaigns.

What the console's Início and campaign list show, for any client: today's runs, messages and
alerts; messages sent and attributed revenue per local day; how far each campaign has got.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shared.api.deps import Now, Reader, Services
from shared.api.problems import MEDIA_TYPE
from shared.bootstrap import Container
from shared.domain.campaign_ids import is_campaign_id
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError, NotFoundError
from shared.services import activity
from shared.services import campaigns as campaign_service
from shared.services.activity import CampaignProgress, DailySeries
from shared.services.dashboard import Dashboard, dashboard

router = APIRouter(prefix="/api/v1", tags=["dashboard"])

DEFAULT_WINDOW_DAYS = 7
"""The attribution window of the tenant-wide series: a campaign's default window."""
MAX_PROGRESS_CAMPAIGNS = 100
_NO_SUCH_CAMPAIGN = {
    "description": "`campaign_id` is no campaign of the caller's tenant",
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


class ProgressList(BaseModel):
    items: list[CampaignProgress]


@router.get("/dashboard", response_model=Dashboard, summary="Today: runs, messages and alerts")
def today(principal: Reader, services: Services, now: Now) -> Dashboard:
    """Per running, scheduled or paused campaign (and any other active today): today's run,
    today's messages and the next run; the alerts that need the owner."""
    return dashboard(services.dashboard_ports(), principal.cnpj, now)


@router.get(
    "/analytics/daily",
    response_model=DailySeries,
    summary="Messages sent and attributed revenue per local day",
    responses={404: _NO_SUCH_CAMPAIGN},
)
def daily(
    principal: Reader,
    services: Services,
    now: Now,
    days: Annotated[int, Query(ge=1, le=activity.MAX_DAYS, description="days up to today")] = 30,
    campaign_id: Annotated[
        str | None, Query(max_length=40, description="one campaign's days (all campaigns if unset)")
    ] = None,
) -> DailySeries:
    """Every campaign's messages with a 7-day attribution window, or one campaign's with its own
    window (404 when it is not one of the tenant's)."""
    return daily_series(services, principal.cnpj, days, campaign_id, now=now)


def daily_series(
    services: Container, cnpj: Cnpj, days: int, campaign_id: str | None, *, now: datetime
) -> DailySeries:
    """The series the route answers (the console's charts call this too)."""
    ports = services.campaign_ports()
    window = DEFAULT_WINDOW_DAYS
    if campaign_id is not None:
        campaign = campaign_service.get_campaign(ports, cnpj, campaign_id)
        window = campaign.analytics.attribution_window_days
    tenant = ports.tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    return activity.daily_series(
        ports.warehouse,
        cnpj,
        timezone=tenant.timezone,
        now=now,
        days=days,
        window_days=window,
        campaign_id=campaign_id,
    )


@router.get(
    "/analytics/progress",
    response_model=ProgressList,
    summary="Recipients and messages sent of some campaigns",
)
def progress(
    principal: Reader,
    services: Services,
    campaign_id: Annotated[
        list[str], Query(max_length=MAX_PROGRESS_CAMPAIGNS, description="repeat for each campaign")
    ],
) -> ProgressList:
    """In the order asked; an id that is no campaign of the tenant reports 0 of 0."""
    for index, value in enumerate(campaign_id):
        if not is_campaign_id(value):
            raise FieldError(f"campaign_id[{index}]", "not a campaign id")
    ids = list(dict.fromkeys(campaign_id))
    return ProgressList(items=activity.progress(services.warehouse, principal.cnpj, ids))
