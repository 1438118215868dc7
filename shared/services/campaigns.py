"""The campaign lifecycle behind the API: create, edit, start, pause, resume, cancel, list.

Every change goes through one repository transaction that rewrites the campaign document
and its settings projection together (see :class:`shared.ports.CampaignRepository`). The
four built-in kinds are campaigns too: until someone edits one, it is presented from the
tenant's existing settings, and its first edit stores it like any other campaign.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pydantic
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared import logs
from shared.campaigns import CampaignProcessor, RunContext, SegmentProcessor, processor_for
from shared.domain.calendar import local_date, zone
from shared.domain.campaign import (
    ABState,
    Campaign,
    CampaignCreate,
    CampaignPatch,
    CampaignStatus,
    LocalWindow,
    MessageTemplate,
    Objective,
    Recurrence,
    ThrottleConfig,
    WhatsAppTemplate,
    check_transition,
    occurrence_due,
)
from shared.domain.campaign_ids import (
    BUILT_IN_KINDS,
    SEGMENT,
    is_campaign_id,
    kind_of,
    new_segment_id,
)
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError, ConflictError, FieldError, NotFoundError
from shared.domain.runs import CampaignOutcome
from shared.domain.segmentation import Segmentation
from shared.domain.tenant import CampaignSettings, Tenant
from shared.ports import (
    CampaignDocument,
    CampaignRepository,
    TargetStore,
    TenantRepository,
    VoucherIssuer,
    Warehouse,
)
from shared.services.analytics import AnalyticsRequest, CampaignAnalytics, campaign_analytics
from shared.services.segments import estimate

Action = Literal["start", "pause", "resume", "cancel"]

_log = logging.getLogger(__name__)

_BUILT_IN_OBJECTIVES = {
    "BIRTHDAY": Objective.ENGAGEMENT,
    "WELCOME": Objective.ENGAGEMENT,
    "REACTIVATION": Objective.RETENTION,
    "LOYALTY": Objective.RETENTION,
}
_BASE_SETTINGS = set(CampaignSettings.model_fields)


@dataclass(frozen=True, slots=True)
class CampaignPorts:
    campaigns: CampaignRepository
    tenants: TenantRepository
    warehouse: Warehouse
    targets: TargetStore
    vouchers: VoucherIssuer | None


# -- reading ----------------------------------------------------------------------------


def get_campaign(ports: CampaignPorts, cnpj: Cnpj, campaign_id: str) -> Campaign:
    if not is_campaign_id(campaign_id):
        raise NotFoundError(f"no campaign {campaign_id[:60]!r}")
    document = ports.campaigns.get(cnpj, campaign_id)
    if document is not None:
        return Campaign.model_validate(document)
    if campaign_id in BUILT_IN_KINDS:
        return built_in_campaign(_tenant(ports, cnpj), campaign_id)
    raise NotFoundError(f"no campaign {campaign_id!r}")


def ensure_built_ins(ports: CampaignPorts, cnpj: Cnpj) -> None:
    """Store the built-in campaigns the tenant has never edited, so lists show all five."""
    stored = ports.campaigns.get_many(cnpj, list(BUILT_IN_KINDS))
    missing = [kind for kind in BUILT_IN_KINDS if kind not in stored]
    if not missing:
        return
    tenant = _tenant(ports, cnpj)
    for kind in missing:
        campaign = built_in_campaign(tenant, kind)

        def store(
            current: CampaignDocument | None, campaign: Campaign = campaign
        ) -> tuple[CampaignDocument, CampaignDocument]:
            if current is not None:  # stored meanwhile by another request
                return current, Campaign.model_validate(current).settings_map()
            return _document(campaign), campaign.settings_map()

        ports.campaigns.mutate(cnpj, kind, store)


def built_in_campaign(tenant: Tenant, kind: str) -> Campaign:
    """A built-in kind as a campaign, from the tenant's settings (defaults where unset)."""
    processor = processor_for(kind)
    assert processor is not None
    settings = processor.settings_model.model_validate(tenant.campaigns.get(kind, {}))
    status = CampaignStatus.DRAFT
    if settings.enabled:
        status = CampaignStatus.PAUSED if settings.paused else CampaignStatus.RUNNING
    if settings.cancelled:
        status = CampaignStatus.CANCELLED
    template = processor.template(settings)
    window = settings.send_window
    thresholds = settings.model_dump(mode="json", exclude=_BASE_SETTINGS)
    epoch = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    return Campaign(
        id=kind,
        kind=kind,
        name=kind.capitalize(),
        description=f"built-in {kind.lower()} campaign",
        objective=_BUILT_IN_OBJECTIVES[kind],
        status=status,
        status_reason=settings.paused_reason,
        created_at=epoch,
        updated_at=epoch,
        throttle_config=ThrottleConfig(
            business_hours_start=window.start.hour,
            business_hours_end=min(24, max(window.start.hour + 1, window.end.hour)),
        ),
        templates=[
            MessageTemplate(
                name=template.name,
                content=" ".join(f"{{{{{p}}}}}" for p in template.parameters) or template.name,
                variables=template.parameters,
                whatsapp_template=WhatsAppTemplate(name=template.name, language=template.language),
            )
        ],
        voucher=settings.voucher,
        send_window=LocalWindow(
            start=settings.send_window.start.strftime("%H:%M"),
            end=settings.send_window.end.strftime("%H:%M"),
        ),
        recurrence=Recurrence(frequency="daily", hour=settings.run_hour),
        thresholds=thresholds,
    )


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
    ensure_built_ins(ports, cnpj)
    equals = {}
    if status is not None:
        equals["status"] = status.value
    if objective is not None:
        equals["objective"] = objective.value
    documents = ports.campaigns.page(
        cnpj,
        equals=equals,
        created_from=created_from,
        created_until=created_until,
        order_by=sort,
        descending=descending,
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    return [Campaign.model_validate(d) for d in documents]


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

    def create(current: CampaignDocument | None) -> tuple[CampaignDocument, CampaignDocument]:
        if current is not None:
            raise ConflictError(f"campaign {campaign.id} exists already")
        return _document(campaign), campaign.settings_map()

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
        if built_in:
            edited = _check_thresholds(edited)
        if enabled is not None:
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
            campaign.check_startable()
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
    if after.kind == SEGMENT and after.status == CampaignStatus.RUNNING:
        try:
            outcome = run_due_occurrence(ports, cnpj, after.id, now, run_id=f"api-{action}")
        except CampaignError as error:  # the status change stands; the next tick materialises
            logs.log(
                _log,
                logging.WARNING,
                "audience not materialised at start; the next tick will",
                tenant=cnpj.value,
                campaign=after.id,
                error=str(error),
            )
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
    ports: CampaignPorts, cnpj: Cnpj, campaign_id: str, instant: datetime, run_id: str
) -> CampaignOutcome | None:
    """Materialise the campaign's next occurrence if it is due; None when nothing was due.

    Safe to repeat: targets are create-only under (customer, occurrence) ids, and the
    occurrence counter only advances from the value this run read.
    """
    tenant = _tenant(ports, cnpj)
    campaign = get_campaign(ports, cnpj, campaign_id)
    tz = zone(tenant.timezone)
    if campaign.status == CampaignStatus.SCHEDULED:
        if campaign.scheduled_at is None or campaign.scheduled_at > instant:
            return None
    elif campaign.status != CampaignStatus.RUNNING:
        return None
    if campaign.ab_pending and campaign.last_occurrence is not None:
        return _decide_ab_test(ports, tenant, campaign, instant, run_id)
    first_run = campaign.scheduled_at or campaign.started_at or instant
    done = campaign.occurrences_run
    n = done
    due = occurrence_due(campaign.recurrence, first_run, n, tz)
    while due is not None and due[0] <= instant:  # missed ones (a pause, a past start) lapse:
        following = occurrence_due(campaign.recurrence, first_run, n + 1, tz)  # only the latest
        if following is None or following[0] > instant:  # due one goes, never a backlog
            break
        n, due = n + 1, following
    if due is None:  # every occurrence is materialised: complete once nothing is in flight
        if campaign.status == CampaignStatus.RUNNING and not ports.campaigns.has_open_targets(
            cnpj, campaign_id
        ):
            _advance(ports, cnpj, campaign_id, done, done, None, instant, complete=True)
        return None
    due_at, day = due
    if due_at > instant:
        return None
    period = day.isoformat() if campaign.recurrence is not None else "once"
    outcome = _materialise(ports, tenant, campaign_id, period, instant, run_id)
    _advance(ports, cnpj, campaign_id, done, n + 1, period, instant, complete=False)
    return outcome


def _materialise(
    ports: CampaignPorts,
    tenant: Tenant,
    campaign_id: str,
    period: str,
    instant: datetime,
    run_id: str,
) -> CampaignOutcome:
    tz = zone(tenant.timezone)
    processor = SegmentProcessor(
        ports.warehouse,
        ports.targets,
        ports.vouchers,
        campaign_id=campaign_id,
        period_key=period,
        opted_out_phones=ports.campaigns.opted_out_phones(tenant.id),
    )
    ctx = RunContext(
        tenant=tenant, zone=tz, instant=instant, today=local_date(instant, tz), run_id=run_id
    )
    return processor.run(ctx)


def _decide_ab_test(
    ports: CampaignPorts, tenant: Tenant, campaign: Campaign, instant: datetime, run_id: str
) -> CampaignOutcome | None:
    """Once every variant has its sample, the test decides and the rest of the audience goes.

    The test group of the first occurrence is what is measured; the decision is stored once
    (its p-value and confidence with it) and the same occurrence is then materialised again:
    the test group's targets exist already, so only the remaining audience is created.
    """
    config, period = campaign.ab_test_config, campaign.last_occurrence
    assert config is not None and period is not None
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
            decided_at=instant,
        )

        def decide(current: Campaign) -> Campaign:
            if not current.ab_undecided:
                return current
            return current.model_copy(update={"ab_state": state, "updated_at": instant})

        _mutate(ports, tenant.id, campaign.id, decide)
    fresh = _tenant(ports, tenant.id)  # its projection now carries the rollout variant
    outcome = _materialise(ports, fresh, campaign.id, period, instant, run_id)

    def rolled_out(current: Campaign) -> Campaign:  # only now: a failed rollout is redone
        if current.ab_state is None:
            return current
        marked = current.ab_state.model_copy(update={"rolled_out_period": period})
        return current.model_copy(update={"ab_state": marked, "updated_at": instant})

    _mutate(ports, tenant.id, campaign.id, rolled_out)
    return outcome


def _advance(
    ports: CampaignPorts,
    cnpj: Cnpj,
    campaign_id: str,
    expected: int,
    count: int,
    period: str | None,
    now: datetime,
    complete: bool,
) -> None:
    """Record ``count`` occurrences done, if nobody advanced it past ``expected`` meanwhile."""

    def advance(campaign: Campaign) -> Campaign:
        if campaign.occurrences_run != expected or campaign.status not in (
            CampaignStatus.SCHEDULED,
            CampaignStatus.RUNNING,
        ):
            return campaign  # another run advanced it, or a person paused it meanwhile
        update: dict[str, Any] = {"updated_at": now, "status": CampaignStatus.RUNNING}
        if period is not None:
            update.update(occurrences_run=count, last_occurrence=period)
        if complete:
            update.update(status=CampaignStatus.COMPLETED, completed_at=now)
        return campaign.model_copy(update=update)

    _mutate(ports, cnpj, campaign_id, advance)


# -- helpers ----------------------------------------------------------------------------


def _tenant(ports: CampaignPorts, cnpj: Cnpj) -> Tenant:
    tenant = ports.tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    return tenant


def _document(campaign: Campaign) -> CampaignDocument:
    document = campaign.model_dump(mode="json")
    for field in ("created_at", "updated_at"):  # real timestamps: range filters and sorting
        document[field] = getattr(campaign, field)
    return document


def _mutate(
    ports: CampaignPorts,
    cnpj: Cnpj,
    campaign_id: str,
    change: Callable[[Campaign], Campaign],
) -> tuple[Campaign, Campaign]:
    if not is_campaign_id(campaign_id):
        raise NotFoundError(f"no campaign {campaign_id[:60]!r}")
    tenant = _tenant(ports, cnpj)
    seen: dict[str, Campaign] = {}

    def mutation(current: CampaignDocument | None) -> tuple[CampaignDocument, CampaignDocument]:
        if current is not None:
            campaign = Campaign.model_validate(current)
        elif campaign_id in BUILT_IN_KINDS:
            campaign = built_in_campaign(tenant, campaign_id)
        else:
            raise NotFoundError(f"no campaign {campaign_id!r}")
        after = change(campaign)
        seen["before"], seen["after"] = campaign, after
        return _document(after), after.settings_map()

    ports.campaigns.mutate(cnpj, campaign_id, mutation)
    return seen["before"], seen["after"]


def _check_thresholds(campaign: Campaign) -> Campaign:
    """The campaign with its thresholds as its kind reads them (``"45"`` becomes ``45``); a
    threshold the kind refuses is a validation error at ``thresholds.<name>``."""
    processor: type[CampaignProcessor[Any]] | None = processor_for(kind_of(campaign.id))
    assert processor is not None
    try:
        settings = processor.settings_model.model_validate(campaign.settings_map())
    except pydantic.ValidationError as error:
        raise _under_thresholds(error, set(campaign.thresholds)) from error
    except CampaignError as error:  # a kind's own rule, raised as the domain's error
        raise FieldError("thresholds", str(error)[:500]) from error
    read = settings.model_dump(mode="json", include=set(campaign.thresholds))
    return campaign.model_copy(update={"thresholds": read})


def _under_thresholds(error: pydantic.ValidationError, names: set[str]) -> pydantic.ValidationError:
    """The same errors, located at ``thresholds.<name>`` as a client sent them."""
    details: list[InitErrorDetails] = []
    for item in error.errors():
        loc = item["loc"]
        if loc and loc[0] in names:
            loc = ("thresholds", *loc)
        detail: InitErrorDetails = {"type": item["type"], "loc": loc, "input": item["input"]}
        if "ctx" in item:
            detail["ctx"] = item["ctx"]
        try:  # a standard error type keeps its context (a page words it from ``ge``, ``le``)
            pydantic.ValidationError.from_exception_data(error.title, [detail])
        except KeyError:  # a validator's own type: kept with its message
            detail = {"type": PydanticCustomError(item["type"], item["msg"]), "loc": loc,
                      "input": item["input"]}  # fmt: skip
        details.append(detail)
    return pydantic.ValidationError.from_exception_data(error.title, details)


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
