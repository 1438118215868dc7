"""Campanhas: the list, one campaign's numbers, and its lifecycle actions behind a confirmation.

The numbers are the API's analytics (one code path); while a campaign is sending, its numbers
fragment is re-fetched by htmx every few seconds, so the page updates without a reload.
"""

from __future__ import annotations

from typing import Annotated, cast, get_args

from fastapi import APIRouter, Path, Query
from starlette.responses import RedirectResponse, Response

from shared.api.audit import record_write
from shared.console.templating import render
from shared.console.visit import SignedIn, now, write_form
from shared.domain.campaign import CampaignStatus
from shared.domain.errors import ConflictError, ValidationError
from shared.services import campaigns as service
from shared.services.campaigns import Action

router = APIRouter(prefix="/campanhas")

CampaignId = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")]
ACTIONS: tuple[str, ...] = get_args(Action)
LIVE_STATUSES = (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED)


@router.get("")
def campaign_list(visit: SignedIn, status: str | None = None) -> Response:
    chosen = CampaignStatus(status) if status in set(CampaignStatus) else None
    campaigns = service.list_campaigns(
        visit.services.campaign_ports(),
        visit.principal.cnpj,
        status=chosen,
        objective=None,
        created_from=None,
        created_until=None,
        sort="created_at",
        descending=True,
        page=1,
        page_size=100,
    )
    return render(
        visit.request,
        "campaigns.html",
        visit,
        campaigns=campaigns,
        statuses=list(CampaignStatus),
        chosen=chosen,
    )


@router.get("/{campaign_id}")
def campaign_page(visit: SignedIn, campaign_id: CampaignId) -> Response:
    ports = visit.services.campaign_ports()
    campaign = service.get_campaign(ports, visit.principal.cnpj, campaign_id)
    figures = service.analytics(ports, visit.principal.cnpj, campaign_id, None)
    return render(
        visit.request,
        "campaign.html",
        visit,
        campaign=campaign,
        figures=figures,
        live=campaign.status in LIVE_STATUSES,
        actions=_possible_actions(campaign.status, campaign.kind),
    )


@router.get("/{campaign_id}/numeros")
def campaign_numbers(visit: SignedIn, campaign_id: CampaignId) -> Response:
    """The live fragment: the same numbers as the page, re-rendered alone."""
    ports = visit.services.campaign_ports()
    campaign = service.get_campaign(ports, visit.principal.cnpj, campaign_id)
    figures = service.analytics(ports, visit.principal.cnpj, campaign_id, None)
    return render(
        visit.request,
        "_campaign_numbers.html",
        visit,
        campaign=campaign,
        figures=figures,
        live=campaign.status in LIVE_STATUSES,
    )


@router.get("/{campaign_id}/confirmar")
def confirm_action(
    visit: SignedIn, campaign_id: CampaignId, acao: Annotated[str, Query()]
) -> Response:
    campaign = service.get_campaign(
        visit.services.campaign_ports(), visit.principal.cnpj, campaign_id
    )
    if acao not in ACTIONS:
        return RedirectResponse(visit.url(f"/campanhas/{campaign.id}"), status_code=303)
    return render(visit.request, "confirm_action.html", visit, campaign=campaign, action=acao)


@router.post("/{campaign_id}/acao")
async def apply_action(visit: SignedIn, campaign_id: CampaignId) -> Response:
    form = await write_form(visit)
    action = str(form.get("acao", ""))
    ports = visit.services.campaign_ports()
    campaign = service.get_campaign(ports, visit.principal.cnpj, campaign_id)
    if action not in ACTIONS:
        return render(
            visit.request,
            "confirm_action.html",
            visit,
            status=422,
            campaign=campaign,
            action=action,
            problem="Ação desconhecida.",
        )
    try:
        before, after, _ = service.change_status(
            ports,
            visit.principal.cnpj,
            campaign_id,
            cast(Action, action),
            now(),
        )
    except (ConflictError, ValidationError) as error:
        return render(
            visit.request,
            "confirm_action.html",
            visit,
            status=409,
            campaign=campaign,
            action=action,
            problem=str(error),
        )
    record_write(
        visit.services,
        visit.principal,
        f"campaign.{action}",
        f"campaigns/{after.id}",
        before.model_dump(mode="json"),
        after.model_dump(mode="json"),
    )
    return RedirectResponse(visit.url(f"/campanhas/{after.id}"), status_code=303)


def _possible_actions(status: CampaignStatus, kind: str) -> list[str]:
    possible = {
        CampaignStatus.DRAFT: ["start"],
        CampaignStatus.SCHEDULED: ["pause", "cancel"],
        CampaignStatus.RUNNING: ["pause", "cancel"],
        CampaignStatus.PAUSED: ["resume", "cancel"],
    }.get(status, [])
    return [a for a in possible if kind == "SEGMENT" or a != "cancel"]
