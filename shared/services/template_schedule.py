"""The template library's scheduled sync: from each tenant's hourly job, at most every few hours.

Meta changes templates without telling every path we read (a status webhook may be lost, a
template may be added or edited in WhatsApp Manager), so each active tenant's catalogue is
synced again (:func:`~shared.services.template_sync.sync_templates`) at most once every
:data:`SYNC_EVERY`, and an hour after a failed attempt (:data:`RETRY_AFTER`). The hourly
per-tenant job asks after its campaigns have run (:func:`sync_if_due`), so a slow or failing
Meta never delays or fails targeting, and one tenant's failure never reaches another's (each
is its own job). Whether it is due is read from ``users/{cnpj}/templateSync/schedule`` and
claimed with a compare-and-set on that document, so a redelivered or concurrent job for the
same hour syncs once. Everything reads the job's instant: tests replay hours on a set clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from shared import logs
from shared.domain.cnpj import Cnpj
from shared.ports import SyncState, TemplateSyncSchedule
from shared.services.template_sync import TemplateSyncPorts, sync_templates

_log = logging.getLogger(__name__)

SYNC_EVERY = timedelta(hours=6)
RETRY_AFTER = timedelta(hours=1)


class Scheduled(StrEnum):
    SYNCED = "synced"
    NOT_DUE = "not_due"
    TAKEN = "taken"
    """Another job claimed this one first."""
    FAILED = "failed"


@dataclass(frozen=True)
class ScheduledSyncPorts:
    sync: TemplateSyncPorts
    schedule: TemplateSyncSchedule


def is_due(state: SyncState | None, now: datetime) -> bool:
    """Never attempted; or the last attempt is :data:`SYNC_EVERY` old (:data:`RETRY_AFTER`
    when it failed)."""
    if state is None:
        return True
    wait = SYNC_EVERY if state.succeeded else RETRY_AFTER
    return now - state.attempted_at >= wait


def sync_if_due(ports: ScheduledSyncPorts, cnpj: Cnpj, now: datetime) -> Scheduled:
    """Never raises: whatever goes wrong is logged, recorded for the next attempt, and left
    there (the caller's campaigns have run already)."""
    try:
        state = ports.schedule.read(cnpj)
        if not is_due(state, now):
            return Scheduled.NOT_DUE
        if not ports.schedule.claim(cnpj, state, now):
            return Scheduled.TAKEN
    except Exception as error:
        logs.log(
            _log,
            logging.WARNING,
            "template sync schedule unreadable",
            tenant=cnpj.value,
            error=repr(error),
        )
        return Scheduled.FAILED
    try:
        sync_templates(ports.sync, cnpj)
    except Exception as error:
        logs.log(
            _log,
            logging.WARNING,
            "scheduled template sync failed: retried in an hour",
            tenant=cnpj.value,
            error=repr(error)[:300],
        )
        _finish_quietly(ports, cnpj, now, repr(error)[:300])
        return Scheduled.FAILED
    _finish_quietly(ports, cnpj, now, "")
    return Scheduled.SYNCED


def _finish_quietly(
    ports: ScheduledSyncPorts, cnpj: Cnpj, attempted_at: datetime, error: str
) -> None:
    try:
        ports.schedule.finish(cnpj, attempted_at, error)
    except Exception as failure:  # the claim stays: due again after RETRY_AFTER at worst
        logs.log(
            _log,
            logging.WARNING,
            "template sync outcome not recorded",
            tenant=cnpj.value,
            error=repr(failure),
        )
