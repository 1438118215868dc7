"""Sync a tenant's template catalogue from its WhatsApp Business account (on demand).

The catalogue must say what Meta will accept: a campaign started on a template the account no
longer has, or has paused, would fail at every send (132001, 132015) and pause itself. So a sync
reads the account's ``message_templates`` and writes every template it lists (with Meta's status,
category, components and parameter format), and marks the stored ones it no longer lists
``on_meta: false`` rather than deleting them: a campaign naming one still shows which template it
used, and starting it is refused naming the template (:func:`refuse_unusable`).

The account (WABA) is the tenant's ``delivery.business_account_id``, or the installation's
``WHATSAPP_BUSINESS_ACCOUNT_ID`` when it sets none, as the sending number is. A repeated or
concurrent sync writes the same result (the account's current list), so it is safe to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, Field

from shared import logs
from shared.domain.approved_templates import DEFAULT_TEMPLATES, ApprovedTemplate
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError, NotFoundError
from shared.domain.meta_templates import UnreadableTemplate, from_meta
from shared.ports import TemplateCatalogue, TemplateSource, TenantRepository

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TemplateSyncPorts:
    catalogue: TemplateCatalogue
    source: TemplateSource
    tenants: TenantRepository
    clock: Callable[[], datetime]
    default_business_account_id: str = ""


class SkippedTemplate(BaseModel):
    key: str = Field(description="name@language as Meta lists it")
    reason: str


class SyncReport(BaseModel):
    business_account_id: str
    listed: int = Field(description="templates Meta listed")
    added: int
    updated: int
    unchanged: int
    missing: int = Field(description="stored templates Meta no longer lists: kept, on_meta false")
    not_approved: list[str] = Field(
        default_factory=list, description="listed but not APPROVED (name@language: status)"
    )
    skipped: list[SkippedTemplate] = Field(default_factory=list)


@dataclass
class _Plan:
    writes: list[ApprovedTemplate] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: int = 0


def business_account_of(ports: TemplateSyncPorts, cnpj: Cnpj) -> str:
    tenant = ports.tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError(f"tenant {cnpj.value} is not registered")
    account = tenant.delivery.business_account_id or ports.default_business_account_id
    if not account:
        raise FieldError(
            "delivery.business_account_id",
            "no WhatsApp Business account: set the tenant's or WHATSAPP_BUSINESS_ACCOUNT_ID",
        )
    return account


def sync_templates(ports: TemplateSyncPorts, cnpj: Cnpj) -> SyncReport:
    account = business_account_of(ports, cnpj)
    listed = ports.source.list_templates(account)
    now = ports.clock()
    stored = {t.key: t for t in ports.catalogue.list(cnpj)}
    known = {t.key: t for t in DEFAULT_TEMPLATES} | stored
    synced: dict[str, ApprovedTemplate] = {}
    skipped: list[SkippedTemplate] = []
    for raw in listed:
        try:
            template = from_meta(raw, known, now)
        except UnreadableTemplate as error:
            skipped.append(SkippedTemplate(key=error.key, reason=error.reason))
            continue
        synced[template.key] = template
    plan = _plan(stored, synced)
    ports.catalogue.store(cnpj, plan.writes)
    report = SyncReport(
        business_account_id=account,
        listed=len(listed),
        added=plan.added,
        updated=plan.updated,
        unchanged=plan.unchanged,
        missing=plan.missing,
        not_approved=[f"{t.key}: {t.status}" for t in synced.values() if t.status != "APPROVED"],
        skipped=skipped,
    )
    logs.log(
        _log,
        logging.INFO,
        "templates synced",
        tenant=cnpj.value,
        **report.model_dump(exclude={"skipped", "not_approved"}),
        skipped=len(skipped),
    )
    return report


def _plan(stored: dict[str, ApprovedTemplate], synced: dict[str, ApprovedTemplate]) -> _Plan:
    plan = _Plan()
    for key, template in synced.items():
        before = stored.get(key)
        if before is None:
            plan.added += 1
        elif _same(before, template):
            plan.unchanged += 1
        else:
            plan.updated += 1
        plan.writes.append(template)  # synced_at moves on even when nothing else did
    for key, template in stored.items():
        if key not in synced and template.on_meta:
            plan.missing += 1
            plan.writes.append(template.model_copy(update={"on_meta": False}))
    return plan


def _same(a: ApprovedTemplate, b: ApprovedTemplate) -> bool:
    ignore = {"synced_at"}
    return a.model_dump(exclude=ignore) == b.model_dump(exclude=ignore)


def refuse_unusable(
    by_key: Mapping[str, ApprovedTemplate], wanted: Iterable[tuple[str, str, str]]
) -> None:
    """A :class:`FieldError` on the first ``(field, name, language)`` whose catalogue entry
    (``by_key``: the tenant's catalogue by ``name@language``) is not APPROVED or no longer on
    the account. A template the catalogue does not hold is left to Meta (the catalogue may not
    have been synced yet)."""
    for where, name, language in wanted:
        template = by_key.get(f"{name}@{language}")
        reason = template.unusable_reason if template is not None else None
        if reason is not None:
            raise FieldError(where, f"template {name!r} ({language}) {reason}")
