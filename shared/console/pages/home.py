"""Início: what the owner asks each morning — is everything running, and does anything need me?

The page is ``GET /api/v1/dashboard`` (today's runs, messages, next runs and alerts),
``GET /api/v1/alerts`` (what WhatsApp did to the tenant's templates; dismissible) and
``GET /api/v1/analytics/daily?days=30`` (the chart), through the same service calls. Its own
answer reads only the store (runs, next runs and alerts: Firestore, milliseconds), so it shows
at once on a cheap phone; the two parts that need BigQuery (today's messages, the 30 days) are
fragments the page loads right after it is shown (htmx ``load``), each saying so in place when
BigQuery fails rather than failing the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

from babel import dates
from fastapi import APIRouter
from starlette.responses import Response

from shared.api.routes.dashboard import daily_series
from shared.console import labels
from shared.console.charts import BarChart, bar_chart
from shared.console.templating import render
from shared.console.visit import SignedIn, Visit
from shared.domain.errors import NotFoundError
from shared.services.activity import DailySeries
from shared.services.alerts import open_alerts
from shared.services.dashboard import board, day_and_messages, tenant_day

router = APIRouter()

CHART_DAYS = 30
_ERROR_CODE = re.compile(r"\b(1[0-9]{5}|368)\b")
_log = logging.getLogger(__name__)

T = TypeVar("T")


def whatsapp_error_words(reason: str) -> str | None:
    """Plain words for the WhatsApp error code a pause reason names, if we have them."""
    found = _ERROR_CODE.search(reason)
    return labels.SEND_ERROR.get(found.group(1)) if found else None


def loaded(part: str, read: Callable[[], T]) -> T | None:
    """A fragment's BigQuery read, or None when it failed (logged): the fragment then says
    "not now" in its place and the page around it stays. Not found stays a 404."""
    try:
        return read()
    except NotFoundError:
        raise
    except Exception:
        _log.exception("console fragment could not load", extra={"fields": {"part": part}})
        return None


def state_of(found: object) -> str:
    return "failed" if found is None else "ready"


@router.get("/")
def home(visit: SignedIn) -> Response:
    ports = visit.services.dashboard_ports()
    day = tenant_day(ports, visit.principal.cnpj, visit.tenant, visit.now)
    today = board(ports, day, {})  # the messages come from /inicio/mensagens
    pause_words = {
        alert.campaign_id: words
        for alert in today.alerts
        if alert.kind == "campaign_paused" and alert.campaign_id
        if (words := whatsapp_error_words(alert.detail))
    }
    return render(
        visit.request,
        "home.html",
        visit,
        board=today,
        campaigns_by_id={c.campaign_id: c for c in today.campaigns},
        pause_words=pause_words,
        template_alerts=open_alerts(visit.services.alerts, visit.principal.cnpj),
    )


@router.get("/inicio/mensagens")
def home_messages(visit: SignedIn) -> Response:
    """Today's messages (``GET /api/v1/dashboard``'s): the totals in place, each campaign's
    line into its card on the page (htmx out-of-band), and the campaigns that have messages
    today but no card (finished or cancelled since) listed with the totals."""
    ports = visit.services.dashboard_ports()
    found = loaded(
        "home messages", lambda: day_and_messages(ports, visit.principal.cnpj, visit.now)
    )
    if found is None:
        return render(visit.request, "_home_messages.html", visit, state="failed")
    day, messages = found
    carded = {c.campaign_id for c in board(ports, day, {}).campaigns}
    today = board(ports, day, messages)
    return render(
        visit.request,
        "_home_messages.html",
        visit,
        state="ready",
        board=today,
        cards=[c for c in today.campaigns if c.campaign_id in carded],
        others=[c for c in today.campaigns if c.campaign_id not in carded],
    )


@router.get("/inicio/30-dias")
def home_days(visit: SignedIn) -> Response:
    """The 30-day chart: ``GET /api/v1/analytics/daily?days=30``."""
    daily = loaded(
        "home days",
        lambda: daily_series(visit.services, visit.principal.cnpj, CHART_DAYS, None, now=visit.now),
    )
    sent_chart, revenue_chart = daily_charts(visit, daily) if daily else (None, None)
    return render(
        visit.request,
        "_home_days.html",
        visit,
        state=state_of(daily),
        daily=daily,
        sent_chart=sent_chart,
        revenue_chart=revenue_chart,
    )


def daily_charts(visit: Visit, daily: DailySeries) -> tuple[BarChart, BarChart]:
    """Messages sent and revenue per day, labelled in the visitor's language."""
    fmt = visit.fmt
    labels = [dates.format_skeleton("dM", day.day, locale=visit.locale) for day in daily.days]
    sent = bar_chart(
        [
            (label, day.sent, fmt.number(day.sent))
            for label, day in zip(labels, daily.days, strict=True)
        ],
        fmt.number(max((day.sent for day in daily.days), default=0)),
        every=7,
    )
    revenue = bar_chart(
        [
            (label, day.revenue, fmt.money(day.revenue))
            for label, day in zip(labels, daily.days, strict=True)
        ],
        fmt.money(max((day.revenue for day in daily.days), default=0.0)),
        every=7,
    )
    return sent, revenue
