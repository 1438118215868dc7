"""Run every campaign processor for one tenant at one tick, and keep the run document.

Scheduling lives here, targeting in the processors: a built-in campaign runs once per local
day, at the first tick at or after its local run hour (later ticks report it as already done
unless forced), with the settings of its campaign record; the tenant's live API campaigns each
materialise their due occurrence (:func:`shared.services.campaigns.run_due_occurrence`).

One campaign's failure never stops the others. A transient failure (BigQuery or Firestore
briefly unavailable) is recorded and then raised, so Pub/Sub redelivers the job; the
redelivery skips campaigns this run already completed and re-does the rest, which is safe
because target writes are create-only under deterministic ids.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import pydantic

from shared import logs
from shared.campaigns import CampaignProcessor, RunContext, registered_processors
from shared.domain.calendar import local_date, zone
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError, TransientError
from shared.domain.runs import CampaignOutcome, Foresee, Foreseen, OutcomeStatus, RunStatus
from shared.domain.targets import Target
from shared.messages import TenantJob
from shared.ports import (
    CampaignMarker,
    DeliveryOutlook,
    RunLedger,
    TargetStore,
    TenantRepository,
    Warehouse,
)
from shared.services.campaigns import CampaignPorts, run_due_occurrence
from shared.services.forecast import RunForesight
from shared.services.template_schedule import ScheduledSyncPorts, sync_if_due

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TenantPorts:
    tenants: TenantRepository
    runs: RunLedger
    warehouse: Warehouse
    targets: TargetStore
    """Where the built-in kinds write their targets (API campaigns: ``campaigns.targets``)."""
    campaigns: CampaignPorts
    outlook: DeliveryOutlook | None = None
    """What a run's figures of messages that will go or expire are foreseen from (None: not
    foreseen)."""
    template_sync: ScheduledSyncPorts | None = None
    """The template library's scheduled sync, after the campaigns (None: not synced here)."""

    def foresee(self, cnpj: Cnpj, now: datetime) -> Foresee | None:
        """A run's foresight of its campaigns' targets; its failure is logged and leaves the
        figures out, never the campaign."""
        outlook = self.outlook
        if outlook is None:
            return None
        foresight = RunForesight(self.campaigns, outlook, cnpj, now=now)

        def foresee(targets: Sequence[Target]) -> Foreseen | None:
            try:
                return foresight(targets)
            except Exception as error:  # the figures are a courtesy: never fail a run for them
                logs.log(
                    _log,
                    logging.WARNING,
                    "run figures not foreseen",
                    tenant=cnpj.value,
                    error=repr(error),
                )
                return None

        return foresee


def process_tenant(job: TenantJob, ports: TenantPorts) -> list[CampaignOutcome]:
    """Returns the outcomes recorded by this delivery (empty when there was nothing to do)."""
    started = time.monotonic()
    cnpj = Cnpj(job.cnpj)
    tenant = ports.tenants.get(cnpj)
    if tenant is None or not tenant.active:
        logs.log(_log, logging.WARNING, "job for an unknown or inactive tenant", tenant=job.cnpj)
        return []
    tz = zone(tenant.timezone)
    today = local_date(job.instant, tz)
    info = {
        "tenantName": tenant.name,
        "instant": job.instant.isoformat(),
        "localDate": today.isoformat(),
        "force": job.force,
        "timezone": tenant.timezone,
    }
    if ports.runs.begin(cnpj, job.tick_id, info) is RunStatus.FINISHED:
        logs.log(_log, logging.INFO, "run already finished", tenant=job.cnpj, run=job.tick_id)
        return []
    ctx = RunContext(tenant=tenant, zone=tz, instant=job.instant, today=today, run_id=job.tick_id)
    outcomes = []
    foresee = ports.foresee(cnpj, job.instant)  # one per run: it reads the backlog once
    for processor_class in registered_processors():
        processor = processor_class(ports.warehouse, ports.targets, ports.campaigns.vouchers)
        outcome = _run_campaign(processor, ctx, job.force, ports, foresee)
        ports.runs.record(cnpj, job.tick_id, outcome)
        outcomes.append(outcome)
    # Listing them failing is the tenant's job failing: Pub/Sub redelivers it, and the
    # redelivery skips what this run completed.
    for campaign_id in ports.campaigns.campaigns.live(cnpj):
        segment_outcome = _run_segment(ports, ctx, campaign_id, foresee)
        if segment_outcome is not None:
            ports.runs.record(cnpj, job.tick_id, segment_outcome)
            outcomes.append(segment_outcome)
    if ports.template_sync is not None:  # after targeting; never fails the job
        sync_if_due(ports.template_sync, cnpj, job.instant)
    duration_ms = int((time.monotonic() - started) * 1000)
    retries = [o for o in outcomes if o.status is OutcomeStatus.RETRY]
    if retries:
        error = "; ".join(f"{o.campaign_id}: {o.detail}" for o in retries)
        ports.runs.finish(cnpj, job.tick_id, RunStatus.RETRYING, duration_ms, error)
        raise TransientError(error)
    ports.runs.finish(cnpj, job.tick_id, RunStatus.FINISHED, duration_ms)
    return outcomes


def _run_segment(
    ports: TenantPorts, ctx: RunContext, campaign_id: str, foresee: Foresee | None
) -> CampaignOutcome | None:
    """An API campaign's due occurrence; its failure is its own, like any campaign's."""
    return _contained(
        ctx,
        campaign_id,
        lambda: run_due_occurrence(
            ports.campaigns,
            ctx.tenant.id,
            campaign_id,
            now=ctx.instant,
            run_id=ctx.run_id,
            foresee=foresee,
        ),
    )


def _run_campaign(
    processor: CampaignProcessor[Any],
    ctx: RunContext,
    force: bool,
    ports: TenantPorts,
    foresee: Foresee | None,
) -> CampaignOutcome:
    kind = processor.kind
    return _contained(ctx, kind, lambda: _run_if_due(processor, ctx, force, ports, foresee))


def _run_if_due(
    processor: CampaignProcessor[Any],
    ctx: RunContext,
    force: bool,
    ports: TenantPorts,
    foresee: Foresee | None,
) -> CampaignOutcome:
    kind = processor.kind
    cnpj = ctx.tenant.id
    runs = ports.runs
    settings = processor.settings(ports.campaigns.campaigns.get(cnpj, kind))
    if not settings.enabled:
        return CampaignOutcome(kind, OutcomeStatus.DISABLED)
    marker = runs.marker(cnpj, kind)
    if marker is not None and marker.local_date == ctx.today.isoformat() and not force:
        if marker.run_id == ctx.run_id:  # a redelivery of the run that completed it
            return runs.outcome(cnpj, ctx.run_id, kind) or CampaignOutcome(kind, OutcomeStatus.DONE)
        return CampaignOutcome(kind, OutcomeStatus.ALREADY_DONE, detail=f"by run {marker.run_id}")
    if not force and ctx.instant.astimezone(ctx.zone).hour < settings.run_hour:
        return CampaignOutcome(
            kind, OutcomeStatus.NOT_DUE, detail=f"runs at {settings.run_hour:02d}:00 local"
        )
    reason = processor.not_due_reason(ctx, settings)
    if reason is not None:
        return CampaignOutcome(kind, OutcomeStatus.NOT_DUE, detail=reason)
    outcome = processor.run(ctx, settings, foresee)
    runs.mark_done(cnpj, kind, CampaignMarker(ctx.today.isoformat(), ctx.run_id))
    logs.log(
        _log,
        logging.INFO,
        "campaign targeted",
        tenant=cnpj.value,
        campaign=kind,
        run=ctx.run_id,
        created=outcome.created,
        candidates=outcome.candidates,
    )
    return outcome


_Outcome = TypeVar("_Outcome", CampaignOutcome, CampaignOutcome | None)


def _contained(ctx: RunContext, kind: str, body: Callable[[], _Outcome]) -> _Outcome:
    """Run one campaign so that its failure is recorded as its own outcome, never raised."""
    cnpj = ctx.tenant.id
    try:
        return body()
    except TransientError as error:
        logs.log(
            _log,
            logging.WARNING,
            "campaign will be retried",
            tenant=cnpj.value,
            campaign=kind,
            error=str(error),
        )
        return CampaignOutcome(kind, OutcomeStatus.RETRY, detail=str(error))
    except (CampaignError, pydantic.ValidationError) as error:
        logs.log(
            _log,
            logging.ERROR,
            "campaign failed",
            tenant=cnpj.value,
            campaign=kind,
            error=str(error),
        )
        return CampaignOutcome(kind, OutcomeStatus.FAILED, detail=str(error))
    except Exception as error:  # a bug must not stop the other campaigns either
        _log.exception(
            "campaign crashed", extra={"fields": {"tenant": cnpj.value, "campaign": kind}}
        )
        return CampaignOutcome(kind, OutcomeStatus.FAILED, detail=f"internal error: {error!r}")
