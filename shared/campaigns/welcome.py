"""WELCOME: greet customers the day after they sign up, once ever."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from shared.campaigns.base import CampaignProcessor, RunContext
from shared.domain import periods
from shared.domain.calendar import start_of_day
from shared.domain.campaign_settings import WelcomeSettings
from shared.ports import QueryValue


class WelcomeProcessor(CampaignProcessor[WelcomeSettings]):
    kind = "WELCOME"
    settings_model = WelcomeSettings

    def period(self, ctx: RunContext, settings: WelcomeSettings) -> periods.Period:
        return periods.once()

    def parameters(self, ctx: RunContext, settings: WelcomeSettings) -> dict[str, QueryValue]:
        signup_day = ctx.today - timedelta(days=settings.days_after_signup)
        return {
            "signup_from": start_of_day(signup_day, ctx.zone),
            "signup_until": start_of_day(signup_day + timedelta(days=1), ctx.zone),
        }

    def target_data(self, row: Mapping[str, Any], settings: WelcomeSettings) -> dict[str, Any]:
        data: dict[str, Any] = {"signedUpAt": row["signed_up_at"].isoformat()}
        if settings.voucher_code:
            data["voucherCode"] = settings.voucher_code
        return data
