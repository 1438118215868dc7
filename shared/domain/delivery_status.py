"""The life of a target, from planned to a final state, as one explicit state machine.

Two writers race on a target: ``send_message`` (our own progress) and the status webhook
(WhatsApp's receipts, which arrive out of order, twice, or before we recorded the send). The
rules here make both commutative: receipts only move a target forward by rank, and a
receipt that arrives while the send is still being recorded is kept and wins when it ranks
higher. Every writer goes through these functions inside a Firestore transaction.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PENDING = "PENDING"
    """Created by targeting; no send time planned yet."""
    QUEUED = "QUEUED"
    """Send time planned and a Cloud Task (named after the target) exists or is being made."""
    SENDING = "SENDING"
    """Claimed by one ``send_message`` under a lease; the API call may be in flight."""
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    READ = "READ"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"
    """Never sent on purpose: opted out, invalid phone, campaign cancelled."""
    UNKNOWN = "UNKNOWN"
    """The request left but no answer came: never re-sent; a webhook or the sweeper settles it."""
    EXPIRED = "EXPIRED"
    """Never sent because its send-by passed first (:mod:`shared.domain.send_by`): late is
    worse than never for a birthday, and a month's reactivation belongs to that month."""


FINAL = frozenset({Status.DELIVERED, Status.READ, Status.FAILED, Status.SKIPPED, Status.EXPIRED})
"""States nothing but a higher-ranked receipt can change. UNKNOWN becomes final once settled."""

CLAIMABLE = frozenset({Status.PENDING, Status.QUEUED})
"""Only these may be claimed for a send; anything else means another delivery got there first."""

RECEIPTS = ("sent", "failed", "delivered", "read")
"""WhatsApp's status values, by rank. ``delivered`` outranks ``failed`` because a multi-device
user may get a failure for one device and a delivery on another; ``read`` proves delivery."""

_RECEIPT_STATUS = {
    "sent": Status.SENT,
    "failed": Status.FAILED,
    "delivered": Status.DELIVERED,
    "read": Status.READ,
}


def best_receipt(receipts: dict[str, str]) -> str | None:
    """The highest-ranked receipt among ``{receipt: timestamp}`` seen so far."""
    ranked = [name for name in RECEIPTS if name in receipts]
    return ranked[-1] if ranked else None


def status_after_receipts(current: Status, receipts: dict[str, str]) -> Status:
    """The status a target has once ``receipts`` (for its current send) are applied.

    Receipts only speak about a send that happened, so they move SENDING, SENT, UNKNOWN and
    earlier receipt-made states; PENDING/QUEUED/SKIPPED/EXPIRED belong to our own workflow.
    """
    best = best_receipt(receipts)
    if best is None or current not in _RECEIPT_DRIVEN:
        return current
    return _RECEIPT_STATUS[best]


_RECEIPT_DRIVEN = frozenset(
    {Status.SENDING, Status.SENT, Status.UNKNOWN, Status.FAILED, Status.DELIVERED, Status.READ}
)


def is_final(status: Status, settled: bool = False) -> bool:
    return status in FINAL or (status is Status.UNKNOWN and settled)
