"""The sweeper: no target is ever lost, whatever crashed where.

Every delivery step can die between two writes. Each leaves a recognisable trace, and the
sweeper (scheduled every few minutes) repairs it by re-running the same idempotent step:

- PENDING for a while: the creation event was lost -> enqueue it.
- QUEUED well past its planned time: its task was lost -> a new task generation.
- SENDING past its lease: the sender died, maybe after WhatsApp accepted the message ->
  UNKNOWN, never re-sent; a status webhook (by callback data) can still settle it.
- UNKNOWN for a day without any webhook -> settled as UNKNOWN (final).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from shared import logs
from shared.domain.delivery import TargetRecord
from shared.domain.delivery_status import Status
from shared.ports import Change
from shared.services.delivery_common import (
    DeliveryPorts,
    campaign_delivery,
    for_one_batch,
    history_row,
    schedule_send,
)
from shared.services.enqueue import enqueue_target

_log = logging.getLogger(__name__)

PENDING_GRACE = timedelta(minutes=10)
QUEUED_GRACE = timedelta(minutes=15)
"""How late a task may run (queue backlog, rate limits) before it counts as lost."""
UNKNOWN_SETTLE_AFTER = timedelta(hours=24)
BATCH = 500


def sweep(ports: DeliveryPorts, limit: int = BATCH) -> Counter[str]:
    now = ports.clock()
    ports = for_one_batch(ports)
    report: Counter[str] = Counter()
    overdue = [
        *ports.store.overdue(Status.PENDING, now - PENDING_GRACE, limit),
        *ports.store.overdue(Status.QUEUED, now - QUEUED_GRACE, limit),
        *ports.store.overdue(Status.SENDING, now, limit),
        *ports.store.overdue(Status.UNKNOWN, now - UNKNOWN_SETTLE_AFTER, limit),
    ]
    for record in overdue:
        try:
            report[_repair(record, ports)] += 1
        except Exception as error:  # one broken target must not stop the sweep
            report["error"] += 1
            logs.log(
                _log,
                logging.ERROR,
                "sweep of a target failed",
                target=record.ref.path,
                error=str(error),
            )
    if report:
        logs.log(_log, logging.INFO, "sweep done", **dict(report))
    return report


def _repair(record: TargetRecord, ports: DeliveryPorts) -> str:
    now = ports.clock()
    ref = record.ref
    if record.status is Status.PENDING:
        enqueue_target(ref, ports)
        return "pending_enqueued"
    if record.status is Status.SENDING:
        if record.lease_until is not None and record.lease_until > now:
            return "sending_in_lease"
        change = Change(Status.UNKNOWN, error_reason="sender lease expired: outcome unknown")
        written = ports.store.transition(
            ref, frozenset({Status.SENDING}), record.send_no, change, now
        )
        _append(ports, written)
        return "sending_to_unknown" if written else "raced"
    if record.status is Status.QUEUED:
        if record.planned_at is not None and record.planned_at > now - QUEUED_GRACE:
            return "queued_on_time"
        tenant = ports.tenants.get(ref.cnpj)
        if tenant is None:
            return "unknown_tenant"
        delivery = campaign_delivery(tenant, ref.campaign_type)
        queued = ports.store.queue(
            ref,
            delivery.planner(record),
            now,
            frozenset({Status.QUEUED}),
            now,
            record.task_generation,
        )
        if queued is None or queued.version == record.version:
            return "raced"
        _append(ports, queued)
        schedule_send(ports, queued)
        return "queued_requeued"
    if record.status is Status.UNKNOWN and not record.settled:
        if record.updated_at is not None and record.updated_at > now - UNKNOWN_SETTLE_AFTER:
            return "unknown_waiting"
        change = Change(Status.UNKNOWN, settled=True)
        written = ports.store.transition(ref, frozenset({Status.UNKNOWN}), None, change, now)
        _append(ports, written)
        return "unknown_settled"
    return "nothing"


def _append(ports: DeliveryPorts, record: TargetRecord | None) -> None:
    if record is None:
        return
    tenant = ports.tenants.get(record.ref.cnpj)
    template = (
        campaign_delivery(tenant, record.ref.campaign_type).template_for(record).name
        if tenant
        else ""
    )
    ports.history.append(record.ref.cnpj, [history_row(record, template, ports.clock())])
