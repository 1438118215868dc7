"""Targeting processors, one per campaign type; importing this package registers them all."""

from shared.campaigns.base import CampaignProcessor, RunContext, registered_processors
from shared.campaigns.birthday import BirthdayProcessor
from shared.campaigns.loyalty import LoyaltyProcessor
from shared.campaigns.reactivation import ReactivationProcessor
from shared.campaigns.welcome import WelcomeProcessor

__all__ = [
    "BirthdayProcessor",
    "CampaignProcessor",
    "LoyaltyProcessor",
    "ReactivationProcessor",
    "RunContext",
    "WelcomeProcessor",
    "registered_processors",
]
