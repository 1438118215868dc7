"""The WhatsApp webhook's content: delivery receipts and what customers write back.

The signature has been checked by the HTTP layer. From here on nothing may make Meta retry
forever: every status or message that cannot be used (unknown wamid, foreign callback data,
malformed entry) is logged and acknowledged. Receipts find their target through
``biz_opaque_callback_data`` (the target's path and send number), which also works when the
receipt overtakes our own record of the send, and never by ``recipient_id`` (absent when the
message went to a BSUID).

A person is named by ``from``/``wa_id`` and/or ``from_user_id``/``user_id`` (BSUID): either
may be missing. Every pair a webhook shows is linked (:mod:`shared.services.identities`).
Consent events — an opt-out keyword, the stop-promotions quick reply, ``user_preferences``
stop/resume, 131050 — go to the consent ledger of every tenant of the number, or to the
quarantine when none sends from it (:mod:`shared.services.consent`).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from shared import logs
from shared.domain.consent import ConsentEvent, ConsentSource
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import RECEIPTS, Status
from shared.domain.errors import FieldError
from shared.domain.identity import contact_identity, sender_of
from shared.domain.optout import is_opt_out, is_stop_button
from shared.domain.retry import DEFER_MARKETING_LIMIT, SEND_RETRY
from shared.ports import HistoryRow
from shared.services import consent, identities, replies, template_events
from shared.services.delivery_common import (
    DeliveryPorts,
    campaign_delivery,
    consent_ports,
    for_one_batch,
    hold_for_template,
    pause_campaign,
    queue_send,
    record_change,
)
from shared.whatsapp.outcomes import Action, classify_code

_log = logging.getLogger(__name__)


def handle_webhook(payload: dict[str, Any], ports: DeliveryPorts) -> Counter[str]:
    """Apply every status and inbound message of one webhook POST; counts what happened."""
    report: Counter[str] = Counter()
    ports = for_one_batch(ports)
    if payload.get("object") != "whatsapp_business_account":
        report["ignored_object"] += 1
        return report
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                report["malformed"] += 1
                continue
            field = change.get("field")
            if field in template_events.FIELDS:
                report[_apply_template_event(entry, str(field), value, ports)] += 1
                continue
            for status in _list(value.get("statuses")):
                report[_apply_status(status, ports)] += 1
            number = str(_dict(value.get("metadata")).get("phone_number_id", ""))
            identities.record_pairs(value, number, ports)  # before messages read them
            for message in _list(value.get("messages")):
                report[_apply_inbound(message, number, ports)] += 1
            for preference in _list(value.get("user_preferences")):
                report[_apply_preference(preference, number, ports)] += 1
    return report


def _apply_template_event(
    entry: dict[str, Any], field: str, value: Any, ports: DeliveryPorts
) -> str:
    if ports.templates is None:
        return "ignored_template_event"
    events = template_events.TemplateEventPorts(
        tenants=ports.tenants,
        campaigns=ports.campaigns,
        catalogue=ports.templates,
        default_business_account_id=ports.default_business_account_id,
        alerts=ports.alerts,
        clock=ports.clock,
    )
    return template_events.apply_template_event(events, field, entry, value)


def _apply_status(status: Any, ports: DeliveryPorts) -> str:
    if not isinstance(status, dict) or status.get("status") not in RECEIPTS:
        logs.log(_log, logging.WARNING, "malformed status acknowledged")
        return "malformed"
    try:
        ref, send_no = TargetRef.parse_callback(str(status.get("biz_opaque_callback_data", "")))
    except FieldError:
        logs.log(
            _log,
            logging.WARNING,
            "status for an unknown message acknowledged",
            wamid=str(status.get("id", ""))[:100],
        )
        return "unknown_message"
    now = ports.clock()
    errors = _list(status.get("errors"))
    error = errors[0] if errors and isinstance(errors[0], dict) else {}
    code = error.get("code") if isinstance(error.get("code"), int) else None
    reason = str(_dict(error.get("error_data")).get("details") or error.get("title") or "")
    receipt = str(status["status"])
    at = _timestamp(status.get("timestamp"), now)
    wamid = str(status.get("id") or "")
    record = ports.store.apply_receipt(ref, send_no, receipt, at, code, reason, now, wamid)
    if record is None:
        logs.log(_log, logging.INFO, "stale or unknown receipt acknowledged", target=ref.path)
        return "stale"
    tenant = ports.tenants.get(ref.cnpj)
    if tenant is None:
        return "unknown_tenant"
    delivery = campaign_delivery(ports, tenant, ref.campaign_id)
    record_change(ports, record, delivery)
    if receipt == "failed" and record.status is Status.FAILED:
        action = classify_code(code)
        if action is Action.DEFER and record.attempts < SEND_RETRY.max_attempts:
            earliest = now + DEFER_MARKETING_LIMIT
            if queue_send(ports, record, delivery, earliest) is Status.QUEUED:
                return "deferred"
        if action is Action.OPT_OUT:
            # The same event (the target's path) as the send's own 131050: recorded once.
            when = _instant(status.get("timestamp"), now)
            ports.store.record_opt_out(
                ref.cnpj, record.phone, when, "whatsapp_131050", ref.path, record.bsuid
            )
        if action is Action.HOLD:
            held = hold_for_template(ports, record, delivery, code, reason)
            return "held" if held is Status.QUEUED else receipt
        if action is Action.FAIL_AND_PAUSE:
            pause_campaign(ports, delivery, ref, code, reason)
    return receipt


def _apply_inbound(message: Any, number: str, ports: DeliveryPorts) -> str:
    if not isinstance(message, dict) or not message.get("id"):
        return "malformed"
    if message.get("type") == "system":  # a new phone or BSUID for the person: re-link
        return identities.apply_identity_change(message, number, ports)
    sender = sender_of(message)  # ``from`` and/or ``from_user_id`` (a username hides the phone)
    if not sender.known:
        return "malformed"
    now = _instant(message.get("timestamp"), ports.clock())
    source = _opt_out_source(message)
    if source is not None:
        event = ConsentEvent(sender, source, now, str(message["id"]), number)
        return _consent(event, message, ports)
    payload = _button_payload(message)
    if payload is not None:
        # A username hides the phone: the one the number's links pair with the BSUID, if any
        # (the click still counts for its campaign by the quoted wamid without one).
        phone = sender.phone or identities.linked_phone(ports, number, sender.bsuid)
        wamid = str(_dict(message.get("context")).get("id", ""))
        for tenant in consent.tenants_of_number(consent_ports(ports), number):
            ports.store.record_click(tenant.id, str(message["id"]), phone, payload, now, wamid)
            if wamid:
                # For analytics (sql/analytics/campaign_metrics.sql): the click belongs to the
                # target whose history has this wamid. A reply quoting no message of ours
                # belongs to nobody. A redelivered webhook repeats the event id. (A customer's
                # event, not a change of a target: so not ``record_change``.)
                click = HistoryRow.engagement(
                    f"click#{message['id']}", now, "CLICKED", phone, wamid
                )
                ports.history.append(tenant.id, [click])
        return "click"
    return replies.record_reply(message, sender, number, now, ports)


def _opt_out_source(message: dict[str, Any]) -> ConsentSource | None:
    """Which opt-out an inbound message is, if any: a keyword written alone, or the template's
    stop-promotions quick reply (:func:`~shared.domain.optout.is_stop_button`)."""
    kind = message.get("type")
    if kind == "text" and is_opt_out(str(_dict(message.get("text")).get("body", ""))):
        return ConsentSource.INBOUND_KEYWORD
    if kind == "button":
        button = _dict(message.get("button"))
        labels = (str(button.get("payload") or ""), str(button.get("text") or ""))
    elif kind == "interactive":
        reply = _dict(_dict(message.get("interactive")).get("button_reply"))
        labels = (str(reply.get("id") or ""), str(reply.get("title") or ""))
    else:
        return None
    return ConsentSource.QUICK_REPLY_STOP if is_stop_button(*labels) else None


_PREFERENCES = {
    "stop": ConsentSource.USER_PREFERENCES_STOP,
    "resume": ConsentSource.USER_PREFERENCES_RESUME,
}
"""``user_preferences[].value`` for ``category: marketing_messages`` (``signup`` is ignored:
it names a sign-up flow, not consent to this business's campaigns)."""


def _apply_preference(preference: Any, number: str, ports: DeliveryPorts) -> str:
    """WhatsApp's ``user_preferences`` field: the person stopped or resumed marketing messages
    in the app. Keyed by (person, time, value): a redelivery is the same event."""
    if not isinstance(preference, dict) or preference.get("category") != "marketing_messages":
        return "preference_ignored"
    source = _PREFERENCES.get(str(preference.get("value")))
    if source is None:
        return "preference_ignored"
    person = contact_identity(preference)
    at = _instant(preference.get("timestamp"), _NO_TIME)
    if not person.known or at is _NO_TIME:  # no time: neither ordered nor deduplicated
        logs.log(_log, logging.WARNING, "malformed user preference acknowledged")
        return "malformed"
    key = f"user_preferences:{person.bsuid or person.phone}:{int(at.timestamp())}"
    return _consent(ConsentEvent(person, source, at, key, number), preference, ports)


def _consent(event: ConsentEvent, payload: Any, ports: DeliveryPorts) -> str:
    """Record a consent event for every tenant of its number, or quarantine it."""
    tenants = consent.record_for_number(consent_ports(ports), event, payload)
    return event.kind.value if tenants else f"{event.kind.value}_quarantined"


def _button_payload(message: dict[str, Any]) -> str | None:
    if message.get("type") == "button":
        button = _dict(message.get("button"))
        return str(button.get("payload") or button.get("text") or "")
    if message.get("type") == "interactive":
        reply = _dict(_dict(message.get("interactive")).get("button_reply"))
        return str(reply.get("id") or "")
    return None


_NO_TIME = datetime.min.replace(tzinfo=UTC)


def _instant(timestamp: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def _timestamp(timestamp: Any, fallback: datetime) -> str:
    return _instant(timestamp, fallback).isoformat()


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    """A nested object of the payload, or {} when Meta (or anyone) sent something else."""
    return value if isinstance(value, dict) else {}
