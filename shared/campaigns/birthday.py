"""BIRTHDAY: wish customers a happy birthday on their day, at most once per calendar year."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.campaigns.base import CampaignProcessor, RunContext
from shared.domain import periods
from shared.domain.calendar import birthday_keys
from shared.domain.campaign_settings import BirthdaySettings
from shared.ports import QueryValue


class BirthdayProcessor(CampaignProcessor[BirthdaySettings]):
    kind = "BIRTHDAY"
    settings_model = BirthdaySettings

    def period(self, ctx: RunContext, settings: BirthdaySettings) -> periods.Period:
        return periods.yearly(ctx.today, ctx.zone)

    def parameters(self, ctx: RunContext, settings: BirthdaySettings) -> dict[str, QueryValue]:
        return {"birthday_keys": birthday_keys(ctx.today)}

    def target_data(self, row: Mapping[str, Any], settings: BirthdaySettings) -> dict[str, Any]:
        data: dict[str, Any] = {"birthDate": row["birth_date"].isoformat()}
        if settings.voucher_code:
            data["voucherCode"] = settings.voucher_code
        return data
