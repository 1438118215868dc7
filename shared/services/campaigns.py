"""The campaign lifecycle behind the API: create, edit, start, pause, resume, cancel, list.

Every change is one repository transaction on the campaign's record (see
:class:`shared.ports.CampaignRepository`), which stores the campaign's pipeline settings with
it. The four built-in kinds are campaigns too: ``register_tenant`` stores them with their
kinds' defaults, and one a tenant lacks (registered before campaigns were records) is stored
with those defaults on first use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared import logs
from shared.campaigns import RunContext, SegmentProcessor
from shared.clock import Clock
from shared.domain.calendar import local_date, zone
from shared.domain.campaign import (
    ABState,
    Campaign,
    CampaignCreate,
    CampaignPatch,
    CampaignStatus,
    Objective,
    Recurrence,
    built_in_campaign,
    check_transition,
)
from shared.domain.campaign_ids import BUILT_IN_KINDS, SEGMENT, is_campaign_id, new_segment_id
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError, ConflictError, FieldError, NotFoundError
from shared.domain.occurrences import Complete, due_occurrence, record_completion, record_occurrence
from shared.domain.runs import CampaignOutcome, Foresee
from shared.domain.segmentation import Segmentation
from shared.domain.tenant import Tenant
from shared.ports import (
    CampaignRepository,
    MediaLibrary,
    TargetStore,
    TemplateCatalogue,
    TenantRepository,
    VoucherIssuer,
    Warehouse,
)
from shared.services.analytics import AnalyticsRequest, CampaignAnalytics, campaign_analytics
from shared.services.message_checks import check_media, check_messages, mapped_to_approved
from shared.services.number_shares import NumberShares
from shared.services.occurrence_tasks import (
    START_RETRY,
    OccurrenceTask,
    OccurrenceTasks,
    ask_for,
    schedule_upcoming,
)
from shared.services.segments import estimate

Action = Literal["start", "pause", "resume", "cancel"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CampaignPorts:
    campaigns: CampaignRepository
    tenants: TenantRepository
    warehouse: Warehouse
    targets: TargetStore
    vouchers: VoucherIssuer | None
    clock: Clock
    """When a built-in campaign a tenant lacks is stored on first use."""
    numbers: NumberShares
    """Each tenant's share of its sending number (a forecast plans within it)."""
    occurrence_tasks: OccurrenceTasks | None = None
    """Where an API campaign's next occurrence gets its task (None: only ticks run them)."""
    templates: TemplateCatalogue | None = None
    """The tenant's synced catalogue: a start on a template it marks unusable is refused."""
    media: MediaLibrary | None = None
    """The tenant's uploaded header media: a start naming another id is refused."""


# -- reading ----------------------------------------------------------------------------


def get_campaign(ports: CampaignPorts, cnpj: Cnpj, campaign_id: str) -> Campaign:
    if not is_campaign_id(campaign_id):
        raise NotFoundError(f"no campaign {campaign_id[:60]!r}")
    campaign = ports.campaigns.get(cnpj, campaign_id)
    if campaign is not None:
        return campaign
    if campaign_id in BUILT_IN_KINDS:
        _tenant(ports, cnpj)
        return _store_built_in(ports.campaigns, cnpj, campaign_id, now=ports.clock())
    raise NotFoundError(f"no campaign {campaign_id!r}")


def store_built_ins(campaigns: CampaignRepository, cnpj: Cnpj, *, now: datetime) -> None:
    """Store the built-in campaigns the tenant lacks, with their kinds' defaults."""
    for kind in _missing_built_ins(campaigns, cnpj):
        _store_built_in(campaigns, cnpj, kind, now=now)


def _missing_built_ins(campaigns: CampaignRepository, cnpj: Cnpj) -> list[str]:
    stored = campaigns.get_many(cnpj, list(BUILT_IN_KINDS))
    return [kind for kind in BUILT_IN_KINDS if kind not in stored]


def _store_built_in(
    campaigns: CampaignRepository, cnpj: Cnpj, kind: str, *, now: datetime
) -> Campaign:
    """The kind's campaign, stored now with its defaults unless another request just did."""

    def stored_once(current: Campaign | None) -> Campaign:
        return current or built_in_campaign(kind, now=now)

    _, stored = campaigns.mutate(cnpj, kind, stored_once)
    return stored


def list_campaigns(
    ports: CampaignPorts,
    cnpj: Cnpj,
    *,
    status: CampaignStatus | None,
    objective: Objective | None,
    created_from: datetime | None,
    created_until: datetime | None,
    sort: str,
    descending: bool,
    page: int,
    page_size: int,
) -> list[Campaign]:
    if _missing_built_ins(ports.campaigns, cnpj):  # lists show all of them
        _tenant(ports, cnpj)
        store_built_ins(ports.campaigns, cnpj, now=ports.clock())
    equals = {}
    if status is not None:
        equals["status"] = status.value
    if objective is not None:
        equals["objective"] = objective.value
    return ports.campaigns.page(
        cnpj,
        equals=equals,
        created_from=created_from,
        created_until=created_until,
        order_by=sort,
        descending=descending,
        offset=(page - 1) * page_size,
        limit=page_size,
    )


# -- writing ----------------------------------------------------------------------------


def create_campaign(
    ports: CampaignPorts, cnpj: Cnpj, subject: str, body: CampaignCreate, now: datetime
) -> Campaign:
    body.check_consistent()
    if body.segmentation is None:
        raise FieldError("segmentation", "an API campaign needs a segmentation")
    if body.thresholds:
        raise FieldError("thresholds", "only built-in campaigns have thresholds")
    _tenant(ports, cnpj)
    campaign = Campaign(
        **body.model_dump(),
        id=new_segment_id(),
        kind=SEGMENT,
        created_at=now,
        updated_at=now,
        created_by=subject,
    )
    if ports.templates is not None:
        campaign = mapped_to_approved(ports.templates, cnpj, campaign, strict=False)

    def create(current: Campaign | None) -> Campaign:
        if current is not None:
            raise ConflictError(f"campaign {campaign.id} exists already")
        return campaign

    ports.campaigns.mutate(cnpj, campaign.id, create)
    return campaign


def patch_campaign(
    ports: CampaignPorts, cnpj: Cnpj, campaign_id: str, patch: CampaignPatch, now: datetime
) -> tuple[Campaign, Campaign]:
    """A built-in kind is a standing daily setting, so it is edited while running too (the
    next run reads the edit), and ``enabled`` switches it on (running) or off (paused) in the
    same transaction as the rest of the edit: nothing is ever half-applied."""
    changes = patch.model_dump(exclude_unset=True)
    enabled = changes.pop("enabled", None)

    def edit(campaign: Campaign) -> Campaign:
        built_in = campaign.kind != SEGMENT
        if not campaign.editable and not (built_in and campaign.status == CampaignStatus.RUNNING):
            raise ConflictError(
                f"a {campaign.status.value} campaign cannot be edited; pause it first"
            )
        if built_in and "segmentation" in changes:
            raise FieldError("segmentation", "built-in campaigns have a fixed audience")
        if built_in and "recurrence" in changes:
            _check_daily(patch.recurrence)
        if not built_in and enabled is not None:
            raise FieldError(
                "enabled", "only built-in campaigns are switched on or off; start or pause this one"
            )
        edited = Campaign.model_validate({**campaign.model_dump(), **changes, "updated_at": now})
        edited.check_consistent()
        if ports.templates is not None and "templates" in changes:
            edited = mapped_to_approved(ports.templates, cnpj, edited, strict=False)
        if built_in:
            edited = _check_thresholds(edited)
        if enabled is not None:
            if enabled and campaign.status != CampaignStatus.RUNNING:
                _refuse_unusable_templates(ports, cnpj, edited)
            edited = _switched(edited, enabled, now)
        return edited

    return _mutate(ports, cnpj, campaign_id, edit)


def change_status(
    ports: CampaignPorts, cnpj: Cnpj, campaign_id: str, action: Action, now: datetime
) -> tuple[Campaign, Campaign, CampaignOutcome | None]:
    """Apply a lifecycle action; a start that is due materialises the audience at once."""

    def act(campaign: Campaign) -> Campaign:
        update: dict[str, Any] = {"updated_at": now, "status_reason": ""}
        if action == "start":
            if ports.templates is not None:
                campaign = mapped_to_approved(ports.templates, cnpj, campaign, strict=True)
            campaign.check_startable()
            _refuse_unusable_templates(ports, cnpj, campaign)
            if campaign.status not in (CampaignStatus.DRAFT,):
                check_transition(campaign.status, CampaignStatus.RUNNING)
            future = campaign.scheduled_at is not None and campaign.scheduled_at > now
            new = CampaignStatus.SCHEDULED if future else CampaignStatus.RUNNING
            update["started_at"] = now
        elif action == "pause":
            new = CampaignStatus.PAUSED
            update["paused_at"] = now
        elif action == "resume":
            if campaign.status != CampaignStatus.PAUSED:
                raise ConflictError(
                    f"only a paused campaign resumes; this one is {campaign.status}"
                )
            campaign.check_startable()
            _refuse_unusable_templates(ports, cnpj, campaign)
            future = campaign.scheduled_at is not None and campaign.scheduled_at > now
            new = (
                CampaignStatus.SCHEDULED
                if future and campaign.occurrences_run == 0
                else CampaignStatus.RUNNING
            )
        else:
            if campaign.kind != SEGMENT:
                raise ConflictError("built-in campaigns can be paused, not cancelled")
            new = CampaignStatus.CANCELLED
            update["cancelled_at"] = now
        check_transition(campaign.status, new)
        return campaign.model_copy(update={**update, "status": new})

    before, after = _mutate(ports, cnpj, campaign_id, act)
    outcome = None
    if after.kind == SEGMENT and after.status == CampaignStatus.SCHEDULED:
        schedule_upcoming(ports.occurrence_tasks, after, _tenant(ports, cnpj), now)
    if after.kind == SEGMENT and after.status == CampaignStatus.RUNNING:
        try:
            outcome = run_due_occurrence(ports, cnpj, after.id, now=now, run_id=f"api-{action}")
        except CampaignError as error:  # the status change stands: a task retries in a minute
            logs.log(
                _log,
                logging.WARNING,
                "audience not materialised at start; a task retries it in a minute",
                tenant=cnpj.value,
                campaign=after.id,
                error=str(error),
            )
            retry = OccurrenceTask(cnpj, after.id, now + START_RETRY)
            ask_for(ports.occurrence_tasks, retry)
    return before, after, outcome


def analytics(
    ports: CampaignPorts, cnpj: Cnpj, campaign_id: str, period: str | None
) -> CampaignAnalytics:
    campaign = get_campaign(ports, cnpj, campaign_id)
    return campaign_analytics(
        ports.warehouse, cnpj, _analytics_request(campaign, _tenant(ports, cnpj), period)
    )


def _analytics_request(campaign: Campaign, tenant: Tenant, period: str | None) -> AnalyticsRequest:
    return AnalyticsRequest(
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        status=campaign.status.value,
        timezone=tenant.timezone,
        attribution_window_days=campaign.analytics.attribution_window_days,
        cost_per_message=campaign.analytics.cost_per_message,
        ab_test_config=campaign.ab_test_config,
        voucher=campaign.voucher,
        period=period,
    )


def estimate_audience(
    ports: CampaignPorts, cnpj: Cnpj, segmentation: Segmentation, now: datetime
) -> int:
    return estimate(
        ports.warehouse,
        cnpj,
        segmentation,
        as_of=now,
        opted_out_phones=ports.campaigns.opted_out_phones(cnpj),
        zone=_tenant(ports, cnpj).timezone,
    )


# -- running (API start and the hourly tick share this) ---------------------------------


def run_due_occurrence(
    ports: CampaignPorts,
    cnpj: Cnpj,
    campaign_id: str,
    *,
    now: datetime,
    run_id: str,
    foresee: Foresee | None = None,
) -> CampaignOutcome | None:
    """Materialise the campaign's due occurrence (see :func:`due_occurrence`), decide its A/B
    test, or complete it; None when nothing was materialised. Either way the upcoming
    occurrence then has its task (:mod:`shared.services.occurrence_tasks`).

    Safe to repeat: targets are create-only under (customer, occurrence) ids, and the
    occurrence counter only advances from the value this run read.
    """
    tenant = _tenant(ports, cnpj)
    campaign = get_campaign(ports, cnpj, campaign_id)
    if (
        campaign.status == CampaignStatus.RUNNING
        and campaign.ab_pending
        and campaign.last_occurrence is not None
    ):
        return _decide_ab_test(ports, tenant, campaign, now=now, run_id=run_id)
    due = due_occurrence(campaign, now=now, zone=zone(tenant.timezone))
    expected = campaign.occurrences_run
    if isinstance(due, Complete):  # complete once nothing of it is on its way any more
        if campaign.status == CampaignStatus.RUNNING and not ports.campaigns.has_open_targets(
            cnpj, campaign_id
        ):
            _mutate(
                ports,
                cnpj,
                campaign_id,
                lambda current: record_completion(current, expected=expected, now=now),
            )
        return None
    if due is None:
        schedule_upcoming(ports.occurrence_tasks, campaign, tenant, now)
        return None
    if due.lapsed:
        logs.log(
            _log,
            logging.INFO,
            "missed occurrences lapsed",
            tenant=cnpj.value,
            campaign=campaign_id,
            lapsed=due.lapsed,
            period=due.occurrence.period,
        )
    outcome = _materialise(
        ports,
        tenant,
        campaign,
        period=due.occurrence.period,
        now=now,
        run_id=run_id,
        foresee=foresee,
    )
    _, recorded = _mutate(
        ports,
        cnpj,
        campaign_id,
        lambda current: record_occurrence(current, due=due, expected=expected, now=now),
    )
    schedule_upcoming(ports.occurrence_tasks, recorded, tenant, now)
    return outcome


def _materialise(
    ports: CampaignPorts,
    tenant: Tenant,
    campaign: Campaign,
    *,
    period: str,
    now: datetime,
    run_id: str,
    foresee: Foresee | None = None,
) -> CampaignOutcome:
    tz = zone(tenant.timezone)
    processor = SegmentProcessor(
        ports.warehouse,
        ports.targets,
        ports.vouchers,
        campaign=campaign,
        period_key=period,
        opted_out_phones=ports.campaigns.opted_out_phones(tenant.id),
    )
    ctx = RunContext(tenant=tenant, zone=tz, instant=now, today=local_date(now, tz), run_id=run_id)
    return processor.run(ctx, processor.settings(campaign), foresee)


def _decide_ab_test(
    ports: CampaignPorts, tenant: Tenant, campaign: Campaign, *, now: datetime, run_id: str
) -> CampaignOutcome | None:
    """Once every variant has its sample, the test decides and the rest of the audience goes.

    The test group of the first occurrence is what is measured; the decision is stored once
    (its p-value and confidence with it) and the same occurrence is then materialised again:
    the test group's targets exist already, so only the remaining audience is created.
    """
    config, period = campaign.ab_test_config, campaign.last_occurrence
    assert config is not None and period is not None
    decided = campaign
    if campaign.ab_undecided:
        request = _analytics_request(campaign, tenant, period)
        results = campaign_analytics(ports.warehouse, tenant.id, request).ab_test_results
        if results is None:
            return None
        decision, rollout = results.decision, results.rollout_variant
        if decision == "collecting":
            if ports.campaigns.has_open_targets(tenant.id, campaign.id):
                return None
            # Every test message has settled and the sample is still short: it never will
            # be, so the rest of the audience gets the fallback rather than nothing.
            decision, rollout = "no_winner", config.fallback
        state = ABState(
            status=decision,
            rollout_variant=rollout,
            p_value=results.p_value,
            confidence_level=results.confidence_level,
            decided_at=now,
        )

        def decide(current: Campaign) -> Campaign:
            if not current.ab_undecided:
                return current
            return current.model_copy(update={"ab_state": state, "updated_at": now})

        _, decided = _mutate(ports, tenant.id, campaign.id, decide)
    outcome = _materialise(ports, tenant, decided, period=period, now=now, run_id=run_id)

    def rolled_out(current: Campaign) -> Campaign:  # only now: a failed rollout is redone
        if current.ab_state is None:
            return current
        marked = current.ab_state.model_copy(update={"rolled_out_period": period})
        return current.model_copy(update={"ab_state": marked, "updated_at": now})

    _mutate(ports, tenant.id, campaign.id, rolled_out)
    return outcome


# -- helpers ----------------------------------------------------------------------------


def _tenant(ports: CampaignPorts, cnpj: Cnpj) -> Tenant:
    tenant = ports.tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    return tenant


def _mutate(
    ports: CampaignPorts,
    cnpj: Cnpj,
    campaign_id: str,
    change: Callable[[Campaign], Campaign],
) -> tuple[Campaign, Campaign]:
    """Apply ``change`` to the stored campaign in one transaction; (before, after). A built-in
    kind the tenant lacks is stored with its defaults first."""
    get_campaign(ports, cnpj, campaign_id)  # the tenant and the campaign exist

    def stored(current: Campaign | None) -> Campaign:
        if current is None:
            raise NotFoundError(f"no campaign {campaign_id!r}")
        return change(current)

    before, after = ports.campaigns.mutate(cnpj, campaign_id, stored)
    if before is None:  # unreachable: ``stored`` refuses a missing campaign
        raise NotFoundError(f"no campaign {campaign_id!r}")
    return before, after


def _check_thresholds(campaign: Campaign) -> Campaign:
    """The campaign with its thresholds as its kind reads them (``"45"`` becomes ``45``); a
    threshold the kind refuses is a validation error at ``thresholds.<name>``."""
    read = campaign.pipeline.model_dump(mode="json", include=set(campaign.thresholds))
    return campaign.model_copy(update={"thresholds": read})


def _refuse_unusable_templates(ports: CampaignPorts, cnpj: Cnpj, campaign: Campaign) -> None:
    """422 naming the template, or its part, when the catalogue says Meta would refuse it, or a
    header's media id is not one this tenant uploaded (recently enough)."""
    check_media(ports.media, cnpj, campaign, ports.clock())
    if ports.templates is None:
        return
    check_messages(ports.templates, cnpj, campaign)


def _check_daily(recurrence: Recurrence | None) -> None:
    """A built-in kind runs once a day at its hour; only ``recurrence.hour`` is its to change."""
    if recurrence is None or (recurrence.frequency, recurrence.interval, recurrence.end_type) != (
        "daily",
        1,
        "never",
    ):
        raise FieldError(
            "recurrence", "built-in campaigns run every day: frequency daily, interval 1, never end"
        )


def _switched(campaign: Campaign, enabled: bool, now: datetime) -> Campaign:
    """A built-in kind switched on (running) or off (paused: queued messages wait)."""
    if enabled and campaign.status != CampaignStatus.RUNNING:
        campaign.check_startable()
        check_transition(campaign.status, CampaignStatus.RUNNING)
        update: dict[str, Any] = {"status": CampaignStatus.RUNNING, "status_reason": ""}
        if campaign.started_at is None:
            update["started_at"] = now
        return campaign.model_copy(update=update)
    if not enabled and campaign.status == CampaignStatus.RUNNING:
        return campaign.model_copy(update={"status": CampaignStatus.PAUSED, "paused_at": now})
    return campaign
