"""A customer's reply to a campaign message: recorded as a response of the campaign it answers.

What a reply is: an inbound text or media message (``text``, ``image``, ``video``, ``audio``,
``document``, ``sticker``) that is neither an opt-out nor a quick-reply button press (those are
recorded as what they are). Which message it answers:

1. the one it quotes (``context.id``, when the customer used WhatsApp's reply), however old: as
   a quick-reply press does, the row goes to every tenant of the number, and the analytics of
   the tenant that sent that wamid are the only ones that join it to a target; else
2. the last message sent to that person (by phone, else BSUID) by a tenant of the number, within
   :data:`ANSWER_WINDOW` (the frequency ledger ``recentSends`` keeps it): the tenant whose last
   message to the person is the latest.

The reply is one ``REPLIED`` history row (event id ``reply#<inbound message id>``: a redelivered
webhook repeats it) carrying the answered message's wamid, so ``sql/analytics/`` attributes it
to that target as it does clicks, and counts responses and the response rate. Its content is
never stored nor logged: the row keeps only the message's type.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from shared import logs
from shared.domain.cnpj import Cnpj
from shared.domain.identity import Identity
from shared.ports import HistoryRow
from shared.services import consent, identities
from shared.services.delivery_common import DeliveryPorts, consent_ports

_log = logging.getLogger(__name__)

REPLY_TYPES = frozenset({"text", "image", "video", "audio", "document", "sticker"})
ANSWER_WINDOW = timedelta(days=3)
"""A reply quoting nothing answers our last message only this soon after it."""


def record_reply(
    message: Mapping[str, Any], sender: Identity, number: str, at: datetime, ports: DeliveryPorts
) -> str:
    """What the webhook report counts: ``reply``, ``reply_unattributed`` or ``inbound_other``."""
    kind = str(message.get("type", ""))
    if kind not in REPLY_TYPES:
        return "inbound_other"
    answered = _quoted(message, sender, number, ports) or _last_sent(sender, number, at, ports)
    if not answered:
        logs.log(_log, logging.INFO, "reply to no recent message of ours", kind=kind)
        return "reply_unattributed"
    for cnpj, wamid, phone in answered:
        # Only the kind of reply, never its text or media.
        row = HistoryRow.engagement(f"reply#{message['id']}", at, "REPLIED", phone, wamid, kind)
        ports.history.append(cnpj, [row])
    return "reply"


Answered = list[tuple[Cnpj, str, str]]
"""Where the reply's row goes: (tenant, wamid of the answered message, the person's phone)."""


def _quoted(
    message: Mapping[str, Any], sender: Identity, number: str, ports: DeliveryPorts
) -> Answered:
    quoted = message.get("context")
    wamid = quoted.get("id") if isinstance(quoted, dict) else None
    if not wamid:
        return []
    phone = sender.phone or identities.linked_phone(ports, number, sender.bsuid)
    tenants = consent.tenants_of_number(consent_ports(ports), number)
    return [(tenant.id, str(wamid), phone) for tenant in tenants]


def _last_sent(sender: Identity, number: str, at: datetime, ports: DeliveryPorts) -> Answered:
    latest: tuple[datetime, Cnpj, str, str] | None = None
    keys = [key for key in (sender.phone, sender.bsuid) if key]
    for tenant in consent.tenants_of_number(consent_ports(ports), number):
        for key in keys:
            last = ports.store.last_send(tenant.id, key)
            if last is None or not at - ANSWER_WINDOW <= last[1] <= at + timedelta(minutes=5):
                continue
            ref, sent_at = last
            record = ports.store.load(ref)
            if record is None or not record.wamid:
                continue
            if latest is None or sent_at > latest[0]:
                latest = (sent_at, tenant.id, record.wamid, record.phone)
            break
    if latest is None:
        return []
    _, cnpj, wamid, phone = latest
    return [(cnpj, wamid, phone)]
