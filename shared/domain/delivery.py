"""A target as delivery sees it: where it lives, and the fields each step reads and writes.

Targeting creates ``users/{cnpj}/campaigns/{type}/targets/{id}`` documents; every delivery
step (enqueue, send, webhook, sweeper) addresses one by this path, which is also the Cloud
Task's name and the ``biz_opaque_callback_data`` that WhatsApp echoes in status webhooks.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.campaign_ids import kind_of
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status
from shared.domain.errors import FieldError

_PATH = re.compile(
    r"^users/(?P<cnpj>[0-9A-Z]{14})/campaigns/(?P<campaign>[A-Z][A-Z0-9_]{0,39})"
    r"/targets/(?P<id>[A-Za-z0-9][A-Za-z0-9_.-]{0,199})$"
)
_TASK_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class TargetRef:
    cnpj: Cnpj
    campaign_id: str
    target_id: str

    @property
    def campaign_kind(self) -> str:
        """BIRTHDAY, WELCOME, ... or SEGMENT: a built-in kind is its own campaign id."""
        return kind_of(self.campaign_id)

    @property
    def path(self) -> str:
        return f"users/{self.cnpj.value}/campaigns/{self.campaign_id}/targets/{self.target_id}"

    @classmethod
    def parse(cls, path: str) -> TargetRef:
        """A validated reference from a document path (events, callbacks and tasks carry one)."""
        match = _PATH.fullmatch(path.strip("/"))
        if match is None:
            raise FieldError("target", f"not a target document path: {path[:200]!r}")
        return cls(Cnpj.parse(match["cnpj"]), match["campaign"], match["id"])

    def task_id(self, generation: int) -> str:
        """The Cloud Task id of this target's ``generation``-th planned send.

        Deterministic, so a redelivered event asks for the same task and Cloud Tasks refuses
        the duplicate; a new generation (retry, deferral, sweep) gets a fresh name because
        production keeps an executed task's name reserved for about an hour.
        """
        readable = f"{self.cnpj.value}-{self.campaign_id}-{self.target_id}"
        if not _TASK_SAFE.fullmatch(readable) or len(readable) > 400:
            readable = "t" + hashlib.sha256(self.path.encode()).hexdigest()[:40]
        return f"{readable}-g{generation}"

    def callback_data(self, send_no: int) -> str:
        return f"{self.path}#{send_no}"

    @classmethod
    def parse_callback(cls, data: str) -> tuple[TargetRef, int]:
        path, _, send_no = data.rpartition("#")
        if not (send_no.isascii() and send_no.isdigit()):
            raise FieldError("biz_opaque_callback_data", f"not ours: {data[:200]!r}")
        return cls.parse(path), int(send_no)


@dataclass(frozen=True, slots=True)
class TargetRecord:
    """The delivery-relevant fields of a target document."""

    ref: TargetRef
    status: Status
    customer_id: str
    name: str
    phone: str
    data: dict[str, Any]
    timezone: str | None = None
    bsuid: str = ""
    """The person's WhatsApp user id (BSUID), when known: their address when ``phone`` is
    empty, and a second key of the opt-out check (:mod:`shared.domain.identity`)."""
    period: str = ""
    planned_at: datetime | None = None
    task_generation: int = 0
    attempts: int = 0
    """Send attempts made (each claim is one); the seed allows at most three."""
    send_no: int = 0
    """Which send the receipts belong to; a webhook for an older send is stale."""
    lease_until: datetime | None = None
    wamid: str = ""
    receipts: dict[str, str] = field(default_factory=dict)
    error_code: int | None = None
    error_reason: str = ""
    settled: bool = False
    version: int = 0
    """Incremented by every write; ``(path, version)`` keys the history row of that change."""
    updated_at: datetime | None = None
    send_by: datetime | None = None
    """Not sent after this (None: a target created before send-by rules existed)."""
    priority: int = 1
    """Its campaign's priority rank when it was created: 0 goes first."""
    parked: bool = False
    """QUEUED with no send slot: its campaign was paused when its task ran, and the task now
    only checks again (:meth:`~shared.ports.DeliveryStore.park`)."""

    def expired(self, at: datetime) -> bool:
        """Whether a send at ``at`` would be too late."""
        return self.send_by is not None and at >= self.send_by

    @classmethod
    def from_document(cls, ref: TargetRef, doc: dict[str, Any]) -> TargetRecord:
        error = doc.get("error") or {}
        return cls(
            ref=ref,
            status=Status(doc.get("status", Status.PENDING)),
            customer_id=str(doc.get("customerId", "")),
            name=str(doc.get("name", "")),
            phone=str(doc.get("phone", "")),
            data=dict(doc.get("data") or {}),
            timezone=doc.get("timezone"),
            bsuid=str(doc.get("bsuid") or ""),
            period=str(doc.get("period", "")),
            planned_at=doc.get("plannedAt"),
            task_generation=int(doc.get("taskGeneration", 0)),
            attempts=int(doc.get("attempts", 0)),
            send_no=int(doc.get("sendNo", 0)),
            lease_until=doc.get("leaseUntil"),
            wamid=str(doc.get("wamid", "")),
            receipts=dict(doc.get("receipts") or {}),
            error_code=error.get("code"),
            error_reason=str(error.get("reason", "")),
            settled=bool(doc.get("settled", False)),
            parked=bool(doc.get("parked", False)),
            version=int(doc.get("version", 0)),
            updated_at=doc.get("updatedAt"),
            send_by=doc.get("sendBy"),
            priority=int(doc.get("priority", 1)),
        )
