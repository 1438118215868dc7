"""The error vocabulary shared by all layers.

Entry points map these to the platform's retry semantics: a :class:`TransientError` makes the
function fail so Pub/Sub redelivers; anything else is recorded and acknowledged.
"""

from __future__ import annotations


class CampaignError(Exception):
    """Base class of every error this project raises on purpose."""


class FieldError(CampaignError, ValueError):
    """Bad input. Names the field and the reason so the caller can fix it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NotFoundError(CampaignError):
    """The thing asked for does not exist for this tenant (never says whether another has it)."""


class ConflictError(CampaignError):
    """The request is valid but the resource's state forbids it (an illegal status change)."""


class TransientError(CampaignError):
    """A failure worth retrying later (network, quota, a service briefly unavailable)."""


class PermanentError(CampaignError):
    """A failure that a retry would only repeat (missing dataset, malformed query, bad data)."""
