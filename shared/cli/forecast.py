"""``campaigns forecast CNPJ [--days N]``: a tenant's waiting messages per local day.

The table is :func:`shared.services.forecast.forecast_tenant` as an operator reads it: one row
per campaign with messages waiting or an occurrence within the horizon, one column per day.
"""

from __future__ import annotations

from shared.services.forecast import CampaignForecast


def forecast_table(forecasts: list[CampaignForecast]) -> str:
    if not forecasts:
        return "nothing waits and no API campaign occurrence falls within the horizon"
    days = [entry.day for entry in forecasts[0].days]
    head = ["campaign", *(day.strftime("%d/%m") for day in days), "later", "expire", "last send"]
    rows = [
        [
            forecast.campaign_id,
            *(str(entry.messages) for entry in forecast.days),
            str(forecast.later),
            str(forecast.will_expire),
            forecast.last_send_at.isoformat(timespec="minutes") if forecast.last_send_at else "-",
        ]
        for forecast in forecasts
    ]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [head, *rows]
    ]
    notes = [
        f"{forecast.campaign_id}: next occurrence {forecast.next_occurrence_at.isoformat()} "
        f"reaching about {forecast.next_occurrence_audience} (estimated now)"
        for forecast in forecasts
        if forecast.next_occurrence_at is not None
    ]
    if not all(forecast.complete for forecast in forecasts):
        notes.append("too many messages to plan: the forecast left some out")
    return "\n".join([f"days are local to {forecasts[0].timezone}", *lines, *notes])
