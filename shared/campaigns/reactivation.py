"""REACTIVATION: win back customers whose last completed sale is over a month old.

Sent from the 20th of each month (the seed's "after the 20th"), at most once per calendar
month, so a customer who stays away hears from us once a month, not every day.

Only sales of the last ``lookback_days`` are read (by default a year more than
``inactive_days``): ``vendas`` is partitioned by day, so the query scans that many partitions
however old the tenant's history is. A customer whose last sale is older than that is
considered lost, and is no longer written to every month.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from shared.campaigns.base import CampaignProcessor, RunContext
from shared.domain import periods
from shared.domain.calendar import start_of_day
from shared.domain.campaign_settings import ReactivationSettings
from shared.ports import QueryValue


class ReactivationProcessor(CampaignProcessor[ReactivationSettings]):
    kind = "REACTIVATION"
    settings_model = ReactivationSettings

    def period(self, ctx: RunContext, settings: ReactivationSettings) -> periods.Period:
        return periods.monthly(ctx.today, ctx.zone)

    def not_due_reason(self, ctx: RunContext, settings: ReactivationSettings) -> str | None:
        if ctx.today.day < settings.min_day_of_month:
            return f"runs from day {settings.min_day_of_month} of the month"
        return None

    def parameters(self, ctx: RunContext, settings: ReactivationSettings) -> dict[str, QueryValue]:
        # Last local purchase date < today - N days  <=>  last purchase < that day's local midnight.
        inactive_before = start_of_day(ctx.today - timedelta(days=settings.inactive_days), ctx.zone)
        active_since = start_of_day(ctx.today - settings.lookback, ctx.zone)
        return {"inactive_before": inactive_before, "active_since": active_since}

    def target_data(self, row: Mapping[str, Any], settings: ReactivationSettings) -> dict[str, Any]:
        data: dict[str, Any] = {"lastPurchaseAt": row["last_purchase_at"].isoformat()}
        if settings.voucher_code:
            data["voucherCode"] = settings.voucher_code
        return data
