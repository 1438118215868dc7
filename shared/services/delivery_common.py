"""What every delivery step shares: its ports, the campaign's settings, tasks and history.

Enqueue, send, webhook and sweeper are separate functions in production, but they must agree
on how a target's planner is built, how its task is named and what its history row says;
that agreement lives here once.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from shared import logs
from shared.campaigns import processor_for
from shared.domain.calendar import zone
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord
from shared.domain.errors import PermanentError
from shared.domain.pacing import Planner
from shared.domain.tenant import CampaignSettings, TemplateRef, Tenant
from shared.manifest import send_queue
from shared.ports import (
    DeliveryStore,
    HistoryLog,
    HistoryRow,
    MessageSender,
    TaskQueue,
    TaskRequest,
    TenantRepository,
)

_log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DeliveryPorts:
    tenants: TenantRepository
    store: DeliveryStore
    tasks: TaskQueue
    sender: MessageSender
    history: HistoryLog
    send_url: str
    """Where Cloud Tasks deliver: the ``send_message`` function's URL."""
    default_phone_number_id: str = ""
    clock: Callable[[], datetime] = utc_now


class _BatchTenants:
    """Tenant reads memoised for one batch of work (a sweep, one webhook POST).

    A sweep or a webhook with many statuses would otherwise read the same tenant document
    once per target; its settings do not change meaningfully within one batch, and a write
    through this wrapper forgets what it read.
    """

    def __init__(self, inner: TenantRepository) -> None:
        self._inner = inner
        self._get = functools.cache(inner.get)
        self._active: list[Tenant] | None = None

    def get(self, cnpj: Cnpj) -> Tenant | None:
        return self._get(cnpj)

    def list_active(self) -> list[Tenant]:
        if self._active is None:
            self._active = self._inner.list_active()
        return self._active

    def save(self, tenant: Tenant) -> None:
        self._inner.save(tenant)
        self._forget()

    def pause_campaign(self, cnpj: Cnpj, campaign_type: str, reason: str) -> None:
        self._inner.pause_campaign(cnpj, campaign_type, reason)
        self._forget()

    def _forget(self) -> None:
        self._get.cache_clear()
        self._active = None


def for_one_batch(ports: DeliveryPorts) -> DeliveryPorts:
    """The same ports, reading each tenant at most once (see :class:`_BatchTenants`)."""
    return replace(ports, tenants=_BatchTenants(ports.tenants))


@dataclass(frozen=True, slots=True)
class CampaignDelivery:
    """A tenant's delivery settings for one campaign, resolved once per step."""

    tenant: Tenant
    settings: CampaignSettings
    template: TemplateRef

    @property
    def paused(self) -> bool:
        return self.tenant.delivery.paused or self.settings.paused

    def template_for(self, record: TargetRecord) -> TemplateRef:
        """The A/B variant's template when the target has one, else the campaign's."""
        variant = str(record.data.get("variant", ""))
        return self.settings.variant_templates.get(variant, self.template)

    def planner(self, record: TargetRecord) -> Planner:
        tenant_zone = zone(self.tenant.timezone)
        contact_zone = tenant_zone
        if record.timezone and self.settings.timezone_per_contact:
            try:
                contact_zone = zone(record.timezone)
            except ValueError:
                logs.log(
                    _log, logging.WARNING, "bad contact time zone ignored", target=record.ref.path
                )
        throttle = self.tenant.delivery.throttle
        if self.settings.campaign_throttle is not None:
            throttle = self.settings.campaign_throttle.within(throttle)
        return Planner(throttle, self.settings.send_window, contact_zone, tenant_zone)


def campaign_delivery(tenant: Tenant, campaign_id: str) -> CampaignDelivery:
    """Built-in kinds and API campaigns alike: the settings map of the campaign's id."""
    processor = processor_for(campaign_id)
    if processor is None:
        raise PermanentError(f"unknown campaign {campaign_id!r}")
    settings = processor.settings_model.model_validate(tenant.campaigns.get(campaign_id, {}))
    return CampaignDelivery(tenant, settings, processor.template(settings))


def schedule_send(ports: DeliveryPorts, record: TargetRecord) -> bool:
    """Create the Cloud Task of the record's current generation (False: it exists already)."""
    if record.planned_at is None:
        raise PermanentError(f"{record.ref.path} is queued without a planned time")
    return ports.tasks.create(
        TaskRequest(
            queue=send_queue(record.ref.cnpj.value),
            task_id=record.ref.task_id(record.task_generation),
            url=ports.send_url,
            payload={"target": record.ref.path, "generation": record.task_generation},
            schedule_at=record.planned_at,
        )
    )


def history_row(record: TargetRecord, template: str, at: datetime) -> HistoryRow:
    """The row of the record's latest change; ``at`` only when the record has no write time."""
    return HistoryRow(
        event_id=f"{record.ref.path}#{record.version}",
        user_id=record.customer_id,
        campaign_type=record.ref.campaign_type,
        campaign_id=record.ref.campaign_type,
        target_id=record.ref.target_id,
        sent_at=record.updated_at or at,
        status=record.status.value,
        phone=record.phone,
        template=template,
        variant=str(record.data.get("variant", "")),
        wamid=record.wamid,
        error_code=record.error_code,
        error_reason=record.error_reason,
        attempt=record.attempts,
        message_content=json.dumps(record.data, sort_keys=True, default=str)[:2000],
        period=record.period,
        voucher_code=str(record.data.get("voucherCode", "")),
        ab_group=str(record.data.get("abGroup", "")),
    )
