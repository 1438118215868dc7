"""The narrow interfaces the services need. Adapters implement them; tests use fakes.

Each port speaks domain types only, so a service never sees a Google SDK object and the
same service code runs against the emulators, production, and the in-memory fakes that
enforce production rules the emulators do not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from shared.domain.alerts import Alert
from shared.domain.approved_templates import ApprovedTemplate
from shared.domain.audit import AuditFilter, AuditRecord
from shared.domain.campaign import Campaign
from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.campaign_settings import CampaignSettings
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.pacing import Planner, ShardState
from shared.domain.runs import CampaignOutcome, RunStatus
from shared.domain.sending_number import NumberLimits
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.domain.tracked_links import LinkRef
from shared.domain.vouchers import Voucher, VoucherConfig
from shared.whatsapp.outcomes import SendResult

QueryValue = str | int | float | bool | date | datetime | list[str] | list[float]
"""A BigQuery named parameter's value; its BigQuery type follows from the Python type.

A list is an ARRAY<FLOAT64> when it is non-empty and holds only numbers, else ARRAY<STRING>.
"""

MAX_BATCH_WRITES = 500
"""Firestore's production limit on writes per batch (the emulator accepts more)."""


class BatchTooLarge(ValueError):
    """More than :data:`MAX_BATCH_WRITES` writes in one call: what production Firestore refuses
    (INVALID_ARGUMENT), refused before it is sent by every store and fake alike."""


class Warehouse(Protocol):
    def query(self, sql: str, params: Mapping[str, QueryValue]) -> Iterable[Mapping[str, Any]]:
        """Run a parameterised query and stream its rows as mappings."""
        ...

    def run_ddl(self, sql: str) -> None: ...

    def ensure_dataset(self, name: str) -> None: ...

    def replace_table(self, dataset: str, table: str, path: str, file_format: str) -> int:
        """Replace a table's content with a CSV (header row) or NDJSON file; rows loaded."""
        ...

    def column_types(self, dataset: str, table: str) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class BatchResult:
    created: int
    already_present: int


class TargetStore(Protocol):
    def create_batch(self, cnpj: Cnpj, targets: Sequence[Target]) -> BatchResult:
        """Create targets that do not exist yet, atomically per call, never overwriting.

        At most :data:`MAX_BATCH_WRITES` targets per call; one campaign type per call.
        """
        ...

    def customers_with_targets_since(
        self, cnpj: Cnpj, campaign_id: str, period_key: str
    ) -> set[str]:
        """Customer ids of targets whose period key is ``>= period_key`` (rolling periods)."""
        ...


class DeliveryOutlook(Protocol):
    """Read-only: what a forecast needs to run the planner without planning anything."""

    def waiting(self, cnpj: Cnpj, campaign_id: str) -> list[TargetRecord]:
        """The campaign's PENDING and QUEUED targets."""
        ...

    def pacing(self, cnpj: Cnpj, shards: int) -> dict[int, ShardState]:
        """The tenant's pacing shard states now (a shard with none is left out)."""
        ...

    def campaign_pacing(self, cnpj: Cnpj, campaign_id: str, shards: int) -> dict[int, ShardState]:
        """A campaign's own pacing shard states now, as :meth:`pacing` (a campaign that sets
        a pace of its own counts its hours and days there)."""
        ...


class VoucherIssuer(Protocol):
    def issue_many(
        self,
        cnpj: Cnpj,
        campaign_id: str,
        target_paths: Sequence[str],
        config: VoucherConfig,
        issued_at: datetime,
        *,
        timezone: str,
    ) -> list[Voucher]:
        """One new, never-used code per target path, in the same order; ``timezone`` is the
        tenant's, in which the last valid day is counted."""
        ...


CampaignChange = Callable[[Campaign | None], Campaign]
"""The stored campaign, or None when there is none -> the campaign to store."""


class CampaignRepository(Protocol):
    """Campaign records, ``users/{cnpj}/campaigns/{id}``: the one place a campaign lives.

    Every write stores the campaign's pipeline settings beside its fields (derived by
    :func:`shared.domain.campaign.pipeline_settings`). A stored campaign that does not
    validate raises :class:`~shared.domain.errors.CorruptDocument`.
    """

    def get(self, cnpj: Cnpj, campaign_id: str) -> Campaign | None: ...

    def get_many(self, cnpj: Cnpj, campaign_ids: list[str]) -> dict[str, Campaign]: ...

    def page(
        self,
        cnpj: Cnpj,
        *,
        equals: dict[str, str],
        created_from: datetime | None,
        created_until: datetime | None,
        order_by: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[Campaign]:
        """One page (fields and order whitelisted by the caller)."""
        ...

    def live(self, cnpj: Cnpj) -> list[str]:
        """Ids of the tenant's scheduled and running API campaigns, in order: what the hourly
        tick looks at (each is then read, and fails, on its own)."""
        ...

    def mutate(
        self, cnpj: Cnpj, campaign_id: str, change: CampaignChange
    ) -> tuple[Campaign | None, Campaign]:
        """Store ``change(stored)`` in one transaction (``change`` may run again on
        contention; a raise in it stores nothing); (before, after)."""
        ...

    def pause(self, cnpj: Cnpj, campaign_id: str, reason: str) -> None:
        """Pause the campaign with ``reason`` (WhatsApp refused its messages): its queued
        messages wait. A built-in kind without a record gets one, paused."""
        ...

    def has_open_targets(self, cnpj: Cnpj, campaign_id: str) -> bool: ...

    def opted_out_phones(self, cnpj: Cnpj) -> list[str]: ...


class TenantRepository(Protocol):
    def get(self, cnpj: Cnpj) -> Tenant | None: ...

    def list_active(self) -> list[Tenant]: ...

    def of_number(self, phone_number_id: str, *, include_unset: bool) -> list[Tenant]:
        """Every tenant, active or not, whose ``delivery.phone_number_id`` is this one (and,
        ``include_unset``, those that set none: they send from the installation's default)."""
        ...

    def save(self, tenant: Tenant) -> None: ...


class SendingNumberBook(Protocol):
    """The limits an operator set per WhatsApp number (Meta's defaults for any other)."""

    def limits(self, phone_number_id: str) -> NumberLimits: ...

    def set_limits(self, phone_number_id: str, limits: NumberLimits) -> None: ...


class MediaLibrary(Protocol):
    """The header media a tenant uploaded to WhatsApp: ``users/{cnpj}/media/{id}``."""

    def record(self, cnpj: Cnpj, media_id: str, fields: Mapping[str, Any]) -> None: ...

    def uploaded_at(self, cnpj: Cnpj, media_ids: Sequence[str]) -> dict[str, datetime]:
        """When each of these ids was uploaded by this tenant (ids it never uploaded: absent)."""
        ...


class TemplateCatalogue(Protocol):
    """A tenant's approved WhatsApp templates: ``users/{cnpj}/templates/{name}@{language}``."""

    def list(self, cnpj: Cnpj) -> list[ApprovedTemplate]: ...

    def add_missing(self, cnpj: Cnpj, templates: Sequence[ApprovedTemplate]) -> int:
        """Create the templates not stored yet, never overwriting one; how many were created."""
        ...

    def store(self, cnpj: Cnpj, templates: Sequence[ApprovedTemplate]) -> None:
        """Write these templates whole (a sync's result), overwriting what is stored."""
        ...


class AlertLog(Protocol):
    """A tenant's alerts (:mod:`shared.domain.alerts`): ``users/{cnpj}/alerts/{id}``."""

    def record(self, cnpj: Cnpj, alert: Alert) -> bool:
        """Create-only: an alert already there (a redelivered event) is kept as it is (False)."""
        ...

    def recent(self, cnpj: Cnpj, limit: int) -> list[Alert]:
        """The most recent alerts, dismissed or not, newest first."""
        ...

    def dismiss(self, cnpj: Cnpj, alert_id: str, by: str, at: datetime) -> bool:
        """Mark it dismissed; False when the tenant has no such alert."""
        ...


@dataclass(frozen=True, slots=True)
class SyncState:
    """A tenant's last scheduled template sync (:mod:`shared.services.template_schedule`)."""

    attempted_at: datetime
    succeeded: bool
    """False until it finished well (a claim not finished counts as failed)."""


class TemplateSyncSchedule(Protocol):
    """``users/{cnpj}/templateSync/schedule``: when the tenant's library was last synced."""

    def read(self, cnpj: Cnpj) -> SyncState | None: ...

    def claim(self, cnpj: Cnpj, seen: SyncState | None, now: datetime) -> bool:
        """Record an attempt at ``now`` only if the state is still ``seen`` (compare-and-set):
        False when another job claimed it meanwhile."""
        ...

    def finish(self, cnpj: Cnpj, attempted_at: datetime, error: str) -> None:
        """The attempt's outcome ("" = it succeeded)."""
        ...


class TemplateSource(Protocol):
    """Meta's ``message_templates`` of a WhatsApp Business account, raw entries."""

    def list_templates(self, waba_id: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class CampaignMarker:
    """The last local date a campaign completed for a tenant, and which run did it."""

    local_date: str
    run_id: str


class RunLedger(Protocol):
    def begin(self, cnpj: Cnpj, run_id: str, info: Mapping[str, Any]) -> RunStatus | None:
        """Mark a run RUNNING unless it exists already; returns the status it had, if any."""
        ...

    def record(self, cnpj: Cnpj, run_id: str, outcome: CampaignOutcome) -> None: ...

    def finish(
        self, cnpj: Cnpj, run_id: str, status: RunStatus, duration_ms: int, error: str = ""
    ) -> None: ...

    def outcome(self, cnpj: Cnpj, run_id: str, campaign_id: str) -> CampaignOutcome | None: ...

    def marker(self, cnpj: Cnpj, campaign_id: str) -> CampaignMarker | None: ...

    def mark_done(self, cnpj: Cnpj, campaign_id: str, marker: CampaignMarker) -> None: ...


class RunHistory(Protocol):
    """Run documents as the API lists them (see :class:`RunLedger` for how they are written)."""

    def page(
        self, cnpj: Cnpj, *, local_date: str | None, after: str | None, limit: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
        """(run id, document) newest first, and the id to continue from (None: last page);
        an unknown ``after`` raises KeyError."""
        ...


class RecipientList(Protocol):
    def page(
        self, cnpj: Cnpj, campaign_id: str, *, status: str | None, after: str | None, limit: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
        """A campaign's targets as (id, document) in id order, and the id to continue from."""
        ...


class AuditTrail(Protocol):
    """The tenant's append-only record of writes: ``users/{cnpj}/audit/{id}``."""

    def append(
        self,
        cnpj: Cnpj,
        *,
        subject: str,
        role: str,
        action: str,
        resource: str,
        before: Any,
        after: Any,
    ) -> str:
        """Store one entry (``before``/``after`` must be JSON-safe); returns its id."""
        ...

    def page(
        self, cnpj: Cnpj, where: AuditFilter, size: int, after_id: str | None = None
    ) -> tuple[list[AuditRecord], str | None]:
        """Newest first, after the entry ``after_id``; the id to continue from (None: last
        page). An ``after_id`` that is not one of this tenant's entries raises KeyError."""
        ...

    def entries(
        self, cnpj: Cnpj, action: str, since: datetime, limit: int
    ) -> list[tuple[datetime, Any]]:
        """The latest entries of one action at or after ``since``: (when, what it recorded)."""
        ...


class TickLog(Protocol):
    def record_fanout(self, tick_id: str, info: Mapping[str, Any]) -> None:
        """Remember which tenants a tick fanned out to, so callers know which runs to await."""
        ...


class Publisher(Protocol):
    def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        """Publish a JSON message and wait until the broker accepted it; its message id."""
        ...


# -- delivery ------------------------------------------------------------------------------


class Claim(StrEnum):
    CLAIMED = "CLAIMED"
    NOT_CLAIMABLE = "NOT_CLAIMABLE"
    """Already claimed, sent or final, or the task is of an older generation: do nothing."""
    OPTED_OUT = "OPTED_OUT"
    """The opt-out ledger has the phone: the target was SKIPPED in the same transaction."""
    CAPPED = "CAPPED"
    """Another marketing message reached this phone within the frequency cap: defer."""


@dataclass(frozen=True, slots=True)
class ClaimResult:
    outcome: Claim
    record: TargetRecord | None
    capped_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A workflow transition written by our own code (receipts have their own method)."""

    status: Status
    wamid: str | None = None
    error_code: int | None = None
    error_reason: str | None = None
    settled: bool | None = None


@dataclass(frozen=True, slots=True)
class Yielding:
    """Who gives up a planned slot to a target that has none before its send-by: the queued
    targets of these campaigns (of a lower priority, most yielding first), each planned again
    by its own campaign's planner (see :mod:`shared.domain.send_by`). The campaigns are only
    looked up when a slot is missing: most targets find one and read nothing more. A campaign
    with a pace of its own is planned again by that pace (:class:`CampaignPlanner`).

    ``campaign_ids`` may be up to a minute old (:mod:`shared.services.yield_orders`);
    ``refreshed`` reads them again and gives those ``campaign_ids`` did not, or nothing when
    ``campaign_ids`` was read in this step: the store asks for it before it expires a target."""

    campaign_ids: Callable[[], Sequence[str]]
    planner_for: Callable[[TargetRecord], Planner | CampaignPlanner]
    refreshed: Callable[[], Sequence[str]] = tuple


@dataclass(frozen=True, slots=True)
class Queued:
    """What :meth:`DeliveryStore.queue` did: the target afterwards, and the target that yielded
    its slot to it (QUEUED again later with a new task generation, or EXPIRED), if one did."""

    record: TargetRecord | None
    displaced: TargetRecord | None = None


class DeliveryStore(Protocol):
    """Target documents, the pacing shards, the opt-out ledger and the frequency ledger.

    Every method is one transaction, so concurrent deliveries of the same event, task or
    webhook serialise on the target document and exactly one of them changes it.
    """

    def load(self, ref: TargetRef) -> TargetRecord | None: ...

    def queue(
        self,
        ref: TargetRef,
        planner: Planner | CampaignPlanner,
        earliest: datetime,
        allowed: frozenset[Status],
        now: datetime,
        generation: int | None = None,
        yielding: Yielding | None = None,
    ) -> Queued:
        """Plan a slot and mark the target QUEUED (new task generation), if its status allows.

        A target with no slot before its send-by takes the slot of a ``yielding`` target, or
        else is EXPIRED. The record is as it is afterwards (unchanged when the status did not
        allow the step; None when the target does not exist).
        """
        ...

    def claim(
        self,
        ref: TargetRef,
        generation: int,
        now: datetime,
        lease_until: datetime,
        cap_hours: int,
        bsuid: str = "",
    ) -> ClaimResult:
        """Claim the target for one send, unless the opt-out ledger holds its phone, its
        ``bsuid`` or the one it carries (read in the claim's transaction), or the cap defers it."""
        ...

    def transition(
        self,
        ref: TargetRef,
        expect: frozenset[Status],
        send_no: int | None,
        change: Change,
        now: datetime,
    ) -> TargetRecord | None:
        """Apply ``change`` if the status is in ``expect`` (and the send is ``send_no``)."""
        ...

    def park(
        self, ref: TargetRef, generation: int, until: datetime, now: datetime
    ) -> TargetRecord | None:
        """Keep a QUEUED target of a paused campaign until ``until`` with no send slot: a new
        task generation, and nothing counted in any pacing document (a paused campaign that
        took a slot at every recheck would spend the tenant's daily cap on messages that do not
        go). None unless the target is QUEUED with task ``generation``."""
        ...

    def apply_receipt(
        self,
        ref: TargetRef,
        send_no: int,
        receipt: str,
        at: str,
        error_code: int | None,
        error_reason: str,
        now: datetime,
        wamid: str = "",
    ) -> TargetRecord | None:
        """Merge a WhatsApp status into the target: forward-only by rank, duplicate-safe.

        ``wamid`` (the status's ``id``) is kept when the target has none (a send that got no
        answer); reaching DELIVERED or READ clears any error. None when the target does not
        exist or the receipt is of an older send.
        """
        ...

    def record_opt_out(
        self, cnpj: Cnpj, phone: str, at: datetime, source: str, message_id: str, bsuid: str = ""
    ) -> bool:
        """Record an opt-out event of the person (phone and/or ``bsuid``) in the tenant's consent
        ledger (LGPD evidence); False if that event was there already."""
        ...

    def is_opted_out(self, cnpj: Cnpj, phone: str) -> bool: ...

    def last_send(self, cnpj: Cnpj, key: str) -> tuple[TargetRef, datetime] | None:
        """The target last claimed for sending to this phone or BSUID, and when (the frequency
        ledger, kept for :data:`~shared.domain.tenant.MAX_FREQUENCY_CAP`)."""
        ...

    def record_click(
        self, cnpj: Cnpj, message_id: str, phone: str, payload: str, at: datetime, wamid: str
    ) -> None:
        """A quick-reply button press, keyed by the inbound message id (duplicate-safe)."""
        ...

    def overdue(self, status: Status, before: datetime, limit: int) -> list[TargetRecord]:
        """Targets of every tenant in ``status`` whose clock for that status ran out.

        The clock is the field that says the step should have happened: PENDING ``updatedAt``,
        QUEUED ``plannedAt``, SENDING ``leaseUntil``, unsettled UNKNOWN ``updatedAt``.
        """
        ...


@dataclass(frozen=True, slots=True)
class TaskRequest:
    queue: str
    """The queue's id (``whatsapp-<cnpj>``), not its full path."""
    task_id: str
    url: str
    payload: Mapping[str, Any]
    schedule_at: datetime


class TaskQueue(Protocol):
    def create(self, task: TaskRequest) -> bool:
        """Create the task; False if a task of that name exists or ran recently (not an error)."""
        ...

    def ensure_queue(self, queue: str) -> None:
        """Create the queue if missing (tenant registration; Terraform does it in the cloud)."""
        ...


class MessageSender(Protocol):
    def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult: ...


class IdentityLinks(Protocol):
    """Phone <-> BSUID pairs per sending number (``phone_number_id``): what webhooks showed.

    A BSUID is unique per business portfolio, and every tenant on one number shares its
    portfolio, so the number scopes a pair. One phone has one BSUID and one BSUID one phone:
    a newer pair replaces the older one on both sides, an older pair arriving late (a
    reordered webhook) changes nothing. Phones are E.164, BSUIDs validated
    (:mod:`shared.domain.identity`).
    """

    def link(self, number: str, phone: str, bsuid: str, at: datetime, source: str) -> bool:
        """Record that ``phone`` and ``bsuid`` were one person at ``at`` (``source``: which
        webhook said so); False when nothing changed (a duplicate, or older than what is known)."""
        ...

    def bsuid_of(self, number: str, phone: str) -> str | None: ...

    def phone_of(self, number: str, bsuid: str) -> str | None: ...

    def unlink(self, number: str, phone: str, bsuid: str) -> bool:
        """Forget that ``phone`` and ``bsuid`` are one person (an LGPD erasure): each side that
        still names the other is deleted; False when they were not paired."""
        ...


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One row of ``{CNPJ}_CAMPAIGN.message_history``: one state change of one target."""

    event_id: str
    """``<target path>#<version>``: a retried append of the same change has the same id."""
    user_id: str
    campaign_kind: str
    campaign_id: str
    target_id: str
    sent_at: datetime
    """When the change happened (the seed's column name, kept for its queries)."""
    status: str
    phone: str
    template: str = ""
    variant: str = ""
    wamid: str = ""
    error_code: int | None = None
    error_reason: str = ""
    attempt: int = 0
    message_content: str = ""
    period: str = ""
    """The target's period key: one occurrence of a recurrent campaign (analytics group on it)."""
    voucher_code: str = ""
    ab_group: str = ""
    """A/B tests: ``test`` or ``rollout`` (only the test group measures the variants)."""

    @classmethod
    def engagement(
        cls, event_id: str, at: datetime, status: str, phone: str, wamid: str, content: str = ""
    ) -> HistoryRow:
        """A customer's answer to a message (a button click, a link tap, a reply): not a state
        change of a target, so it names none; it belongs to the target whose history has
        ``wamid`` (``sql/analytics/campaign_metrics.sql`` joins on it)."""
        return cls(
            event_id=event_id,
            user_id="",
            campaign_kind="",
            campaign_id="",
            target_id="",
            sent_at=at,
            status=status,
            phone=phone,
            wamid=wamid,
            message_content=content,
        )


class HistoryLog(Protocol):
    def append(self, cnpj: Cnpj, rows: Sequence[HistoryRow]) -> None:
        """Append-only (production forbids DML on freshly streamed rows); retry-safe by event id."""
        ...


@dataclass(frozen=True, slots=True)
class LinkLookup:
    """What following one tracked link needs, read together: the target, its campaign's
    pipeline settings (None: the kind's defaults) and whether the click is already recorded."""

    record: TargetRecord | None
    settings: CampaignSettings | None
    clicked: bool


class LinkClickLedger(Protocol):
    """One click record per (target, link) (:mod:`shared.services.link_clicks`)."""

    def lookup(self, link: LinkRef, with_campaign: bool = True) -> LinkLookup:
        """One round trip for the target, its campaign and the click record (without the
        campaign: its settings None, as recording a click needs)."""
        ...

    def campaign_values(self, cnpj: Cnpj, campaign_id: str) -> dict[str, str] | None:
        """The campaign's template values by parameter name (a built-in kind not stored yet:
        its defaults), or None when there is no such campaign: one document read."""
        ...

    def record(self, click: LinkClick) -> bool:
        """Create-only, marked not yet in the history: a second record of the same link keeps
        the first (False)."""
        ...

    def mark_appended(self, link: LinkRef) -> None:
        """Its history row is appended: the sweeper leaves it alone."""
        ...

    def unappended(self, before: datetime, limit: int) -> list[LinkClick]:
        """Clicks recorded before ``before`` whose history row is not known to be appended,
        every tenant's (the sweeper's query)."""
        ...


@dataclass(frozen=True, slots=True)
class LinkClick:
    """A person's first click on one link, with what its history row needs."""

    link: LinkRef
    at: datetime
    phone: str
    wamid: str
