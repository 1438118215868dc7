"""LOYALTY: reward frequent customers, at most once per rolling three months."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field, field_validator

from shared.campaigns.base import CampaignProcessor, RunContext
from shared.domain import periods
from shared.domain.calendar import add_months, start_of_day
from shared.domain.tenant import CampaignSettings, TemplateRef
from shared.ports import QueryValue


class Tier(BaseModel):
    name: str = Field(min_length=1)
    min_visits: int = Field(ge=1)


class LoyaltySettings(CampaignSettings):
    min_visits: int = Field(default=10, ge=1)
    window_months: int = Field(default=3, ge=1, le=12)
    tiers: list[Tier] = Field(
        default_factory=lambda: [
            Tier(name="BRONZE", min_visits=10),
            Tier(name="PRATA", min_visits=15),
            Tier(name="OURO", min_visits=20),
        ]
    )

    @field_validator("tiers")
    @classmethod
    def _sorted(cls, tiers: list[Tier]) -> list[Tier]:
        return sorted(tiers, key=lambda tier: tier.min_visits)

    def tier_for(self, visits: int) -> str:
        """The highest tier the visit count reaches; the lowest tier if none is reached."""
        reached = [tier.name for tier in self.tiers if visits >= tier.min_visits]
        if reached:
            return reached[-1]
        return self.tiers[0].name if self.tiers else ""


class LoyaltyProcessor(CampaignProcessor[LoyaltySettings]):
    campaign_type = "LOYALTY"
    settings_model = LoyaltySettings
    default_template = TemplateRef(
        name="programa_fidelidade", parameters=["first_name", "visit_count"]
    )

    def period(self, ctx: RunContext, settings: LoyaltySettings) -> periods.Period:
        return periods.rolling_months(ctx.today, ctx.zone, settings.window_months)

    def parameters(self, ctx: RunContext, settings: LoyaltySettings) -> dict[str, QueryValue]:
        window_start = add_months(ctx.today, -settings.window_months)
        return {
            "window_start": start_of_day(window_start, ctx.zone),
            "min_visits": settings.min_visits,
        }

    def target_data(self, row: Mapping[str, Any], settings: LoyaltySettings) -> dict[str, Any]:
        visits = int(row["visit_count"])
        return {
            "visit_count": visits,
            "total_spent": round(float(row["total_spent"]), 2),
            "tier": settings.tier_for(visits),
        }
