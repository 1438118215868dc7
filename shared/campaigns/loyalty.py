"""LOYALTY: reward frequent customers, at most once per rolling three months."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.campaigns.base import CampaignProcessor, RunContext
from shared.domain import periods
from shared.domain.calendar import add_months, start_of_day
from shared.domain.campaign_settings import LoyaltySettings
from shared.ports import QueryValue


class LoyaltyProcessor(CampaignProcessor[LoyaltySettings]):
    kind = "LOYALTY"
    settings_model = LoyaltySettings

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
