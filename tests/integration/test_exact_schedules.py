"""Exact schedules on the emulators: an API campaign's occurrence is materialised at its
instant by its named Cloud Task, and the hourly tick still catches one whose task was lost.

Each test pauses its tenant's queue in the Cloud Tasks emulator, which then holds the tasks
as production holds them until their instant; the test reads them back from the emulator and
delivers each one itself, as Cloud Tasks would, to the ``run_occurrence`` handler running on
a clock set to the instant of the test's choosing (the emulator would deliver them by the wall
clock, to a functions host on the wall clock). The last test lets the emulator deliver one to
the local functions host on the wall clock, as the local stack runs.

São Paulo is UTC-3 all year: 14:37 UTC is 11:37 there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import flask
import pytest
from google.cloud import tasks_v2
from werkzeug.test import EnvironBuilder

from shared.bootstrap import Container
from shared.clock import SettableClock
from shared.domain.campaign import Campaign, CampaignCreate, CampaignPatch, CampaignStatus
from shared.domain.cnpj import Cnpj
from shared.domain.errors import TransientError
from shared.entrypoints.http import handle_occurrence_task
from shared.manifest import send_queue
from shared.messages import TenantJob
from shared.services.campaigns import change_status, create_campaign, get_campaign, patch_campaign
from shared.services.occurrence_tasks import START_RETRY, OccurrenceTask
from shared.services.process_tenant import TenantPorts, process_tenant
from tests.fakes import FlakyWarehouse
from tests.integration.campaign_payloads import SIMPLE, approved, targets_of
from tests.integration.delivery_fixtures import wait_until

DAY = date(2026, 11, 20)
BEFORE = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
AT = datetime(2026, 11, 20, 14, 37, tzinfo=UTC)
"""11:37 in São Paulo: 23 minutes before the 15:00 tick."""
RESCHEDULED = datetime(2026, 11, 20, 15, 5, tzinfo=UTC)


class Tenant:
    """A sample tenant whose queue holds its tasks, and its services on the simulated clock."""

    def __init__(self, deps: Container, cnpj: Cnpj) -> None:
        self.deps = deps
        self.cnpj = cnpj
        self.clock = SettableClock(BEFORE)
        self.ports: TenantPorts = Container(deps.settings, self.clock).tenant_ports()
        settings = deps.settings
        self.queue = deps.tasks_client.queue_path(
            settings.google_cloud_project, settings.region, send_queue(cnpj.value)
        )

    def start(self, **fields: Any) -> Campaign:
        body = CampaignCreate.model_validate({**approved(SIMPLE), **fields})
        created = create_campaign(self.ports.campaigns, self.cnpj, "tester", body, self.clock())
        return self.act(created.id, "start")

    def act(self, campaign_id: str, action: Any) -> Campaign:
        _, after, _ = change_status(
            self.ports.campaigns, self.cnpj, campaign_id, action, self.clock()
        )
        return after

    def campaign(self, campaign_id: str) -> Campaign:
        return get_campaign(self.ports.campaigns, self.cnpj, campaign_id)

    def tasks(self) -> dict[str, tasks_v2.Task]:
        """The occurrence tasks in the queue, by name (the emulator keeps a refused duplicate
        too: production's name dedup is one of its gaps)."""
        listed = self.deps.tasks_client.list_tasks(
            request=tasks_v2.ListTasksRequest(
                parent=self.queue, response_view=tasks_v2.Task.View.FULL
            )
        )
        url = self.deps.settings.run_occurrence_endpoint
        return {
            task.name.rsplit("/", 1)[-1]: task for task in listed if task.http_request.url == url
        }

    def task_for(self, campaign_id: str, at: datetime) -> tasks_v2.Task:
        name = OccurrenceTask(self.cnpj, campaign_id, at).task_id
        tasks = self.tasks()
        assert name in tasks, f"no task {name}; the queue has {sorted(tasks)}"
        return tasks[name]

    def deliver(self, task: tasks_v2.Task, at: datetime) -> dict[str, Any]:
        """What Cloud Tasks does at ``at``: POST the task's body to the handler (200 expected)."""
        body, status = self.post(task.http_request.body, at)
        assert status == 200, body
        return body

    def post(
        self, data: bytes, at: datetime, ports: TenantPorts | None = None
    ) -> tuple[dict[str, Any], int]:
        self.clock.now = at
        environ = EnvironBuilder(
            method="POST", data=data, content_type="application/json"
        ).get_environ()
        answer = handle_occurrence_task(flask.Request(environ), ports or self.ports)
        return cast(tuple[dict[str, Any], int], answer)

    def targets(self, campaign_id: str) -> list[dict[str, Any]]:
        return targets_of(self.deps, self.cnpj, campaign_id)


@pytest.fixture
def tenant(deps: Container, sample_tenant: Callable[..., Cnpj]) -> Tenant:
    held = Tenant(deps, sample_tenant(customers=40, as_of=DAY))
    deps.tasks_client.pause_queue(name=held.queue)
    return held


def test_a_start_at_14_37_is_materialised_by_its_task_at_14_37(tenant: Tenant) -> None:
    campaign = tenant.start(scheduled_at=AT.isoformat())
    assert campaign.status == CampaignStatus.SCHEDULED

    task = tenant.task_for(campaign.id, AT)
    assert task.schedule_time == AT
    assert OccurrenceTask.parse(json.loads(task.http_request.body)) == OccurrenceTask(
        tenant.cnpj, campaign.id, AT
    )
    # Delivered a minute early (a clock far behind), it finds nothing due yet.
    assert tenant.deliver(task, AT - timedelta(minutes=1)) == {"outcome": "nothing_due"}
    assert tenant.targets(campaign.id) == []

    answer = tenant.deliver(task, AT)

    assert answer["outcome"] == "materialised" and answer["created"] > 0
    targets = tenant.targets(campaign.id)
    assert len(targets) == answer["created"]
    name = OccurrenceTask(tenant.cnpj, campaign.id, AT).task_id
    assert {t["runId"] for t in targets} == {name}
    assert {t["period"] for t in targets} == {"once"}
    ran = tenant.campaign(campaign.id)
    assert (ran.status, ran.occurrences_run, ran.updated_at) == (CampaignStatus.RUNNING, 1, AT)
    run = tenant.deps.runs.document(tenant.cnpj, name)
    assert run is not None and run["instant"] == AT.isoformat()
    assert run["campaigns"][campaign.id]["created"] == answer["created"]

    # Delivered again (Cloud Tasks delivers at least once): nothing new.
    assert tenant.deliver(task, AT + timedelta(seconds=2)) == {"outcome": "nothing_due"}
    assert len(tenant.targets(campaign.id)) == len(targets)
    # A one-off campaign has no next occurrence, so no other task.
    assert set(tenant.tasks()) == {name}


def test_pause_cancel_and_reschedule_make_the_old_task_harmless(tenant: Tenant) -> None:
    paused = tenant.start(scheduled_at=AT.isoformat())
    stale = tenant.task_for(paused.id, AT)
    tenant.clock.now = BEFORE + timedelta(minutes=10)
    assert tenant.act(paused.id, "pause").status == CampaignStatus.PAUSED

    assert tenant.deliver(stale, AT) == {"outcome": "nothing_due"}
    assert tenant.targets(paused.id) == []

    # Rescheduled to 15:05: a task of its own; the 14:37 one, retried late, still does nothing.
    tenant.clock.now = AT + timedelta(minutes=1)
    patch = CampaignPatch.model_validate({"scheduled_at": RESCHEDULED.isoformat()})
    patch_campaign(tenant.ports.campaigns, tenant.cnpj, paused.id, patch, tenant.clock())
    assert tenant.act(paused.id, "resume").status == CampaignStatus.SCHEDULED
    moved = tenant.task_for(paused.id, RESCHEDULED)
    assert moved.schedule_time == RESCHEDULED
    assert moved.name != stale.name
    assert tenant.deliver(stale, AT + timedelta(minutes=2)) == {"outcome": "nothing_due"}
    assert tenant.targets(paused.id) == []

    assert tenant.deliver(moved, RESCHEDULED)["outcome"] == "materialised"
    name = OccurrenceTask(tenant.cnpj, paused.id, RESCHEDULED).task_id
    assert {t["runId"] for t in tenant.targets(paused.id)} == {name}

    tenant.clock.now = BEFORE
    cancelled = tenant.start(scheduled_at=AT.isoformat())
    task = tenant.task_for(cancelled.id, AT)
    assert tenant.act(cancelled.id, "cancel").status == CampaignStatus.CANCELLED
    assert tenant.deliver(task, AT) == {"outcome": "nothing_due"}
    assert tenant.targets(cancelled.id) == []


def test_a_recurrence_at_hh_37_asks_for_its_next_task_after_each_occurrence(
    tenant: Tenant,
) -> None:
    recurrence = {"frequency": "daily", "end_type": "after", "max_occurrences": 3,
                  "hour": 11, "minute": 37}  # fmt: skip
    campaign = tenant.start(scheduled_at=AT.isoformat(), recurrence=recurrence)
    days = [AT + timedelta(days=n) for n in range(3)]

    for number, at in enumerate(days, start=1):
        answer = tenant.deliver(tenant.task_for(campaign.id, at), at)
        assert answer["outcome"] == "materialised" and answer["created"] > 0
        assert tenant.campaign(campaign.id).occurrences_run == number
        if number < len(days):  # the next occurrence's task exists as soon as this one ran
            assert tenant.task_for(campaign.id, days[number]).schedule_time == days[number]

    # The series is over: no fourth task.
    assert set(tenant.tasks()) == {
        OccurrenceTask(tenant.cnpj, campaign.id, at).task_id for at in days
    }
    periods = {t["period"] for t in tenant.targets(campaign.id)}
    assert periods == {at.date().isoformat() for at in days}


def test_a_transient_failure_answers_a_retry_and_a_malformed_task_is_acknowledged(
    tenant: Tenant,
) -> None:
    campaign = tenant.start(scheduled_at=AT.isoformat())
    task = tenant.task_for(campaign.id, AT)
    outage = TransientError("BigQuery 503")
    flaky = FlakyWarehouse(tenant.ports.campaigns.warehouse, "customer_profile` AS p", outage)
    down = replace(tenant.ports, campaigns=replace(tenant.ports.campaigns, warehouse=flaky))

    answer, status = tenant.post(task.http_request.body, AT, down)

    assert (status, answer["outcome"]) == (503, "retry")  # Cloud Tasks retries a 5xx
    assert flaky.failures == 1 and tenant.targets(campaign.id) == []
    retried = tenant.deliver(task, AT + timedelta(seconds=30))
    assert retried["outcome"] == "materialised" and retried["created"] > 0

    # What no retry can fix is logged and acknowledged, never retried forever.
    for malformed in (b"not json", b'{"cnpj": "' + tenant.cnpj.value.encode() + b'"}'):
        answer, status = tenant.post(malformed, AT)
        assert (status, answer["outcome"]) == (200, "malformed"), answer


def test_the_hourly_tick_still_runs_an_occurrence_whose_task_was_lost(tenant: Tenant) -> None:
    campaign = tenant.start(scheduled_at=AT.isoformat())
    lost = tenant.task_for(campaign.id, AT)  # never delivered

    tenant.clock.now = AT.replace(minute=0) + timedelta(hours=1)
    tick = TenantJob(cnpj=tenant.cnpj.value, instant=tenant.clock.now, tick_id="t-1500")
    outcomes = {o.campaign_id: o for o in process_tenant(tick, tenant.ports)}

    assert outcomes[campaign.id].created > 0
    targets = tenant.targets(campaign.id)
    assert {t["runId"] for t in targets} == {"t-1500"}
    assert tenant.campaign(campaign.id).occurrences_run == 1
    # The lost task turning up after all creates nothing.
    assert tenant.deliver(lost, AT + timedelta(hours=1)) == {"outcome": "nothing_due"}
    assert len(tenant.targets(campaign.id)) == len(targets)


def test_the_local_stack_delivers_an_occurrence_task_to_its_function(
    deps: Container, sample_tenant: Callable[..., Cnpj]
) -> None:
    """On the wall clock, end to end: the emulator calls the functions host's run_occurrence."""
    cnpj = sample_tenant(customers=20)
    at = deps.clock() + timedelta(seconds=5)  # time enough to start it before it is due
    body = CampaignCreate.model_validate({**approved(SIMPLE), "scheduled_at": at.isoformat()})
    campaign = create_campaign(deps.campaign_ports(), cnpj, "tester", body, deps.clock())
    _, started, _ = change_status(deps.campaign_ports(), cnpj, campaign.id, "start", deps.clock())
    assert started.status == CampaignStatus.SCHEDULED

    name = OccurrenceTask(cnpj, campaign.id, at).task_id
    targets = wait_until(
        lambda: targets_of(deps, cnpj, campaign.id) or None, "the occurrence's targets"
    )
    assert {t["runId"] for t in targets} == {name}


def test_a_start_that_cannot_materialise_at_once_is_retried_by_a_task_a_minute_later(
    tenant: Tenant,
) -> None:
    outage = TransientError("BigQuery 503")
    flaky = FlakyWarehouse(tenant.ports.campaigns.warehouse, "customer_profile` AS p", outage)
    down = replace(tenant.ports.campaigns, warehouse=flaky)
    body = CampaignCreate.model_validate(approved(SIMPLE))
    created = create_campaign(down, tenant.cnpj, "tester", body, tenant.clock())

    _, started, outcome = change_status(down, tenant.cnpj, created.id, "start", tenant.clock())

    assert started.status == CampaignStatus.RUNNING and outcome is None
    assert flaky.failures == 1 and tenant.targets(created.id) == []
    retry = tenant.task_for(created.id, BEFORE + START_RETRY)
    answer = tenant.deliver(retry, BEFORE + START_RETRY)
    assert answer["outcome"] == "materialised" and answer["created"] > 0
