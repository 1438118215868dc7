"""A campaign's own pace on the real Firestore emulator, on a clock the test moves.

The issue's scenario: an API campaign set to 5 messages a minute sends 5 a minute, measured over
an hour of planned sends, while a built-in backlog beside it fills the rest of the tenant's
pace and never exceeds it. As in ``test_send_by_priority``, the targets live in a Firestore
project of their own (nothing but this test plans them) and tasks go to the faithful Cloud
Tasks fake, not started.
"""

from __future__ import annotations

import secrets
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from shared.bootstrap import Container
from shared.clock import SettableClock
from shared.domain.campaign import Campaign, CampaignStatus, LocalWindow
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.localstack.faithful_tasks import FaithfulCloudTasks
from shared.manifest import send_queue
from shared.ports import HistoryRow
from shared.services.campaigns import store_built_ins
from shared.services.delivery_common import DeliveryPorts
from shared.services.enqueue import enqueue_target
from tests.campaign_records import edit_built_in
from tests.integration.campaign_payloads import SIMPLE

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
TENANT_PACE = 10
CAMPAIGN_PACE = 5
HOUR_OF_SENDS = CAMPAIGN_PACE * 60
TENANT = Cnpj("12ABC34501DE35")
CAMPAIGN = "SEG_PACE000000000005"
"""Fixed ids, alone in the test's own project: the hashing of targets to shards repeats."""


class NoHistory:
    """History rows are not what this test measures (BigQuery's are elsewhere)."""

    def append(self, cnpj: Cnpj, rows: Sequence[HistoryRow]) -> None:
        pass


@dataclass
class Scenario:
    ports: DeliveryPorts
    deps: Container
    cnpj: Cnpj
    clock: SettableClock
    campaign_id: str

    def backlog(
        self, campaign_id: str, count: int, label: str, send_by: datetime | None = None
    ) -> list[TargetRef]:
        """``count`` targets of the campaign found at the clock's instant, then each planned
        (QUEUED, or EXPIRED when no slot is left before ``send_by``)."""
        today = self.clock().date()
        targets = [
            Target(
                customer_id=f"{label}{n}",
                name="Maria",
                phone=f"+55119{secrets.randbelow(10**8):08d}",
                campaign_id=campaign_id,
                period=today.isoformat(),
                run_id="pace-test",
                local_date=today.isoformat(),
                send_by=send_by,
            )
            for n in range(count)
        ]
        assert self.deps.targets.create_batch(self.cnpj, targets).created == count
        refs = [TargetRef(self.cnpj, campaign_id, target.id) for target in targets]
        for ref in refs:
            assert enqueue_target(ref, self.ports) in {Status.QUEUED, Status.EXPIRED}
        return refs

    def planned(
        self, refs: Sequence[TargetRef], shard: str = "shard"
    ) -> list[tuple[datetime, int]]:
        """Each target's planned send and its ``shard`` field (the tenant shard whose slot it
        took; ``campaignShard``: its campaign's pacing shard), in time order."""
        plans: list[tuple[datetime, int]] = []
        for ref in refs:
            document = self.deps.firestore_client.document(ref.path).get().to_dict() or {}
            assert document["status"] == Status.QUEUED.value
            plans.append((document["plannedAt"], document[shard]))
        return sorted(plans)


def last_of_each_shard(plans: Sequence[tuple[datetime, int]]) -> datetime:
    """When the first shard planned its last target: until then every shard had work (each
    shard serves the targets hashed to it; after that the run is a tail)."""
    last: dict[int, datetime] = {}
    for at, shard in plans:
        last[shard] = max(at, last.get(shard, at))
    return min(last.values())


@pytest.fixture
def scenario(deps: Container) -> Scenario:
    clock = SettableClock(START)
    project = f"demo-pace-{secrets.token_hex(4)}"
    private = Container(deps.settings.model_copy(update={"google_cloud_project": project}), clock)
    cnpj = TENANT
    tenant = Tenant(cnpj=cnpj.value, name="Pace")
    throttle = tenant.delivery.throttle.model_copy(
        update={
            "messages_per_minute": TENANT_PACE,
            "messages_per_hour": 10_000,
            "messages_per_day": 10_000,
        }
    )
    private.tenants.save(
        tenant.model_copy(
            update={"delivery": tenant.delivery.model_copy(update={"throttle": throttle})}
        )
    )
    store_built_ins(private.campaigns, cnpj, now=clock())
    edit_built_in(
        private.campaigns, cnpj, "REACTIVATION", send_window=LocalWindow(start="00:00", end="23:59")
    )
    store_campaign(
        private, cnpj, CAMPAIGN, messages_per_minute=CAMPAIGN_PACE, messages_per_hour=300
    )
    tasks = FaithfulCloudTasks()
    tasks.ensure_queue(send_queue(cnpj.value))
    ports = replace(private.delivery_ports(), tasks=tasks, history=NoHistory())
    return Scenario(ports, private, cnpj, clock, CAMPAIGN)


def store_campaign(deps: Container, cnpj: Cnpj, campaign_id: str, **pace: int) -> None:
    """A running API campaign with its own ``throttle_config``, sending at any hour."""
    throttle = {"respect_business_hours": False, **pace}
    campaign = Campaign.model_validate(
        {
            **SIMPLE,
            "throttle_config": throttle,
            "id": campaign_id,
            "status": CampaignStatus.RUNNING,
            "created_at": START,
            "updated_at": START,
        }
    )
    deps.campaigns.mutate(cnpj, campaign_id, lambda _: campaign)


def counts_in_windows(times: Sequence[datetime], width: timedelta) -> list[int]:
    """Sends in each half-open window ``[t, t + width)`` starting at a send that has a full
    window of the run after it."""
    ordered = sorted(times)
    return [
        bisect_left(ordered, at + width) - i
        for i, at in enumerate(ordered)
        if at + width <= ordered[-1]
    ]


def test_five_a_minute_is_five_in_every_minute_beside_a_built_in_backlog(
    scenario: Scenario,
) -> None:
    # The campaign's hour of work found at 10:00, two thirds first and the rest 20 minutes
    # later (enough for each campaign shard to have work all along),
    first_part = HOUR_OF_SENDS * 2 // 3
    campaign = scenario.backlog(scenario.campaign_id, first_part, "c")
    scenario.clock.now = START + timedelta(minutes=20)
    campaign += scenario.backlog(scenario.campaign_id, HOUR_OF_SENDS - first_part, "d")
    # and a reactivation backlog beside it, found then too, filling what the campaign leaves.
    built_in = scenario.backlog("REACTIVATION", (TENANT_PACE - CAMPAIGN_PACE) * 70, "r")

    sent = [at for at, _ in scenario.planned(campaign)]
    assert sent[0] == START  # the first slot of the grid is the campaign's
    assert sent[-1] - sent[0] >= timedelta(minutes=59)  # an hour of planned sends
    steady = last_of_each_shard(scenario.planned(campaign, "campaignShard"))
    assert steady >= START + timedelta(minutes=50)  # with these ids: 54 min
    busy = [at for at in sent if at <= steady]
    assert set(counts_in_windows(busy, timedelta(minutes=1))) == {CAMPAIGN_PACE}
    assert max(counts_in_windows(sent, timedelta(minutes=1))) == CAMPAIGN_PACE
    assert min(b - a for a, b in pairwise(sent)) >= timedelta(seconds=12)

    beside = scenario.planned(built_in)
    union = sorted([*sent, *(at for at, _ in beside)])
    assert len(set(union)) == len(union)  # one message per tenant slot
    assert max(counts_in_windows(union, timedelta(minutes=1))) == TENANT_PACE  # never above,
    # and exactly the tenant's pace while every tenant shard still has reactivation work: the
    # campaign's slots fall in some tenant shards only, whose own targets wait meanwhile.
    dry = last_of_each_shard(beside)
    assert dry >= START + timedelta(minutes=39)  # with these ids: 39 min 54 s
    filled = [at for at in union if START + timedelta(minutes=20) <= at <= min(dry, steady)]
    assert set(counts_in_windows(filled, timedelta(minutes=1))) == {TENANT_PACE}
    assert {at.date() for at in union} == {date(2026, 11, 20)}


def test_a_campaign_s_pace_that_cannot_meet_a_send_by_expires_the_rest(
    scenario: Scenario,
) -> None:
    """One a day, valid for three days: three go (today, tomorrow, the day after, each at the
    start of its day but the first), the rest expire, never planned late."""
    daily = "SEG_PACE000000000001"
    store_campaign(scenario.deps, scenario.cnpj, daily, messages_per_day=1)
    send_by = START + timedelta(days=2, hours=12)
    refs = scenario.backlog(daily, 5, "e", send_by=send_by)

    documents = [
        scenario.deps.firestore_client.document(ref.path).get().to_dict() or {} for ref in refs
    ]
    statuses = Counter(document["status"] for document in documents)
    assert statuses == {Status.QUEUED.value: 3, Status.EXPIRED.value: 2}
    planned = sorted(document["plannedAt"] for document in documents if "plannedAt" in document)
    assert planned[0] == START and all(at < send_by for at in planned)
    assert len({at.astimezone(SAO_PAULO).date() for at in planned}) == 3
