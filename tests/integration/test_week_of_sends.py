"""A week of sends, simulated: the real planner and Firestore store on the emulator, every
task run at its time on a clock the test moves.

The tenant sends 20 a day (08:00-20:00 in São Paulo). From Thursday 26 November 2026: three
birthdays found every morning at 08:00, a reactivation backlog of 100 found on the first
morning (its period, the month, ends on Monday night: more than the days left can take), and an
API campaign's occurrence scheduled for Tuesday 1 December at 10:00 (its own pace, valid three
days). Each morning's targets are written as the targeting writes them (send-by and priority of
their kind) and planned as the target trigger plans them; each task runs at its planned
instant through ``send_message`` and the stack's WhatsApp sandbox, and the sweeper runs every
night. As in ``test_send_by_priority``, the targets live in a Firestore project of their own.
"""

from __future__ import annotations

import heapq
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.bootstrap import Container
from shared.clock import SettableClock
from shared.domain.campaign import Campaign, CampaignStatus, LocalWindow
from shared.domain.campaign_ids import kind_of
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.domain.send_by import default_priority, send_by
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.manifest import send_queue
from shared.ports import TaskRequest
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
FIRST_DAY = date(2026, 11, 26)
DAYS = 7
DAY_CAP = 20
BIRTHDAYS_A_DAY = 3
REACTIVATION_BACKLOG = 100
API_CAMPAIGN = "SEG_WEEK000000000001"
API_AUDIENCE = 10
API_START = datetime.combine(date(2026, 12, 1), time(10), tzinfo=SAO_PAULO).astimezone(UTC)
ENDED = {Status.SENT, Status.DELIVERED, Status.READ, Status.SKIPPED, Status.EXPIRED}
"""Where every target must be at the end: sent (the sandbox's receipts go to the stack's own
project, not this test's, so SENT is as far as a sent target gets here), skipped or expired."""


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SAO_PAULO).astimezone(UTC)


class Week:
    """The tenant, its campaigns and targets, and the events of the week in time order."""

    def __init__(self, deps: Container) -> None:
        self.clock = SettableClock(local(FIRST_DAY, 8))
        project = f"demo-week-{secrets.token_hex(4)}"
        settings = deps.settings.model_copy(update={"google_cloud_project": project})
        self.deps = Container(settings, self.clock)
        self.cnpj = new_tenant_id()
        self._tenant(self.cnpj)
        self.tasks, self.history = RecordedTasks(), KeptHistory()
        self.tasks.ensure_queue(send_queue(self.cnpj.value))
        ports = replace(self.deps.delivery_ports(), tasks=self.tasks, history=self.history)
        self.sender = CountingSender(ports.sender, self.clock)
        self.ports: DeliveryPorts = replace(ports, sender=self.sender)
        self.birthdays: dict[TargetRef, date] = {}
        self.refs: list[TargetRef] = []

    def _tenant(self, cnpj: Cnpj) -> None:
        tenant = Tenant(cnpj=cnpj.value, name="Week")
        throttle = tenant.delivery.throttle.model_copy(
            update={"messages_per_minute": 2, "messages_per_day": DAY_CAP, "shards": 2}
        )
        delivery = tenant.delivery.model_copy(update={"throttle": throttle})
        self.deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
        store_built_ins(self.deps.campaigns, cnpj, now=self.clock())
        for kind in ("BIRTHDAY", "REACTIVATION"):
            edit_built_in(
                self.deps.campaigns, cnpj, kind, send_window=LocalWindow(start="08:00", end="20:00")
            )
        throttle_config = {"messages_per_hour": 6, "business_hours_start": 8}
        campaign = Campaign.model_validate(
            {
                **SIMPLE,
                "throttle_config": throttle_config,
                "id": API_CAMPAIGN,
                "status": CampaignStatus.RUNNING,
                "created_at": self.clock(),
                "updated_at": self.clock(),
            }
        )
        self.deps.campaigns.mutate(cnpj, API_CAMPAIGN, lambda _: campaign)

    def found(self, campaign_id: str, count: int, label: str) -> None:
        """``count`` targets found by the campaign's run at the clock's instant, written as the
        targeting writes them and each planned as the target trigger plans it."""
        instant = self.clock()
        today = instant.astimezone(SAO_PAULO).date()
        kind = kind_of(campaign_id)
        targets = [
            Target(
                customer_id=f"{label}{today:%d}n{n}",
                name="Maria",
                phone=f"+55119{secrets.randbelow(10**8):08d}",
                campaign_id=campaign_id,
                period=today.isoformat(),
                run_id=f"week-{today}",
                local_date=today.isoformat(),
                send_by=send_by(
                    kind,
                    instant=instant,
                    today=today,
                    tenant_zone=SAO_PAULO,
                    contact_zone=SAO_PAULO,
                ),
                priority=default_priority(kind).rank,
            )
            for n in range(count)
        ]
        assert self.deps.targets.create_batch(self.cnpj, targets).created == count
        for target in targets:
            ref = TargetRef(self.cnpj, campaign_id, target.id)
            self.refs.append(ref)
            if campaign_id == "BIRTHDAY":
                self.birthdays[ref] = today
            enqueue_target(ref, self.ports)

    def events(self) -> list[tuple[datetime, Callable[[], object]]]:
        events: list[tuple[datetime, Callable[[], object]]] = []
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            events.append((local(day, 8), lambda: self.found("BIRTHDAY", BIRTHDAYS_A_DAY, "b")))
            events.append((local(day, 23), lambda: sweep(self.ports)))
        events.append(
            (local(FIRST_DAY, 8), lambda: self.found("REACTIVATION", REACTIVATION_BACKLOG, "r"))
        )
        events.append(
            (API_START.astimezone(UTC), lambda: self.found(API_CAMPAIGN, API_AUDIENCE, "a"))
        )
        return sorted(events, key=lambda event: event[0])

    def run(self) -> None:
        """Every event and every task at its time, in time order (events first on a tie, as a
        run's targets are written before their tasks can be due)."""
        due: list[tuple[datetime, int, TaskRequest]] = []
        seen = 0

        def absorb() -> None:
            nonlocal seen
            for task in self.tasks.created[seen:]:
                heapq.heappush(due, (task.schedule_at, seen, task))
                seen += 1

        def run_due(until: datetime) -> None:
            while due and due[0][0] < until:
                at, _, task = heapq.heappop(due)
                self.clock.now = max(at, self.clock())
                target = TargetRef.parse(str(task.payload["target"]))
                send_message(target, int(task.payload["generation"]), self.ports)
                absorb()

        for at, event in self.events():
            run_due(at)
            self.clock.now = at
            event()
            absorb()
        run_due(local(FIRST_DAY + timedelta(days=DAYS), 0))


def test_a_week_of_sends_keeps_every_promise(deps: Container) -> None:
    week = Week(deps)
    week.run()

    records = {ref: week.deps.delivery_store.load(ref) for ref in week.refs}
    statuses = {ref: record.status for ref, record in records.items() if record is not None}
    assert len(statuses) == len(week.refs)
    assert set(statuses.values()) <= ENDED, Counter(statuses.values())
    # none sent twice, and every message sent belongs to exactly one SENT target
    assert set(week.sender.sent.values()) == {1}
    sent = [ref for ref, status in statuses.items() if status is Status.SENT]
    assert len(week.sender.sent) == len(sent)
    # the daily cap on every local day, and filled while the backlog lasted
    per_day = Counter(at.astimezone(SAO_PAULO).date() for at in week.sender.times)
    assert max(per_day.values()) <= DAY_CAP
    assert [per_day[FIRST_DAY + timedelta(days=n)] for n in range(5)] == [DAY_CAP] * 5
    # every birthday sent on its own local day
    for ref, birthday in week.birthdays.items():
        document = week.deps.firestore_client.document(ref.path).get().to_dict() or {}
        assert document["status"] == Status.SENT.value, document
        assert document["statusTimes"][Status.SENT.value].astimezone(SAO_PAULO).date() == birthday
    # the reactivation its month could not take expired, never sent in December
    by_campaign = Counter((ref.campaign_id, statuses[ref]) for ref in week.refs)
    expired = by_campaign["REACTIVATION", Status.EXPIRED]
    assert expired > 0
    assert by_campaign["REACTIVATION", Status.SENT] + expired == REACTIVATION_BACKLOG
    assert by_campaign[API_CAMPAIGN, Status.SENT] == API_AUDIENCE
