"""An occurrence task arrived (:mod:`shared.services.occurrence_tasks`): run what is due now.

The task carries no decision, only whom to look at: the campaign is read again and
:func:`shared.services.campaigns.run_due_occurrence` materialises whatever is due, which is
nothing for a task a pause, a cancel, a reschedule or an earlier run made stale. What it
materialises is recorded as a run of its own (``users/{cnpj}/runs/{task id}``), as a tick's
would be, so the runs list and the console's day show it.
"""

from __future__ import annotations

import logging
import time

from shared import logs
from shared.domain.calendar import local_date, zone
from shared.domain.runs import CampaignOutcome, RunStatus
from shared.services.campaigns import run_due_occurrence
from shared.services.occurrence_tasks import OccurrenceTask
from shared.services.process_tenant import TenantPorts

_log = logging.getLogger(__name__)


def run_occurrence(task: OccurrenceTask, ports: TenantPorts) -> CampaignOutcome | None:
    """What the task materialised (None: nothing was due, or the tenant is inactive).

    Errors are raised as they come: a :class:`~shared.domain.errors.TransientError` is worth
    a retry, any other campaign error is not (the tick tries again anyway).
    """
    started = time.monotonic()
    tenant = ports.tenants.get(task.cnpj)
    if tenant is None or not tenant.active:
        logs.log(
            _log,
            logging.WARNING,
            "occurrence for an unknown or inactive tenant",
            tenant=task.cnpj.value,
        )
        return None
    now = task.run_at(ports.campaigns.clock())
    outcome = run_due_occurrence(
        ports.campaigns, task.cnpj, task.campaign_id, now=now, run_id=task.task_id
    )
    if outcome is None:
        logs.log(
            _log,
            logging.INFO,
            "nothing due for the occurrence task",
            tenant=task.cnpj.value,
            campaign=task.campaign_id,
            at=task.at.isoformat(),
        )
        return None
    info = {
        "tenantName": tenant.name,
        "instant": now.isoformat(),
        "localDate": local_date(now, zone(tenant.timezone)).isoformat(),
        "force": False,
        "timezone": tenant.timezone,
    }
    ports.runs.begin(task.cnpj, task.task_id, info)
    ports.runs.record(task.cnpj, task.task_id, outcome)
    duration_ms = int((time.monotonic() - started) * 1000)
    ports.runs.finish(task.cnpj, task.task_id, RunStatus.FINISHED, duration_ms)
    logs.log(
        _log,
        logging.INFO,
        "campaign targeted",
        tenant=task.cnpj.value,
        campaign=task.campaign_id,
        run=task.task_id,
        created=outcome.created,
        candidates=outcome.candidates,
    )
    return outcome
