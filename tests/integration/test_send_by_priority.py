"""Send-by and priority on the real Firestore emulator, on a clock the test moves.

The issue's scenario: the default 250 messages a day, a reactivation backlog created on the
20th fills that day and the next ones; the birthdays found at 08:00 on the 21st must still go
on the 21st, and whatever cannot go before its send-by ends EXPIRED, never sent late.

The targets live in a Firestore project of their own on the stack's emulator: the stack's
target trigger is registered for its own project only, so nothing but this test plans them,
and every plan happens at the instant the test's clock says. Tasks go to the faithful Cloud
Tasks fake (name dedup, 30-day horizon), not started: nothing is dispatched.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.bootstrap import Container
from shared.clock import SettableClock
from shared.domain.campaign import Campaign, CampaignStatus, LocalWindow
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import FINAL, Status
from shared.domain.send_by import Priority, send_by
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.manifest import send_queue
from shared.services.campaigns import store_built_ins
from shared.services.delivery_common import DeliveryPorts
from shared.services.enqueue import enqueue_target
from shared.services.send import send_message
from shared.services.sweeper import sweep
from tests.campaign_records import edit_built_in
from tests.conftest import new_tenant_id
from tests.integration.campaign_payloads import SIMPLE
from tests.integration.moving_clock import CountingSender, KeptHistory, RecordedTasks

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DAY_CAP = 5
"""The tenant's daily cap, small so that a backlog of a dozen fills days."""


@dataclass
class Scenario:
    ports: DeliveryPorts
    deps: Container
    cnpj: Cnpj
    clock: SettableClock
    tasks: RecordedTasks
    history: KeptHistory

    def target(self, kind: str, today: date, n: int) -> TargetRef:
        """A target of ``kind`` found by the run at the clock's instant, created and planned."""
        return self.plan(self.found(kind, today, n))

    def in_shard(
        self, kind: str, today: date, shard: int, count: int, first: int = 0
    ) -> list[TargetRef]:
        """``count`` targets of ``kind`` whose hash puts them in pacing ``shard`` (numbered from
        ``first`` on, skipping those of other shards), each created and planned in turn."""
        tenant = self.ports.tenants.get(self.cnpj)
        assert tenant is not None
        refs: list[TargetRef] = []
        for n in range(first, first + 100 * count):
            target = self.found(kind, today, n)
            path = TargetRef(self.cnpj, kind, target.id).path
            if tenant.delivery.throttle.shard_of(path) == shard:
                refs.append(self.plan(target))
                if len(refs) == count:
                    return refs
        raise AssertionError(f"no {count} targets of shard {shard}")  # half land in each

    def plan(self, target: Target) -> TargetRef:
        assert self.deps.targets.create_batch(self.cnpj, [target]).created == 1
        ref = TargetRef(self.cnpj, target.campaign_id, target.id)
        enqueue_target(ref, self.ports)
        return ref

    def shard(self, ref: TargetRef) -> int:
        document = self.deps.firestore_client.document(ref.path).get().to_dict() or {}
        return int(document["shard"])

    def found(self, kind: str, today: date, n: int) -> Target:
        instant = self.clock()
        return Target(
            customer_id=f"{kind.lower()}{n}",
            name="Maria",
            phone=f"+55119{secrets.randbelow(10**8):08d}",
            campaign_id=kind,
            period=today.isoformat(),
            run_id="send-by-test",
            local_date=today.isoformat(),
            send_by=send_by(
                kind, instant=instant, today=today, tenant_zone=SAO_PAULO, contact_zone=SAO_PAULO
            ),
            priority={"BIRTHDAY": Priority.TIME_CRITICAL, "REACTIVATION": Priority.BULK}[kind].rank,
        )

    def api_backlog(self, campaign_id: str, count: int, send_by: datetime) -> list[TargetRef]:
        """``count`` targets of an API campaign found at the clock's instant, each planned."""
        today = self.clock().astimezone(SAO_PAULO).date()
        targets = [
            Target(
                customer_id=f"api{n}",
                name="Maria",
                phone=f"+55119{secrets.randbelow(10**8):08d}",
                campaign_id=campaign_id,
                period=today.isoformat(),
                run_id="send-by-test",
                local_date=today.isoformat(),
                send_by=send_by,
                priority=Priority.NORMAL.rank,
            )
            for n in range(count)
        ]
        assert self.deps.targets.create_batch(self.cnpj, targets).created == count
        refs = [TargetRef(self.cnpj, campaign_id, target.id) for target in targets]
        for ref in refs:
            enqueue_target(ref, self.ports)
        return refs

    def load(self, ref: TargetRef) -> TargetRecord:
        record = self.deps.delivery_store.load(ref)
        assert record is not None
        return record

    def local_day(self, ref: TargetRef) -> date:
        planned = self.load(ref).planned_at
        assert planned is not None
        return planned.astimezone(SAO_PAULO).date()


@pytest.fixture
def scenario(deps: Container) -> Scenario:
    return new_scenario(deps, per_minute=1, shards=1)


def new_scenario(deps: Container, *, per_minute: int, shards: int) -> Scenario:
    clock = SettableClock(datetime(2026, 11, 20, 11, 0, tzinfo=UTC))  # 08:00 on the 20th
    project = f"demo-send-by-{secrets.token_hex(4)}"
    private = Container(deps.settings.model_copy(update={"google_cloud_project": project}), clock)
    cnpj = new_tenant_id()
    tenant = Tenant(cnpj=cnpj.value, name="Send-by")
    throttle = tenant.delivery.throttle.model_copy(
        update={"messages_per_minute": per_minute, "messages_per_day": DAY_CAP, "shards": shards}
    )
    private.tenants.save(
        tenant.model_copy(
            update={"delivery": tenant.delivery.model_copy(update={"throttle": throttle})}
        )
    )
    store_built_ins(private.campaigns, cnpj, now=clock())
    for kind in ("BIRTHDAY", "REACTIVATION"):
        edit_built_in(
            private.campaigns, cnpj, kind, send_window=LocalWindow(start="08:00", end="20:00")
        )
    tasks, history = RecordedTasks(), KeptHistory()
    tasks.ensure_queue(send_queue(cnpj.value))
    ports = replace(private.delivery_ports(), tasks=tasks, history=history)
    return Scenario(ports, private, cnpj, clock, tasks, history)


def test_a_birthday_goes_on_its_day_behind_a_reactivation_backlog(scenario: Scenario) -> None:
    backlog = [scenario.target("REACTIVATION", date(2026, 11, 20), n) for n in range(12)]
    days = [scenario.local_day(ref) for ref in backlog]
    assert days == [date(2026, 11, 20)] * 5 + [date(2026, 11, 21)] * 5 + [date(2026, 11, 22)] * 2

    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # 08:00 on the 21st
    birthday = scenario.target("BIRTHDAY", date(2026, 11, 21), 0)

    record = scenario.load(birthday)
    assert record.status is Status.QUEUED
    assert scenario.local_day(birthday) == date(2026, 11, 21)
    # It took the first slot of the 21st far enough ahead, from a reactivation target...
    displaced = [ref for ref in backlog if scenario.load(ref).task_generation == 2]
    assert len(displaced) == 1
    moved = scenario.load(displaced[0])
    assert moved.status is Status.QUEUED
    assert scenario.local_day(displaced[0]) == date(2026, 11, 22)  # ...which goes a day later
    # The day still holds DAY_CAP messages, and every plan has its task and its history row.
    planned = [scenario.load(ref) for ref in [*backlog, birthday]]
    per_day: dict[date, int] = {}
    for target in planned:
        assert target.planned_at is not None
        day = target.planned_at.astimezone(SAO_PAULO).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert per_day == {date(2026, 11, 20): 5, date(2026, 11, 21): 5, date(2026, 11, 22): 3}
    named = {
        (task.payload["target"], task.payload["generation"]) for task in scenario.tasks.created
    }
    assert (birthday.path, 1) in named
    assert (displaced[0].path, 2) in named
    assert {(row.target_id, row.status) for row in scenario.history.rows} >= {
        (birthday.target_id, "QUEUED"),
        (displaced[0].target_id, "QUEUED"),
    }


def test_a_birthday_with_no_slot_left_on_its_day_expires(scenario: Scenario) -> None:
    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    birthdays = [scenario.target("BIRTHDAY", date(2026, 11, 21), n) for n in range(DAY_CAP + 2)]
    statuses = [scenario.load(ref).status for ref in birthdays]
    assert statuses == [Status.QUEUED] * DAY_CAP + [Status.EXPIRED] * 2
    expired = scenario.load(birthdays[-1])
    assert expired.planned_at is None and expired.error_reason
    assert Status.EXPIRED in FINAL
    assert (birthdays[-1].target_id, "EXPIRED") in {
        (row.target_id, row.status) for row in scenario.history.rows
    }


@pytest.fixture
def two_shards(deps: Container) -> Scenario:
    """Two pacing shards: of the day's 5 slots, shard 0 owns 3 and shard 1 owns 2."""
    return new_scenario(deps, per_minute=2, shards=2)


def test_targets_that_all_hash_to_one_shard_take_the_other_s_slots_before_expiring(
    two_shards: Scenario,
) -> None:
    two_shards.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # 08:00 on the 21st
    birthdays = two_shards.in_shard("BIRTHDAY", date(2026, 11, 21), 0, DAY_CAP + 1)

    statuses = [two_shards.load(ref).status for ref in birthdays]
    assert statuses[:DAY_CAP] == [Status.QUEUED] * DAY_CAP
    assert all(two_shards.local_day(ref) == date(2026, 11, 21) for ref in birthdays[:DAY_CAP])
    assert Counter(two_shards.shard(ref) for ref in birthdays[:DAY_CAP]) == {0: 3, 1: 2}
    assert statuses[DAY_CAP:] == [Status.EXPIRED]  # the day is full in both shards


def test_a_birthday_takes_a_bulk_slot_in_another_shard_when_its_own_is_full_of_birthdays(
    two_shards: Scenario,
) -> None:
    today = date(2026, 11, 21)
    two_shards.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    first = two_shards.in_shard("BIRTHDAY", today, 0, 3)  # shard 0's share of the day
    bulk = two_shards.in_shard("REACTIVATION", today, 1, 2)  # shard 1's: the day is full
    assert all(two_shards.local_day(ref) == today for ref in [*first, *bulk])

    (late,) = two_shards.in_shard("BIRTHDAY", today, 0, 1, first=1000)

    assert two_shards.load(late).status is Status.QUEUED
    assert two_shards.local_day(late) == today
    assert two_shards.shard(late) == 1
    displaced = [ref for ref in bulk if two_shards.load(ref).task_generation == 2]
    assert len(displaced) == 1
    assert two_shards.local_day(displaced[0]) == date(2026, 11, 22)


def test_a_paused_campaign_s_rechecks_spend_no_slot_and_its_messages_take_one_on_resume(
    scenario: Scenario,
) -> None:
    backlog = [scenario.target("REACTIVATION", date(2026, 11, 20), n) for n in range(3)]
    edit_built_in(scenario.deps.campaigns, scenario.cnpj, "REACTIVATION", status="paused")

    def run_tasks(expected: str) -> None:
        for ref in backlog:
            record = scenario.load(ref)
            assert record.planned_at is not None
            scenario.clock.now = max(scenario.clock(), record.planned_at)
            outcome = send_message(ref, record.task_generation, scenario.ports)
            assert outcome.label == expected

    for _ in range(3):  # three rechecks, 15 minutes apart, while the campaign is paused
        run_tasks("paused")
    day = f"d:{date(2026, 11, 20)}"
    # Before, each recheck took a slot: the rest of the 20th, then the next days.
    assert pacing_counts(scenario, f"users/{scenario.cnpj.value}/pacing")[day] == 3
    assert all(scenario.load(ref).parked for ref in backlog)

    edit_built_in(scenario.deps.campaigns, scenario.cnpj, "REACTIVATION", status="running")
    run_tasks("resumed")  # the next recheck plans each message on a slot...
    assert not any(scenario.load(ref).parked for ref in backlog)
    assert pacing_counts(scenario, f"users/{scenario.cnpj.value}/pacing")[day] == 5
    run_tasks("sent")  # ...where it is sent, once
    assert [scenario.load(ref).status for ref in backlog] == [Status.SENT] * 3
    late = scenario.load(backlog[-1])
    assert late.planned_at is not None
    assert late.planned_at.astimezone(SAO_PAULO).date() == date(2026, 11, 21)  # the 20th: full


def test_a_bulk_target_never_takes_a_slot_and_expires_with_its_month(scenario: Scenario) -> None:
    scenario.clock.now = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)  # two days of November left
    backlog = [
        scenario.target("REACTIVATION", date(2026, 11, 29), n) for n in range(2 * DAY_CAP + 1)
    ]
    statuses = [scenario.load(ref).status for ref in backlog]
    assert statuses == [Status.QUEUED] * (2 * DAY_CAP) + [Status.EXPIRED]
    assert all(scenario.load(ref).task_generation == 1 for ref in backlog[: 2 * DAY_CAP])


def test_a_task_run_after_the_send_by_expires_instead_of_sending(scenario: Scenario) -> None:
    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    birthday = scenario.target("BIRTHDAY", date(2026, 11, 21), 0)
    record = scenario.load(birthday)
    assert record.send_by is not None
    scenario.clock.now = record.send_by + timedelta(minutes=5)  # a queue backlog, a long pause
    outcome = send_message(birthday, record.task_generation, scenario.ports)
    assert outcome.status is Status.EXPIRED
    assert scenario.load(birthday).status is Status.EXPIRED


def test_the_sweeper_expires_what_a_lost_task_left_past_its_send_by(scenario: Scenario) -> None:
    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    birthday = scenario.target("BIRTHDAY", date(2026, 11, 21), 0)
    record = scenario.load(birthday)
    assert record.status is Status.QUEUED and record.send_by is not None
    tasks_before = len(scenario.tasks.created)
    scenario.clock.now = record.send_by + timedelta(minutes=20)  # its task was lost, say

    report = sweep(scenario.ports)

    assert scenario.load(birthday).status is Status.EXPIRED
    assert report == {"expired": 1}
    assert len(scenario.tasks.created) == tasks_before  # nothing planned late
    assert (birthday.target_id, "EXPIRED") in {
        (row.target_id, row.status) for row in scenario.history.rows
    }


API_CAMPAIGN = "SEG_SENDBY0000000001"
API_PER_HOUR = 2
"""The API campaign's own pace: two an hour, so its backlog spreads over the morning."""


def store_api_campaign(scenario: Scenario) -> None:
    """A running API campaign with its own pace (as every API campaign has by default), sending
    in the birthdays' hours (08:00-20:00), of normal priority (the API default)."""
    throttle = {
        "messages_per_hour": API_PER_HOUR,
        "respect_business_hours": True,
        "business_hours_start": 8,
        "business_hours_end": 20,
    }
    now = scenario.clock()
    campaign = Campaign.model_validate(
        {
            **SIMPLE,
            "throttle_config": throttle,
            "id": API_CAMPAIGN,
            "status": CampaignStatus.RUNNING,
            "created_at": now,
            "updated_at": now,
        }
    )
    scenario.deps.campaigns.mutate(scenario.cnpj, API_CAMPAIGN, lambda _: campaign)


def test_a_birthday_takes_a_slot_from_an_api_campaign_s_backlog(scenario: Scenario) -> None:
    store_api_campaign(scenario)
    validity = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    backlog = scenario.api_backlog(API_CAMPAIGN, 2 * DAY_CAP, send_by=validity)
    # Two an hour from 08:00, the tenant's five a day: 08:00, 08:01, 09:00, 09:01, 10:00 local.
    assert [scenario.local_day(ref) for ref in backlog] == (
        [date(2026, 11, 20)] * DAY_CAP + [date(2026, 11, 21)] * DAY_CAP
    )

    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # 08:00 on the 21st
    birthday = scenario.target("BIRTHDAY", date(2026, 11, 21), 0)

    assert scenario.load(birthday).status is Status.QUEUED
    assert scenario.local_day(birthday) == date(2026, 11, 21)
    displaced = [ref for ref in backlog if scenario.load(ref).task_generation == 2]
    assert len(displaced) == 1  # the slot at 08:01, the first one 30 s or more ahead
    moved = scenario.load(displaced[0])
    assert moved.status is Status.QUEUED
    assert scenario.local_day(displaced[0]) == date(2026, 11, 22)  # the 21st is full
    assert scenario.load(birthday).planned_at == datetime(2026, 11, 21, 11, 1, tzinfo=UTC)

    # The tenant's days hold exactly their cap, one message a slot; the campaign never goes
    # above its own two an hour, and its pacing documents count what it will really send.
    planned = [scenario.load(ref).planned_at for ref in [*backlog, birthday]]
    times = sorted(at for at in planned if at is not None)
    assert len(set(times)) == len(times) == 2 * DAY_CAP + 1
    per_day = Counter(at.astimezone(SAO_PAULO).date() for at in times)
    assert per_day == {date(2026, 11, 20): 5, date(2026, 11, 21): 5, date(2026, 11, 22): 1}
    campaign_times = sorted(scenario.load(ref).planned_at or validity for ref in backlog)
    per_hour = Counter(at.replace(minute=0, second=0, microsecond=0) for at in campaign_times)
    assert max(per_hour.values()) <= API_PER_HOUR
    own = pacing_counts(scenario, f"users/{scenario.cnpj.value}/campaigns/{API_CAMPAIGN}/pacing")
    assert own["h:2026112111"] == 1  # 08:00 only: 08:01 was handed over
    assert own["d:2026-11-22"] == 1
    tenant = pacing_counts(scenario, f"users/{scenario.cnpj.value}/pacing")
    assert (tenant["d:2026-11-21"], tenant["d:2026-11-22"]) == (DAY_CAP, 1)

    # Every task run at its time: nothing twice (the displaced target's first task is stale),
    # the birthday on its day, and the displaced message a day later.
    counting = CountingSender(scenario.ports.sender, scenario.clock)
    ports = replace(scenario.ports, sender=counting)
    for task in sorted(scenario.tasks.created, key=lambda task: task.schedule_at):
        if task.schedule_at < datetime(2026, 11, 21, 11, 0, tzinfo=UTC):
            continue  # the 20th's, sent before the scenario moved on
        scenario.clock.now = task.schedule_at
        send_message(TargetRef.parse(task.payload["target"]), task.payload["generation"], ports)
    assert scenario.load(birthday).status is Status.SENT
    assert scenario.load(displaced[0]).status is Status.SENT
    assert len(counting.sent) == DAY_CAP + 1 and set(counting.sent.values()) == {1}


def pacing_counts(scenario: Scenario, collection: str) -> Counter[str]:
    """Every pacing shard's hour and day counters under ``collection``, added up."""
    counts: Counter[str] = Counter()
    for snapshot in scenario.deps.firestore_client.collection(collection).stream():
        for key, value in ((snapshot.to_dict() or {}).get("slots") or {}).items():
            if key[:2] in {"h:", "d:"} and isinstance(value, int):
                counts[key] += value
    return counts


def test_an_api_target_that_yields_past_its_validity_expires_and_frees_its_count(
    scenario: Scenario,
) -> None:
    store_api_campaign(scenario)
    validity = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # the end of the 21st in São Paulo
    backlog = scenario.api_backlog(API_CAMPAIGN, 2 * DAY_CAP, send_by=validity)
    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    birthday = scenario.target("BIRTHDAY", date(2026, 11, 21), 0)

    assert scenario.local_day(birthday) == date(2026, 11, 21)
    expired = [ref for ref in backlog if scenario.load(ref).status is Status.EXPIRED]
    assert len(expired) == 1 and scenario.load(expired[0]).planned_at is not None
    own = pacing_counts(scenario, f"users/{scenario.cnpj.value}/campaigns/{API_CAMPAIGN}/pacing")
    assert (own["h:2026112111"], own["d:2026-11-21"]) == (1, DAY_CAP - 1)
    tenant = pacing_counts(scenario, f"users/{scenario.cnpj.value}/pacing")
    assert tenant["d:2026-11-21"] == DAY_CAP
    assert (expired[0].target_id, "EXPIRED") in {
        (row.target_id, row.status) for row in scenario.history.rows
    }


class CountingLive:
    """The tenant's campaigns, counting how often the live ones are listed (the ranking's read)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.listed = 0

    def live(self, cnpj: Cnpj) -> list[str]:
        self.listed += 1
        return list(self._inner.live(cnpj))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_birthdays_within_a_minute_rank_the_yielding_campaigns_once(scenario: Scenario) -> None:
    backlog = [scenario.target("REACTIVATION", date(2026, 11, 20), n) for n in range(12)]
    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    counting = CountingLive(scenario.deps.campaigns)
    scenario.ports = replace(scenario.ports, campaigns=counting)

    birthdays = [scenario.target("BIRTHDAY", date(2026, 11, 21), n) for n in range(3)]

    assert [scenario.local_day(ref) for ref in birthdays] == [date(2026, 11, 21)] * 3
    assert sum(scenario.load(ref).task_generation == 2 for ref in backlog) == 3
    assert counting.listed == 1


def test_a_campaign_the_kept_ranking_misses_still_gives_way(scenario: Scenario) -> None:
    # The process ranked this tenant's campaigns before the API campaign existed: nothing.
    store_api_campaign(scenario)
    backlog = scenario.api_backlog(
        API_CAMPAIGN, 2 * DAY_CAP, send_by=datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    )
    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    # This process ranked the tenant's campaigns a moment ago, before the API campaign
    # started: it found none to take a slot from.
    scenario.ports.yield_orders.ranking(scenario.cnpj, scenario.clock(), tuple)

    birthday = scenario.target("BIRTHDAY", date(2026, 11, 21), 0)

    assert scenario.local_day(birthday) == date(2026, 11, 21)
    assert sum(scenario.load(ref).task_generation == 2 for ref in backlog) == 1
    kept = scenario.ports.yield_orders.ranking(scenario.cnpj, scenario.clock(), tuple)
    assert API_CAMPAIGN in {campaign_id for _, campaign_id, _ in kept}
