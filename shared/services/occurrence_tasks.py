"""Exact schedules: an API campaign's next occurrence has a named Cloud Task at its instant.

Ticks come at the top of every UTC hour, so an occurrence due at 14:37 would start at 15:00.
Wherever an API campaign goes live (a start or a resume that leaves it scheduled) or one of
its occurrences is handled (:func:`shared.services.campaigns.run_due_occurrence`: at a start,
a tick, or this very task), its upcoming occurrence gets a Cloud Task on the tenant's queue at
its instant, which calls the ``run_occurrence`` function.

Why that is safe on plumbing that delivers at least once:

- The task's name is a function of (tenant, campaign, instant): asking again (a retried
  request, every tick making sure) is refused by Cloud Tasks as a duplicate, and a reschedule
  asks for a new name.
- The task decides nothing: its handler re-reads the campaign and runs ``run_due_occurrence``,
  which does nothing when nothing is due (paused, cancelled, rescheduled, already
  materialised); targets keep their (customer, occurrence) ids, so a second run creates none.
- A task that is lost, or never created (Cloud Tasks down, a crash right after the campaign's
  write), costs exactness, never the occurrence: the hourly tick still materialises what is
  due and asks for the next occurrence's task again.

Cloud Tasks refuses a schedule more than 30 days ahead; such an occurrence gets its task from
the first tick within that horizon.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared import logs
from shared.domain.calendar import zone
from shared.domain.campaign import Campaign
from shared.domain.campaign_ids import SEGMENT, SEGMENT_ID_PREFIX, is_campaign_id
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError, PermanentError, TransientError
from shared.domain.occurrences import upcoming
from shared.domain.tenant import Tenant
from shared.manifest import send_queue
from shared.ports import TaskQueue, TaskRequest

_log = logging.getLogger(__name__)

SCHEDULE_HORIZON = timedelta(days=30)
"""Cloud Tasks refuses a ``schedule_time`` further ahead than this."""
EARLY_ARRIVAL = timedelta(seconds=5)
"""How early by the handler's clock a task may arrive and still be its occurrence's instant.

Cloud Tasks dispatches at or after the instant by its own clock; the function's clock may be
a little behind. Read as it stands, such a task would find nothing due and leave the
occurrence to the next tick, up to an hour late."""


START_RETRY = timedelta(minutes=1)
"""A start (or resume) that could not materialise its due occurrence at once asks for a task
this much later, so a passing BigQuery failure costs the owner a minute, not the hour to the
next tick."""


@dataclass(frozen=True, slots=True)
class OccurrenceTasks:
    """Where occurrence tasks go: the tenants' queues, calling the ``run_occurrence`` URL."""

    queue: TaskQueue
    url: str


@dataclass(frozen=True, slots=True)
class OccurrenceTask:
    """One task: "run campaign ``campaign_id`` of ``cnpj`` as of ``at``"."""

    cnpj: Cnpj
    campaign_id: str
    at: datetime
    """The occurrence's instant (aware)."""

    @property
    def task_id(self) -> str:
        """Deterministic, so asking twice is refused as a duplicate; to the microsecond, so a
        reschedule, however small, asks for a task of its own."""
        instant = self.at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{self.cnpj.value}-{self.campaign_id}-at{instant}"

    def payload(self) -> dict[str, str]:
        return {"cnpj": self.cnpj.value, "campaign": self.campaign_id, "at": self.at.isoformat()}

    @classmethod
    def parse(cls, body: Any) -> OccurrenceTask:
        """The task a request carries; a :class:`FieldError` naming the field otherwise."""
        if not isinstance(body, dict):
            raise FieldError("body", "expected a JSON object")
        cnpj = Cnpj.parse(str(body.get("cnpj", "")))
        campaign_id = body.get("campaign")
        if not (
            isinstance(campaign_id, str)
            and campaign_id.startswith(SEGMENT_ID_PREFIX)
            and is_campaign_id(campaign_id)
        ):
            raise FieldError("campaign", "expected an API campaign id (SEG_...)")
        try:
            at = datetime.fromisoformat(str(body.get("at", "")))
        except ValueError:
            raise FieldError("at", "expected an ISO 8601 instant") from None
        if at.tzinfo is None:
            raise FieldError("at", "expected an instant with its UTC offset")
        return cls(cnpj, campaign_id, at)

    def run_at(self, now: datetime) -> datetime:
        """The instant the handler runs the occurrence as of: ``now``, or the task's own
        instant when the task arrived at most :data:`EARLY_ARRIVAL` before it by this clock."""
        if now < self.at <= now + EARLY_ARRIVAL:
            return self.at
        return now


def upcoming_task(campaign: Campaign, tenant: Tenant, now: datetime) -> OccurrenceTask | None:
    """The task the campaign's upcoming occurrence needs; None when it needs none: not an API
    campaign, not live, its series over, due already (the caller is materialising it) or
    beyond :data:`SCHEDULE_HORIZON` (a later tick asks)."""
    if campaign.kind != SEGMENT:
        return None
    occurrence = upcoming(campaign, now=now, zone=zone(tenant.timezone))
    if occurrence is None or not now < occurrence.at <= now + SCHEDULE_HORIZON:
        return None
    return OccurrenceTask(tenant.id, campaign.id, occurrence.at)


def schedule_upcoming(
    tasks: OccurrenceTasks | None, campaign: Campaign, tenant: Tenant, now: datetime
) -> OccurrenceTask | None:
    """Make sure the campaign's upcoming occurrence has its task; the task asked for.

    A failure is logged, not raised: whatever led here (a start, a materialised occurrence)
    has happened and stands, and the occurrence is not lost (the tick runs it and asks again).
    """
    task = upcoming_task(campaign, tenant, now)
    if task is None:
        return None
    return ask_for(tasks, task)


def ask_for(tasks: OccurrenceTasks | None, task: OccurrenceTask) -> OccurrenceTask | None:
    """Create ``task`` (a duplicate is fine: it exists); a failure is logged, not raised."""
    if tasks is None:
        return None
    try:
        created = tasks.queue.create(
            TaskRequest(
                queue=send_queue(task.cnpj.value),
                task_id=task.task_id,
                url=tasks.url,
                payload=task.payload(),
                schedule_at=task.at,
            )
        )
    except (TransientError, PermanentError) as error:
        logs.log(
            _log,
            logging.WARNING,
            "occurrence task not created; the tick will run the occurrence",
            tenant=task.cnpj.value,
            campaign=task.campaign_id,
            at=task.at.isoformat(),
            error=str(error),
        )
        return task
    logs.log(  # every tick asks again for each live campaign: "already" is the usual answer
        _log,
        logging.INFO if created else logging.DEBUG,
        "occurrence task created" if created else "occurrence task already exists",
        tenant=task.cnpj.value,
        campaign=task.campaign_id,
        at=task.at.isoformat(),
    )
    return task
