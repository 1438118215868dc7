"""``campaigns migrate-campaigns``: move the campaigns' settings maps out of tenant documents.

Before campaigns were one record each, a tenant document held a map per campaign
(``users/{cnpj}.campaigns.<id>``) that targeting and delivery read: a hand-edited map for a
built-in kind, or the projection the API wrote beside an API campaign's document. This
one-off, idempotent migration leaves each campaign in its record only:

* an API campaign's map is a projection of its document: only the map goes;
* a built-in kind's map is what its processor and delivery used: its settings are applied to
  the kind's record (created with the kind's defaults when there is none), unless the record
  already derives exactly those settings, and the map goes.

Each campaign is one transaction over the tenant document and the campaign's, so a crash
half-way loses nothing and a second run finishes the job. A map that cannot be applied (its
settings do not validate, or an API campaign's document is missing) is left where it is and
reported: nothing is ever deleted that is not in a record. Built-in kinds of the tenant
without a map or a record get their defaults, as ``register_tenant`` stores them now.

Built-in settings the campaign model has no field for are not carried over: a built-in kind's
own ``campaign_throttle`` and ``variant_templates`` (the API never wrote them for built-in
kinds, and built-in targets have no variant). ``enabled`` and ``paused`` both set become a
paused campaign: a paused campaign creates no targets and its queued messages wait.

Delete this module once every tenant is migrated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

import pydantic
from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.errors import translated
from shared.adapters.firestore_campaigns import campaign_document, read_campaign
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.domain.campaign import (
    Campaign,
    CampaignStatus,
    LocalWindow,
    Recurrence,
    built_in_campaign,
    message_template,
)
from shared.domain.campaign_ids import BUILT_IN_KINDS, SEGMENT, kind_of
from shared.domain.campaign_settings import BASE_SETTINGS, CampaignSettings, settings_model
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError

LEGACY_FIELD = "campaigns"
"""The tenant document's field of per-campaign maps."""


@dataclass
class TenantMigration:
    """What the migration did for one tenant."""

    cnpj: str
    adopted: list[str] = field(default_factory=list)
    """Built-in kinds whose map's settings were applied to their record."""
    dropped: list[str] = field(default_factory=list)
    """Campaigns whose record already had their map's settings: only the map went."""
    kept: dict[str, str] = field(default_factory=dict)
    """Maps left in the tenant document, and why."""

    @property
    def done(self) -> bool:
        return not self.kept


def adopted(campaign: Campaign, legacy: Mapping[str, Any], *, now: datetime) -> Campaign:
    """``campaign`` (a built-in kind's) with the settings of its legacy map applied.

    Raises pydantic's ValidationError, or a CampaignError, when the map's settings do not
    validate as the campaign's kind reads them.
    """
    base = CampaignSettings.model_validate({k: v for k, v in legacy.items() if k in BASE_SETTINGS})
    thresholds = {k: v for k, v in legacy.items() if k not in BASE_SETTINGS}
    status = CampaignStatus.DRAFT
    if base.enabled:
        status = CampaignStatus.RUNNING
    if base.paused:
        status = CampaignStatus.PAUSED
    if base.cancelled:
        status = CampaignStatus.CANCELLED
    template = message_template(base.template or settings_model(campaign.kind).default_template)
    update: dict[str, Any] = {
        "status": status,
        "status_reason": base.paused_reason,
        "updated_at": now,
        "send_window": LocalWindow(
            start=_local_time(base.send_window.start), end=_local_time(base.send_window.end)
        ),
        "recurrence": Recurrence(frequency="daily", hour=base.run_hour),
        "throttle_config": campaign.throttle_config.model_copy(
            update={"timezone_per_contact": base.timezone_per_contact}
        ),
        "templates": [template.model_copy(update={"variable_values": base.template_values})],
        "voucher": base.voucher,
        "thresholds": {**campaign.thresholds, **thresholds},
    }
    if status == CampaignStatus.PAUSED and campaign.status != CampaignStatus.PAUSED:
        update["paused_at"] = now
    result = Campaign.model_validate({**campaign.model_dump(), **update})
    result.pipeline  # noqa: B018  # the kind refuses its thresholds: raises here, stores nothing
    return result


def _local_time(moment: time) -> str:
    return (
        moment.strftime("%H:%M")
        if moment == moment.replace(second=0, microsecond=0)
        else (moment.isoformat())
    )


def tenant_ids(client: firestore.Client) -> list[str]:
    """Every tenant document's id (the ``users`` collection's)."""
    with translated("Firestore"):
        return sorted(reference.id for reference in client.collection("users").list_documents())


def migrate_tenant(client: firestore.Client, cnpj: Cnpj, *, now: datetime) -> TenantMigration:
    """Migrate every map of the tenant document ``users/{cnpj}``, one transaction each."""
    report = TenantMigration(cnpj.value)
    tenant = client.document("users", cnpj.value)
    with translated("Firestore"):
        snapshot = tenant.get([LEGACY_FIELD])
    legacy = (snapshot.to_dict() or {}).get(LEGACY_FIELD) if snapshot.exists else None
    for campaign_id in sorted(legacy or {}):
        outcome, reason = migrate_campaign(client, cnpj, campaign_id, now=now)
        if outcome == "kept":
            report.kept[campaign_id] = reason
        elif outcome == "adopted":
            report.adopted.append(campaign_id)
        elif outcome == "dropped":
            report.dropped.append(campaign_id)
    if legacy is not None and report.done:
        _drop_empty_field(client, tenant)
    return report


def migrate_campaign(
    client: firestore.Client, cnpj: Cnpj, campaign_id: str, *, now: datetime
) -> tuple[str, str]:
    """Migrate one map in one transaction: ("adopted" | "dropped" | "kept" | "gone", why it
    was kept); "gone": there was no map (migrated already)."""
    tenant = client.document("users", cnpj.value)
    record = client.document("users", cnpj.value, "campaigns", campaign_id)
    path = FieldPath(LEGACY_FIELD, campaign_id).to_api_repr()

    def body(transaction: firestore.Transaction) -> tuple[str, str]:
        legacy = (tenant.get([path], transaction=transaction).to_dict() or {}).get(LEGACY_FIELD, {})
        settings = legacy.get(campaign_id)
        if settings is None:
            return "gone", ""  # migrated meanwhile
        if not isinstance(settings, dict):
            return "kept", "not a map"
        snapshot = record.get(transaction=transaction)
        stored = read_campaign(snapshot)
        stored_fields = (snapshot.to_dict() or {}) if snapshot.exists else {}
        if kind_of(campaign_id) == SEGMENT:
            if stored is None:
                return "kept", "an API campaign's map without its campaign document"
            campaign = stored
        elif campaign_id not in BUILT_IN_KINDS:
            return "kept", "not a campaign id"
        else:
            try:
                campaign = adopted(
                    stored or built_in_campaign(campaign_id, now=now), settings, now=now
                )
            except (pydantic.ValidationError, CampaignError) as error:
                return "kept", _reason(error)
        transaction.update(tenant, {path: firestore.DELETE_FIELD})
        if stored is not None and stored.pipeline == campaign.pipeline:
            # Written again all the same, so that it carries its pipeline settings too.
            transaction.set(record, campaign_document(stored, stored_fields))
            return "dropped", ""
        transaction.set(record, campaign_document(campaign, stored_fields))
        return "adopted", ""

    return run_transaction(client, body, max_attempts=EDIT_ATTEMPTS)


def _drop_empty_field(client: firestore.Client, tenant: firestore.DocumentReference) -> None:
    """The tenant document keeps tenant settings only, once no map is left in it."""

    def body(transaction: firestore.Transaction) -> None:
        fields = tenant.get([LEGACY_FIELD], transaction=transaction).to_dict() or {}
        if LEGACY_FIELD in fields and not fields[LEGACY_FIELD]:
            transaction.update(tenant, {LEGACY_FIELD: firestore.DELETE_FIELD})

    run_transaction(client, body, max_attempts=EDIT_ATTEMPTS)


def _reason(error: Exception) -> str:
    """Which settings do not validate, never their values (a map may hold anything)."""
    if isinstance(error, pydantic.ValidationError):
        fields = {".".join(str(p) for p in e["loc"]) or "?" for e in error.errors()}
        return "settings do not validate: " + ", ".join(sorted(fields))
    return f"settings do not validate: {str(error)[:200]}"
