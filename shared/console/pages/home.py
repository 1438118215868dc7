"""Início: what the owner asks each morning — is everything running, and does anything need me?"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from shared.console.templating import render
from shared.console.visit import SignedIn
from shared.domain.campaign import CampaignStatus
from shared.services import campaigns as service

router = APIRouter()


@router.get("/")
def home(visit: SignedIn) -> Response:
    campaigns = service.list_campaigns(
        visit.services.campaign_ports(),
        visit.principal.cnpj,
        status=None,
        objective=None,
        created_from=None,
        created_until=None,
        sort="created_at",
        descending=True,
        page=1,
        page_size=100,
    )
    alerts = [c for c in campaigns if c.status == CampaignStatus.PAUSED and c.status_reason]
    return render(visit.request, "home.html", visit, campaigns=campaigns, alerts=alerts)
