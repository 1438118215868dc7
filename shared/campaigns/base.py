"""The base processor: the steps every campaign shares (query, filter, build, write, report).

A campaign kind is one subclass, one ``sql/targeting/<kind>.sql`` file and its settings model
(:mod:`shared.domain.campaign_settings`). The subclass says how its dedup period is computed,
which parameters its query needs and what campaign data a target carries; everything else —
phone rules, dedup against pending targets, the 500-write batches, counting — happens here
once for all of them. Subclasses register themselves, so the tenant job picks up a new kind
without another edit. A processor reads its campaign's settings from the campaign record
(:attr:`shared.domain.campaign.Campaign.pipeline`), nothing else.
"""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo

from shared import sqlfiles
from shared.domain.calendar import zone
from shared.domain.campaign import Campaign
from shared.domain.campaign_settings import CampaignSettings
from shared.domain.contacts import contact_id_for
from shared.domain.delivery import TargetRef
from shared.domain.errors import CampaignError, FieldError, PermanentError
from shared.domain.identity import optional_bsuid
from shared.domain.periods import Period
from shared.domain.phones import normalize_br_mobile
from shared.domain.runs import CampaignOutcome, Foresee, OutcomeStatus
from shared.domain.send_by import default_priority, send_by
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.domain.vouchers import VoucherConfig
from shared.ports import MAX_BATCH_WRITES, QueryValue, TargetStore, VoucherIssuer, Warehouse

_REGISTRY: list[type[CampaignProcessor[Any]]] = []
CONTACT_IDS_PER_QUERY = 10_000
"""Contact ids per name look-up: keeps a query's parameters far below BigQuery's limits."""

SettingsT = TypeVar("SettingsT", bound=CampaignSettings)


@dataclass(frozen=True, slots=True)
class RunContext:
    """Everything a processor may know about "now": passed in, never read from a clock."""

    tenant: Tenant
    zone: ZoneInfo
    instant: datetime
    today: date
    run_id: str


class CampaignProcessor(ABC, Generic[SettingsT]):
    kind: ClassVar[str]
    """The campaign kind: a built-in kind, or SEGMENT for API campaigns."""
    names_from_contacts: ClassVar[bool] = True
    """Whether the targets' names are looked up in the imported contacts (contact first).
    A kind whose query reads the ``customer_profile`` view already has them."""
    settings_model: ClassVar[type[CampaignSettings]]
    """What the kind reads of its campaign: the settings every campaign has, and its own."""

    scheduled_daily: ClassVar[bool] = True
    """Built-in kinds run once a day for every tenant; API campaigns follow their own schedule."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not getattr(cls, "__abstractmethods__", None) and cls.scheduled_daily:
            _REGISTRY.append(cls)

    def __init__(
        self, warehouse: Warehouse, store: TargetStore, vouchers: VoucherIssuer | None = None
    ) -> None:
        self._warehouse = warehouse
        self._store = store
        self._vouchers = vouchers

    @property
    def campaign_id(self) -> str:
        """The campaign this processor targets for: a built-in kind is its own campaign."""
        return self.kind

    @property
    def sql_file(self) -> str:
        return f"targeting/{self.kind.lower()}.sql"

    def settings(self, campaign: Campaign | None) -> SettingsT:
        """The campaign's settings as this kind reads them; the kind's defaults when the
        tenant has no record of it (registered before campaigns were records)."""
        settings = campaign.pipeline if campaign is not None else self.settings_model()
        if not isinstance(settings, self.settings_model):
            raise PermanentError(f"campaign {self.campaign_id} is not of kind {self.kind}")
        return settings  # type: ignore[return-value]  # an instance of the kind's model

    @abstractmethod
    def period(self, ctx: RunContext, settings: SettingsT) -> Period:
        """The dedup period today falls in."""

    @abstractmethod
    def parameters(self, ctx: RunContext, settings: SettingsT) -> dict[str, QueryValue]:
        """This campaign's own query parameters (the common ones are added by :meth:`run`)."""

    def not_due_reason(self, ctx: RunContext, settings: SettingsT) -> str | None:
        """Why the campaign has nothing to do today, before any query is spent on it."""
        return None

    def include(self, row: Mapping[str, Any], settings: SettingsT) -> bool:
        """Whether this run targets the row now (an A/B rollout waits for its decision)."""
        return True

    def target_data(self, row: Mapping[str, Any], settings: SettingsT) -> dict[str, Any]:
        """Campaign-specific fields for the message template."""
        return {}

    def targeting_query(
        self, ctx: RunContext, settings: SettingsT, period: Period
    ) -> tuple[str, dict[str, QueryValue]]:
        """The tenant's SQL and every parameter it gets: the common ones plus the campaign's."""
        params: dict[str, QueryValue] = {
            "campaign_type": self.kind,
            "history_since": period.history_since,
            "as_of": ctx.instant,
            **self.parameters(ctx, settings),
        }
        return sqlfiles.render(self.sql_file, ctx.tenant.id), params

    def run(
        self, ctx: RunContext, settings: SettingsT, foresee: Foresee | None = None
    ) -> CampaignOutcome:
        """Target the audience in the query's order (the order delivery favours when slots
        are short, see ``sql/targeting``); with ``foresee``, record how many would go and how
        many expire."""
        started = time.monotonic()
        period = self.period(ctx, settings)
        outcome = CampaignOutcome(self.campaign_id, OutcomeStatus.DONE)
        targets = self._build_targets(ctx, settings, period, outcome)
        if self.names_from_contacts:
            targets = self._contact_names_first(ctx, targets)
        foreseen = foresee(targets) if foresee is not None else None
        if foreseen is not None:
            outcome.will_send, outcome.will_expire = foreseen.will_send, foreseen.will_expire
        for chunk in _chunks(targets, MAX_BATCH_WRITES):
            if settings.voucher is not None:
                chunk = self._with_vouchers(ctx, settings.voucher, chunk)
            result = self._store.create_batch(ctx.tenant.id, chunk)
            outcome.created += result.created
            outcome.already_present += result.already_present
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        return outcome

    def _build_targets(
        self, ctx: RunContext, settings: SettingsT, period: Period, outcome: CampaignOutcome
    ) -> list[Target]:
        blocked: set[str] = set()
        if period.rolling_since is not None:
            blocked = self._store.customers_with_targets_since(
                ctx.tenant.id, self.campaign_id, period.rolling_since
            )
        targets: dict[str, Target] = {}
        for row in self._warehouse.query(*self.targeting_query(ctx, settings, period)):
            outcome.candidates += 1
            phone = normalize_br_mobile(row["phone"])
            bsuid = optional_bsuid(row.get("bsuid"))
            # No phone at all but a BSUID: sent by its BSUID. A phone that is there but unusable
            # is skipped for its reason, BSUID or not, as an import rejects that row.
            if phone.e164 is None and (bsuid is None or row["phone"]):
                outcome.skipped[str(phone.problem)] += 1
                continue
            customer_id = str(row["customer_id"])
            if not self.include(row, settings):
                outcome.skipped["waiting_for_ab_decision"] += 1
                continue
            if customer_id in blocked:
                outcome.skipped["recently_targeted"] += 1
                continue
            timezone = str(row.get("timezone") or "") or None
            target = Target(
                customer_id=customer_id,
                name=str(row["name"] or ""),
                phone=phone.e164 or "",
                campaign_id=self.campaign_id,
                period=period.key,
                run_id=ctx.run_id,
                local_date=ctx.today.isoformat(),
                data=self.target_data(row, settings),
                timezone=timezone,
                send_by=send_by(
                    self.kind,
                    instant=ctx.instant,
                    today=ctx.today,
                    tenant_zone=ctx.zone,
                    contact_zone=_contact_zone(timezone, settings, ctx.zone),
                    validity_days=settings.validity_days,
                ),
                priority=(settings.priority or default_priority(self.kind)).rank,
                bsuid=bsuid,
            )
            if target.id in targets:
                outcome.skipped["duplicate_customer_row"] += 1
                continue
            targets[target.id] = target
        return list(targets.values())

    def _contact_names_first(self, ctx: RunContext, targets: list[Target]) -> list[Target]:
        """Where a customer is also an imported contact (same E.164 phone), the contact's
        name is the one the message uses, as segment campaigns read it from the profile view:
        what the business set in the contact is what it wants to be called."""
        by_contact = {target.id: contact_id_for(target.phone) for target in targets if target.phone}
        contact_ids = sorted(set(by_contact.values()))
        if not contact_ids or not self._any_named_contact(ctx):
            return targets
        sql = sqlfiles.render("contacts/names.sql", ctx.tenant.id)
        names: dict[str, str] = {}
        for start in range(0, len(contact_ids), CONTACT_IDS_PER_QUERY):
            chunk = contact_ids[start : start + CONTACT_IDS_PER_QUERY]
            for row in self._warehouse.query(sql, {"contact_ids": chunk}):
                names[str(row["contact_id"])] = str(row["name"])
        return [
            dataclasses.replace(target, name=names[by_contact[target.id]])
            if by_contact.get(target.id) in names
            else target
            for target in targets
        ]

    def _any_named_contact(self, ctx: RunContext) -> bool:
        """Whether the tenant imported any contact with a name (most have none)."""
        sql = sqlfiles.render("contacts/named_count.sql", ctx.tenant.id)
        return any(int(row["named"]) > 0 for row in self._warehouse.query(sql, {}))

    def _with_vouchers(
        self, ctx: RunContext, config: VoucherConfig, chunk: Sequence[Target]
    ) -> list[Target]:
        """Each target gets its own code. A code reserved for a target that already existed
        (a re-run) is simply never used: codes are never reused, so losing one costs nothing."""
        if self._vouchers is None:
            raise CampaignError(f"{self.campaign_id} has a voucher but no voucher book")
        issued = self._vouchers.issue_many(
            ctx.tenant.id,
            self.campaign_id,
            [TargetRef(ctx.tenant.id, target.campaign_id, target.id).path for target in chunk],
            config,
            ctx.instant,
            timezone=ctx.tenant.timezone,
        )
        return [
            dataclasses.replace(target, data={**target.data, **voucher.template_fields()})
            for target, voucher in zip(chunk, issued, strict=True)
        ]


def _contact_zone(
    timezone: str | None, settings: CampaignSettings, tenant_zone: ZoneInfo
) -> ZoneInfo:
    """The zone whose day a birthday is: the contact's own, as delivery reads it."""
    if timezone and settings.timezone_per_contact:
        try:
            return zone(timezone)
        except FieldError:
            return tenant_zone
    return tenant_zone


def _chunks(items: Sequence[Target], size: int) -> Iterator[Sequence[Target]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def registered_processors() -> list[type[CampaignProcessor[Any]]]:
    """The built-in kinds, which every tenant runs once a day."""
    return list(_REGISTRY)
