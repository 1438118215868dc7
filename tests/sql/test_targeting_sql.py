"""The four targeting queries on bqemulator, against small fixtures worked out by hand.

Each test registers a tenant of its own, inserts a handful of rows in which every rule edge is
decided by one row (the comment beside each row says why it is in or out), renders the real
SQL file and runs it with the parameters the real processor computes for the tick's instant.

All instants are written in São Paulo local time (UTC-3, no DST since 2019) and converted to
UTC before they are stored, so rows on either side of a local midnight have the same UTC date
and only local-calendar logic can tell them apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.bootstrap import Container
from shared.campaigns import (
    BirthdayProcessor,
    CampaignProcessor,
    LoyaltyProcessor,
    ReactivationProcessor,
    RunContext,
    WelcomeProcessor,
)
from shared.domain.calendar import local_date
from shared.domain.cnpj import Cnpj
from shared.domain.tenant import Tenant
from shared.services.tenants import register_tenant
from tests.campaign_records import edit_built_in

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TICK = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
"""08:30 local on Friday 20 Nov 2026: the tick most tests run at."""

Row = dict[str, Any]


# -- building rows ----------------------------------------------------------------------------


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A São Paulo wall-clock time as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=SAO_PAULO)


def stamp(instant: datetime) -> str:
    """A BigQuery TIMESTAMP literal in UTC."""
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def customer(
    customer_id: str,
    *,
    cpf: str = "",
    born: date | None = None,
    signed_up: datetime | None = None,
) -> Row:
    """A clientes row; the default ``cpf`` differs from the id, so joins must use the right key."""
    return {
        "id": customer_id,
        "nome": f"Cliente {customer_id}",
        "dataNascimento": f"{born.isoformat()} 00:00:00 UTC" if born else None,
        "cpf": cpf or f"cpf-{customer_id}",
        "telefone": "11987654321",
        "email": f"{customer_id}@example.com",
        "genero": "F",
        "dataCadastro": stamp(signed_up) if signed_up else None,
        "primeiraCompra": None,
    }


def sale(cpf: str, at: datetime, valor: float = 30.0, status: str = "COMPLETED") -> Row:
    return {
        "data": stamp(at),
        "cpfCliente": cpf,
        "valor": valor,
        "status": status,
        "tipoPagamento": "PIX",
        "cupom": None,
    }


def message(user_id: str, campaign_type: str, sent_at: datetime) -> Row:
    return {
        "user_id": user_id,
        "campaign_type": campaign_type,
        "sent_at": stamp(sent_at),
        "status": "SENT",
        "message_content": "Olá!",
        "phone": "+5511987654321",
    }


# -- running a query --------------------------------------------------------------------------


def new_tenant(deps: Container, cnpj: Cnpj, **thresholds: dict[str, Any]) -> Tenant:
    """A registered tenant whose built-in campaigns have these thresholds (by kind)."""
    tenant = register_tenant(
        cnpj,
        name="x",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,
        campaigns=deps.campaigns,
        now=deps.clock(),
    )
    for kind, values in thresholds.items():
        edit_built_in(deps.campaigns, cnpj, kind, thresholds=values)
    return tenant


def insert(
    deps: Container,
    tenant: Tenant,
    *,
    clientes: Sequence[Row] = (),
    vendas: Sequence[Row] = (),
    history: Sequence[Row] = (),
) -> None:
    project = deps.settings.google_cloud_project
    cnpj = tenant.id
    for dataset, table, rows in (
        (cnpj.raw_dataset, "clientes", clientes),
        (cnpj.raw_dataset, "vendas", vendas),
        (cnpj.campaign_dataset, "message_history", history),
    ):
        if rows:
            errors = deps.bigquery_client.insert_rows_json(
                f"{project}.{dataset}.{table}", list(rows)
            )
            assert errors == [], errors


def targeted(
    deps: Container,
    processor_type: type[CampaignProcessor[Any]],
    tenant: Tenant,
    instant: datetime,
) -> dict[str, Mapping[str, Any]]:
    """The query's rows by customer id, with exactly the parameters the processor would send."""
    processor = processor_type(deps.warehouse, deps.targets)
    ctx = RunContext(
        tenant=tenant,
        zone=SAO_PAULO,
        instant=instant,
        today=local_date(instant, SAO_PAULO),
        run_id="t",
    )
    settings = processor.settings(deps.campaigns.get(tenant.id, processor.kind))
    period = processor.period(ctx, settings)
    sql, params = processor.targeting_query(ctx, settings, period)
    rows: list[Mapping[str, Any]] = [dict(row) for row in deps.warehouse.query(sql, params)]
    by_id = {str(row["customer_id"]): row for row in rows}
    assert len(by_id) == len(rows), f"a customer appears twice: {rows}"
    return by_id


# -- BIRTHDAY ---------------------------------------------------------------------------------


def test_birthday_is_today_local_date_and_once_per_calendar_year(
    deps: Container, new_cnpj: Cnpj
) -> None:
    tenant = new_tenant(deps, new_cnpj)
    insert(
        deps,
        tenant,
        clientes=[
            customer("today", born=date(1990, 11, 20)),  # in: 20 Nov is today locally
            customer("tomorrow", born=date(1990, 11, 21)),  # out: tomorrow
            customer("yesterday", born=date(1990, 11, 19)),  # out: yesterday
            customer("reached-2026", born=date(1985, 11, 20)),  # out: message below
            customer("reached-2025", born=date(1985, 11, 20)),  # in: message below
            customer("other-campaign", born=date(1992, 11, 20)),  # in: message below
        ],
        history=[
            # 00:00 local on 1 Jan 2026: the first instant of this year's period.
            message("reached-2026", "BIRTHDAY", local(2026, 1, 1, 0, 0)),
            # 23:59 local on 31 Dec 2025 is already 2026 in UTC, yet still last year here.
            message("reached-2025", "BIRTHDAY", local(2025, 12, 31, 23, 59)),
            # Reached this year, but by another campaign: does not block BIRTHDAY.
            message("other-campaign", "WELCOME", local(2026, 3, 1, 10, 0)),
        ],
    )

    rows = targeted(deps, BirthdayProcessor, tenant, TICK)

    assert set(rows) == {"today", "reached-2025", "other-campaign"}
    assert rows["today"]["birth_date"] == date(1990, 11, 20)
    assert rows["today"]["name"] == "Cliente today"
    assert rows["today"]["phone"] == "11987654321"


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # 2027 is a common year: 29 Feb birthdays are celebrated on 28 Feb, with 28 Feb ones.
        pytest.param(
            datetime(2027, 2, 28, 12, 0, tzinfo=UTC), {"feb-29", "feb-28"}, id="2027-02-28"
        ),
        # 2028 is a leap year: on 28 Feb only 28 Feb birthdays ...
        pytest.param(datetime(2028, 2, 28, 12, 0, tzinfo=UTC), {"feb-28"}, id="2028-02-28"),
        # ... and 29 Feb birthdays on their own day.
        pytest.param(datetime(2028, 2, 29, 12, 0, tzinfo=UTC), {"feb-29"}, id="2028-02-29"),
        # 1 Mar is nobody's substitute day, in a common year either.
        pytest.param(datetime(2027, 3, 1, 12, 0, tzinfo=UTC), {"mar-01"}, id="2027-03-01"),
    ],
)
def test_birthday_on_29_february(
    deps: Container, new_cnpj: Cnpj, instant: datetime, expected: set[str]
) -> None:
    tenant = new_tenant(deps, new_cnpj)
    insert(
        deps,
        tenant,
        clientes=[
            customer("feb-29", born=date(2000, 2, 29)),
            customer("feb-28", born=date(2001, 2, 28)),
            customer("mar-01", born=date(2001, 3, 1)),
        ],
    )

    rows = targeted(deps, BirthdayProcessor, tenant, instant)

    assert set(rows) == expected
    if "feb-29" in expected:
        assert rows["feb-29"]["birth_date"] == date(2000, 2, 29)


# -- WELCOME ----------------------------------------------------------------------------------


def test_welcome_targets_yesterdays_local_signups_never_welcomed(
    deps: Container, new_cnpj: Cnpj
) -> None:
    afternoon = local(2026, 11, 19, 15, 0)  # 18:00Z
    late_evening = local(2026, 11, 19, 22, 30)  # 2026-11-20T01:30Z: UTC date is already today
    midnight = local(2026, 11, 19, 0, 0)  # 03:00Z: first instant of yesterday
    after_midnight = local(2026, 11, 19, 0, 10)  # 03:10Z
    tenant = new_tenant(deps, new_cnpj)
    insert(
        deps,
        tenant,
        clientes=[
            customer("afternoon", signed_up=afternoon),  # in
            customer("late-evening", signed_up=late_evening),  # in: local date is the 19th
            customer("midnight", signed_up=midnight),  # in: the day's start is inclusive
            customer("after-midnight", signed_up=after_midnight),  # in
            # out: 2026-11-19T02:59Z — UTC date is the 19th, the local date the 18th.
            customer("day-before", signed_up=local(2026, 11, 18, 23, 59)),
            # out: today's local midnight (2026-11-20T03:00Z) is where yesterday ends.
            customer("today", signed_up=local(2026, 11, 20, 0, 0)),
            # out: signed up yesterday but welcomed years ago (once ever).
            customer("welcomed", signed_up=local(2026, 11, 19, 12, 0)),
            # in: signed up yesterday; only a message of another campaign.
            customer("other-campaign", signed_up=local(2026, 11, 19, 12, 0)),
            customer("no-signup-date"),  # out: NULL dataCadastro
        ],
        history=[
            message("welcomed", "WELCOME", local(2019, 5, 1, 10, 0)),
            message("other-campaign", "BIRTHDAY", local(2026, 11, 19, 13, 0)),
        ],
    )

    rows = targeted(deps, WelcomeProcessor, tenant, TICK)

    assert set(rows) == {
        "afternoon",
        "late-evening",
        "midnight",
        "after-midnight",
        "other-campaign",
    }
    assert rows["afternoon"]["signed_up_at"] == afternoon
    assert rows["late-evening"]["signed_up_at"] == late_evening
    assert rows["midnight"]["signed_up_at"] == midnight


# -- REACTIVATION -----------------------------------------------------------------------------


def test_reactivation_targets_last_completed_sale_before_local_cutoff(
    deps: Container, new_cnpj: Cnpj
) -> None:
    # On 20 Nov with 30 inactive days the cut-off is 21 Oct 00:00 local (2026-10-21T03:00Z).
    old = local(2026, 9, 1, 10, 0)
    recent = local(2026, 11, 10, 10, 0)
    lapsed_at = local(2026, 10, 20, 23, 0)  # 2026-10-21T02:00Z: UTC date is the 21st
    tenant = new_tenant(deps, new_cnpj)
    ids = [
        "lapsed",
        "just-active",
        "cancelled-recent",
        "completed-recent",
        "never-completed",
        "reached-this-month",
        "reached-last-month",
        "other-campaign",
        "sale-after-tick",
        "lost",
        "oldest-in-window",
    ]
    insert(
        deps,
        tenant,
        clientes=[customer(customer_id) for customer_id in ids],
        vendas=[
            # in: last completed sale on 20 Oct local, before the cut-off.
            sale("cpf-lapsed", old),
            sale("cpf-lapsed", lapsed_at),
            # out: 2026-10-21 00:30 local is after the cut-off.
            sale("cpf-just-active", local(2026, 10, 21, 0, 30)),
            # in: the recent sale was CANCELLED; only COMPLETED sales count.
            sale("cpf-cancelled-recent", old),
            sale("cpf-cancelled-recent", recent, status="CANCELLED"),
            # out: a recent COMPLETED sale.
            sale("cpf-completed-recent", old),
            sale("cpf-completed-recent", recent),
            # out: never completed a sale, so nobody to win back.
            sale("cpf-never-completed", old, status="CANCELLED"),
            sale("cpf-never-completed", old, status="PENDING"),
            # lapsed; decided by message_history below.
            sale("cpf-reached-this-month", old),
            sale("cpf-reached-last-month", old),
            sale("cpf-other-campaign", old),
            # in: the sale at the tick's instant is outside [.., as_of): a replay ignores it.
            sale("cpf-sale-after-tick", old),
            sale("cpf-sale-after-tick", TICK),
            # out: the last sale is older than the look-back (30 + 365 days: 21 Oct 2025 00:00
            # local): a lost customer, and the partitions it lies in are never read.
            sale("cpf-lost", local(2025, 10, 20, 23, 59)),
            # in: the first instant of the look-back window.
            sale("cpf-oldest-in-window", local(2025, 10, 21, 0, 0)),
        ],
        history=[
            # out: 1 Nov 00:00 local, the first instant of this month's period.
            message("reached-this-month", "REACTIVATION", local(2026, 11, 1, 0, 0)),
            # in: 31 Oct 23:59 local (1 Nov in UTC) belongs to last month.
            message("reached-last-month", "REACTIVATION", local(2026, 10, 31, 23, 59)),
            # in: another campaign this month does not block REACTIVATION.
            message("other-campaign", "LOYALTY", local(2026, 11, 5, 10, 0)),
        ],
    )

    rows = targeted(deps, ReactivationProcessor, tenant, TICK)

    assert set(rows) == {
        "lapsed",
        "cancelled-recent",
        "reached-last-month",
        "other-campaign",
        "sale-after-tick",
        "oldest-in-window",
    }
    assert rows["lapsed"]["last_purchase_at"] == lapsed_at
    assert rows["cancelled-recent"]["last_purchase_at"] == old
    assert rows["sale-after-tick"]["last_purchase_at"] == old
    assert list(rows) == [  # the most recently lapsed first: they get the scarce slots
        "lapsed",
        "cancelled-recent",
        "other-campaign",
        "reached-last-month",
        "sale-after-tick",
        "oldest-in-window",
    ]


# -- LOYALTY ----------------------------------------------------------------------------------

VISIT_VALUES = (15.9, 22.5, 18.75, 30.0, 12.35, 25.1, 19.99, 14.01, 27.3, 16.6)


def visits(cpf: str, count: int, *, status: str = "COMPLETED") -> list[Row]:
    """``count`` (at most 12) sales of ``cpf`` well inside the window: Sep-Oct, 10:00 local."""
    assert count <= 12
    return [
        sale(cpf, local(2026, 9 + index // 6, 1 + 5 * (index % 6), 10, 0), valor, status)
        for index, valor in zip(range(count), VISIT_VALUES * 2, strict=False)
    ]


def test_loyalty_counts_completed_visits_in_local_window(deps: Container, new_cnpj: Cnpj) -> None:
    # On 20 Nov with 3 months the window starts 20 Aug 00:00 local (2026-08-20T03:00Z); the
    # rolling dedup period blocks LOYALTY messages from 21 Aug 00:00 local on.
    tenant = new_tenant(deps, new_cnpj, LOYALTY={"min_visits": 10, "window_months": 3})
    ids = [
        "ten",
        "nine-plus-cancelled",
        "one-before-window",
        "one-at-window-start",
        "nine-plus-after-tick",
        "reached-recently",
        "reached-on-the-first-day",
        "reached-long-ago",
    ]
    insert(
        deps,
        tenant,
        clientes=[customer(customer_id) for customer_id in ids],
        vendas=[
            # in: exactly min_visits completed visits.
            *visits("cpf-ten", 10),
            # out: 9 completed; cancelled visits do not count.
            *visits("cpf-nine-plus-cancelled", 9),
            *visits("cpf-nine-plus-cancelled", 3, status="CANCELLED"),
            # out: the 10th is 19 Aug 23:00 local (UTC date 20 Aug), before the window.
            *visits("cpf-one-before-window", 9),
            sale("cpf-one-before-window", local(2026, 8, 19, 23, 0)),
            # in: the 10th is 20 Aug 00:30 local, inside the window.
            *visits("cpf-one-at-window-start", 9),
            sale("cpf-one-at-window-start", local(2026, 8, 20, 0, 30), valor=40.0),
            # out: the 10th is at the tick's instant, outside [.., as_of).
            *visits("cpf-nine-plus-after-tick", 9),
            sale("cpf-nine-plus-after-tick", TICK),
            # 10 visits each; decided by message_history below.
            *visits("cpf-reached-recently", 10),
            *visits("cpf-reached-on-the-first-day", 10),
            *visits("cpf-reached-long-ago", 10),
        ],
        history=[
            # out: reached 21 Aug 00:00 local, within the rolling three months.
            message("reached-recently", "LOYALTY", local(2026, 8, 21, 0, 0)),
            # out too: reached 20 Aug 23:59 local, the window's first day (inclusive, like the
            # visits'), though 21 Aug in UTC.
            message("reached-on-the-first-day", "LOYALTY", local(2026, 8, 20, 23, 59)),
            # in: reached 19 Aug 23:59 local (20 Aug in UTC): before the window.
            message("reached-long-ago", "LOYALTY", local(2026, 8, 19, 23, 59)),
        ],
    )

    rows = targeted(deps, LoyaltyProcessor, tenant, TICK)

    assert set(rows) == {"ten", "one-at-window-start", "reached-long-ago"}
    assert rows["ten"]["visit_count"] == 10
    assert rows["ten"]["total_spent"] == round(sum(VISIT_VALUES), 2) == 202.5
    assert rows["one-at-window-start"]["visit_count"] == 10
    assert rows["one-at-window-start"]["total_spent"] == round(sum(VISIT_VALUES[:9]) + 40.0, 2)


def test_loyalty_reached_months_ago_is_eligible_again(deps: Container, new_cnpj: Cnpj) -> None:
    tenant = new_tenant(deps, new_cnpj, LOYALTY={"min_visits": 10})
    insert(
        deps,
        tenant,
        clientes=[customer("two-months"), customer("four-months")],
        vendas=[*visits("cpf-two-months", 11), *visits("cpf-four-months", 11)],
        history=[
            message("two-months", "LOYALTY", local(2026, 9, 20, 10, 0)),  # out
            message("four-months", "LOYALTY", local(2026, 7, 20, 10, 0)),  # in
        ],
    )

    rows = targeted(deps, LoyaltyProcessor, tenant, TICK)

    assert set(rows) == {"four-months"}
    assert rows["four-months"]["visit_count"] == 11  # at least min_visits, not exactly
