"""Two tenants on one WhatsApp number, on the real Firestore emulator: together they never
plan more than the number's ceiling in any second, nor more than its daily limit in a day,
and each gets its fair share.

As in ``test_campaign_pace``, the tenants live in a Firestore project of their own (no other
tenant shares the number) and tasks go to the faithful Cloud Tasks fake, not started.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.bootstrap import Container
from shared.clock import SettableClock
from shared.domain.campaign import LocalWindow
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.domain.sending_number import NumberLimits
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.localstack.faithful_tasks import FaithfulCloudTasks
from shared.manifest import send_queue
from shared.services.campaigns import store_built_ins
from shared.services.enqueue import enqueue_target
from tests.campaign_records import edit_built_in
from tests.integration.test_campaign_pace import NoHistory, counts_in_windows

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 10:00 in São Paulo
NUMBER = "106540352242922"
TENANTS = (Cnpj("11111111000191"), Cnpj("22222222000191"))
PER_TENANT = 60


def test_two_tenants_on_one_number_stay_within_its_ceiling_and_daily_limit(
    deps: Container,
) -> None:
    clock = SettableClock(START)
    project = f"demo-number-{secrets.token_hex(4)}"
    private = Container(deps.settings.model_copy(update={"google_cloud_project": project}), clock)
    private.number_shares.set_limits(NUMBER, NumberLimits(ceiling_per_second=3, daily_limit=100))
    for cnpj in TENANTS:
        tenant = Tenant(cnpj=cnpj.value, name=f"Lavanderia {cnpj.value[:2]}")
        throttle = tenant.delivery.throttle.model_copy(  # 10 a second asked, 1,000 a day
            update={"messages_per_minute": 600, "messages_per_hour": 10_000}
        )
        # One pacing shard: each tenant's day share is then used whole, whatever the hashing.
        throttle = throttle.model_copy(update={"messages_per_day": 1000, "shards": 1})
        delivery = tenant.delivery.model_copy(
            update={"throttle": throttle, "phone_number_id": NUMBER, "frequency_cap_hours": 0}
        )
        private.tenants.save(tenant.model_copy(update={"delivery": delivery}))
        store_built_ins(private.campaigns, cnpj, now=clock())
        edit_built_in(
            private.campaigns,
            cnpj,
            "REACTIVATION",
            send_window=LocalWindow(start="00:00", end="23:59"),
        )
    tasks = FaithfulCloudTasks()
    ports = replace(private.delivery_ports(), tasks=tasks, history=NoHistory())

    planned: dict[Cnpj, list[datetime]] = {}
    for cnpj in TENANTS:
        tasks.ensure_queue(send_queue(cnpj.value))
        targets = [
            Target(
                customer_id=f"c{n}",
                name="Maria",
                phone=f"+55119{secrets.randbelow(10**8):08d}",
                campaign_id="REACTIVATION",
                period="2026-11",
                run_id="number-test",
                local_date="2026-11-20",
            )
            for n in range(PER_TENANT)
        ]
        assert private.targets.create_batch(cnpj, targets).created == PER_TENANT
        planned[cnpj] = []
        for target in targets:
            ref = TargetRef(cnpj, "REACTIVATION", target.id)
            assert enqueue_target(ref, ports) is Status.QUEUED
            document = private.firestore_client.document(ref.path).get().to_dict() or {}
            planned[cnpj].append(document["plannedAt"])

    both = [at for times in planned.values() for at in times]
    assert max(counts_in_windows(both, timedelta(seconds=1))) <= 3  # the number's ceiling
    today = START.astimezone(SAO_PAULO).date()
    days = Counter(at.astimezone(SAO_PAULO).date() for at in both)
    assert days == {today: 100, today + timedelta(days=1): 20}  # the daily limit, all used,
    for times in planned.values():  # split fairly: 50 each today, the rest tomorrow
        assert Counter(at.astimezone(SAO_PAULO).date() for at in times)[today] == 50
    first = sorted(planned[TENANTS[0]])[:50]
    assert max(counts_in_windows(first, timedelta(seconds=1))) == 2  # 3/s shared: 2 and 1
