"""The sweeper: no target is ever lost, whatever crashed where.

Every delivery step can die between two writes. Each leaves a recognisable trace, and the
sweeper (scheduled every few minutes) repairs it by re-running the same idempotent step:

- PENDING for a while: the creation event was lost -> enqueue it.
- QUEUED well past its planned time: its task was lost -> a new task generation, or EXPIRED
  when its send-by has passed meanwhile (never sent late).
- SENDING past its lease: the sender died, maybe after WhatsApp accepted the message ->
  UNKNOWN, never re-sent; a status webhook (by callback data) can still settle it.
- UNKNOWN for a day without any webhook -> settled as UNKNOWN (final).
- A tracked-link click recorded without its history row (the request that recorded it stopped
  before appending it) -> the row is appended.
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
    CampaignDelivery,
    DeliveryPorts,
    campaign_delivery,
    for_one_batch,
    queue_send,
    record_change,
)
from shared.services.enqueue import enqueue_target
from shared.services.link_clicks import LinkPorts, append_unappended

_log = logging.getLogger(__name__)

PENDING_GRACE = timedelta(minutes=10)
QUEUED_GRACE = timedelta(minutes=15)
"""How late a task may run (queue backlog, rate limits) before it counts as lost."""
UNKNOWN_SETTLE_AFTER = timedelta(hours=24)
BATCH = 500


def sweep(ports: DeliveryPorts, limit: int = BATCH, links: LinkPorts | None = None) -> Counter[str]:
    """Repair every overdue target; with ``links``, append the history rows of tracked-link
    clicks whose own request did not (:mod:`shared.services.link_clicks`)."""
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
    if links is not None:
        appended = append_unappended(links, limit)
        if appended:
            report["click_rows_appended"] += appended
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
        if written is None:
            return "raced"
        record_change(ports, written, _delivery(ports, written))
        return "sending_to_unknown"
    if record.status is Status.QUEUED:
        if record.planned_at is not None and record.planned_at > now - QUEUED_GRACE:
            return "queued_on_time"
        delivery = _delivery(ports, record)
        if delivery is None:
            return "unknown_tenant"
        after = queue_send(ports, record, delivery, now)
        if after is Status.EXPIRED:  # a lost task or a long pause left it past its send-by
            return "expired"
        return "queued_requeued" if after is Status.QUEUED else "raced"
    if record.status is Status.UNKNOWN and not record.settled:
        if record.updated_at is not None and record.updated_at > now - UNKNOWN_SETTLE_AFTER:
            return "unknown_waiting"
        change = Change(Status.UNKNOWN, settled=True)
        written = ports.store.transition(ref, frozenset({Status.UNKNOWN}), None, change, now)
        if written is not None:
            record_change(ports, written, _delivery(ports, written))
        return "unknown_settled"
    return "nothing"


def _delivery(ports: DeliveryPorts, record: TargetRecord) -> CampaignDelivery | None:
    """The campaign's delivery settings (None: its tenant is gone)."""
    tenant = ports.tenants.get(record.ref.cnpj)
    return campaign_delivery(ports, tenant, record.ref.campaign_id) if tenant else None
