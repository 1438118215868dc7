"""What one tenant run did, per campaign: the run document and the CLI's summary table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from shared.domain.targets import Target


class OutcomeStatus(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already_done"
    NOT_DUE = "not_due"
    DISABLED = "disabled"
    FAILED = "failed"
    RETRY = "retry"
    """A transient failure: the run fails so Pub/Sub redelivers it."""


class RunStatus(StrEnum):
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    RETRYING = "RETRYING"


@dataclass(frozen=True, slots=True)
class Foreseen:
    """What the planner would do with a run's new targets, foreseen as they are written."""

    will_send: int
    """Sent before their send-by."""
    will_expire: int
    """No slot before their send-by: they will end EXPIRED, unsent."""


Foresee = Callable[[Sequence[Target]], Foreseen | None]
"""Asked by a campaign's run with its targets in audience order (None: not foreseen)."""


@dataclass(slots=True)
class CampaignOutcome:
    campaign_id: str
    status: OutcomeStatus
    candidates: int = 0
    created: int = 0
    already_present: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    detail: str = ""
    duration_ms: int = 0
    will_send: int | None = None
    """Of this run's targets, how many the planner would send before their send-by (None:
    not foreseen, e.g. too many to simulate)."""
    will_expire: int | None = None

    def to_document(self) -> dict[str, Any]:
        document = asdict(self)
        document["status"] = self.status.value
        document["skipped"] = dict(self.skipped)
        return document

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> CampaignOutcome:
        fields = dict(document)
        if "campaign_type" in fields:  # run documents written before the field was renamed
            fields["campaign_id"] = fields.pop("campaign_type")
        fields["status"] = OutcomeStatus(fields["status"])
        fields["skipped"] = Counter(fields.get("skipped", {}))
        return cls(**fields)
