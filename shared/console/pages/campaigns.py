"""Campanhas: the list, one campaign's page, and its lifecycle actions behind a confirmation.

Every number is an API's: the list is ``GET /api/v1/campaigns`` with its filters, plus
``/analytics/progress`` for the progress bars; a campaign's page is its ``/analytics``,
``/analytics/daily?campaign_id=`` (sends over time) and ``/recipients``, through the same
service calls. A page's own answer reads only the store (Firestore), so it shows at once; what
BigQuery answers (progress bars, numbers, sends over time) comes in fragments the page loads
right after (htmx ``load``). While a campaign is sending, its numbers fragment is re-fetched
every few seconds, so the page updates without a reload; the recipients table pages and
filters through htmx too (and through plain links without it).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, cast, get_args
from urllib.parse import urlencode

import pydantic
from babel import dates
from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from shared.api import paging
from shared.api.audit import record_write
from shared.api.routes.campaigns import RECIPIENTS_LISTING, SortField
from shared.api.routes.dashboard import MAX_PROGRESS_CAMPAIGNS, daily_series
from shared.console import labels
from shared.console.charts import bar_chart
from shared.console.forms import field_errors
from shared.console.pages.home import daily_charts, loaded, state_of
from shared.console.templating import render
from shared.console.visit import SignedIn, Visit, write_form
from shared.domain.calendar import local_date, start_of_day, zone
from shared.domain.campaign import Campaign, CampaignStatus, Objective
from shared.domain.campaign_ids import SEGMENT, is_campaign_id
from shared.domain.delivery_status import Status
from shared.domain.errors import ConflictError, FieldError
from shared.services import activity
from shared.services import campaigns as service
from shared.services.alerts import billed_as_marketing
from shared.services.analytics import CampaignAnalytics
from shared.services.campaigns import Action
from shared.services.forecast import forecast_campaign
from shared.services.message_preview import campaign_previews
from shared.services.recipients import Recipient, targets_page
from shared.services.runs import (
    DONE_FOR_THE_DAY,
    MAX_RUNS_A_DAY,
    CampaignRun,
    Run,
    recent_runs,
    today_by_campaign,
)
from shared.services.schedule import next_run

router = APIRouter(prefix="/campanhas")

CampaignId = Annotated[str, Path(pattern=r"^[A-Z][A-Z0-9_]{1,39}$")]
ACTIONS: tuple[str, ...] = get_args(Action)
LIVE_STATUSES = (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED)
PAGE_SIZE = 20
RECIPIENTS_PAGE_SIZE = 25
FORECAST_DAYS = 7
"""Days a campaign page's forecast shows, today first (the rest are summed as "Depois")."""


_DATE_HINTS = {"created_from": "Data inválida.", "created_until": "Data inválida."}


class ListFilters(BaseModel):
    """The list's filters: ``GET /api/v1/campaigns``'s own query, in days of the tenant."""

    status: CampaignStatus | None = None
    objective: Objective | None = None
    created_from: date | None = None
    created_until: date | None = Field(default=None, description="inclusive")
    sort: SortField = SortField.CREATED_AT
    order: Literal["asc", "desc"] = "desc"
    page: int = Field(default=1, ge=1, le=10_000)


@router.get("")
def campaign_list(visit: SignedIn) -> Response:
    filters, errors = _filters(dict(visit.request.query_params))
    cnpj = visit.principal.cnpj
    tz = zone(visit.tenant.timezone)
    ports = visit.services.campaign_ports()
    with ThreadPoolExecutor(max_workers=1) as pool:
        ran = pool.submit(_ran_today, visit)  # read while the list is (built-ins need it)
        campaigns = service.list_campaigns(
            ports,
            cnpj,
            status=filters.status,
            objective=filters.objective,
            created_from=start_of_day(filters.created_from, tz) if filters.created_from else None,
            created_until=(
                start_of_day(filters.created_until + timedelta(days=1), tz)
                if filters.created_until
                else None
            ),
            sort=filters.sort.value,
            descending=filters.order == "desc",
            page=filters.page,
            page_size=PAGE_SIZE,
        )
        next_runs = _next_runs(visit, campaigns, ran.result())
    query = {k: v for k, v in filters.model_dump(mode="json").items() if v is not None}
    return render(
        visit.request,
        "campaigns.html",
        visit,
        rows=[(c, next_runs.get(c.id)) for c in campaigns],
        progress_url=(
            visit.url("/campanhas/progresso?")
            + urlencode([("campaign_id", c.id) for c in campaigns])
            if campaigns
            else None
        ),
        filters=filters,
        errors=errors,
        statuses=list(CampaignStatus),
        previous_query={**query, "page": filters.page - 1} if filters.page > 1 else None,
        next_query={**query, "page": filters.page + 1} if len(campaigns) == PAGE_SIZE else None,
    )


@router.get("/progresso")
def campaign_progress(
    visit: SignedIn,
    campaign_id: Annotated[list[str], Query(max_length=MAX_PROGRESS_CAMPAIGNS)],
) -> Response:
    """The list's progress bars (``GET /api/v1/analytics/progress``, BigQuery), loaded after
    the list: each row's cell, swapped in by id (htmx out-of-band)."""
    ids = list(dict.fromkeys(i for i in campaign_id if is_campaign_id(i)))
    ports = visit.services.campaign_ports()
    found = loaded(
        "campaign progress", lambda: activity.progress(ports.warehouse, visit.principal.cnpj, ids)
    )
    by_id = {item.campaign_id: item for item in found or []}
    return render(
        visit.request,
        "_campaigns_progress.html",
        visit,
        state=state_of(found),
        cells=[(i, by_id.get(i)) for i in ids],
    )


def _filters(query: dict[str, str]) -> tuple[ListFilters, dict[str, str]]:
    """The filters asked for; a value that is not valid is left out and named in ``errors``."""
    given = {
        name: value for name, value in query.items() if value and name in ListFilters.model_fields
    }
    try:
        return ListFilters.model_validate(given), {}
    except pydantic.ValidationError as error:
        errors = field_errors(error, _DATE_HINTS)
        valid = {name: value for name, value in given.items() if name not in errors}
        return ListFilters.model_validate(valid), errors


def _ran_today(visit: Visit) -> dict[str, tuple[Run, CampaignRun]]:
    """What each campaign's run did today (built-in kinds run once a day)."""
    today = local_date(visit.now, zone(visit.tenant.timezone))
    runs, _ = recent_runs(
        visit.services.runs,
        visit.principal.cnpj,
        local_date=today,
        after=None,
        limit=MAX_RUNS_A_DAY,
    )
    return today_by_campaign(runs)


def _next_runs(
    visit: Visit,
    campaigns: list[Campaign],
    ran: dict[str, tuple[Run, CampaignRun]] | None = None,
) -> dict[str, datetime | None]:
    """Each campaign's next run; built-in kinds need to know whether they ran today."""
    if ran is None:
        ran = _ran_today(visit) if any(c.kind != SEGMENT for c in campaigns) else {}
    instant = visit.now
    ports = visit.services.campaign_ports()
    return {
        campaign.id: next_run(
            campaign,
            visit.tenant,
            instant,
            done_today=campaign.id in ran and ran[campaign.id][1].status in DONE_FOR_THE_DAY,
            warehouse=ports.warehouse,
            targets=ports.targets,
        )
        for campaign in campaigns
    }


# -- one campaign ------------------------------------------------------------------------


@router.get("/{campaign_id}")
def campaign_page(
    visit: SignedIn,
    campaign_id: CampaignId,
    situacao: Annotated[str | None, Query()] = None,
    pagina: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """The campaign and its next run at once; its numbers and sends over time (BigQuery) and
    its recipients (below the fold) are fragments the page loads right after it is shown. A
    filtered or paged recipients address (a deliberate click, or a browser without JavaScript)
    gets the table in the page itself."""
    ports = visit.services.campaign_ports()
    campaign = service.get_campaign(ports, visit.principal.cnpj, campaign_id)
    later = situacao is None and pagina is None
    table = {} if later else _recipients(visit, campaign.id, situacao, pagina)
    return render(
        visit.request,
        "campaign.html",
        visit,
        campaign=campaign,
        actions=_possible_actions(campaign.status, campaign.kind),
        next_at=_next_runs(visit, [campaign])[campaign.id],
        live=campaign.status in LIVE_STATUSES,
        recipients_later=later,
        previews=campaign_previews(ports, visit.principal.cnpj, campaign),
        **table,
    )


@router.get("/{campaign_id}/numeros")
def campaign_numbers(visit: SignedIn, campaign_id: CampaignId) -> Response:
    """The numbers (``/analytics``), loaded after the page and again every few seconds while
    the campaign is live."""
    ports = visit.services.campaign_ports()
    campaign = service.get_campaign(ports, visit.principal.cnpj, campaign_id)
    figures = loaded(
        "campaign numbers",
        lambda: service.analytics(ports, visit.principal.cnpj, campaign.id, None),
    )
    return render(
        visit.request,
        "_campaign_numbers.html",
        visit,
        campaign=campaign,
        state=state_of(figures),
        live=campaign.status in LIVE_STATUSES,
        billed_as_marketing=billed_as_marketing(
            visit.services.alerts, visit.principal.cnpj, campaign
        ),
        **(_numbers(visit, figures) if figures else {}),
    )


@router.get("/{campaign_id}/previsao")
def campaign_forecast(visit: SignedIn, campaign_id: CampaignId) -> Response:
    """When its waiting messages go and how many will not fit (``/forecast``), after the page."""
    cnpj = visit.principal.cnpj
    ports = visit.services.campaign_ports()
    campaign = service.get_campaign(ports, cnpj, campaign_id)
    forecast = loaded(
        "campaign forecast",
        lambda: forecast_campaign(
            ports, visit.services.outlook, cnpj, campaign.id, days=FORECAST_DAYS, now=visit.now
        ),
    )
    return render(
        visit.request,
        "_campaign_forecast.html",
        visit,
        campaign=campaign,
        state=state_of(forecast),
        forecast=forecast,
    )


@router.get("/{campaign_id}/envios")
def campaign_sends(visit: SignedIn, campaign_id: CampaignId) -> Response:
    """Sends over time (``/analytics/daily?campaign_id=``), loaded after the page."""
    cnpj = visit.principal.cnpj
    campaign = service.get_campaign(visit.services.campaign_ports(), cnpj, campaign_id)
    daily = loaded(
        "campaign sends",
        lambda: daily_series(
            visit.services, cnpj, _days_of(visit, campaign), campaign.id, now=visit.now
        ),
    )
    return render(
        visit.request,
        "_campaign_sends.html",
        visit,
        campaign=campaign,
        state=state_of(daily),
        daily=daily,
        sent_chart=daily_charts(visit, daily)[0] if daily else None,
    )


@router.get("/{campaign_id}/destinatarios")
def campaign_recipients(
    visit: SignedIn,
    campaign_id: CampaignId,
    situacao: Annotated[str | None, Query()] = None,
    pagina: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """The recipients table alone (htmx swaps it in when filtering or paging)."""
    campaign = service.get_campaign(
        visit.services.campaign_ports(), visit.principal.cnpj, campaign_id
    )
    return render(
        visit.request,
        "_campaign_recipients.html",
        visit,
        campaign=campaign,
        **_recipients(visit, campaign.id, situacao, pagina),
    )


def _numbers(visit: Visit, figures: CampaignAnalytics) -> dict[str, Any]:
    fmt = visit.fmt
    weekdays = dates.get_day_names("abbreviated", locale=visit.locale)
    hours = bar_chart(
        [(f"{h.hour}h", h.reads, fmt.number(h.reads)) for h in figures.engagement_by_hour],
        fmt.number(max(h.reads for h in figures.engagement_by_hour)),
        every=6,
    )
    days = bar_chart(
        [
            (str(weekdays[d.weekday - 1]), d.reads, fmt.number(d.reads))
            for d in figures.engagement_by_weekday
        ],
        fmt.number(max(d.reads for d in figures.engagement_by_weekday)),
    )
    return {
        "figures": figures,
        "hour_chart": hours,
        "weekday_chart": days,
    }


def _days_of(visit: Visit, campaign: Campaign) -> int:
    """The days of the sends chart: since the campaign started (a week at least, 90 at most);
    a built-in kind, which runs every day, shows the last 30."""
    if campaign.kind != SEGMENT:
        return 30
    tz = zone(visit.tenant.timezone)
    first = local_date(campaign.started_at or campaign.created_at, tz)
    return min(activity.MAX_DAYS, max(7, (local_date(visit.now, tz) - first).days + 1))


def _recipients(
    visit: Visit, campaign_id: str, status_text: str | None, token: str | None
) -> dict[str, Any]:
    """The recipients table: one page, of one status if asked; a stale or foreign page token
    starts again from the first page. The caller reads the campaign (404 if not the tenant's)."""
    status = Status(status_text) if status_text in set(Status) else None
    after = None
    if token:
        try:
            after = paging.item_id(RECIPIENTS_LISTING, token)
        except FieldError:
            after = None
    items, last = targets_page(
        visit.services.recipients,
        visit.principal.cnpj,
        campaign_id,
        status=status,
        after=after,
        limit=RECIPIENTS_PAGE_SIZE,
    )
    return {
        "recipients": [(item, _reason_words(item)) for item in items],
        "recipient_status": status,
        "recipient_statuses": list(Status),
        "recipients_paged": after is not None,
        "recipients_next": paging.token(RECIPIENTS_LISTING, last) if last else None,
    }


def _reason_words(recipient: Recipient) -> str | None:
    """Plain words for why a message failed or was not sent, when we have them."""
    if recipient.error_code is not None and str(recipient.error_code) in labels.SEND_ERROR:
        return labels.SEND_ERROR[str(recipient.error_code)]
    code = recipient.error_reason.split(" ")[0] if recipient.error_reason else ""
    return labels.SEND_ERROR.get(code)


# -- lifecycle ---------------------------------------------------------------------------


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
            visit.now,
        )
    except (ConflictError, FieldError) as error:
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
