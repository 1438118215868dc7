"""Campaign targets: one planned message to one customer, identified deterministically.

The document id is a function of (customer, period) only, so every producer of the same
target — a re-run, a redelivered Pub/Sub message, a concurrent tick — computes the same id
and Firestore's create-only write lets exactly one of them win.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.campaign_ids import kind_of

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

PENDING = "PENDING"


def customer_key(customer_id: str) -> str:
    """The customer id if it is a safe Firestore id segment, else a stable hash of it."""
    if _SAFE_ID.fullmatch(customer_id) and not customer_id.startswith("__"):
        return customer_id
    return "h" + hashlib.sha256(customer_id.encode()).hexdigest()[:32]


def target_id(customer_id: str, period_key: str) -> str:
    return f"{customer_key(customer_id)}_{period_key}"


@dataclass(frozen=True, slots=True)
class Target:
    customer_id: str
    name: str
    phone: str
    """E.164, or empty for a contact known only by its :attr:`bsuid`."""
    campaign_id: str
    period: str
    run_id: str
    local_date: str
    data: dict[str, Any] = field(default_factory=dict)
    timezone: str | None = None
    """The contact's own zone (imported contacts may have one): sends respect its hours."""
    send_by: datetime | None = None
    """Not sent after this instant: it expires instead (:mod:`shared.domain.send_by`)."""
    priority: int = 1
    """Its campaign's :attr:`~shared.domain.send_by.Priority.rank`: 0 goes first."""
    bsuid: str | None = None
    """The person's WhatsApp user id, when their contact carries one: the address of a send
    when there is no phone, and a second key of the send-time opt-out check."""

    @property
    def id(self) -> str:
        return target_id(self.customer_id, self.period)

    def document(self) -> dict[str, Any]:
        """Firestore fields; ``createdAt`` is added by the store as a server timestamp."""
        return {
            "customerId": self.customer_id,
            "name": self.name,
            "phone": self.phone,
            "campaignId": self.campaign_id,
            "campaignKind": kind_of(self.campaign_id),
            "period": self.period,
            "data": self.data,
            "status": PENDING,
            "attempts": 0,
            "runId": self.run_id,
            "localDate": self.local_date,
            **({"timezone": self.timezone} if self.timezone else {}),
            **({"sendBy": self.send_by} if self.send_by is not None else {}),
            "priority": self.priority,
            **({"bsuid": self.bsuid} if self.bsuid else {}),
        }
