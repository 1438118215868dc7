"""What every delivery step shares: its ports, the campaign's settings, tasks and history.

Enqueue, send, webhook and sweeper are separate functions in production, but they must agree
on how a target's planner is built, how it is queued, how its task is named, what its history
row says and what a campaign-breaking WhatsApp error does; that agreement lives here once.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared import logs
from shared.clock import Clock
from shared.domain.calendar import zone
from shared.domain.campaign import Campaign
from shared.domain.campaign_ids import BUILT_IN_KINDS, kind_of
from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.campaign_settings import CampaignSettings, TemplateRef, settings_model
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.errors import PermanentError
from shared.domain.pacing import Planner
from shared.domain.retry import PAUSE_RECHECK
from shared.domain.send_by import default_priority, lower_ranks
from shared.domain.tenant import Tenant
from shared.domain.tracked_links import LinkSigner
from shared.manifest import send_queue
from shared.ports import (
    AlertLog,
    CampaignChange,
    CampaignRepository,
    DeliveryStore,
    HistoryLog,
    HistoryRow,
    IdentityLinks,
    MessageSender,
    TaskQueue,
    TaskRequest,
    TemplateCatalogue,
    TenantRepository,
    Yielding,
)
from shared.services.consent import ConsentLedger, ConsentPorts
from shared.services.number_shares import NumberShares
from shared.services.yield_orders import Ranking, YieldOrders

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryPorts:
    tenants: TenantRepository
    campaigns: CampaignRepository
    store: DeliveryStore
    tasks: TaskQueue
    sender: MessageSender
    history: HistoryLog
    identities: IdentityLinks
    """Phone <-> BSUID pairs per sending number (webhooks record them, sends and opt-outs read)."""
    consent: ConsentLedger
    """Opt-out and opt-in evidence, and the state the claim reads (see
    :mod:`shared.services.consent`)."""
    clock: Clock
    send_url: str
    """Where Cloud Tasks deliver: the ``send_message`` function's URL."""
    numbers: NumberShares
    """Each tenant's share of its sending number: every plan is made within it."""
    yield_orders: YieldOrders
    """Which campaigns give way to an urgent target, kept a minute per process."""
    default_phone_number_id: str = ""
    links: LinkSigner | None = None
    """Signs tracked links at send time (:mod:`shared.domain.tracked_links`); None: untracked."""
    templates: TemplateCatalogue | None = None
    """The tenants' template catalogues (template status webhooks); None: such events ignored."""
    default_business_account_id: str = ""
    alerts: AlertLog | None = None
    """The tenants' alerts (template events record them); None: none recorded."""


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

    def of_number(self, phone_number_id: str, *, include_unset: bool) -> list[Tenant]:
        return self._inner.of_number(phone_number_id, include_unset=include_unset)

    def save(self, tenant: Tenant) -> None:
        self._inner.save(tenant)
        self._forget()

    def _forget(self) -> None:
        self._get.cache_clear()
        self._active = None


class _BatchCampaigns:
    """Campaign reads memoised for one batch of work, as :class:`_BatchTenants` does tenants:
    a webhook POST with many statuses of one campaign reads its record once, and a target
    that takes a lower priority's slot reads the tenant's campaigns in one round trip. A write
    through this wrapper (a WhatsApp pause) forgets what it read, so the next target sees the
    pause."""

    def __init__(self, inner: CampaignRepository) -> None:
        self._inner = inner
        self._read: dict[tuple[Cnpj, str], Campaign | None] = {}

    def get(self, cnpj: Cnpj, campaign_id: str) -> Campaign | None:
        key = (cnpj, campaign_id)
        if key not in self._read:
            self._read[key] = self._inner.get(cnpj, campaign_id)
        return self._read[key]

    def get_many(self, cnpj: Cnpj, campaign_ids: list[str]) -> dict[str, Campaign]:
        missing = [cid for cid in dict.fromkeys(campaign_ids) if (cnpj, cid) not in self._read]
        if missing:
            found = self._inner.get_many(cnpj, missing)
            for campaign_id in missing:
                self._read[(cnpj, campaign_id)] = found.get(campaign_id)
        return {
            cid: campaign
            for cid in campaign_ids
            if (campaign := self._read[(cnpj, cid)]) is not None
        }

    def page(self, cnpj: Cnpj, **query: Any) -> list[Campaign]:
        return self._inner.page(cnpj, **query)

    def live(self, cnpj: Cnpj) -> list[str]:
        return self._inner.live(cnpj)

    def mutate(
        self, cnpj: Cnpj, campaign_id: str, change: CampaignChange
    ) -> tuple[Campaign | None, Campaign]:
        try:
            return self._inner.mutate(cnpj, campaign_id, change)
        finally:
            self._read.clear()

    def pause(self, cnpj: Cnpj, campaign_id: str, reason: str) -> None:
        try:
            self._inner.pause(cnpj, campaign_id, reason)
        finally:
            self._read.clear()

    def has_open_targets(self, cnpj: Cnpj, campaign_id: str) -> bool:
        return self._inner.has_open_targets(cnpj, campaign_id)

    def opted_out_phones(self, cnpj: Cnpj) -> list[str]:
        return self._inner.opted_out_phones(cnpj)


def consent_ports(ports: DeliveryPorts) -> ConsentPorts:
    """The consent ledger's ports within delivery's (who sends from a number, its links)."""
    return ConsentPorts(
        ports.consent, ports.tenants, ports.identities, ports.default_phone_number_id
    )


def for_one_batch(ports: DeliveryPorts) -> DeliveryPorts:
    """The same ports, reading each tenant and each campaign at most once."""
    return replace(
        ports, tenants=_BatchTenants(ports.tenants), campaigns=_BatchCampaigns(ports.campaigns)
    )


@dataclass(frozen=True, slots=True)
class CampaignDelivery:
    """A tenant's delivery settings for one campaign, resolved once per step."""

    tenant: Tenant
    settings: CampaignSettings

    @property
    def template(self) -> TemplateRef:
        return self.settings.sent_template

    @property
    def paused(self) -> bool:
        return self.tenant.delivery.paused or self.settings.paused

    def template_for(self, record: TargetRecord) -> TemplateRef:
        """The A/B variant's template when the target has one, else the campaign's."""
        variant = str(record.data.get("variant", ""))
        return self.settings.variant_templates.get(variant, self.template)

    def planner(self, record: TargetRecord) -> Planner | CampaignPlanner:
        """The campaign's own pace on the tenant's slots when it sets one, else the tenant's."""
        tenant_planner = self.tenant_planner(record)
        if self.settings.campaign_throttle is None:
            return tenant_planner
        return CampaignPlanner(tenant_planner, self.settings.campaign_throttle)

    def tenant_planner(self, record: TargetRecord) -> Planner:
        """The tenant's pace in the contact's window (the campaign's own pace aside)."""
        tenant_zone = zone(self.tenant.timezone)
        contact_zone = tenant_zone
        if record.timezone and self.settings.timezone_per_contact:
            try:
                contact_zone = zone(record.timezone)
            except ValueError:
                logs.log(
                    _log, logging.WARNING, "bad contact time zone ignored", target=record.ref.path
                )
        return Planner(
            self.tenant.delivery.throttle, self.settings.send_window, contact_zone, tenant_zone
        )


def campaign_delivery(ports: DeliveryPorts, tenant: Tenant, campaign_id: str) -> CampaignDelivery:
    """Built-in kinds and API campaigns alike: the pipeline settings of the campaign's record.
    A built-in kind the tenant has no record of (registered before campaigns were records)
    sends with its kind's defaults, as its processor targets with them. The tenant's pace is
    its share of its sending number's (:mod:`shared.services.number_shares`)."""
    tenant = ports.numbers.applied(tenant)
    campaign = ports.campaigns.get(tenant.id, campaign_id)
    if campaign is not None:
        return CampaignDelivery(tenant, campaign.pipeline)
    if campaign_id in BUILT_IN_KINDS:
        return CampaignDelivery(tenant, settings_model(campaign_id)())
    raise PermanentError(f"no campaign {campaign_id[:60]!r} for tenant {tenant.cnpj}")


def queue_send(
    ports: DeliveryPorts, record: TargetRecord, delivery: CampaignDelivery, earliest: datetime
) -> Status | None:
    """Plan ``record``'s next send no earlier than ``earliest``, record it, ask for its task.

    The one way a target is queued: its first plan (enqueue), a paused campaign, the frequency
    cap or a retryable answer (send), the marketing limit in a ``failed`` webhook, and a lost
    task (sweeper). The plan is written only while the target is as the caller read it (same
    status, same task generation), so of two steps racing on one target at most one plans it.
    Whenever the target is QUEUED afterwards, by this call or by the racer, its history row and
    its task are asked for again: both are idempotent (the row's event id, the task's name),
    and a racer that crashed between its plan and its task thereby loses nothing.

    A target with no slot before its send-by takes one from a queued target of a lower
    priority (:func:`yielding_to`), whose history row and new task follow here too (a crash
    before its task leaves it QUEUED with a past slot: the sweeper re-plans it); with none to
    take, it ends EXPIRED, never sent late.

    The target's status afterwards (None: it does not exist); QUEUED means its task exists.
    """
    queued = ports.store.queue(
        record.ref,
        delivery.planner(record),
        earliest,
        frozenset({record.status}),
        ports.clock(),
        record.task_generation,
        yielding_to(ports, delivery, record),
    )
    if queued.displaced is not None:
        displaced = queued.displaced
        displaced_delivery = _ranked_delivery(ports, delivery.tenant, displaced.ref.campaign_id)
        record_change(ports, displaced, displaced_delivery)
        if displaced.status is Status.QUEUED:
            schedule_send(ports, displaced)
    after = queued.record
    if after is None or after.status is not Status.QUEUED:
        if after is not None and after.status is Status.EXPIRED:
            record_change(ports, after, delivery)
        return after.status if after else None
    record_change(ports, after, delivery)
    schedule_send(ports, after)
    return Status.QUEUED


def yielding_to(
    ports: DeliveryPorts, delivery: CampaignDelivery, record: TargetRecord
) -> Yielding | None:
    """The tenant's campaigns whose queued targets give way to ``record``: built-in kinds and
    live API campaigns of a lower priority than its own, the lowest first. None when nothing
    may yield to it.

    Only a target that has a send-by takes a slot, and only one whose campaign sets no pace
    of its own. Campaigns with a pace of their own (every API campaign by default) give their
    slots away like the others: the displaced target is planned again by its own pace, and the
    store keeps the campaign's pacing documents right (see ``_yield_campaign_paced`` in
    :mod:`shared.adapters.firestore_delivery`); otherwise an API campaign's backlog would keep
    a birthday off its day.
    """
    if record.send_by is None or delivery.settings.campaign_throttle is not None:
        return None
    lower = set(lower_ranks(record.priority))
    if not lower:
        return None
    tenant = delivery.tenant
    now = ports.clock()
    read_in_this_step = False

    def read() -> Ranking:
        nonlocal read_in_this_step
        read_in_this_step = True
        return _ranking(ports, tenant)

    def in_order(ranking: Ranking, leaving_out: Sequence[str] = ()) -> tuple[str, ...]:
        ranked = sorted(
            (rank, campaign_id)
            for rank, campaign_id, _ in ranking
            if rank in lower
            and campaign_id != record.ref.campaign_id
            and campaign_id not in leaving_out
        )
        return tuple(campaign_id for _, campaign_id in reversed(ranked))

    @functools.cache
    def campaign_ids() -> tuple[str, ...]:
        return in_order(ports.yield_orders.ranking(tenant.id, now, read))

    def refreshed() -> tuple[str, ...]:
        if read_in_this_step:
            return ()
        return in_order(ports.yield_orders.refresh(tenant.id, now, read), campaign_ids())

    def planner_for(target: TargetRecord) -> Planner | CampaignPlanner:
        return _ranked_delivery(ports, tenant, target.ref.campaign_id).planner(target)

    return Yielding(campaign_ids, planner_for, refreshed)


def _ranked_delivery(ports: DeliveryPorts, tenant: Tenant, campaign_id: str) -> CampaignDelivery:
    """A yielding campaign's delivery settings as the kept ranking has them (no read), else read."""
    for _, ranked_id, settings in ports.yield_orders.kept(tenant.id, ports.clock()) or ():
        if ranked_id == campaign_id:
            return CampaignDelivery(tenant, settings)
    return campaign_delivery(ports, tenant, campaign_id)


def _ranking(ports: DeliveryPorts, tenant: Tenant) -> Ranking:
    """Every campaign of the tenant a target could take a slot from, with its priority."""
    candidates = [*BUILT_IN_KINDS, *ports.campaigns.live(tenant.id)]
    ports.campaigns.get_many(tenant.id, candidates)  # one round trip (memoised per step)
    ranking: list[tuple[int, str, CampaignSettings]] = []
    for campaign_id in candidates:
        other = _delivery_or_none(ports, tenant, campaign_id)
        if other is not None:
            rank = (other.settings.priority or default_priority(kind_of(campaign_id))).rank
            ranking.append((rank, campaign_id, other.settings))
    return tuple(ranking)


def _delivery_or_none(
    ports: DeliveryPorts, tenant: Tenant, campaign_id: str
) -> CampaignDelivery | None:
    try:
        return campaign_delivery(ports, tenant, campaign_id)
    except PermanentError:
        return None


def schedule_send(ports: DeliveryPorts, record: TargetRecord) -> bool:
    """Create the Cloud Task of the record's current generation (False: it exists already)."""
    if record.planned_at is None:
        raise PermanentError(f"{record.ref.path} is queued without a planned time")
    created = ports.tasks.create(
        TaskRequest(
            queue=send_queue(record.ref.cnpj.value),
            task_id=record.ref.task_id(record.task_generation),
            url=ports.send_url,
            payload={"target": record.ref.path, "generation": record.task_generation},
            schedule_at=record.planned_at,
        )
    )
    logs.log(
        _log,
        logging.INFO,
        "target queued" if created else "task already exists",
        target=record.ref.path,
        plannedAt=record.planned_at.isoformat(),
    )
    return created


def record_change(
    ports: DeliveryPorts, record: TargetRecord, delivery: CampaignDelivery | None
) -> None:
    """Append the history row of ``record``'s latest change.

    Every write of a target is followed by this. A step retried after a crash between the two
    appends again: the row's event id is the record's path and version, so readers keep one.
    Without the campaign's settings (a tenant gone or inactive) the row names no template.
    """
    template = delivery.template_for(record).name if delivery is not None else ""
    ports.history.append(record.ref.cnpj, [history_row(record, template, ports.clock())])


def history_row(record: TargetRecord, template: str, at: datetime) -> HistoryRow:
    """The row of the record's latest change; ``at`` only when the record has no write time."""
    return HistoryRow(
        event_id=f"{record.ref.path}#{record.version}",
        user_id=record.customer_id,
        campaign_kind=record.ref.campaign_kind,
        campaign_id=record.ref.campaign_id,
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


def hold_for_template(
    ports: DeliveryPorts,
    record: TargetRecord,
    delivery: CampaignDelivery,
    code: int | None,
    reason: str,
) -> Status | None:
    """Meta refused the message because its template is paused or disabled (learnt from the
    answer of ``/messages`` or a ``failed`` status): nothing went out, and the message is still
    good once the template is approved again. Pause the campaign and plan the message again at
    the pause's recheck, so a resume sends it, once. Its status afterwards."""
    pause_campaign(ports, delivery, record.ref, code, reason)
    return queue_send(ports, record, delivery, ports.clock() + PAUSE_RECHECK)


def pause_campaign(
    ports: DeliveryPorts,
    delivery: CampaignDelivery,
    ref: TargetRef,
    code: int | None,
    reason: str,
) -> None:
    """A broken template or a spam limit fails every following message too: stop and alert.

    Learnt from the answer of ``/messages`` (send) or from a ``failed`` status (webhooks).
    """
    ports.campaigns.pause(ref.cnpj, ref.campaign_id, f"WhatsApp error {code}: {reason}")
    logs.log(
        _log,
        logging.CRITICAL,
        "campaign paused by a WhatsApp error",
        alert="campaign_paused",
        tenant=ref.cnpj.value,
        campaign=ref.campaign_id,
        errorCode=code,
        template=delivery.template.name,
    )
