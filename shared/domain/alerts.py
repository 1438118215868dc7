"""What the owner must know that WhatsApp decided about their templates: alerts (pure).

An alert is recorded per tenant for a template event that changes what the tenant's campaigns
can send or what they cost: a status that stops sends (PAUSED, DISABLED) or refuses the
template (REJECTED, FLAGGED), a quality rating that dropped (YELLOW, RED: Meta pauses a
template whose quality keeps falling), and a category change (MARKETING is billed at the
marketing price). Its id is a function of the event (field, account, template, new value,
previous value and the entry's time), so a redelivered webhook finds its alert already there
and the owner's dismissal stands.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AlertKind = Literal["template_status", "template_quality", "template_category"]
ALERTING_STATUSES = frozenset({"PAUSED", "DISABLED", "REJECTED", "FLAGGED"})
ALERTING_QUALITY = frozenset({"YELLOW", "RED"})


class Alert(BaseModel):
    """One alert of one tenant (``users/{cnpj}/alerts/{id}``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    kind: AlertKind
    template_name: str = Field(max_length=512)
    template_language: str = Field(max_length=16)
    value: str = Field(max_length=40, description="the new status, quality rating or category")
    previous: str = Field(default="", max_length=40)
    announced: bool = Field(
        default=False,
        description="a category change Meta announced ahead (correct_category): not yet applied",
    )
    campaigns_paused: int = Field(default=0, ge=0)
    at: datetime
    dismissed: bool = False
    dismissed_by: str = Field(default="", max_length=256)
    dismissed_at: datetime | None = None

    @property
    def billed_as_marketing(self) -> bool:
        """A category change that makes the template's messages cost the marketing price."""
        return self.kind == "template_category" and self.value == "MARKETING"


def alert_id(
    kind: AlertKind,
    waba_id: str,
    template_key: str,
    value: str,
    previous: str,
    event_time: str,
) -> str:
    """The same event (even redelivered) always names the same alert; another never does."""
    parts = (kind, waba_id, template_key, value, previous, event_time)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
