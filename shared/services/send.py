"""``send_message``: one Cloud Task -> at most one WhatsApp message, whatever happens.

Cloud Tasks can dispatch a task twice and retries a handler that failed, so the send is
guarded by a claim: QUEUED -> SENDING in a transaction that also checks the opt-out ledger
and the cross-campaign frequency cap. Only the claimant calls WhatsApp. After the call the
outcome is classified (:mod:`shared.whatsapp.outcomes`) and written; a retry or deferral is
a new task generation with a paced slot, never the same task again. If this process dies
after the call, the target stays SENDING until its lease expires and the sweeper marks it
UNKNOWN — because a message that may have been delivered is never sent a second time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import logs
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.errors import FieldError
from shared.domain.identity import is_bsuid
from shared.domain.phones import normalize_br_mobile
from shared.domain.retry import DEFER_MARKETING_LIMIT, PAUSE_RECHECK, SEND_RETRY
from shared.domain.tracked_links import LinkRef, tracked_values
from shared.ports import Change, Claim
from shared.services.delivery_common import (
    CampaignDelivery,
    DeliveryPorts,
    campaign_delivery,
    hold_for_template,
    pause_campaign,
    queue_send,
    record_change,
    schedule_send,
)
from shared.whatsapp.outcomes import Action, SendResult, classify
from shared.whatsapp.requests_body import (
    fields_of,
    parameter_values,
    rich_components,
    template_message,
)

_log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
"""Longer than the client's connect + read timeout, so a live send never loses its lease."""

_QUEUED = frozenset({Status.QUEUED})
_SENDING = frozenset({Status.SENDING})
_AFTER_CALL = frozenset({Status.SENDING, Status.SENT, Status.DELIVERED, Status.READ, Status.FAILED})
"""A webhook may have moved the target on before we recorded our own result."""


@dataclass(frozen=True, slots=True)
class SendOutcome:
    label: str
    status: Status | None


def send_message(ref: TargetRef, generation: int, ports: DeliveryPorts) -> SendOutcome:
    now = ports.clock()
    record = ports.store.load(ref)
    tenant = ports.tenants.get(ref.cnpj)
    if record is None or tenant is None:
        logs.log(_log, logging.WARNING, "task for a missing target or tenant", target=ref.path)
        return SendOutcome("missing", None)
    delivery = campaign_delivery(ports, tenant, ref.campaign_id)
    if record.status is not Status.QUEUED or record.task_generation != generation:
        if record.status is not Status.PENDING:  # a retried task: make sure its row landed
            record_change(ports, record, delivery)
        return SendOutcome("not_claimable", record.status)
    if delivery.settings.cancelled:
        change = Change(Status.SKIPPED, error_reason="campaign_cancelled")
        return _write(ports, delivery, ports.store.transition(ref, _QUEUED, None, change, now))
    if record.expired(now):  # a task run late (a backlog, a long pause): never send late
        change = Change(Status.EXPIRED, error_reason="send-by passed before its send")
        return _write(ports, delivery, ports.store.transition(ref, _QUEUED, None, change, now))
    if delivery.paused:
        return _park(ports, record, delivery, now + PAUSE_RECHECK)
    if record.parked:  # its campaign was resumed: the message now takes a send slot
        return _requeue(ports, record, delivery, now, "resumed")
    if not _addressable(record):
        change = Change(Status.FAILED, error_reason="invalid_phone")
        return _write(ports, delivery, ports.store.transition(ref, _QUEUED, None, change, now))
    claim = ports.store.claim(
        ref,
        generation,
        now,
        now + LEASE,
        tenant.delivery.frequency_cap_hours,
        _linked_bsuid(ports, record, delivery),
    )
    if claim.outcome is Claim.NOT_CLAIMABLE or claim.record is None:
        return SendOutcome("not_claimable", claim.record.status if claim.record else None)
    if claim.outcome is Claim.OPTED_OUT:
        return _write(ports, delivery, claim.record, "opted_out")
    if claim.outcome is Claim.CAPPED:
        assert claim.capped_until is not None
        return _requeue(ports, claim.record, delivery, claim.capped_until, "capped")
    record = claim.record
    record_change(ports, record, delivery)
    return _call_whatsapp(ports, record, delivery)


def _addressable(record: TargetRecord) -> bool:
    """A Brazilian mobile, or no phone at all but the person's BSUID (sent with ``recipient``)."""
    if record.phone:
        return normalize_br_mobile(record.phone).e164 is not None
    return is_bsuid(record.bsuid)


def _linked_bsuid(ports: DeliveryPorts, record: TargetRecord, delivery: CampaignDelivery) -> str:
    """The BSUID WhatsApp paired with the target's phone on its number, when the target carries
    none: an opt-out known only by that BSUID must stop this send too."""
    if record.bsuid or not record.phone:
        return ""
    number = delivery.tenant.delivery.phone_number_id or ports.default_phone_number_id
    return ports.identities.bsuid_of(number, record.phone) or ""


def _call_whatsapp(
    ports: DeliveryPorts, record: TargetRecord, delivery: CampaignDelivery
) -> SendOutcome:
    ref = record.ref
    try:
        template = delivery.template_for(record)
        data = {**delivery.settings.template_values, **record.data}
        values = tracked_values(
            ports.links, ref, template.parameters, parameter_values(template, record.name, data)
        )
        signer = ports.links
        rich = rich_components(
            template,
            fields_of(record.name, data),
            (lambda name: signer.path(LinkRef(ref, name))) if signer is not None else None,
        )
    except FieldError as error:
        change = Change(Status.FAILED, error_reason=str(error))
        return _write(
            ports, delivery, ports.store.transition(ref, _SENDING, None, change, ports.clock())
        )
    callback = ref.callback_data(record.send_no)
    body = template_message(record.phone, template, values, callback, bsuid=record.bsuid, rich=rich)
    number = delivery.tenant.delivery.phone_number_id or ports.default_phone_number_id
    result = ports.sender.send(number, body)
    return _settle(ports, record, delivery, result)


def _settle(
    ports: DeliveryPorts, record: TargetRecord, delivery: CampaignDelivery, result: SendResult
) -> SendOutcome:
    now = ports.clock()
    ref = record.ref
    action = classify(result)
    code, reason = result.error_code, result.error_reason
    if action is Action.SENT:
        change = Change(Status.SENT, wamid=result.wamid)
        written = ports.store.transition(ref, _AFTER_CALL, record.send_no, change, now)
        return _write(ports, delivery, written, "sent")
    if action is Action.AMBIGUOUS:
        change = Change(Status.UNKNOWN, error_reason=f"no answer: {reason}")
        written = ports.store.transition(ref, _AFTER_CALL, record.send_no, change, now)
        return _write(ports, delivery, written, "unknown")
    if action in (Action.RETRY, Action.DEFER) and record.attempts < SEND_RETRY.max_attempts:
        delay = (
            DEFER_MARKETING_LIMIT
            if action is Action.DEFER
            else SEND_RETRY.delay_after(record.attempts)
        )
        return _requeue(ports, record, delivery, now + delay, action.value.lower())
    if action is Action.OPT_OUT:
        ports.store.record_opt_out(
            ref.cnpj, record.phone, now, "whatsapp_131050", ref.path, record.bsuid
        )
        change = Change(Status.SKIPPED, error_code=code, error_reason="opted_out (131050)")
        return _write(ports, delivery, ports.store.transition(ref, _SENDING, None, change, now))
    if action is Action.HOLD:
        status = hold_for_template(ports, record, delivery, code, reason)
        return SendOutcome("held" if status is Status.QUEUED else "not_claimable", status)
    if action is Action.FAIL_AND_PAUSE:
        pause_campaign(ports, delivery, ref, code, reason)
    if action in (Action.RETRY, Action.DEFER):
        reason = f"gave up after {record.attempts} attempts: {reason}"
    change = Change(Status.FAILED, error_code=code, error_reason=reason)
    return _write(
        ports, delivery, ports.store.transition(ref, _SENDING, None, change, now), "failed"
    )


def _requeue(
    ports: DeliveryPorts,
    record: TargetRecord,
    delivery: CampaignDelivery,
    earliest: datetime,
    label: str,
) -> SendOutcome:
    status = queue_send(ports, record, delivery, earliest)
    if status is not Status.QUEUED:
        return SendOutcome("not_claimable", status)
    return SendOutcome(label, status)


def _park(
    ports: DeliveryPorts, record: TargetRecord, delivery: CampaignDelivery, until: datetime
) -> SendOutcome:
    """Check again at ``until`` without taking a send slot (:meth:`DeliveryStore.park`)."""
    parked = ports.store.park(record.ref, record.task_generation, until, ports.clock())
    if parked is None:
        return SendOutcome("not_claimable", None)
    record_change(ports, parked, delivery)
    schedule_send(ports, parked)
    return SendOutcome("paused", parked.status)


def _write(
    ports: DeliveryPorts,
    delivery: CampaignDelivery,
    record: TargetRecord | None,
    label: str = "",
) -> SendOutcome:
    if record is None:
        return SendOutcome("not_claimable", None)
    record_change(ports, record, delivery)
    return SendOutcome(label or record.status.value.lower(), record.status)
