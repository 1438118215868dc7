"""Today at a glance (``GET /api/v1/dashboard``, the console's Início).

What an owner asks each morning: did every campaign run, how are today's messages going, what
goes next, and does anything need me? It is a composition of what other services know, read
with a fixed number of queries however many campaigns there are: the campaign list, the day's
runs, the day's contact imports (Firestore) and one BigQuery query for the messages, the
latter running while the others are read. The two halves are apart too (:func:`tenant_day`
reads the store, :func:`board` adds the messages), so the console shows the runs and alerts at
once and loads the messages, which take BigQuery's second, right after.

Alerts are the things only the owner can fix:

* a campaign paused with a reason — WhatsApp's errors (spam limit, template problems) pause
  a campaign and say why; a person's pause has no reason and is no alert;
* a campaign whose run today failed, or is being retried;
* a contact import of today or yesterday with rejected rows (the audit trail keeps each
  import's counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.domain.calendar import local_date, zone
from shared.domain.campaign import Campaign, CampaignStatus
from shared.domain.cnpj import Cnpj
from shared.domain.errors import NotFoundError
from shared.domain.runs import OutcomeStatus
from shared.domain.tenant import Tenant
from shared.ports import AuditTrail, RunHistory
from shared.services import campaigns as campaign_service
from shared.services.activity import MessageCounts, local_day_bounds, messages_today
from shared.services.campaigns import CampaignPorts
from shared.services.runs import (
    DONE_FOR_THE_DAY,
    MAX_RUNS_A_DAY,
    CampaignRun,
    Run,
    recent_runs,
    today_by_campaign,
)
from shared.services.schedule import next_run

IMPORT_ACTION = "contacts.import"
IMPORT_ALERT_DAYS = 2
"""Imports of today and yesterday (local days) with rejected rows are alerts."""
MAX_CAMPAIGNS = 100
LIVE = (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)


@dataclass(frozen=True, slots=True)
class DashboardPorts:
    campaigns: CampaignPorts
    runs: RunHistory
    audit: AuditTrail


class CampaignToday(BaseModel):
    campaign_id: str
    name: str
    kind: str
    status: CampaignStatus
    status_reason: str = Field(description="why it was paused (by WhatsApp), if it was")
    started_at: datetime | None = Field(
        description="when it was started (an API campaign's start creates its first messages"
        " at once, outside any run)"
    )
    run: CampaignRun | None = Field(description="today's run of the campaign (null: none yet)")
    run_started_at: datetime | None = Field(description="when that run started")
    messages: MessageCounts = Field(description="today's messages of the campaign")
    next_run_at: datetime | None = Field(
        description="when it next creates messages (null: paused, finished, or sending now)"
    )


class Alert(BaseModel):
    kind: Literal["campaign_paused", "run_failed", "import_rejected"]
    campaign_id: str | None = Field(description="the campaign it is about, if any")
    at: datetime | None
    detail: str = Field(description="the pause reason or the run's error")
    rejected: int | None = Field(description="rows an import rejected (import_rejected)")


class Dashboard(BaseModel):
    local_date: date = Field(description="the tenant's local day")
    timezone: str
    campaigns: list[CampaignToday] = Field(
        description="campaigns that are running, scheduled or paused, or were active today"
    )
    messages: MessageCounts = Field(description="today's messages of every campaign")
    alerts: list[Alert]


@dataclass(frozen=True, slots=True)
class TenantDay:
    """What the store (Firestore) knows of the tenant's local day: the dashboard but its
    messages, which are BigQuery's."""

    tenant: Tenant
    now: datetime
    local_date: date
    campaigns: list[Campaign]
    ran: dict[str, tuple[Run, CampaignRun]]
    imports: list[tuple[datetime, Any]]


def dashboard(ports: DashboardPorts, cnpj: Cnpj, now: datetime) -> Dashboard:
    return board(ports, *day_and_messages(ports, cnpj, now))


def day_and_messages(
    ports: DashboardPorts, cnpj: Cnpj, now: datetime
) -> tuple[TenantDay, dict[str, MessageCounts]]:
    """The day from the store and its messages from BigQuery, read side by side."""
    tenant = ports.campaigns.tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    with ThreadPoolExecutor(max_workers=1) as pool:
        counted = pool.submit(messages_today, ports.campaigns.warehouse, cnpj, tenant.timezone, now)
        day = tenant_day(ports, cnpj, tenant, now)
        return day, counted.result()


def tenant_day(ports: DashboardPorts, cnpj: Cnpj, tenant: Tenant, now: datetime) -> TenantDay:
    """The campaigns, the day's runs and the recent imports, read side by side."""
    today = local_date(now, zone(tenant.timezone))
    since, _ = local_day_bounds(today - timedelta(days=IMPORT_ALERT_DAYS - 1), tenant.timezone)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = pool.submit(
            recent_runs, ports.runs, cnpj, local_date=today, after=None, limit=MAX_RUNS_A_DAY
        )
        imports = pool.submit(ports.audit.entries, cnpj, IMPORT_ACTION, since, 20)
        campaigns = _campaigns(ports.campaigns, cnpj)
        return TenantDay(
            tenant=tenant,
            now=now,
            local_date=today,
            campaigns=campaigns,
            ran=today_by_campaign(runs.result()[0]),
            imports=imports.result(),
        )


def board(
    ports: DashboardPorts, day: TenantDay, messages: Mapping[str, MessageCounts]
) -> Dashboard:
    """The dashboard of ``day`` with ``messages`` by campaign (empty: the day without them)."""
    ran = day.ran
    shown = [c for c in day.campaigns if c.status in LIVE or c.id in ran or c.id in messages]
    entries = []
    for campaign in shown:
        run, outcome = ran.get(campaign.id, (None, None))
        entries.append(
            CampaignToday(
                campaign_id=campaign.id,
                name=campaign.name,
                kind=campaign.kind,
                status=campaign.status,
                status_reason=campaign.status_reason,
                started_at=campaign.started_at,
                run=outcome,
                run_started_at=run.started_at if run is not None else None,
                messages=messages.get(campaign.id, MessageCounts()),
                next_run_at=next_run(
                    campaign,
                    day.tenant,
                    day.now,
                    done_today=outcome is not None and outcome.status in DONE_FOR_THE_DAY,
                    warehouse=ports.campaigns.warehouse,
                    targets=ports.campaigns.targets,
                ),
            )
        )
    return Dashboard(
        local_date=day.local_date,
        timezone=day.tenant.timezone,
        campaigns=entries,
        messages=sum(messages.values(), MessageCounts()),
        alerts=[*_paused(shown), *_failed(ran), *_rejected(day.imports)],
    )


def _campaigns(ports: CampaignPorts, cnpj: Cnpj) -> list[Campaign]:
    return campaign_service.list_campaigns(
        ports,
        cnpj,
        status=None,
        objective=None,
        created_from=None,
        created_until=None,
        sort="created_at",
        descending=True,
        page=1,
        page_size=MAX_CAMPAIGNS,
    )


def _paused(campaigns: list[Campaign]) -> list[Alert]:
    return [
        Alert(
            kind="campaign_paused",
            campaign_id=c.id,
            at=c.paused_at,
            detail=c.status_reason,
            rejected=None,
        )
        for c in campaigns
        if c.status == CampaignStatus.PAUSED and c.status_reason
    ]


def _failed(ran: dict[str, tuple[Run, CampaignRun]]) -> list[Alert]:
    return [
        Alert(
            kind="run_failed",
            campaign_id=campaign_id,
            at=run.started_at,
            detail=outcome.detail,
            rejected=None,
        )
        for campaign_id, (run, outcome) in sorted(ran.items())
        if outcome.status in (OutcomeStatus.FAILED, OutcomeStatus.RETRY)
    ]


def _rejected(imports: list[tuple[datetime, Any]]) -> list[Alert]:
    alerts = []
    for at, report in imports:
        rejected = report.get("rejected") if isinstance(report, dict) else None
        if isinstance(rejected, int) and rejected > 0:
            alerts.append(
                Alert(kind="import_rejected", campaign_id=None, at=at, detail="", rejected=rejected)
            )
    return alerts
