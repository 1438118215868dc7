"""Recent targeting runs (``GET /api/v1/runs``) and what each campaign's run did today.

A run is one tenant job of one tick (``users/{cnpj}/runs/{tickId}``, written by
:mod:`shared.services.process_tenant`); it holds one outcome per campaign it looked at. Every
hourly tick makes a run, so a day has many: most say a campaign was already done or not due
yet. :func:`today_by_campaign` picks, per campaign, the outcome that tells the owner what
happened today: the latest one that ran (done, failed or to be retried), else the latest of
any kind.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from shared.domain.cnpj import Cnpj
from shared.domain.errors import reading_document
from shared.domain.runs import CampaignOutcome, OutcomeStatus, RunStatus
from shared.ports import RunHistory

RAN = frozenset({OutcomeStatus.DONE, OutcomeStatus.FAILED, OutcomeStatus.RETRY})
"""Outcomes of a campaign that did (or tried to do) its targeting in that run."""
DONE_FOR_THE_DAY = frozenset({OutcomeStatus.DONE, OutcomeStatus.ALREADY_DONE})
MAX_RUNS_A_DAY = 100
"""Runs read for one local day: 24 hourly ticks, plus forced and redelivered ones."""


class CampaignRun(BaseModel):
    """One campaign's outcome in one run."""

    campaign_id: str
    status: OutcomeStatus = Field(
        description="done: targeted; already_done: an earlier run did today's; not_due: not its"
        " hour or day yet; disabled; failed: a permanent error; retry: a transient error, the"
        " run is redelivered"
    )
    candidates: int = Field(description="customers the campaign's query found")
    created: int = Field(description="targets (messages to send) created by this run")
    already_present: int = Field(description="targets that existed already (a repeated run)")
    skipped: dict[str, int] = Field(
        description="candidates not targeted, by reason (e.g. invalid_phone, recently_targeted)"
    )
    detail: str = Field(
        description="why it did not run (not_due, already_done), or its error (failed, retry)"
    )
    duration_ms: int
    will_send: int | None = Field(
        description="of the targets this run found, how many the planner foresaw sent before "
        "their send-by (the audience's first, in its campaign's order); null: not foreseen"
    )
    will_expire: int | None = Field(
        description="how many it foresaw with no slot before their send-by: they end EXPIRED"
    )


class Run(BaseModel):
    id: str = Field(description="the tick's id (its Pub/Sub message id)")
    status: RunStatus
    instant: datetime | None = Field(description="the tick's instant")
    local_date: date | None = Field(description="the tenant's local day of the tick")
    timezone: str
    forced: bool = Field(description="run even where a campaign was done or not due")
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    error: str = Field(description="why the run will be retried (RETRYING), else empty")
    campaigns: list[CampaignRun] = Field(description="by campaign id")


def run_of(run_id: str, document: dict[str, Any]) -> Run:
    outcomes = [
        _campaign_run(CampaignOutcome.from_document(outcome))
        for _, outcome in sorted((document.get("campaigns") or {}).items())
    ]
    instant, local_day = document.get("instant"), document.get("localDate")
    return Run(
        id=run_id,
        status=RunStatus(document.get("status", RunStatus.RUNNING)),
        instant=datetime.fromisoformat(instant) if isinstance(instant, str) else None,
        local_date=date.fromisoformat(local_day) if isinstance(local_day, str) else None,
        timezone=str(document.get("timezone", "")),
        forced=bool(document.get("force", False)),
        started_at=document.get("startedAt"),
        finished_at=document.get("finishedAt"),
        duration_ms=document.get("durationMs"),
        error=str(document.get("error") or ""),
        campaigns=outcomes,
    )


def _campaign_run(outcome: CampaignOutcome) -> CampaignRun:
    return CampaignRun(
        campaign_id=outcome.campaign_id,
        status=outcome.status,
        candidates=outcome.candidates,
        created=outcome.created,
        already_present=outcome.already_present,
        skipped=dict(outcome.skipped),
        detail=outcome.detail,
        duration_ms=outcome.duration_ms,
        will_send=outcome.will_send,
        will_expire=outcome.will_expire,
    )


def recent_runs(
    history: RunHistory, cnpj: Cnpj, *, local_date: date | None, after: str | None, limit: int
) -> tuple[list[Run], str | None]:
    """Newest first; raises KeyError for an ``after`` that is not one of the tenant's runs."""
    day = local_date.isoformat() if local_date is not None else None
    found, last = history.page(cnpj, local_date=day, after=after, limit=limit)
    runs = []
    for run_id, document in found:
        with reading_document(f"users/{cnpj.value}/runs/{run_id}"):
            runs.append(run_of(run_id, document))
    return runs, last


def today_by_campaign(runs: list[Run]) -> dict[str, tuple[Run, CampaignRun]]:
    """Per campaign, the run (of ``runs``, one local day's, newest first) that says most."""
    chosen: dict[str, tuple[Run, CampaignRun]] = {}
    for run in reversed(runs):  # oldest first: later runs replace earlier ones
        for outcome in run.campaigns:
            earlier = chosen.get(outcome.campaign_id)
            if earlier is None or outcome.status in RAN or earlier[1].status not in RAN:
                chosen[outcome.campaign_id] = (run, outcome)
    return chosen
