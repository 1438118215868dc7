"""Phone <-> BSUID pairs learnt from webhooks, and the identity changes Meta announces.

Since 2026 a person may reach us by phone, by business-scoped user id (BSUID), or both, and
for WhatsApp-username users Meta hides the phone. The link store remembers every pair a
webhook shows, per sending number, so an opt-out or a reply by BSUID alone still finds the
phone our targets carry, and a target with no phone can still be sent to. Meta announces a
new phone (``user_changed_number``) or a new BSUID (``user_changed_user_id``) as ``system``
messages with no ``contacts`` array; those re-link the person.

Every pair is stamped with the webhook's own time, so a duplicated or reordered webhook cannot
bring back a pair a newer one replaced. Store failures propagate: the webhook answers an error
and Meta retries, rather than a pair being silently lost.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from shared import logs
from shared.domain.identity import (
    Identity,
    contact_identity,
    mask_bsuid,
    optional_bsuid,
    phone_of_wa_id,
    sender_of,
)
from shared.services.delivery_common import DeliveryPorts

_log = logging.getLogger(__name__)

NUMBER_CHANGED = "user_changed_number"
USER_ID_CHANGED = "user_changed_user_id"


def record_pairs(value: Mapping[str, Any], number: str, ports: DeliveryPorts) -> int:
    """Link every phone and BSUID that one webhook ``value`` shows together; pairs linked.

    Read: ``contacts[]`` (beside messages, statuses or preferences), each message's ``from``
    and ``from_user_id``, each status's ``recipient_id`` and ``recipient_user_id``, and each
    ``user_preferences[]`` entry. Entries with one id only, or none, teach nothing.
    """
    if not number:
        return 0
    linked = 0
    for identity, at, source in _pairs(value, ports.clock()):
        assert identity.phone is not None and identity.bsuid is not None
        linked += ports.identities.link(number, identity.phone, identity.bsuid, at, source)
    return linked


def linked_phone(ports: DeliveryPorts, number: str, bsuid: str | None) -> str:
    """The phone the number's links pair with ``bsuid`` (a username hides the phone), or ""."""
    return (ports.identities.phone_of(number, bsuid) if bsuid and number else None) or ""


def apply_identity_change(message: Mapping[str, Any], number: str, ports: DeliveryPorts) -> str:
    """Re-link the person a ``system`` message is about; what happened, for the report.

    ``user_changed_number``: the new phone (``system.wa_id``) gets the person's BSUID (the
    message's, else the one the old phone was linked to). ``user_changed_user_id``: the new
    BSUID gets the person's phone (the message's, else the one the previous BSUID was linked
    to). The store unlinks what each replaced.
    """
    system = _dict(message.get("system"))
    kind = system.get("type")
    at = _instant(message.get("timestamp"), ports.clock())
    if kind == NUMBER_CHANGED:
        phone = phone_of_wa_id(system.get("wa_id") or system.get("new_wa_id"))
        bsuid = optional_bsuid(system.get("user_id")) or optional_bsuid(message.get("from_user_id"))
        old_phone = phone_of_wa_id(message.get("from"))
        if bsuid is None and old_phone is not None and number:
            bsuid = ports.identities.bsuid_of(number, old_phone)
    elif kind == USER_ID_CHANGED:
        previous = optional_bsuid(system.get("previous_user_id"))
        bsuid = next(
            (
                candidate
                for candidate in (
                    optional_bsuid(system.get("user_id")),
                    optional_bsuid(message.get("from_user_id")),
                )
                if candidate is not None and candidate != previous
            ),
            None,
        )
        phone = phone_of_wa_id(system.get("wa_id")) or phone_of_wa_id(message.get("from"))
        if phone is None and previous is not None and number:
            phone = ports.identities.phone_of(number, previous)
    else:
        return "system_other"
    if not number or phone is None or bsuid is None:
        logs.log(
            _log,
            logging.INFO,
            "identity change for a person we cannot link acknowledged",
            change=kind,
            bsuid=mask_bsuid(bsuid) if bsuid else "",
            phone=phone or "",
        )
        return "identity_unknown"
    ports.identities.link(number, phone, bsuid, at, kind)
    logs.log(_log, logging.INFO, "identity re-linked", change=kind, bsuid=mask_bsuid(bsuid))
    return "relinked"


def _pairs(value: Mapping[str, Any], now: datetime) -> Iterator[tuple[Identity, datetime, str]]:
    messages = [m for m in _list(value.get("messages")) if isinstance(m, dict)]
    statuses = [s for s in _list(value.get("statuses")) if isinstance(s, dict)]
    preferences = [p for p in _list(value.get("user_preferences")) if isinstance(p, dict)]
    stamped = messages or statuses or preferences
    when = _instant(stamped[0].get("timestamp"), now) if stamped else now
    source = "inbound" if messages else "status" if statuses else "user_preferences"
    found: list[tuple[Identity, datetime, str]] = [
        (contact_identity(contact), when, source)
        for contact in _list(value.get("contacts"))
        if isinstance(contact, dict)
    ]
    found += [
        (sender_of(message), _instant(message.get("timestamp"), now), "inbound")
        for message in messages
        if message.get("type") != "system"
    ]
    found += [
        (
            Identity(
                phone_of_wa_id(status.get("recipient_id")),
                optional_bsuid(status.get("recipient_user_id")),
            ),
            _instant(status.get("timestamp"), now),
            "status",
        )
        for status in statuses
    ]
    found += [
        (contact_identity(entry), _instant(entry.get("timestamp"), now), "user_preferences")
        for entry in preferences
    ]
    seen: set[Identity] = set()
    for identity, at, origin in found:
        if identity.paired and identity not in seen:
            seen.add(identity)
            yield identity, at, origin


def _instant(timestamp: Any, fallback: datetime) -> datetime:
    """A webhook's Unix-seconds timestamp, or ``fallback`` when it has none that parses."""
    try:
        return datetime.fromtimestamp(int(timestamp), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return fallback


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
