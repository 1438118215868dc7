"""Meta's ``message_template_status_update`` webhook: the library follows, campaigns stop.

Meta pauses a template whose quality drops and disables one it will no longer deliver; every
send on it then fails (132015, 132016) and would pause its campaign one failure at a time. The
webhook says so first: the status is written into the catalogue of every active tenant whose
WhatsApp Business account (``entry[].id``) it is, and each of their live campaigns sending that
template (its template or an A/B variant's) is paused with the reason. It is not resumed
automatically: once Meta approves the template again (the same webhook, ``APPROVED``) the
catalogue says so and ``resume`` is accepted; until then ``resume`` is a 422 naming it.

``message_template_quality_update`` writes the template's quality rating (GREEN, YELLOW, RED,
UNKNOWN) and ``template_category_update`` its new category (with ``correct_category``, Meta
announces a change 24 h ahead: the catalogue keeps the current one and the alert says which
comes). Each tenant concerned also gets an alert (:mod:`shared.domain.alerts`) for a status that
stops or refuses the template, a quality drop and any category change; its id is a function of
the event, so a redelivered webhook records none twice. A category change to MARKETING is shown
beside the campaign's cost in the console (the template is then billed as marketing).

A template the catalogue does not hold yet is left to the next sync (the event carries no
components), and records no alert: nothing of the tenant's sends it. Inactive tenants catch up
at their next sync. An event we cannot read is logged and acknowledged ("malformed").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

from shared import logs
from shared.clock import Clock, system_clock
from shared.domain.alerts import (
    ALERTING_QUALITY,
    ALERTING_STATUSES,
    Alert,
    AlertKind,
    alert_id,
)
from shared.domain.approved_templates import (
    ApprovedTemplate,
    Category,
    QualityScore,
    TemplateStatus,
)
from shared.domain.campaign import Campaign, CampaignStatus
from shared.domain.campaign_ids import BUILT_IN_KINDS
from shared.domain.tenant import Tenant
from shared.ports import AlertLog, CampaignRepository, TemplateCatalogue, TenantRepository

_log = logging.getLogger(__name__)
FIELD = "message_template_status_update"
QUALITY_FIELD = "message_template_quality_update"
CATEGORY_FIELD = "template_category_update"
FIELDS = frozenset({FIELD, QUALITY_FIELD, CATEGORY_FIELD})
PAUSING = frozenset({"PAUSED", "DISABLED"})
_STATUSES = frozenset(get_args(TemplateStatus))
_QUALITIES = frozenset(get_args(QualityScore))
_CATEGORIES = frozenset(get_args(Category))
PAUSABLE = frozenset({CampaignStatus.RUNNING, CampaignStatus.SCHEDULED})


@dataclass(frozen=True)
class TemplateEventPorts:
    tenants: TenantRepository
    campaigns: CampaignRepository
    catalogue: TemplateCatalogue
    default_business_account_id: str = ""
    alerts: AlertLog | None = None
    """None: the library is updated and no alert is recorded."""
    clock: Clock = system_clock


@dataclass(frozen=True, slots=True)
class _Event:
    """Where an event comes from and when: what makes its alerts' ids."""

    waba_id: str
    time: str
    """The entry's ``time`` as sent (unix seconds), "" when absent."""
    at: datetime


def apply_template_event(
    ports: TemplateEventPorts, field: str, entry: dict[str, Any], value: Any
) -> str:
    """Apply one template event of a webhook entry; a label for the webhook's report."""
    seconds = _unix_time(entry.get("time"))
    event = _Event(
        str(entry.get("id", "")),
        str(seconds) if seconds is not None else "",
        datetime.fromtimestamp(seconds, UTC) if seconds is not None else ports.clock(),
    )
    if not isinstance(value, dict):
        return "malformed"
    if field == QUALITY_FIELD:
        return _apply_quality_update(ports, event, value)
    if field == CATEGORY_FIELD:
        return _apply_category_update(ports, event, value)
    return _apply_status_update(ports, event, value)


def _unix_time(raw: object) -> int | None:
    """The entry's ``time`` when it is a plausible instant (1 to 2**33 seconds), else None."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**33:
        return raw
    return None


def _template_key(value: dict[str, Any]) -> tuple[str, str] | None:
    name, language = value.get("message_template_name"), value.get("message_template_language")
    if isinstance(name, str) and isinstance(language, str) and name and language:
        return name, language
    return None


def _apply_status_update(ports: TemplateEventPorts, event: _Event, value: dict[str, Any]) -> str:
    template, status = _template_key(value), value.get("event")
    if template is None or status not in _STATUSES:
        logs.log(_log, logging.WARNING, "template status update not understood, acknowledged")
        return "malformed"
    name, language = template
    tenants = _tenants_of(ports, event.waba_id)
    paused = 0
    for tenant in tenants:
        if _update(ports.catalogue, tenant, f"{name}@{language}", {"status": status}) is None:
            continue
        paused_here = 0
        if status in PAUSING:
            paused_here = _pause_campaigns_on(ports, tenant, name, language, str(status))
        paused += paused_here
        if status in ALERTING_STATUSES:
            _alert(ports, tenant, event, "template_status", template, str(status), "", paused_here)
    logs.log(
        _log,
        logging.CRITICAL if status in PAUSING and paused else logging.INFO,
        "template status updated",
        alert="campaign_paused" if status in PAUSING and paused else None,
        account=event.waba_id,
        template=f"{name}@{language}",
        status=status,
        tenants=len(tenants),
        campaignsPaused=paused,
    )
    return "template_status"


def _apply_quality_update(ports: TemplateEventPorts, event: _Event, value: dict[str, Any]) -> str:
    template, score = _template_key(value), value.get("new_quality_score")
    previous = value.get("previous_quality_score")
    if template is None or score not in _QUALITIES:
        logs.log(_log, logging.WARNING, "template quality update not understood, acknowledged")
        return "malformed"
    previous_text = previous if isinstance(previous, str) and previous in _QUALITIES else ""
    tenants = _tenants_of(ports, event.waba_id)
    for tenant in tenants:
        key = f"{template[0]}@{template[1]}"
        if _update(ports.catalogue, tenant, key, {"quality_score": score}) is None:
            continue
        if score in ALERTING_QUALITY:
            _alert(ports, tenant, event, "template_quality", template, str(score), previous_text)
    logs.log(
        _log,
        logging.WARNING if score in ALERTING_QUALITY else logging.INFO,
        "template quality updated",
        account=event.waba_id,
        template=f"{template[0]}@{template[1]}",
        quality=score,
        tenants=len(tenants),
    )
    return "template_quality"


def _apply_category_update(ports: TemplateEventPorts, event: _Event, value: dict[str, Any]) -> str:
    template, category = _template_key(value), value.get("new_category")
    previous, coming = value.get("previous_category"), value.get("correct_category")
    if (
        template is None
        or category not in _CATEGORIES
        or (coming is not None and coming not in _CATEGORIES)
    ):
        logs.log(_log, logging.WARNING, "template category update not understood, acknowledged")
        return "malformed"
    previous_text = previous if isinstance(previous, str) and previous in _CATEGORIES else ""
    # With correct_category Meta announces the change a day ahead; new_category is the current.
    announced = coming is not None and coming != category
    alerted = str(coming) if announced else str(category)
    was = str(category) if announced else previous_text
    tenants = _tenants_of(ports, event.waba_id)
    for tenant in tenants:
        key = f"{template[0]}@{template[1]}"
        if _update(ports.catalogue, tenant, key, {"category": category}) is None:
            continue
        if alerted != was:
            _alert(ports, tenant, event, "template_category", template, alerted, was, 0, announced)
    logs.log(
        _log,
        logging.WARNING if alerted == "MARKETING" else logging.INFO,
        "template category updated",
        account=event.waba_id,
        template=f"{template[0]}@{template[1]}",
        category=alerted,
        previous=was,
        announced=announced,
        tenants=len(tenants),
    )
    return "template_category"


def _tenants_of(ports: TemplateEventPorts, waba_id: str) -> list[Tenant]:
    return [t for t in ports.tenants.list_active() if _account(ports, t) == waba_id]


def _account(ports: TemplateEventPorts, tenant: Tenant) -> str:
    return tenant.delivery.business_account_id or ports.default_business_account_id


def _update(
    catalogue: TemplateCatalogue, tenant: Tenant, key: str, change: dict[str, Any]
) -> ApprovedTemplate | None:
    """The tenant's entry with ``change`` written, or None when its catalogue lacks it."""
    template = next((t for t in catalogue.list(tenant.id) if t.key == key), None)
    if template is None:
        return None
    updated = template.model_copy(update=change)
    if updated != template:
        catalogue.store(tenant.id, [updated])
    return updated


def _alert(
    ports: TemplateEventPorts,
    tenant: Tenant,
    event: _Event,
    kind: AlertKind,
    template: tuple[str, str],
    value: str,
    previous: str,
    campaigns_paused: int = 0,
    announced: bool = False,
) -> None:
    if ports.alerts is None:
        return
    name, language = template
    ident = alert_id(kind, event.waba_id, f"{name}@{language}", value, previous, event.time)
    alert = Alert(
        id=ident,
        kind=kind,
        template_name=name,
        template_language=language,
        value=value,
        previous=previous,
        announced=announced,
        campaigns_paused=campaigns_paused,
        at=event.at,
    )
    ports.alerts.record(tenant.id, alert)


def _pause_campaigns_on(
    ports: TemplateEventPorts, tenant: Tenant, name: str, language: str, status: str
) -> int:
    ids = [*BUILT_IN_KINDS, *ports.campaigns.live(tenant.id)]  # live: scheduled/running API ones
    live = ports.campaigns.get_many(tenant.id, ids)
    using = [
        c
        for c in live.values()
        if c.status in PAUSABLE and (name, language) in templates_sent_by(c)
    ]
    for campaign in using:
        reason = f"WhatsApp template {name} ({language}) is {status}"
        ports.campaigns.pause(tenant.id, campaign.id, reason)
    return len(using)


def templates_sent_by(campaign: Campaign) -> set[tuple[str, str]]:
    """(name, language) of every template the campaign sends: its own and its A/B variants'."""
    settings = campaign.pipeline
    refs = [settings.sent_template, *settings.variant_templates.values()]
    return {(ref.name, ref.language) for ref in refs}
