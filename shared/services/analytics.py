"""A campaign's analytics (``GET /api/v1/campaigns/{id}/analytics``), computed in BigQuery.

The numbers come from ``message_history`` — the append-only log every target state change
writes — joined with the tenant's sales, customers and contacts, in one query
(``sql/analytics/campaign_metrics.sql``) plus the voucher query. Firestore is never scanned:
a campaign of 100k targets would cost 100k document reads per request.

The rules, and why:

* **Reached states.** A target counts in a state if it ever reached it, whatever came after
  (a message read and then reported ``failed`` on a second device was still read). A later
  state implies the earlier ones — clicked -> read -> delivered -> sent — because WhatsApp
  users may switch read receipts off, and a button reply proves the message was read.
  ``total_recipients`` is every target with history, including those never sent (skipped,
  failed before sending). Rows are deduplicated on ``event_id``.
* **Rates** are percentages with two decimals, as in the PyTake seed: delivery = delivered /
  sent; open = read / delivered; click-through = clicks / delivered; conversion = conversions /
  delivered (0.0 when the denominator is 0).
* **Clicks** are button replies and tracked-link taps: the webhook logs a ``CLICKED`` row
  carrying the wamid the reply quotes, the link redirect one carrying the wamid of the target
  whose link was followed (:mod:`shared.services.link_clicks`, people only, once per link), and
  the click belongs to the target whose history has that wamid. ``clicks`` counts targets with
  at least one, whichever kind and however many.
* **Responses** are a customer's text or media answering a message
  (:mod:`shared.services.replies`): a ``REPLIED`` row carrying the answered message's wamid, so
  it belongs to that target as a click does. ``responses`` counts targets with at least one;
  the response rate is responses / delivered. A reply proves the message was delivered and
  read, as a click does.
* **Conversions.** A target converts when its customer (``user_id`` = ``clientes.id``, whose
  ``cpf`` is the sale's ``cpfCliente``) makes a COMPLETED sale in
  ``[first send, first send + attribution window)`` and the message was delivered (an
  undelivered message cannot have caused a sale). Counted once per target. Contacts that are
  not customers cannot convert: sales name customers by CPF only.
* **Attributed revenue** is the sum of EVERY such sale, not only the first: a reactivation
  message that brings a customer back three times in the window earned three sales. A sale
  falling in the windows of several messages of the same campaign (a recurrent campaign whose
  window outlasts its interval) goes to the latest message before it only, so occurrences add
  up to the total and no sale is counted twice. Different campaigns are not deduplicated
  against each other: each one's report answers "what followed my messages".
* **Cost and ROI.** ``message_cost`` = delivered messages x ``cost_per_message``: WhatsApp
  bills a marketing template when it is delivered. ``roi`` = (attributed revenue - message
  cost) / message cost x 100, in percent (the seed's 450.0 means revenue was 5.5 times the
  cost); None when the cost is 0. ``cost_per_conversion`` is None without conversions.
* **Engagement by hour / weekday** counts first reads and first clicks by the local hour
  (0-23) and ISO weekday (1 = Monday) of the tenant's time zone, so the hours add up to
  ``messages_read`` and ``clicks``.
* **Performance by tag** uses each contact's current tags (joined on the E.164 phone); a target
  with two tags counts in both.
* **Occurrences**: one entry per ``period`` (the occurrence key of a recurrent campaign).
* **A/B test**: only the test group's targets (history ``ab_group = 'test'``; the rollout group
  also carries a variant name, the winner's, but it is not an experiment); the decision is
  :func:`abtest.decide`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared import sqlfiles
from shared.domain import abtest
from shared.domain.abtest import ABTestConfig
from shared.domain.calendar import DEFAULT_TIMEZONE, zone
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.domain.vouchers import VoucherConfig
from shared.ports import QueryValue, Warehouse

METRICS_SQL = "analytics/campaign_metrics.sql"
VOUCHERS_SQL = "analytics/voucher_redemptions.sql"
MAX_ATTRIBUTION_DAYS = 90
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class AnalyticsRequest:
    """What to compute: the campaign, how to attribute sales and what a message costs."""

    campaign_id: str
    campaign_name: str = ""
    status: str = ""
    timezone: str = DEFAULT_TIMEZONE
    """IANA zone of engagement_by_hour/_weekday (the tenant's)."""
    attribution_window_days: int = 7
    cost_per_message: float = 0.35
    """BRL per delivered message."""
    ab_test_config: ABTestConfig | None = None
    voucher: VoucherConfig | None = None
    """The campaign's voucher (its validity bounds a redemption); None: no voucher report."""
    period: str | None = None
    """One occurrence of a recurrent campaign; None = all of them."""


# -- the response --------------------------------------------------------------------------


class Metrics(BaseModel):
    """The seed's ``metrics``: counts of targets and rates in percent (two decimals)."""

    total_recipients: int = Field(description="Targets with any history (sent or not).")
    messages_sent: int = Field(description="Targets that reached SENT (or any later state).")
    messages_delivered: int = Field(description="Targets that reached DELIVERED, READ or a click.")
    messages_read: int = Field(description="Targets that reached READ or a click.")
    clicks: int = Field(
        description="Targets whose message got at least one button reply or tracked-link tap."
    )
    messages_expired: int = Field(
        default=0,
        description="Targets never sent because their send-by passed first (EXPIRED):"
        " a birthday message the day's capacity could not fit, for instance.",
    )
    responses: int = Field(
        default=0,
        description="Targets whose customer answered the message with text or media (a"
        " quick-reply button is a click, an opt-out is neither).",
    )
    conversions: int = Field(
        description="Delivered targets whose customer bought within the attribution window."
    )
    delivery_rate: float = Field(description="messages_delivered / messages_sent, percent.")
    open_rate: float = Field(description="messages_read / messages_delivered, percent.")
    click_through_rate: float = Field(description="clicks / messages_delivered, percent.")
    conversion_rate: float = Field(description="conversions / messages_delivered, percent.")
    response_rate: float = Field(
        default=0.0, description="responses / messages_delivered, percent."
    )
    roi: float | None = Field(
        description="(attributed revenue - message cost) / message cost, percent;"
        " null when the cost is 0."
    )


class ConversionFunnel(BaseModel):
    """Each step counts targets that reached it or a later one, so it never grows."""

    sent: int
    delivered: int
    opened: int = Field(description="Read (or clicked).")
    clicked: int
    converted: int


class VariantPerformance(BaseModel):
    """One A/B variant, measured on the test group only."""

    conversion_rate: float = Field(description="conversions / delivered, percent.")
    click_through_rate: float = Field(description="clicks / delivered, percent.")
    sample_size: int = Field(
        description="The optimised metric's denominator: delivered messages (sent ones for"
        " delivery_rate)."
    )
    delivery_rate: float = Field(description="delivered / sent, percent.")
    open_rate: float = Field(description="read / delivered, percent.")
    sent: int
    delivered: int
    read: int
    clicks: int
    conversions: int


class ABTestResults(BaseModel):
    """The seed's ``ab_test_results``, plus the decision behind them."""

    test_status: Literal["running", "completed"] = Field(
        description="running: some variant lacks minimum_sample_size; completed: decided."
    )
    decision: Literal["collecting", "winner", "no_winner"]
    metric: str = Field(description="The metric the test optimises.")
    winning_variant: str | None = Field(
        description="The significantly better variant; null while running or without one."
    )
    rollout_variant: str | None = Field(
        description="What the rest of the audience gets: the winner, or the fallback variant."
    )
    confidence_level: float | None = Field(
        description="(1 - p-value) x 100 of the best variant against the others; null before"
        " any variant has data."
    )
    p_value: float | None
    variants_performance: dict[str, VariantPerformance]


class HourEngagement(BaseModel):
    hour: int = Field(ge=0, le=23, description="Local hour in the tenant's time zone.")
    reads: int = Field(description="Targets first read in this hour.")
    clicks: int = Field(description="Targets first clicked in this hour.")


class WeekdayEngagement(BaseModel):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, local: 1 = Monday ... 7 = Sunday.")
    name: str
    reads: int
    clicks: int


class TagPerformance(BaseModel):
    """Targets whose phone is a contact with this tag (its tags today)."""

    tag: str
    recipients: int
    sent: int
    delivered: int
    read: int
    clicks: int
    conversions: int
    delivery_rate: float
    open_rate: float
    click_through_rate: float
    conversion_rate: float


class Revenue(BaseModel):
    """Money in BRL: what the campaign's sales brought against what its messages cost."""

    attributed_revenue: float = Field(
        description="Sum of every COMPLETED sale in a converted target's window (each sale once)."
    )
    message_cost: float = Field(description="messages_delivered x cost_per_message.")
    cost_per_message: float
    roi: float | None = Field(description="Percent; null when message_cost is 0.")
    cost_per_conversion: float | None = Field(description="Null without conversions.")


class Vouchers(BaseModel):
    """Codes are one per target; a redemption is a COMPLETED sale whose ``cupom`` is the code,
    made while it was valid, counted once per code (its first such sale)."""

    issued: int = Field(description="Codes given to the campaign's targets.")
    sent: int = Field(description="Codes whose message was sent: only these can be redeemed.")
    redeemed: int = Field(description="Codes used in a COMPLETED sale while valid.")
    redemption_rate: float = Field(description="redeemed / sent, percent.")
    revenue: float = Field(description="BRL of each redeemed code's first sale.")


class Occurrence(BaseModel):
    """One occurrence (``period``) of a recurrent campaign."""

    period: str
    metrics: Metrics
    conversion_funnel: ConversionFunnel
    revenue: Revenue
    vouchers: Vouchers | None = Field(description="Null when the campaign has no voucher.")


class CampaignAnalytics(BaseModel):
    """A campaign's analytics: the PyTake seed's response, plus breakdowns and money."""

    campaign_id: str
    campaign_name: str
    status: str
    metrics: Metrics
    ab_test_results: ABTestResults | None = Field(description="Null without an A/B test.")
    conversion_funnel: ConversionFunnel
    engagement_by_hour: list[HourEngagement] = Field(description="24 entries, hour 0 first.")
    engagement_by_weekday: list[WeekdayEngagement] = Field(description="7 entries, Monday first.")
    performance_by_tag: list[TagPerformance] = Field(description="By tag name.")
    revenue: Revenue
    vouchers: Vouchers | None = Field(description="Null when the campaign has no voucher.")
    occurrences: list[Occurrence] = Field(description="One per period, in period order.")
    period: str | None = Field(description="The one occurrence reported; null for all.")
    timezone: str
    attribution_window_days: int


# -- computing it --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Counts:
    recipients: int = 0
    sent: int = 0
    delivered: int = 0
    read: int = 0
    clicked: int = 0
    converted: int = 0
    revenue: float = 0.0
    expired: int = 0
    replied: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> _Counts:
        return cls(
            recipients=int(row["recipients"] or 0),
            sent=int(row["sent"] or 0),
            delivered=int(row["delivered"] or 0),
            read=int(row["read"] or 0),
            clicked=int(row["clicked"] or 0),
            converted=int(row["converted"] or 0),
            revenue=float(row["revenue"] or 0.0),
            expired=int(row.get("expired") or 0),
            replied=int(row.get("replied") or 0),
        )

    def rates(self) -> dict[str, float]:
        """The seed's rates: delivery over sent, the others over delivered."""
        return {
            "delivery_rate": rate(self.delivered, self.sent),
            "open_rate": rate(self.read, self.delivered),
            "click_through_rate": rate(self.clicked, self.delivered),
            "conversion_rate": rate(self.converted, self.delivered),
        }

    @property
    def funnel(self) -> abtest.Funnel:
        return abtest.Funnel(self.sent, self.delivered, self.read, self.clicked, self.converted)


def campaign_analytics(
    warehouse: Warehouse, cnpj: Cnpj, request: AnalyticsRequest
) -> CampaignAnalytics:
    """The campaign's analytics: one metrics query and, with a voucher, the voucher query.

    The two run side by side: each is a round trip of its own (about a second on BigQuery).
    """
    params = _parameters(request)
    metrics_sql = sqlfiles.render(METRICS_SQL, cnpj)
    with ThreadPoolExecutor(max_workers=2) as pool:
        metric_rows = pool.submit(_rows, warehouse, metrics_sql, params)
        voucher_rows = None
        if request.voucher is not None:
            voucher_params = {**params, "validity_days": request.voucher.validity_days}
            vouchers_sql = sqlfiles.render(VOUCHERS_SQL, cnpj)
            voucher_rows = pool.submit(_rows, warehouse, vouchers_sql, voucher_params)
        sections = _sections(metric_rows.result())
        vouchers = None if voucher_rows is None else _vouchers(voucher_rows.result())
    total = sections.get("total", {}).get("", _Counts())
    cost = request.cost_per_message
    return CampaignAnalytics(
        campaign_id=request.campaign_id,
        campaign_name=request.campaign_name,
        status=request.status,
        metrics=_metrics(total, cost),
        ab_test_results=_ab_results(request.ab_test_config, sections.get("variant", {})),
        conversion_funnel=_funnel(total),
        engagement_by_hour=[
            HourEngagement(hour=hour, reads=counts.read, clicks=counts.clicked)
            for hour in range(24)
            for counts in [sections.get("hour", {}).get(f"{hour:02d}", _Counts())]
        ],
        engagement_by_weekday=[
            WeekdayEngagement(
                weekday=day, name=WEEKDAYS[day - 1], reads=counts.read, clicks=counts.clicked
            )
            for day in range(1, 8)
            for counts in [sections.get("weekday", {}).get(str(day), _Counts())]
        ],
        performance_by_tag=[
            _tag(tag, counts) for tag, counts in sorted(sections.get("tag", {}).items())
        ],
        revenue=_revenue(total, cost),
        vouchers=None if vouchers is None else vouchers.get(request.period, _NO_VOUCHERS),
        occurrences=[
            Occurrence(
                period=period,
                metrics=_metrics(counts, cost),
                conversion_funnel=_funnel(counts),
                revenue=_revenue(counts, cost),
                vouchers=None if vouchers is None else vouchers.get(period, _NO_VOUCHERS),
            )
            for period, counts in sorted(sections.get("period", {}).items())
        ],
        period=request.period,
        timezone=request.timezone,
        attribution_window_days=request.attribution_window_days,
    )


def _rows(
    warehouse: Warehouse, sql: str, params: Mapping[str, QueryValue]
) -> list[Mapping[str, Any]]:
    return list(warehouse.query(sql, params))


def _parameters(request: AnalyticsRequest) -> dict[str, QueryValue]:
    if not request.campaign_id:
        raise FieldError("campaign_id", "must not be empty")
    zone(request.timezone)  # a FieldError naming `timezone`
    if not 1 <= request.attribution_window_days <= MAX_ATTRIBUTION_DAYS:
        raise FieldError("attribution_window_days", f"must be between 1 and {MAX_ATTRIBUTION_DAYS}")
    if request.cost_per_message < 0:
        raise FieldError("cost_per_message", "must not be negative")
    if request.period is not None and not request.period:
        raise FieldError("period", "must not be empty (omit it for every occurrence)")
    return {
        "campaign_id": request.campaign_id,
        "period": request.period or "",
        "window_days": request.attribution_window_days,
        "timezone": request.timezone,
    }


def _sections(rows: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, _Counts]]:
    sections: dict[str, dict[str, _Counts]] = {}
    for row in rows:
        sections.setdefault(str(row["section"]), {})[str(row["bucket"] or "")] = _Counts.of(row)
    return sections


def rate(part: int, whole: int) -> float:
    """``part / whole`` in percent with two decimals; 0.0 when ``whole`` is 0."""
    return round(100 * part / whole, 2) if whole else 0.0


def _money(value: float) -> float:
    return round(value, 2)


def _cost(counts: _Counts, cost_per_message: float) -> float:
    return counts.delivered * cost_per_message


def roi(revenue: float, cost: float) -> float | None:
    """(revenue - cost) / cost in percent, two decimals; None when nothing was spent."""
    return round(100 * (revenue - cost) / cost, 2) if cost > 0 else None


def _metrics(counts: _Counts, cost_per_message: float) -> Metrics:
    return Metrics(
        total_recipients=counts.recipients,
        messages_sent=counts.sent,
        messages_delivered=counts.delivered,
        messages_read=counts.read,
        clicks=counts.clicked,
        messages_expired=counts.expired,
        responses=counts.replied,
        conversions=counts.converted,
        **counts.rates(),
        response_rate=rate(counts.replied, counts.delivered),
        roi=roi(counts.revenue, _cost(counts, cost_per_message)),
    )


def _funnel(counts: _Counts) -> ConversionFunnel:
    return ConversionFunnel(
        sent=counts.sent,
        delivered=counts.delivered,
        opened=counts.read,
        clicked=counts.clicked,
        converted=counts.converted,
    )


def _revenue(counts: _Counts, cost_per_message: float) -> Revenue:
    cost = _cost(counts, cost_per_message)
    return Revenue(
        attributed_revenue=_money(counts.revenue),
        message_cost=_money(cost),
        cost_per_message=cost_per_message,
        roi=roi(counts.revenue, cost),
        cost_per_conversion=_money(cost / counts.converted) if counts.converted else None,
    )


def _tag(tag: str, counts: _Counts) -> TagPerformance:
    return TagPerformance(
        tag=tag,
        recipients=counts.recipients,
        sent=counts.sent,
        delivered=counts.delivered,
        read=counts.read,
        clicks=counts.clicked,
        conversions=counts.converted,
        **counts.rates(),
    )


def _ab_results(
    config: ABTestConfig | None, variants: Mapping[str, _Counts]
) -> ABTestResults | None:
    if config is None or not config.enabled:
        return None
    measured = {name: variants.get(name, _Counts()) for name in config.variant_names}
    decision = abtest.decide(
        config,
        {
            name: abtest.counts_from_funnel(config.metric_to_optimize, counts.funnel)
            for name, counts in measured.items()
        },
    )
    return ABTestResults(
        test_status="running" if decision.status == "collecting" else "completed",
        decision=decision.status,
        metric=decision.metric,
        winning_variant=decision.winner,
        rollout_variant=decision.rollout_variant,
        confidence_level=_rounded(decision.confidence_level),
        p_value=None if decision.p_value is None else round(decision.p_value, 6),
        variants_performance={
            name: VariantPerformance(
                conversion_rate=rate(counts.converted, counts.delivered),
                click_through_rate=rate(counts.clicked, counts.delivered),
                sample_size=abtest.counts_from_funnel(
                    config.metric_to_optimize, counts.funnel
                ).sample,
                delivery_rate=rate(counts.delivered, counts.sent),
                open_rate=rate(counts.read, counts.delivered),
                sent=counts.sent,
                delivered=counts.delivered,
                read=counts.read,
                clicks=counts.clicked,
                conversions=counts.converted,
            )
            for name, counts in measured.items()
        },
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


_NO_VOUCHERS = Vouchers(issued=0, sent=0, redeemed=0, redemption_rate=0.0, revenue=0.0)


def _vouchers(rows: Iterable[Mapping[str, Any]]) -> dict[str | None, Vouchers]:
    """The voucher query's rows by period; None is its whole-campaign row."""
    result: dict[str | None, Vouchers] = {}
    for row in rows:
        sent, redeemed = int(row["vouchers_sent"] or 0), int(row["redemptions"] or 0)
        result[None if row["period"] is None else str(row["period"])] = Vouchers(
            issued=int(row["vouchers_issued"] or 0),
            sent=sent,
            redeemed=redeemed,
            redemption_rate=rate(redeemed, sent),
            revenue=_money(float(row["revenue"] or 0.0)),
        )
    return result
