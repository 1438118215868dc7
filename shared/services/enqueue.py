"""``enqueue_target``: a new target gets its send time and its named Cloud Task.

Runs on every target creation (and again on a redelivered event or from the sweeper). The
transaction that plans the slot also marks the target QUEUED, so a second run finds it QUEUED
and only re-asks for the same task name — which Cloud Tasks refuses as a duplicate. A crash
between the two steps leaves a QUEUED target whose task is re-created by the next run.
"""

from __future__ import annotations

import logging

from shared import logs
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.ports import Change
from shared.services.delivery_common import (
    DeliveryPorts,
    campaign_delivery,
    for_one_batch,
    queue_send,
    record_change,
    schedule_send,
)

_log = logging.getLogger(__name__)

_FROM_PENDING = frozenset({Status.PENDING})


def enqueue_target(ref: TargetRef, ports: DeliveryPorts) -> Status | None:
    """The target's status afterwards (None if it does not exist).

    One step reads its tenant and each campaign once (:func:`for_one_batch`): a target that
    takes a lower priority's slot would otherwise read its own campaign, the yielding ones and
    the displaced target's again."""
    ports = for_one_batch(ports)
    now = ports.clock()
    record = ports.store.load(ref)
    if record is None:
        logs.log(_log, logging.WARNING, "target to enqueue does not exist", target=ref.path)
        return None
    tenant = ports.tenants.get(ref.cnpj)
    if record.status is Status.PENDING and (tenant is None or not tenant.active):
        skipped = ports.store.transition(
            ref, _FROM_PENDING, None, Change(Status.SKIPPED, error_reason="tenant_inactive"), now
        )
        if skipped is not None:
            record_change(ports, skipped, None)
        return Status.SKIPPED
    if tenant is None:
        return record.status
    delivery = campaign_delivery(ports, tenant, ref.campaign_id)
    if record.status is Status.PENDING:
        return queue_send(ports, record, delivery, now)
    if record.status is Status.QUEUED:
        schedule_send(ports, record)  # a redelivered event, or a crash before the task
    return record.status
