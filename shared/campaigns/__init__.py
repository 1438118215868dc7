"""Targeting processors, one per campaign type; importing this package registers them all."""

from typing import Any

from shared.campaigns.base import CampaignProcessor, RunContext, registered_processors
from shared.campaigns.birthday import BirthdayProcessor
from shared.campaigns.loyalty import LoyaltyProcessor
from shared.campaigns.reactivation import ReactivationProcessor
from shared.campaigns.segment import SegmentProcessor
from shared.campaigns.welcome import WelcomeProcessor
from shared.domain.campaign_ids import kind_of

__all__ = [
    "BirthdayProcessor",
    "CampaignProcessor",
    "LoyaltyProcessor",
    "ReactivationProcessor",
    "RunContext",
    "SegmentProcessor",
    "WelcomeProcessor",
    "processor_for",
    "registered_processors",
]


def processor_for(campaign_id: str) -> type[CampaignProcessor[Any]] | None:
    """The processor class of a campaign id: its built-in kind, or SEGMENT for API campaigns."""
    kind = kind_of(campaign_id)
    if kind == SegmentProcessor.kind:
        return SegmentProcessor
    return next((p for p in registered_processors() if p.kind == kind), None)
