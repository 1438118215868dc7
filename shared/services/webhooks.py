"""The WhatsApp webhook's content: delivery receipts and what customers write back.

The signature has been checked by the HTTP layer. From here on nothing may make Meta retry
forever: every status or message that cannot be used (unknown wamid, foreign callback data,
malformed entry) is logged and acknowledged. Receipts find their target through
``biz_opaque_callback_data`` (the target's path and send number), which also works when the
receipt overtakes our own record of the send.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from shared import logs
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import RECEIPTS, Status
from shared.domain.errors import FieldError
from shared.domain.optout import is_opt_out
from shared.domain.phones import normalize_br_mobile
from shared.domain.retry import DEFER_MARKETING_LIMIT, SEND_RETRY
from shared.domain.tenant import Tenant
from shared.ports import HistoryRow
from shared.services.delivery_common import (
    DeliveryPorts,
    campaign_delivery,
    for_one_batch,
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
            for status in _list(value.get("statuses")):
                report[_apply_status(status, ports)] += 1
            number = str(_dict(value.get("metadata")).get("phone_number_id", ""))
            for message in _list(value.get("messages")):
                report[_apply_inbound(message, number, ports)] += 1
    return report


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
            ports.store.record_opt_out(ref.cnpj, record.phone, now, "whatsapp_131050", ref.path)
        if action is Action.FAIL_AND_PAUSE:
            pause_campaign(ports, delivery, ref, code, reason)
    return receipt


def _apply_inbound(message: Any, number: str, ports: DeliveryPorts) -> str:
    if not isinstance(message, dict) or not message.get("from") or not message.get("id"):
        return "malformed"
    phone = normalize_br_mobile("+" + str(message["from"]).lstrip("+")).e164
    if phone is None:
        return "inbound_foreign"
    now = _instant(message.get("timestamp"), ports.clock())
    tenants = _tenants_of_number(number, ports)
    kind = message.get("type")
    if kind == "text" and is_opt_out(str(_dict(message.get("text")).get("body", ""))):
        for tenant in tenants:
            ports.store.record_opt_out(tenant.id, phone, now, "inbound_keyword", str(message["id"]))
        logs.log(_log, logging.INFO, "opt-out recorded", phone=phone, tenants=len(tenants))
        return "opt_out"
    payload = _button_payload(message)
    if payload is not None:
        wamid = str(_dict(message.get("context")).get("id", ""))
        for tenant in tenants:
            ports.store.record_click(tenant.id, str(message["id"]), phone, payload, now, wamid)
            if wamid:
                # For analytics (sql/analytics/campaign_metrics.sql): the click belongs to the
                # target whose history has this wamid. A reply quoting no message of ours
                # belongs to nobody. A redelivered webhook repeats the event id. (A customer's
                # event, not a change of a target: so not ``record_change``.)
                click = HistoryRow(
                    event_id=f"click#{message['id']}",
                    user_id="",
                    campaign_kind="",
                    campaign_id="",
                    target_id="",
                    sent_at=now,
                    status="CLICKED",
                    phone=phone,
                    wamid=wamid,
                )
                ports.history.append(tenant.id, [click])
        return "click"
    return "inbound_other"


def _tenants_of_number(number: str, ports: DeliveryPorts) -> list[Tenant]:
    """A customer writes to a WhatsApp number; every tenant sending from it hears them."""
    return [
        tenant
        for tenant in ports.tenants.list_active()
        if (tenant.delivery.phone_number_id or ports.default_phone_number_id) == number
    ]


def _button_payload(message: dict[str, Any]) -> str | None:
    if message.get("type") == "button":
        button = _dict(message.get("button"))
        return str(button.get("payload") or button.get("text") or "")
    if message.get("type") == "interactive":
        reply = _dict(_dict(message.get("interactive")).get("button_reply"))
        return str(reply.get("id") or "")
    return None


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
