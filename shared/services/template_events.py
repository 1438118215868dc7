"""Meta's ``message_template_status_update`` webhook: the library follows, campaigns stop.

Meta pauses a template whose quality drops and disables one it will no longer deliver; every
send on it then fails (132015, 132016) and would pause its campaign one failure at a time. The
webhook says so first: the status is written into the catalogue of every active tenant whose
WhatsApp Business account (``entry[].id``) it is, and each of their live campaigns sending that
template (its template or an A/B variant's) is paused with the reason. It is not resumed
automatically: once Meta approves the template again (the same webhook, ``APPROVED``) the
catalogue says so and ``resume`` is accepted; until then ``resume`` is a 422 naming it.

A template the catalogue does not hold yet is left to the next sync (the event carries no
components). Inactive tenants catch up at their next sync.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, get_args

from shared import logs
from shared.domain.approved_templates import TemplateStatus
from shared.domain.campaign import Campaign, CampaignStatus
from shared.domain.campaign_ids import BUILT_IN_KINDS
from shared.domain.tenant import Tenant
from shared.ports import CampaignRepository, TemplateCatalogue, TenantRepository

_log = logging.getLogger(__name__)
FIELD = "message_template_status_update"
PAUSING = frozenset({"PAUSED", "DISABLED"})
_STATUSES = frozenset(get_args(TemplateStatus))
PAUSABLE = frozenset({CampaignStatus.RUNNING, CampaignStatus.SCHEDULED})


@dataclass(frozen=True)
class TemplateEventPorts:
    tenants: TenantRepository
    campaigns: CampaignRepository
    catalogue: TemplateCatalogue
    default_business_account_id: str = ""


def apply_status_update(ports: TemplateEventPorts, waba_id: str, value: Any) -> str:
    """Apply one status update; a label for the webhook's report."""
    if not isinstance(value, dict):
        return "malformed"
    name, language = value.get("message_template_name"), value.get("message_template_language")
    event = value.get("event")
    if not (isinstance(name, str) and isinstance(language, str) and event in _STATUSES):
        logs.log(_log, logging.WARNING, "template status update not understood, acknowledged")
        return "malformed"
    tenants = [t for t in ports.tenants.list_active() if _account(ports, t) == waba_id]
    paused = 0
    for tenant in tenants:
        if not _set_status(ports.catalogue, tenant, f"{name}@{language}", str(event)):
            continue
        if event in PAUSING:
            paused += _pause_campaigns_on(ports, tenant, name, language, str(event))
    logs.log(
        _log,
        logging.CRITICAL if event in PAUSING and paused else logging.INFO,
        "template status updated",
        alert="campaign_paused" if event in PAUSING and paused else None,
        account=waba_id,
        template=f"{name}@{language}",
        status=event,
        tenants=len(tenants),
        campaignsPaused=paused,
    )
    return "template_status"


def _account(ports: TemplateEventPorts, tenant: Tenant) -> str:
    return tenant.delivery.business_account_id or ports.default_business_account_id


def _set_status(catalogue: TemplateCatalogue, tenant: Tenant, key: str, status: str) -> bool:
    """Whether the tenant's catalogue holds the template (its status now written)."""
    template = next((t for t in catalogue.list(tenant.id) if t.key == key), None)
    if template is None:
        return False
    if template.status != status:
        catalogue.store(tenant.id, [template.model_copy(update={"status": status})])
    return True


def _pause_campaigns_on(
    ports: TemplateEventPorts, tenant: Tenant, name: str, language: str, status: str
) -> int:
    ids = [*BUILT_IN_KINDS, *ports.campaigns.live(tenant.id)]  # live: scheduled/running API ones
    live = ports.campaigns.get_many(tenant.id, ids)
    using = [
        c for c in live.values() if c.status in PAUSABLE and (name, language) in _templates_of(c)
    ]
    for campaign in using:
        reason = f"WhatsApp template {name} ({language}) is {status}"
        ports.campaigns.pause(tenant.id, campaign.id, reason)
    return len(using)


def _templates_of(campaign: Campaign) -> set[tuple[str, str]]:
    settings = campaign.pipeline
    main = settings.template or type(settings).default_template
    refs = [main, *settings.variant_templates.values()]
    return {(ref.name, ref.language) for ref in refs}
