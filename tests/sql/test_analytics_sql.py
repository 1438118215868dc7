"""Campaign analytics on bqemulator, against hand-made history, sales and contacts.

Each test registers a tenant of its own and inserts rows in which every rule is decided by one
row (the comment beside it says why it counts or not); the expected numbers are worked out by
hand below each fixture, never by running the code under test another way.

Instants are São Paulo wall-clock times (UTC-3, no DST since 2019); the engagement rows are
chosen so that local and UTC hours, and local and UTC weekdays, differ.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.bootstrap import Container
from shared.domain.abtest import ABTestConfig
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.domain.vouchers import VoucherConfig
from shared.services.analytics import (
    AnalyticsRequest,
    CampaignAnalytics,
    campaign_analytics,
    rate,
    roi,
)
from shared.services.tenants import register_tenant

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CAMPAIGN = "SEG_0123456789ABCDEF"
P1, P2 = "2026-11-02", "2026-11-09"
"""Two weekly occurrences; both send on a Monday at 10:00 local."""

Row = dict[str, Any]


def local(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SAO_PAULO)


def stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


SEND_1 = local(11, 2, 10)
SEND_2 = local(11, 9, 10)


def phone_of(person: str) -> str:
    """A distinct, stable mobile per person (the same in every test run)."""
    return f"+55119{zlib.crc32(person.encode()) % 10**8:08d}"


class History:
    """Builds one campaign's history rows, numbering each target's events like delivery does."""

    def __init__(self, campaign_id: str = CAMPAIGN) -> None:
        self.campaign_id = campaign_id
        self.rows: list[Row] = []
        self._versions: dict[str, int] = {}

    def change(
        self,
        target: str,
        user: str,
        period: str,
        status: str,
        at: datetime,
        *,
        wamid: str = "",
        data: dict[str, Any] | None = None,
        voucher: str = "",
        repeat: int = 1,
    ) -> None:
        version = self._versions.get(target, 0) + 1
        self._versions[target] = version
        row = {
            "event_id": f"users/x/campaigns/{self.campaign_id}/targets/{target}#{version}",
            "user_id": user,
            "campaign_type": "SEGMENT",
            "campaign_id": self.campaign_id,
            "target_id": target,
            "sent_at": stamp(at),
            "status": status,
            "phone": phone_of(user),
            "wamid": wamid,
            "variant": str((data or {}).get("variant", "")),
            "message_content": json.dumps(data or {}, sort_keys=True),
            "ab_group": str((data or {}).get("abGroup", "")),
            "period": period,
            "voucher_code": voucher,
            "attempt": 1,
        }
        self.rows.extend(dict(row) for _ in range(repeat))  # a retried append: same event id

    def journey(
        self,
        target: str,
        user: str,
        period: str,
        sent: datetime,
        *statuses: str,
        wamid: str | None = None,
        data: dict[str, Any] | None = None,
        voucher: str = "",
    ) -> None:
        """QUEUED one minute before ``sent``, then each status a minute apart from ``sent``."""
        queued = sent - timedelta(minutes=1)
        self.change(target, user, period, "QUEUED", queued, data=data, voucher=voucher)
        for offset, status in enumerate(statuses):
            sent_yet = status not in ("QUEUED", "SENDING", "SKIPPED", "EXPIRED")
            self.change(
                target,
                user,
                period,
                status,
                sent + timedelta(minutes=offset),
                wamid=(wamid or f"wamid.{target}") if sent_yet else "",
                data=data,
                voucher=voucher,
            )


def click(message_id: str, wamid: str, at: datetime, phone: str = "+5511900000000") -> Row:
    """The row the webhook writes for a button reply (shared/services/webhooks.py)."""
    return {
        "event_id": f"click#{message_id}",
        "user_id": "",
        "campaign_type": "",
        "campaign_id": "",
        "target_id": "",
        "sent_at": stamp(at),
        "status": "CLICKED",
        "phone": phone,
        "wamid": wamid,
        "period": "",
        "voucher_code": "",
    }


def customer(customer_id: str, cpf: str | None = None) -> Row:
    return {
        "id": customer_id,
        "nome": f"Cliente {customer_id}",
        "cpf": f"cpf-{customer_id}" if cpf is None else cpf,
        "telefone": phone_of(customer_id),
    }


def sale(cpf: str, at: datetime, valor: float, status: str = "COMPLETED", cupom: str = "") -> Row:
    return {
        "data": stamp(at),
        "cpfCliente": cpf,
        "valor": valor,
        "status": status,
        "tipoPagamento": "PIX",
        "cupom": cupom or None,
    }


def contact(phone: str, *tags: str) -> Row:
    return {"contact_id": f"k{phone[-8:]}", "phone": phone, "tags": list(tags)}


def new_tenant(deps: Container, cnpj: Cnpj) -> Cnpj:
    register_tenant(
        cnpj, name="x", timezone=None, tenants=deps.tenants, warehouse=deps.warehouse, queues=None
    )
    return cnpj


def insert(
    deps: Container,
    cnpj: Cnpj,
    *,
    history: Sequence[Row] = (),
    clientes: Sequence[Row] = (),
    vendas: Sequence[Row] = (),
    contacts: Sequence[Row] = (),
) -> None:
    project = deps.settings.google_cloud_project
    for dataset, table, rows in (
        (cnpj.campaign_dataset, "message_history", history),
        (cnpj.raw_dataset, "clientes", clientes),
        (cnpj.raw_dataset, "vendas", vendas),
        (cnpj.campaign_dataset, "contacts", contacts),
    ):
        if rows:
            errors = deps.bigquery_client.insert_rows_json(
                f"{project}.{dataset}.{table}", list(rows)
            )
            assert errors == [], errors


def analytics(deps: Container, cnpj: Cnpj, **fields: Any) -> CampaignAnalytics:
    request = AnalyticsRequest(
        **{"campaign_id": CAMPAIGN, "campaign_name": "Semanal", "status": "running", **fields}
    )
    return campaign_analytics(deps.warehouse, cnpj, request)


def counts(metrics: Any) -> tuple[int, ...]:
    return (
        metrics.total_recipients,
        metrics.messages_sent,
        metrics.messages_delivered,
        metrics.messages_read,
        metrics.clicks,
        metrics.conversions,
    )


# -- the seed's formulas -----------------------------------------------------------------------


def test_rates_and_roi_follow_the_seeds_example() -> None:
    # The PyTake seed: 9950 sent, 9800 delivered, 7500 read, 1200 clicks, 350 conversions.
    assert rate(9800, 9950) == 98.49  # delivery_rate = delivered / sent
    assert rate(7500, 9800) == 76.53  # open_rate = read / delivered
    assert rate(1200, 9800) == 12.24  # click_through_rate = clicks / delivered
    assert rate(350, 9800) == 3.57  # conversion_rate = conversions / delivered
    assert rate(1, 0) == 0.0
    # roi 450.0: revenue 5.5 times the cost of 9800 delivered messages at R$ 0.35.
    assert roi(5.5 * 9800 * 0.35, 9800 * 0.35) == 450.0
    assert roi(100.0, 0.0) is None


# -- one recurrent campaign, every metric ----------------------------------------------------


@pytest.fixture
def weekly(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    """Two occurrences of CAMPAIGN; the expected numbers are listed in the tests below."""
    cnpj = new_tenant(deps, new_cnpj)
    h = History()
    # P1 -------------------------------------------------------------------------------------
    # A1: read 19:30 Mon (local), clicked 19:40 and again 20:00; converts (50.00). Its SENT and
    #     READ rows are appended twice (a retried append repeats the event id).
    h.change("A1", "c1", P1, "QUEUED", SEND_1 - timedelta(minutes=1))
    h.change("A1", "c1", P1, "SENT", SEND_1, wamid="wamid.A1", repeat=2)
    h.change("A1", "c1", P1, "DELIVERED", SEND_1 + timedelta(minutes=1), wamid="wamid.A1")
    h.change("A1", "c1", P1, "READ", local(11, 2, 19, 30), wamid="wamid.A1", repeat=2)
    # B1: delivered; its customer's sales fall just outside the window on both sides.
    h.journey("B1", "c2", P1, SEND_1, "SENT", "DELIVERED")
    # C1: sent, never delivered (failed): its customer's sale in the window does not count.
    h.journey("C1", "c3", P1, SEND_1, "SENDING", "SENT", "FAILED")
    # D1: opted out before sending: a recipient only.
    h.journey("D1", "c4", P1, SEND_1, "SKIPPED")
    # E1: READ without a DELIVERED row (read implies delivered), read 08:15 Tue; two sales.
    h.change("E1", "c5", P1, "QUEUED", SEND_1 - timedelta(minutes=1))
    h.change("E1", "c5", P1, "SENT", SEND_1, wamid="wamid.E1")
    h.change("E1", "c5", P1, "READ", local(11, 3, 8, 15), wamid="wamid.E1")
    # F1: a contact that is no customer: delivered, clicked at 23:30 Mon local (02:30 Tue UTC)
    #     without a read receipt (a click implies the read); cannot convert.
    h.journey("F1", "k1", P1, SEND_1, "SENT", "DELIVERED")
    # G1: a customer without CPF: a sale with an empty cpfCliente must not match.
    h.journey("G1", "c6", P1, SEND_1, "SENT", "DELIVERED")
    # P2 -------------------------------------------------------------------------------------
    # A2: c1 again, delivered, converts (30.00) inside its own window.
    h.journey("A2", "c1", P2, SEND_2, "SENT", "DELIVERED")
    # B2: c2 again, sent, no receipt yet.
    h.journey("B2", "c2", P2, SEND_2, "SENT")
    # C2: c3 again, never sent: its send-by passed first (a recipient only, counted expired).
    h.journey("C2", "c3", P2, SEND_2, "EXPIRED")
    # Another campaign messaged c1 too; its rows and its click are not ours.
    other = History("BIRTHDAY")
    other.journey("X1", "c1", "2026", SEND_1, "SENT", "DELIVERED", "READ", wamid="wamid.X1")
    clicks = [
        click("m1", "wamid.A1", local(11, 2, 19, 40)),
        click("m1", "wamid.A1", local(11, 2, 19, 40)),  # the same webhook, redelivered
        click("m2", "wamid.A1", local(11, 2, 20, 0)),  # A1's second press: still one click
        click("m3", "wamid.F1", local(11, 2, 23, 30)),
        click("m4", "wamid.X1", local(11, 2, 21, 0)),  # the other campaign's message
        click("m5", "wamid.unknown", local(11, 2, 21, 0)),  # nobody's
        click("m6", "", local(11, 2, 21, 0)),  # quotes nothing: must not match unsent rows
    ]
    insert(
        deps,
        cnpj,
        history=h.rows + other.rows + clicks,
        clientes=[
            customer("c1"),
            customer("c2"),
            customer("c3"),
            customer("c4"),
            customer("c5"),
            customer("c6", cpf=""),
            customer("c9"),
        ],
        vendas=[
            sale("cpf-c1", local(11, 4, 12), 50.0),  # A1: in its window
            sale("cpf-c1", local(11, 4, 13), 99.0, status="CANCELLED"),  # not COMPLETED
            sale("cpf-c2", SEND_1 - timedelta(minutes=1), 11.0),  # B1: before the send
            sale("cpf-c2", SEND_1 + timedelta(days=7), 12.0),  # B1: the window's end, excluded
            sale("cpf-c3", local(11, 3, 12), 13.0),  # C1: never delivered
            sale("cpf-c5", SEND_1 + timedelta(hours=1), 20.0),  # E1: first sale
            sale("cpf-c5", SEND_1 + timedelta(days=7, minutes=-1), 25.0),  # E1: last minute
            sale("", local(11, 3, 12), 14.0),  # G1's empty CPF matches nothing
            sale("cpf-c9", local(11, 3, 12), 15.0),  # a customer we never messaged
            sale("cpf-c1", local(11, 10, 12), 30.0),  # A2 (A1's window ended on 9 Nov 10:00)
        ],
        contacts=[
            contact(phone_of("c1"), "vip", "centro"),  # A1, A2
            contact(phone_of("k1"), "vip"),  # F1
            contact(phone_of("c2"), "centro"),  # B1, B2
            contact(phone_of("c5")),  # E1: no tags
            contact("+5511911112222", "ghost"),  # nobody messaged
        ],
    )
    return cnpj


def test_totals_rates_money_and_funnel(deps: Container, weekly: Cnpj) -> None:
    result = analytics(deps, weekly, attribution_window_days=7, cost_per_message=0.35)

    m = result.metrics
    # recipients A1 B1 C1 D1 E1 F1 G1 A2 B2 C2; sent: all but D1 and C2; delivered A1 B1 E1
    # F1 G1 A2; read A1 E1 F1; clicked A1 F1; converted A1 E1 A2; expired C2.
    assert counts(m) == (10, 8, 6, 3, 2, 3)
    assert m.messages_expired == 1
    assert (m.delivery_rate, m.open_rate, m.click_through_rate, m.conversion_rate) == (
        75.0,  # 6 / 8
        50.0,  # 3 / 6
        33.33,  # 2 / 6
        50.0,  # 3 / 6
    )
    # Revenue 50 + 20 + 25 + 30 = 125; cost 6 delivered x 0.35 = 2.10.
    assert result.revenue.attributed_revenue == 125.0
    assert result.revenue.message_cost == 2.1
    assert result.revenue.cost_per_message == 0.35
    assert result.revenue.roi == m.roi == 5852.38  # (125 - 2.1) / 2.1 x 100
    assert result.revenue.cost_per_conversion == 0.7  # 2.10 / 3
    funnel = result.conversion_funnel
    assert (funnel.sent, funnel.delivered, funnel.opened, funnel.clicked, funnel.converted) == (
        8,
        6,
        3,
        2,
        3,
    )
    assert (result.campaign_id, result.campaign_name, result.status) == (
        CAMPAIGN,
        "Semanal",
        "running",
    )
    assert result.ab_test_results is None and result.vouchers is None


def test_occurrences_of_a_recurrent_campaign(deps: Container, weekly: Cnpj) -> None:
    result = analytics(deps, weekly)

    assert [o.period for o in result.occurrences] == [P1, P2]
    first, second = result.occurrences
    assert counts(first.metrics) == (7, 6, 5, 3, 2, 2)
    assert (first.metrics.delivery_rate, first.metrics.open_rate) == (83.33, 60.0)
    assert (first.metrics.click_through_rate, first.metrics.conversion_rate) == (40.0, 40.0)
    assert first.revenue.attributed_revenue == 95.0
    assert first.revenue.message_cost == 1.75
    assert first.revenue.roi == 5328.57  # (95 - 1.75) / 1.75 x 100
    assert counts(second.metrics) == (3, 2, 1, 0, 0, 1)
    assert (first.metrics.messages_expired, second.metrics.messages_expired) == (0, 1)
    assert second.metrics.delivery_rate == 50.0 and second.metrics.conversion_rate == 100.0
    assert second.revenue.attributed_revenue == 30.0
    assert second.conversion_funnel.converted == 1

    only_second = analytics(deps, weekly, period=P2)

    assert only_second.period == P2
    assert counts(only_second.metrics) == (3, 2, 1, 0, 0, 1)
    assert only_second.revenue.attributed_revenue == 30.0
    assert [o.period for o in only_second.occurrences] == [P2]
    assert all(h.reads == h.clicks == 0 for h in only_second.engagement_by_hour)


def test_engagement_by_local_hour_and_weekday(deps: Container, weekly: Cnpj) -> None:
    result = analytics(deps, weekly, timezone="America/Sao_Paulo")

    hours = {h.hour: (h.reads, h.clicks) for h in result.engagement_by_hour}
    assert list(hours) == list(range(24))
    # A1 read 19:30 + clicked 19:40; E1 read 08:15; F1 clicked (and so read) 23:30 local.
    assert {hour: n for hour, n in hours.items() if n != (0, 0)} == {
        8: (1, 0),
        19: (1, 1),
        23: (1, 1),
    }
    days = {d.weekday: (d.name, d.reads, d.clicks) for d in result.engagement_by_weekday}
    assert list(days) == [1, 2, 3, 4, 5, 6, 7]
    assert days[1] == ("monday", 2, 2)  # A1 and F1 (F1 is Tuesday in UTC)
    assert days[2] == ("tuesday", 1, 0)  # E1
    assert all(days[d][1:] == (0, 0) for d in range(3, 8))

    in_utc = analytics(deps, weekly, timezone="UTC")

    utc_hours = {h.hour: (h.reads, h.clicks) for h in in_utc.engagement_by_hour}
    assert {hour: n for hour, n in utc_hours.items() if n != (0, 0)} == {
        11: (1, 0),
        22: (1, 1),
        2: (1, 1),
    }
    assert [(d.reads, d.clicks) for d in in_utc.engagement_by_weekday][:2] == [(1, 1), (2, 1)]

    # UTC+05:45: the SQL groups moments in quarter hours before converting them, which holds
    # only because every zone's offset is a whole number of quarter hours.
    in_nepal = analytics(deps, weekly, timezone="Asia/Kathmandu")

    nepal_hours = {h.hour: (h.reads, h.clicks) for h in in_nepal.engagement_by_hour}
    assert {hour: n for hour, n in nepal_hours.items() if n != (0, 0)} == {
        4: (1, 1),  # A1: read 22:30Z = 04:15, clicked 22:40Z = 04:25
        8: (1, 1),  # F1: 02:30Z = 08:15
        17: (1, 0),  # E1: 11:15Z = 17:00
    }
    assert [(d.reads, d.clicks) for d in in_nepal.engagement_by_weekday][:2] == [(0, 0), (3, 2)]


def test_performance_by_contact_tag(deps: Container, weekly: Cnpj) -> None:
    result = analytics(deps, weekly)

    by_tag = {t.tag: t for t in result.performance_by_tag}
    assert list(by_tag) == ["centro", "vip"]  # "ghost" reached nobody
    vip = by_tag["vip"]  # A1, A2, F1
    assert (vip.recipients, vip.sent, vip.delivered, vip.read, vip.clicks, vip.conversions) == (
        3,
        3,
        3,
        2,
        2,
        2,
    )
    assert (vip.delivery_rate, vip.open_rate, vip.click_through_rate, vip.conversion_rate) == (
        100.0,
        66.67,
        66.67,
        66.67,
    )
    centro = by_tag["centro"]  # A1, A2, B1, B2
    assert (centro.recipients, centro.sent, centro.delivered, centro.read) == (4, 4, 3, 1)
    assert (centro.clicks, centro.conversions) == (1, 2)
    assert (centro.delivery_rate, centro.open_rate, centro.conversion_rate) == (75.0, 33.33, 66.67)


def test_attribution_window_is_configurable(deps: Container, weekly: Cnpj) -> None:
    # One day: E1's last-minute sale (day 7) and A1's (day 2) drop out; A2's sale came 26 h
    # after its send, so it drops out too. E1's first sale, an hour after the send, stays.
    result = analytics(deps, weekly, attribution_window_days=1)

    assert result.metrics.conversions == 1
    assert result.revenue.attributed_revenue == 20.0


# -- overlapping windows of a recurrent campaign ------------------------------------------------


def test_a_sale_in_two_occurrences_windows_counts_once(deps: Container, new_cnpj: Cnpj) -> None:
    cnpj = new_tenant(deps, new_cnpj)
    h = History()
    h.journey("A1", "c1", P1, SEND_1, "SENT", "DELIVERED")
    h.journey("A2", "c1", P2, SEND_2, "SENT", "DELIVERED")
    h.journey("B1", "c2", P1, SEND_1, "SENT", "DELIVERED")
    h.journey("B2", "c2", P2, SEND_2, "SENT", "DELIVERED")
    insert(
        deps,
        cnpj,
        history=h.rows,
        clientes=[customer("c1"), customer("c2")],
        vendas=[
            sale("cpf-c1", local(11, 4, 12), 40.0),  # A1's window only
            sale("cpf-c1", local(11, 10, 12), 60.0),  # both windows: the later message, A2
            sale("cpf-c1", local(11, 18, 12), 70.0),  # A2's window only
            sale("cpf-c1", local(11, 20, 12), 80.0),  # after both windows
            sale("cpf-c2", local(11, 11, 12), 5.0),  # both windows: B2; B1 converts nothing
        ],
    )

    # Ten days: [2 Nov 10:00, 12 Nov 10:00) overlaps [9 Nov 10:00, 19 Nov 10:00).
    result = analytics(deps, cnpj, attribution_window_days=10)

    first, second = result.occurrences
    assert (first.metrics.conversions, first.revenue.attributed_revenue) == (1, 40.0)
    assert (second.metrics.conversions, second.revenue.attributed_revenue) == (2, 135.0)
    assert result.metrics.conversions == 3
    assert result.revenue.attributed_revenue == 175.0  # 40 + 60 + 70 + 5: each sale once


# -- A/B test ----------------------------------------------------------------------------------


def test_ab_results_measure_the_test_group_only(deps: Container, new_cnpj: Cnpj) -> None:
    cnpj = new_tenant(deps, new_cnpj)
    h = History()
    a = {"abGroup": "test", "variant": "A"}
    b = {"abGroup": "test", "variant": "B"}
    h.journey("A1", "a1", P1, SEND_1, "SENT", "DELIVERED", data=a)  # converts
    h.journey("A2", "a2", P1, SEND_1, "SENT", "DELIVERED", data=a)  # clicks
    h.journey("A3", "a3", P1, SEND_1, "SENT", "DELIVERED", "READ", data=a)
    h.journey("B1", "b1", P1, SEND_1, "SENT", "DELIVERED", data=b)  # converts
    h.journey("B2", "b2", P1, SEND_1, "SENT", "DELIVERED", data=b)  # converts
    h.journey("B3", "b3", P1, SEND_1, "SENT", "FAILED", data=b)  # not delivered
    # The rollout group got the winner's template; it would flatter B if it were counted.
    rollout = {"abGroup": "rollout", "variant": "B"}
    h.journey("R1", "r1", P1, SEND_2, "SENT", "DELIVERED", data=rollout)
    buyers = ["a1", "b1", "b2", "r1"]
    insert(
        deps,
        cnpj,
        history=[*h.rows, click("m1", "wamid.A2", SEND_1 + timedelta(hours=1))],
        clientes=[customer(c) for c in ("a1", "a2", "a3", "b1", "b2", "b3", "r1")],
        vendas=[sale(f"cpf-{c}", SEND_2 + timedelta(days=1), 10.0) for c in buyers[3:]]
        + [sale(f"cpf-{c}", SEND_1 + timedelta(days=1), 10.0) for c in buyers[:3]],
    )
    config = ABTestConfig.model_validate(
        {
            "test_percentage": 20,
            "variants": [
                {"name": "A", "percentage": 50, "template_id": "t-a"},
                {"name": "B", "percentage": 50, "template_id": "t-b"},
            ],
            "metric_to_optimize": "conversion_rate",
            "minimum_sample_size": 2,
        }
    )

    result = analytics(deps, cnpj, ab_test_config=config).ab_test_results

    assert result is not None
    variant_a, variant_b = result.variants_performance["A"], result.variants_performance["B"]
    assert (variant_a.sent, variant_a.delivered, variant_a.read) == (3, 3, 2)
    assert (variant_a.clicks, variant_a.conversions, variant_a.sample_size) == (1, 1, 3)
    assert (variant_a.conversion_rate, variant_a.click_through_rate) == (33.33, 33.33)
    assert (variant_b.sent, variant_b.delivered, variant_b.conversions) == (3, 2, 2)
    assert (variant_b.sample_size, variant_b.delivery_rate) == (2, 66.67)
    assert (variant_b.conversion_rate, variant_b.click_through_rate) == (100.0, 0.0)
    # 1/3 vs 2/2 converted: chi-square 2.22 on 1 degree of freedom, p = 0.136 > 0.05.
    assert result.test_status == "completed" and result.decision == "no_winner"
    assert result.winning_variant is None and result.rollout_variant == "A"  # the fallback
    assert result.metric == "conversion_rate"
    assert result.p_value == pytest.approx(0.136, abs=0.001)
    assert result.confidence_level == pytest.approx(86.4, abs=0.1)

    collecting = config.model_copy(update={"minimum_sample_size": 3})
    running = analytics(deps, cnpj, ab_test_config=collecting).ab_test_results

    assert running is not None and running.test_status == "running"
    assert running.decision == "collecting" and running.winning_variant is None


# -- vouchers ----------------------------------------------------------------------------------


def test_vouchers_issued_sent_and_redeemed(deps: Container, new_cnpj: Cnpj) -> None:
    cnpj = new_tenant(deps, new_cnpj)
    h = History()
    h.journey("A1", "c1", P1, SEND_1, "SENT", "DELIVERED", voucher="LAVOAB12CD34")
    h.journey("B1", "c2", P1, SEND_1, "SENT", "DELIVERED", voucher="LAVOEF56GH78")
    h.journey("C1", "c3", P1, SEND_1, "SKIPPED", voucher="LAVOJK90MN12")  # never sent
    h.journey("A2", "c1", P2, SEND_2, "SENT", voucher="LAVOPQ34RS56")
    insert(
        deps,
        cnpj,
        history=h.rows,
        clientes=[customer("c1"), customer("c2"), customer("c3")],
        vendas=[
            sale("cpf-c1", local(11, 3, 12), 30.0, cupom="lavo-ab12-cd34"),  # typed by hand
            sale("cpf-c1", local(11, 4, 12), 31.0, cupom="LAVOAB12CD34"),  # second use
            sale("cpf-c2", local(11, 3, 12), 32.0, status="CANCELLED", cupom="LAVOEF56GH78"),
        ],
    )
    voucher = VoucherConfig(kind="percentage", value=10, validity_days=30)

    result = analytics(deps, cnpj, voucher=voucher)

    assert result.vouchers is not None
    assert result.vouchers.model_dump() == {
        "issued": 4,
        "sent": 3,
        "redeemed": 1,
        "redemption_rate": 33.33,
        "revenue": 30.0,
    }
    first, second = result.occurrences
    assert first.vouchers is not None and second.vouchers is not None
    assert (first.vouchers.issued, first.vouchers.sent, first.vouchers.redeemed) == (3, 2, 1)
    assert (second.vouchers.issued, second.vouchers.sent, second.vouchers.redeemed) == (1, 1, 0)


# -- edges ---------------------------------------------------------------------------------------


def test_a_campaign_without_history_reports_zeros(deps: Container, new_cnpj: Cnpj) -> None:
    cnpj = new_tenant(deps, new_cnpj)

    result = analytics(deps, cnpj)

    assert counts(result.metrics) == (0, 0, 0, 0, 0, 0)
    assert result.metrics.delivery_rate == 0.0 and result.metrics.roi is None
    assert result.revenue.cost_per_conversion is None
    assert len(result.engagement_by_hour) == 24 and len(result.engagement_by_weekday) == 7
    assert result.occurrences == [] and result.performance_by_tag == []


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"attribution_window_days": 0}, "attribution_window_days"),
        ({"attribution_window_days": 91}, "attribution_window_days"),
        ({"cost_per_message": -0.01}, "cost_per_message"),
        ({"period": ""}, "period"),
        ({"campaign_id": ""}, "campaign_id"),
    ],
)
def test_bad_requests_name_the_field(
    deps: Container, new_cnpj: Cnpj, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(FieldError) as error:
        analytics(deps, new_cnpj, **fields)
    assert error.value.field == field
