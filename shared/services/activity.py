"""The tenant's messaging activity over days, from ``message_history`` and ``vendas`` (BigQuery).

Three questions the console asks across campaigns, each answered by one query whatever the
number of campaigns (never one query per campaign):

* **today** (``sql/analytics/today.sql``): per campaign, the messages of the tenant's local
  day. *Sent* counts the targets first sent that day, and of those the ones *delivered* and
  *read* so far, so the three read as a funnel. *Failed* counts targets whose latest change is
  a failure made that day (before or after sending). *Waiting* counts targets planned and not
  sent yet (QUEUED — the send window, the pace, a frequency-cap deferral — or SENDING right
  now), however long ago they were planned within :data:`WAITING_LOOKBACK`.
* **daily** (``sql/analytics/daily.sql``): per local day, the targets first sent that day and
  the revenue attributed to messages, by the day of the sale. Attribution follows the campaign
  analytics (:mod:`shared.services.analytics`): a COMPLETED sale by a customer whose message was
  delivered and first sent within the attribution window before the sale; a sale in several
  windows goes to the latest message before it, so it counts once — across every campaign of
  the tenant here, or within one campaign when one is asked for (then its own window applies,
  and the days add up to its analytics' revenue for sales in the period).
* **progress** (``sql/analytics/progress.sql``): per campaign, its recipients (targets with any
  history, the analytics' ``total_recipients``) and how many were sent.

Days are the tenant's local days; a day without activity is reported with zeros.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from shared import sqlfiles
from shared.domain.calendar import local_date, start_of_day, zone
from shared.domain.cnpj import Cnpj
from shared.ports import QueryValue, Warehouse

TODAY_SQL = "analytics/today.sql"
DAILY_SQL = "analytics/daily.sql"
PROGRESS_SQL = "analytics/progress.sql"
WAITING_LOOKBACK = timedelta(days=7)
"""A message planned longer ago than this and still not sent is not counted as waiting."""
MAX_DAYS = 90


class MessageCounts(BaseModel):
    sent: int = Field(default=0, description="targets first sent today")
    delivered: int = Field(default=0, description="of those sent today, delivered so far")
    read: int = Field(default=0, description="of those sent today, read so far")
    failed: int = Field(default=0, description="targets that failed today")
    expired: int = Field(
        default=0, description="targets that expired today: their send-by passed before a slot"
    )
    waiting: int = Field(default=0, description="targets planned and not sent yet")

    def __add__(self, other: MessageCounts) -> MessageCounts:
        return MessageCounts(
            **{
                name: getattr(self, name) + getattr(other, name)
                for name in MessageCounts.model_fields
            }
        )


class DayFigures(BaseModel):
    day: date = Field(description="a local day of the tenant")
    sent: int = Field(description="targets first sent that day")
    revenue: float = Field(description="BRL of the sales that day attributed to messages")


class DailySeries(BaseModel):
    campaign_id: str | None = Field(description="the one campaign reported; null for all")
    timezone: str
    attribution_window_days: int
    days: list[DayFigures] = Field(description="every local day, oldest first, today last")
    sent: int = Field(description="sum of the days")
    revenue: float = Field(description="sum of the days, BRL")


class CampaignProgress(BaseModel):
    campaign_id: str
    recipients: int = Field(description="targets with any history (the analytics' recipients)")
    sent: int = Field(description="of those, sent (or delivered or read)")


def local_day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    tz = zone(timezone)
    return start_of_day(day, tz), start_of_day(day + timedelta(days=1), tz)


def messages_today(
    warehouse: Warehouse, cnpj: Cnpj, timezone: str, now: datetime
) -> dict[str, MessageCounts]:
    """Per campaign id, the messages of the tenant's local day of ``now``."""
    day_start, day_end = local_day_bounds(local_date(now, zone(timezone)), timezone)
    params = {
        "day_start": day_start,
        "day_end": day_end,
        "waiting_since": day_start - WAITING_LOOKBACK,
    }
    rows = warehouse.query(sqlfiles.render(TODAY_SQL, cnpj), params)
    return {
        str(row["campaign_id"]): MessageCounts(
            sent=_int(row, "sent"),
            delivered=_int(row, "delivered"),
            read=_int(row, "read"),
            failed=_int(row, "failed"),
            expired=_int(row, "expired"),
            waiting=_int(row, "waiting"),
        )
        for row in rows
    }


def daily_series(
    warehouse: Warehouse,
    cnpj: Cnpj,
    *,
    timezone: str,
    now: datetime,
    days: int,
    window_days: int,
    campaign_id: str | None = None,
) -> DailySeries:
    """The ``days`` local days up to and including today, oldest first."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    today = local_date(now, zone(timezone))
    first = today - timedelta(days=days - 1)
    since, _ = local_day_bounds(first, timezone)
    _, until = local_day_bounds(today, timezone)
    params: dict[str, QueryValue] = {
        "since": since,
        "until": until,
        "lookback": since - timedelta(days=window_days),
        "window_days": window_days,
        "timezone": timezone,
        "campaign_id": campaign_id or "",
    }
    found = {
        str(row["day"]): (_int(row, "sent"), float(row["revenue"] or 0.0))
        for row in warehouse.query(sqlfiles.render(DAILY_SQL, cnpj), params)
    }
    figures = [
        DayFigures(
            day=day,
            sent=found.get(day.isoformat(), (0, 0.0))[0],
            revenue=round(found.get(day.isoformat(), (0, 0.0))[1], 2),
        )
        for day in (first + timedelta(days=n) for n in range(days))
    ]
    return DailySeries(
        campaign_id=campaign_id,
        timezone=timezone,
        attribution_window_days=window_days,
        days=figures,
        sent=sum(day.sent for day in figures),
        revenue=round(sum(day.revenue for day in figures), 2),
    )


def progress(warehouse: Warehouse, cnpj: Cnpj, campaign_ids: list[str]) -> list[CampaignProgress]:
    """In the order asked; a campaign without history has 0 of 0."""
    if not campaign_ids:
        return []
    rows = warehouse.query(sqlfiles.render(PROGRESS_SQL, cnpj), {"campaign_ids": campaign_ids})
    found = {str(row["campaign_id"]): row for row in rows}
    return [
        CampaignProgress(
            campaign_id=campaign_id,
            recipients=_int(found.get(campaign_id, {}), "recipients"),
            sent=_int(found.get(campaign_id, {}), "sent"),
        )
        for campaign_id in campaign_ids
    ]


def _int(row: Mapping[str, Any], name: str) -> int:
    return int(row.get(name) or 0)
