"""A run foresees, from the planner itself, how many of its targets will go and how many will
expire, and the audience's order decides who goes: on the real Firestore emulator, the
foresight agrees with what delivery then does, target by target.

The tenant lives in a Firestore project of its own (no trigger plans its targets behind the
test's back) and tasks go to the faithful Cloud Tasks fake, not started.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from shared.bootstrap import Container
from shared.clock import SettableClock
from shared.domain.campaign import LocalWindow
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.runs import Foreseen
from shared.domain.send_by import Priority, send_by
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.localstack.faithful_tasks import FaithfulCloudTasks
from shared.manifest import send_queue
from shared.ports import DeliveryOutlook
from shared.services.campaigns import store_built_ins
from shared.services.enqueue import enqueue_target
from shared.services.forecast import RunForesight, foresee_targets
from tests.campaign_records import edit_built_in
from tests.integration.test_campaign_pace import NoHistory

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 10:00 on the 20th in São Paulo
TENANT = Cnpj("33333333000191")
PER_DAY = 2
DAYS_LEFT = 11  # the 20th to the 30th: a reactivation is not sent after its month


def private_tenant(deps: Container) -> Container:
    """The tenant at two reactivations a day, in a Firestore project of its own."""
    clock = SettableClock(START)
    project = f"demo-foresight-{secrets.token_hex(4)}"
    private = Container(deps.settings.model_copy(update={"google_cloud_project": project}), clock)
    tenant = Tenant(cnpj=TENANT.value, name="Lavanderia Previsão")
    throttle = tenant.delivery.throttle.model_copy(
        update={"messages_per_day": PER_DAY, "shards": 1}
    )
    delivery = tenant.delivery.model_copy(update={"throttle": throttle, "frequency_cap_hours": 0})
    private.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    store_built_ins(private.campaigns, TENANT, now=START)
    edit_built_in(
        private.campaigns,
        TENANT,
        "REACTIVATION",
        send_window=LocalWindow(start="08:00", end="20:00"),
    )
    return private


def lapsed(prefix: str, count: int) -> list[Target]:
    """Reactivation targets found at START, in the targeting query's order."""
    deadline = send_by(
        "REACTIVATION",
        instant=START,
        today=date(2026, 11, 20),
        tenant_zone=SAO_PAULO,
        contact_zone=SAO_PAULO,
    )
    return [
        Target(
            customer_id=f"{prefix}-{rank:02d}",
            name="Maria",
            phone=f"+55119{secrets.randbelow(10**8):08d}",
            campaign_id="REACTIVATION",
            period="2026-11",
            run_id="foresight",
            local_date="2026-11-20",
            send_by=deadline,
            priority=Priority.BULK.rank,
        )
        for rank in range(count)
    ]


def test_a_run_foresees_who_goes_and_the_audience_order_decides(deps: Container) -> None:
    private = private_tenant(deps)
    # The audience in the targeting query's order: the most recently lapsed first.
    audience = lapsed("lapsed", 30)

    foreseen = foresee_targets(
        private.campaign_ports(), private.outlook, TENANT, audience, now=START
    )

    assert foreseen == Foreseen(will_send=PER_DAY * DAYS_LEFT, will_expire=30 - 22)
    tasks = FaithfulCloudTasks()
    tasks.ensure_queue(send_queue(TENANT.value))
    ports = replace(private.delivery_ports(), tasks=tasks, history=NoHistory())
    assert private.targets.create_batch(TENANT, audience).created == 30
    outcomes = [
        enqueue_target(TargetRef(TENANT, "REACTIVATION", target.id), ports) for target in audience
    ]
    assert outcomes == [Status.QUEUED] * 22 + [Status.EXPIRED] * 8  # the first found go

    # A repeated run finds them: the planned keep their slots, the rest still find none.
    again = foresee_targets(private.campaign_ports(), private.outlook, TENANT, audience, now=START)
    assert again == Foreseen(will_send=22, will_expire=8)


class CountingOutlook:
    """The emulator's outlook, counting the reads of waiting messages."""

    def __init__(self, inner: DeliveryOutlook) -> None:
        self._inner = inner
        self.waiting_reads = 0

    def waiting(self, cnpj: Cnpj, campaign_id: str) -> list[TargetRecord]:
        self.waiting_reads += 1
        return self._inner.waiting(cnpj, campaign_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_run_reads_the_backlog_once_and_foresees_each_campaign_after_the_earlier_ones(
    deps: Container,
) -> None:
    private = private_tenant(deps)
    outlook = CountingOutlook(private.outlook)
    foresight = RunForesight(
        private.campaign_ports(), cast(DeliveryOutlook, outlook), TENANT, now=START
    )

    first = foresight(lapsed("first", 15))
    reads = outlook.waiting_reads
    second = foresight(lapsed("second", 15))

    assert first == Foreseen(will_send=15, will_expire=0)
    assert second == Foreseen(will_send=PER_DAY * DAYS_LEFT - 15, will_expire=8)
    assert reads > 0 and outlook.waiting_reads == reads
