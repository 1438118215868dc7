"""An API campaign occurrence's Cloud Task (shared/services/occurrence_tasks.py), without I/O.

São Paulo is UTC-3 all year: a recurrence at 11:37 local falls at 14:37 UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.domain.calendar import zone
from shared.domain.campaign import Campaign, Recurrence, built_in_campaign
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.domain.tenant import Tenant
from shared.localstack.faithful_tasks import TASK_ID
from shared.services.occurrence_tasks import (
    EARLY_ARRIVAL,
    SCHEDULE_HORIZON,
    OccurrenceTask,
    upcoming_task,
)

CNPJ = Cnpj("11222333000181")
TENANT = Tenant(cnpj=CNPJ.value)
SEG = "SEG_0123456789ABCDEF"
NOW = datetime.fromisoformat("2026-12-07T14:00:00+00:00")
AT = datetime.fromisoformat("2026-12-07T14:37:00+00:00")


def campaign(**fields: Any) -> Campaign:
    base = {"id": SEG, "name": "x", "created_at": NOW - timedelta(days=1)}
    return Campaign.model_validate(base | {"updated_at": base["created_at"]} | fields)


def test_the_task_name_is_the_occurrence_s_and_a_valid_cloud_tasks_id() -> None:
    task = OccurrenceTask(CNPJ, SEG, AT)
    assert task.task_id == OccurrenceTask(CNPJ, SEG, AT.astimezone(zone(TENANT.timezone))).task_id
    assert TASK_ID.fullmatch(task.task_id)
    assert CNPJ.value in task.task_id and SEG in task.task_id
    # A reschedule, however small, asks for a task of its own.
    moved = OccurrenceTask(CNPJ, SEG, AT + timedelta(microseconds=1))
    assert moved.task_id != task.task_id


def test_the_payload_reads_back_as_the_same_task() -> None:
    task = OccurrenceTask(CNPJ, SEG, AT)
    assert OccurrenceTask.parse(task.payload()) == task


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"cnpj": "123", "campaign": SEG, "at": AT.isoformat()}, "cnpj"),
        ({"cnpj": CNPJ.value, "campaign": "BIRTHDAY", "at": AT.isoformat()}, "campaign"),
        ({"cnpj": CNPJ.value, "campaign": 7, "at": AT.isoformat()}, "campaign"),
        ({"cnpj": CNPJ.value, "campaign": SEG, "at": "soon"}, "at"),
        ({"cnpj": CNPJ.value, "campaign": SEG, "at": "2026-12-07T14:37:00"}, "at"),
    ],
)
def test_a_malformed_task_names_its_field(body: Any, field: str) -> None:
    with pytest.raises(FieldError) as raised:
        OccurrenceTask.parse(body)
    assert raised.value.field == field


def test_a_task_a_little_early_by_the_handler_s_clock_runs_as_of_its_instant() -> None:
    task = OccurrenceTask(CNPJ, SEG, AT)
    assert task.run_at(AT - EARLY_ARRIVAL) == AT
    assert task.run_at(AT - EARLY_ARRIVAL - timedelta(seconds=1)) == AT - EARLY_ARRIVAL - (
        timedelta(seconds=1)
    )  # too early: as of its arrival, when nothing is due yet
    assert task.run_at(AT + timedelta(seconds=3)) == AT + timedelta(seconds=3)


def test_a_scheduled_campaign_s_task_is_at_its_scheduled_instant() -> None:
    scheduled = campaign(status="scheduled", scheduled_at=AT, started_at=NOW)
    assert upcoming_task(scheduled, TENANT, NOW) == OccurrenceTask(CNPJ, SEG, AT)
    # Due already: whoever runs it now materialises it; no task.
    assert upcoming_task(scheduled, TENANT, AT) is None


def test_a_recurrence_s_next_task_is_at_its_local_hour_and_minute() -> None:
    daily = campaign(
        status="running",
        scheduled_at=AT,
        started_at=NOW,
        recurrence=Recurrence(frequency="daily", hour=11, minute=37).model_dump(),
        occurrences_run=1,
    )
    task = upcoming_task(daily, TENANT, AT)
    assert task is not None and task.at == AT + timedelta(days=1)


def test_no_task_for_what_does_not_run_by_itself_or_runs_beyond_the_horizon() -> None:
    assert upcoming_task(campaign(status="paused", scheduled_at=AT), TENANT, NOW) is None
    assert upcoming_task(campaign(status="draft", scheduled_at=AT), TENANT, NOW) is None
    once_done = campaign(status="running", started_at=NOW, occurrences_run=1)
    assert upcoming_task(once_done, TENANT, NOW) is None
    built_in = built_in_campaign("BIRTHDAY", now=NOW)
    assert upcoming_task(built_in, TENANT, NOW) is None
    far = campaign(status="scheduled", scheduled_at=NOW + SCHEDULE_HORIZON + timedelta(seconds=1))
    assert upcoming_task(far, TENANT, NOW) is None
    # The first tick within the horizon asks for it.
    assert upcoming_task(far, TENANT, NOW + timedelta(hours=1)) is not None
