"""Ports for delivery tests on a clock the test moves: tasks and history kept, sends counted.

Nothing here answers for the real parts: tasks go to the faithful Cloud Tasks fake (name
dedup, 30-day horizon, production's name rules) and are remembered so the test can run each at
its time; sends go to the stack's WhatsApp sandbox through the real client and are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.cnpj import Cnpj
from shared.localstack.faithful_tasks import FaithfulCloudTasks
from shared.ports import HistoryRow, MessageSender, TaskRequest
from shared.whatsapp.outcomes import SendResult


@dataclass
class RecordedTasks:
    """The faithful fake, remembering which tasks were asked for."""

    inner: FaithfulCloudTasks = field(default_factory=FaithfulCloudTasks)
    created: list[TaskRequest] = field(default_factory=list)

    def ensure_queue(self, queue: str) -> None:
        self.inner.ensure_queue(queue)

    def create(self, task: TaskRequest) -> bool:
        made = self.inner.create(task)
        if made:
            self.created.append(task)
        return made


@dataclass
class KeptHistory:
    rows: list[HistoryRow] = field(default_factory=list)

    def append(self, cnpj: Cnpj, rows: Sequence[HistoryRow]) -> None:
        self.rows.extend(rows)


@dataclass
class CountingSender:
    """The stack's WhatsApp client, counting the messages that reach it per phone, and when
    (on the test's clock)."""

    inner: MessageSender
    clock: Callable[[], datetime]
    sent: Counter[str] = field(default_factory=Counter)
    times: list[datetime] = field(default_factory=list)

    def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult:
        self.sent[str(body.get("to", ""))] += 1
        self.times.append(self.clock())
        return self.inner.send(phone_number_id, body)
