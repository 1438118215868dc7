"""The forecast on the real Firestore emulator: the planner run on a copy of the tenant's
pace, nothing planned. The private Firestore project and the moving clock are the send-by
tests' (:mod:`tests.integration.test_send_by_priority`): no trigger plans these targets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status
from shared.domain.send_by import Priority, send_by
from shared.domain.targets import Target
from shared.services.forecast import forecast_campaign
from shared.services.tenants import register_tenant
from tests.integration import api_fixtures, test_send_by_priority
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE, approved
from tests.integration.test_send_by_priority import DAY_CAP, SAO_PAULO, Scenario

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
scenario = test_send_by_priority.scenario

BIRTHDAY = date(2026, 11, 21)


def _pending_birthdays(scenario: Scenario, count: int) -> None:
    """Birthday targets created and not planned yet (their trigger has not run)."""
    instant = scenario.clock()
    deadline = send_by(
        "BIRTHDAY", instant=instant, today=BIRTHDAY, tenant_zone=SAO_PAULO, contact_zone=SAO_PAULO
    )
    targets = [
        Target(
            customer_id=f"pending{n}",
            name="Ana",
            phone=f"+551198888{n:04d}",
            campaign_id="BIRTHDAY",
            period=BIRTHDAY.isoformat(),
            run_id="forecast-test",
            local_date=BIRTHDAY.isoformat(),
            send_by=deadline,
            priority=Priority.TIME_CRITICAL.rank,
        )
        for n in range(count)
    ]
    assert scenario.deps.targets.create_batch(scenario.cnpj, targets).created == count


def test_planned_and_pending_messages_per_day_and_what_will_expire(scenario: Scenario) -> None:
    scenario.clock.now = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # 08:00 on the birthday
    queued = [scenario.target("BIRTHDAY", BIRTHDAY, n) for n in range(3)]
    _pending_birthdays(scenario, DAY_CAP)
    shards_before = scenario.deps.outlook.pacing(scenario.cnpj, 1)

    forecast = forecast_campaign(
        scenario.deps.campaign_ports(),
        scenario.deps.outlook,
        scenario.cnpj,
        "BIRTHDAY",
        days=3,
        now=scenario.clock(),
    )

    assert (forecast.planned, forecast.to_plan) == (3, DAY_CAP)
    assert [(d.day, d.messages) for d in forecast.days] == [
        (BIRTHDAY, DAY_CAP),  # the day's cap: 3 planned, 2 more fit
        (date(2026, 11, 22), 0),
        (date(2026, 11, 23), 0),
    ]
    assert forecast.will_expire == 3  # no slot left before the birthday ends
    assert forecast.last_send_at is not None
    assert forecast.last_send_at.astimezone(SAO_PAULO).date() == BIRTHDAY
    # Nothing was planned: the pace and the targets are as they were.
    assert scenario.deps.outlook.pacing(scenario.cnpj, 1) == shards_before
    assert all(scenario.load(ref).status is Status.QUEUED for ref in queued)
    waiting = scenario.deps.outlook.waiting(scenario.cnpj, "BIRTHDAY")
    assert sorted(record.status for record in waiting).count(Status.PENDING) == DAY_CAP


def test_the_api_serves_a_campaigns_forecast(
    api_as: Callable[..., ApiClient], deps: Container, new_cnpj: Cnpj
) -> None:
    register_tenant(
        new_cnpj, name=None, timezone=None, tenants=deps.tenants, warehouse=None, queues=None
    )
    reader = api_as(new_cnpj, Role.VIEWER)

    answer = reader.get("/api/v1/campaigns/WELCOME/forecast", params={"days": 2})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [day["messages"] for day in body["days"]] == [0, 0]
    assert (body["will_expire"], body["planned"], body["last_send_at"]) == (0, 0, None)
    assert reader.get("/api/v1/campaigns/SEG_0000000000000000/forecast").status_code == 404
    draft = api_as(new_cnpj, Role.EDITOR).post("/api/v1/campaigns", json=approved(SIMPLE))
    assert draft.status_code == 201, draft.text
    answer = reader.get(f"/api/v1/campaigns/{draft.json()['id']}/forecast")
    assert answer.status_code == 200, answer.text  # a draft: nothing waits yet
    assert answer.json()["planned"] == answer.json()["to_plan"] == 0
    assert reader.get("/api/v1/campaigns/WELCOME/forecast?days=0").status_code == 422
