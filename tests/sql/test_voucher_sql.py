"""sql/analytics/voucher_redemptions.sql on bqemulator, against rows worked out by hand.

Each code's history rows and sales decide one rule (the comment beside them says which). All
instants are São Paulo wall-clock times (UTC-3) converted to UTC when stored, so a window that
were computed on UTC dates instead of local ones would count a sale it must not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.ports import QueryValue
from shared.services.tenants import register_tenant
from shared.sqlfiles import render

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CAMPAIGN = "c-black-friday"
NOVEMBER, DECEMBER = "2026-11", "2026-12"

Row = dict[str, Any]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO)


def stamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def history(
    code: str,
    period: str,
    at: datetime,
    statuses: Sequence[str] = ("QUEUED", "SENT", "DELIVERED"),
    campaign_id: str = CAMPAIGN,
) -> list[Row]:
    """One row per status, a minute apart, as delivery appends them (plus a retried append)."""
    target = f"{code.lower()}_{period}"
    rows = [
        {
            "event_id": f"users/x/campaigns/{campaign_id}/targets/{target}#{version}",
            "user_id": f"customer-{code}",
            "campaign_type": "CUSTOM",
            "campaign_id": campaign_id,
            "target_id": target,
            "sent_at": stamp(at.replace(minute=at.minute + version)),
            "status": status,
            "phone": "+5511987654321",
            "period": period,
            "voucher_code": code,
        }
        for version, status in enumerate(statuses)
    ]
    return [*rows, rows[0]]  # a retried append repeats its event


def sale(cupom: str | None, at: datetime, valor: float = 30.0, status: str = "COMPLETED") -> Row:
    return {
        "data": stamp(at),
        "cpfCliente": "cpf-1",
        "valor": valor,
        "status": status,
        "tipoPagamento": "PIX",
        "cupom": cupom,
    }


def load(deps: Container, cnpj: Cnpj, messages: Sequence[Row], vendas: Sequence[Row]) -> None:
    register_tenant(
        cnpj, name="x", timezone=None, tenants=deps.tenants, warehouse=deps.warehouse, queues=None
    )
    project = deps.settings.google_cloud_project
    for table, rows in (
        (f"{cnpj.campaign_dataset}.message_history", messages),
        (f"{cnpj.raw_dataset}.vendas", vendas),
    ):
        errors = deps.bigquery_client.insert_rows_json(f"{project}.{table}", list(rows))
        assert errors == [], errors


def redemptions(
    deps: Container, cnpj: Cnpj, validity_days: int = 30, campaign_id: str = CAMPAIGN
) -> dict[str | None, tuple[int, int, int, float]]:
    """(vouchers_issued, vouchers_sent, redemptions, revenue) by period; None: the campaign."""
    sql = render("analytics/voucher_redemptions.sql", cnpj)
    params: dict[str, QueryValue] = {
        "campaign_id": campaign_id,
        "validity_days": validity_days,
        "timezone": "America/Sao_Paulo",
    }
    rows = [dict(row) for row in deps.warehouse.query(sql, params)]
    result = {
        row["period"]: (
            row["vouchers_issued"],
            row["vouchers_sent"],
            row["redemptions"],
            row["revenue"],
        )
        for row in rows
    }
    assert len(result) == len(rows), rows
    return result


QUEUED_NOV = local(2026, 11, 20, 8, 30)
# 22:30 local on 1 Dec is 01:30Z on 2 Dec: the local date starts the validity.
QUEUED_DEC = local(2026, 12, 1, 22, 30)


@pytest.fixture
def campaign(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    load(
        deps,
        new_cnpj,
        messages=[
            *history("AAAA0001", NOVEMBER, QUEUED_NOV),
            *history("LAVO7K3M9QX0", NOVEMBER, QUEUED_NOV),
            *history("AAAA0003", NOVEMBER, QUEUED_NOV),
            *history("AAAA0004", NOVEMBER, QUEUED_NOV, ("QUEUED", "SENT", "DELIVERED", "READ")),
            *history("AAAA0005", NOVEMBER, QUEUED_NOV, ("QUEUED", "SENT")),
            *history("AAAA0006", NOVEMBER, QUEUED_NOV, ("SKIPPED",)),
            *history("AAAA0007", DECEMBER, QUEUED_DEC),
            *history("AAAA0008", DECEMBER, QUEUED_DEC),
            *history("BBBB0001", NOVEMBER, QUEUED_NOV, campaign_id="c-other"),
        ],
        vendas=[
            # 0001 in: used twice; only the first sale counts.
            sale("AAAA0001", local(2026, 11, 25, 10), valor=40.0),
            sale("AAAA0001", local(2026, 11, 26, 10), valor=99.0),
            # 7K3M in: typed by a cashier (lower case, blanks, hyphen, O for 0) at 23:59 on the
            # last valid day (20 Nov + 30 days = 20 Dec, local).
            sale("lavo 7k3m-9qxo", local(2026, 12, 20, 23, 59), valor=25.5),
            # 0003 out: at the local midnight that ends its validity.
            sale("AAAA0003", local(2026, 12, 21, 0, 0), valor=70.0),
            # 0004 in: a CANCELLED sale is no redemption; the COMPLETED one after it is.
            sale("AAAA0004", local(2026, 11, 22, 10), valor=80.0, status="CANCELLED"),
            sale("AAAA0004", local(2026, 11, 23, 10), valor=30.0),
            # 0005 out: before its first history row (nobody could know it yet).
            sale("AAAA0005", local(2026, 11, 20, 8, 0), valor=60.0),
            # 0007 out: 00:30 local on 1 Jan is past 31 Dec, its last valid day (on UTC dates
            # the window would run through 1 Jan).
            sale("AAAA0007", local(2027, 1, 1, 0, 30), valor=45.0),
            # 0008 in: 23:00 local on 31 Dec (already 1 Jan in UTC).
            sale("AAAA0008", local(2026, 12, 31, 23, 0), valor=50.0),
            # another campaign's code, and coupons that are no code at all.
            sale("BBBB0001", local(2026, 11, 25, 10), valor=11.0),
            sale("NATAL10", local(2026, 11, 25, 10), valor=12.0),
            sale("X1", local(2026, 11, 25, 10), valor=13.0),
            sale(None, local(2026, 11, 25, 10), valor=14.0),
        ],
    )
    return new_cnpj


def test_redemptions_per_period_and_campaign(deps: Container, campaign: Cnpj) -> None:
    assert redemptions(deps, campaign) == {
        NOVEMBER: (6, 5, 3, 95.5),  # 0001 (40.0), 7K3M (25.5), 0004 (30.0); 0006 never sent
        DECEMBER: (2, 2, 1, 50.0),  # 0008
        None: (8, 7, 4, 145.5),
    }


def test_a_shorter_validity_ends_a_day_earlier(deps: Container, campaign: Cnpj) -> None:
    # 29 days: 7K3M's sale on 20 Dec is a day late; 0008's on 31 Dec too.
    assert redemptions(deps, campaign, validity_days=29) == {
        NOVEMBER: (6, 5, 2, 70.0),
        DECEMBER: (2, 2, 0, 0.0),
        None: (8, 7, 2, 70.0),
    }


def test_another_campaign_sees_only_its_own_codes(deps: Container, campaign: Cnpj) -> None:
    assert redemptions(deps, campaign, campaign_id="c-other") == {
        NOVEMBER: (1, 1, 1, 11.0),
        None: (1, 1, 1, 11.0),
    }


def test_a_campaign_without_vouchers_has_an_empty_total(deps: Container, campaign: Cnpj) -> None:
    assert redemptions(deps, campaign, campaign_id="c-none") == {None: (0, 0, 0, 0.0)}
