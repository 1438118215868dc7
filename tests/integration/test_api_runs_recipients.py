"""Runs, recipients, today's dashboard and the daily figures, through the real functions host.

Runs come from real tenant jobs (``process_tenant`` on the emulators). Recipients are the
targets those jobs created, on a tenant whose deliveries are paused so that nothing moves while
the test pages through them, except the few it settles itself. The daily and today figures are
checked against history and sales rows inserted by hand, with the expected numbers worked out
below each fixture (times are the tenant's local days, relative to today).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.domain.errors import PermanentError
from shared.domain.tenant import DeliverySettings
from shared.messages import TenantJob
from shared.ports import Change
from shared.services.process_tenant import process_tenant
from shared.services.tenants import register_tenant
from tests.fakes import FlakyWarehouse
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

Client = Callable[..., ApiClient]
SampleTenant = Callable[..., Cnpj]
MORNING = datetime.fromisoformat("2026-11-20T11:30:00+00:00")  # 08:30 in São Paulo
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MASKED = re.compile(r"^\+\d{4}\*+\d{2}$")


def _job(cnpj: Cnpj, tick: str, instant: datetime = MORNING, force: bool = False) -> TenantJob:
    return TenantJob(cnpj=cnpj.value, instant=instant, tick_id=tick, force=force)


# -- runs ---------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_with_each_campaigns_outcome(
    deps: Container, sample_tenant: SampleTenant, api_as: Client
) -> None:
    cnpj = sample_tenant(customers=120)
    first = {o.campaign_id: o for o in process_tenant(_job(cnpj, "t1"), deps.tenant_ports())}
    process_tenant(_job(cnpj, "t2", MORNING + timedelta(hours=1)), deps.tenant_ports())
    client = api_as(cnpj, Role.VIEWER)

    answer = client.get("/api/v1/runs")
    assert answer.status_code == 200, answer.text
    runs = answer.json()["items"]
    assert [run["id"] for run in runs] == ["t2", "t1"]
    assert runs[1]["status"] == "FINISHED" and runs[1]["local_date"] == "2026-11-20"
    reported = {c["campaign_id"]: c for c in runs[1]["campaigns"]}
    assert set(reported) == set(first)
    for kind, outcome in first.items():
        assert reported[kind]["status"] == outcome.status.value == "done"
        assert reported[kind]["candidates"] == outcome.candidates
        assert reported[kind]["created"] == outcome.created
        assert reported[kind]["skipped"] == dict(outcome.skipped)
    assert sum(sum(c["skipped"].values()) for c in reported.values()) > 0, "skips are reported"
    assert {c["status"] for c in runs[0]["campaigns"]} == {"already_done"}

    page = client.get("/api/v1/runs", params={"page_size": 1}).json()
    assert [run["id"] for run in page["items"]] == ["t2"]
    rest = client.get(
        "/api/v1/runs", params={"page_size": 1, "page_token": page["next_page_token"]}
    )
    assert [run["id"] for run in rest.json()["items"]] == ["t1"]
    assert rest.json()["next_page_token"] is None

    assert len(client.get("/api/v1/runs?local_date=2026-11-20").json()["items"]) == 2
    assert client.get("/api/v1/runs?local_date=2026-11-21").json()["items"] == []
    assert api_as(sample_tenant(customers=5)).get("/api/v1/runs").json()["items"] == []


@pytest.mark.parametrize(
    "token",
    ["not-base64!", base64.urlsafe_b64encode(b"recipients1:t1").decode(), "cnVuczE6bm9wZQ=="],
)
def test_a_page_token_that_is_not_this_listings_is_a_422(
    sample_tenant: SampleTenant, api_as: Client, token: str
) -> None:
    answer = api_as(sample_tenant(customers=5)).get("/api/v1/runs", params={"page_token": token})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "page_token"


def test_the_campaign_list_still_reads_after_a_tick_marked_the_built_ins_done(
    deps: Container, sample_tenant: SampleTenant, api_as: Client
) -> None:
    # The daily marker lives in the built-in campaign's own document.
    cnpj = sample_tenant(customers=30)
    client = api_as(cnpj)
    assert client.get("/api/v1/campaigns").status_code == 200  # stores the built-ins
    process_tenant(_job(cnpj, "t1"), deps.tenant_ports())
    listed = client.get("/api/v1/campaigns", params={"page_size": 100})
    assert listed.status_code == 200, listed.text
    assert {"BIRTHDAY", "LOYALTY"} <= {c["id"] for c in listed.json()["items"]}
    edited = client.patch("/api/v1/campaigns/LOYALTY", json={"description": "x"})
    assert edited.status_code in (200, 409), edited.text
    assert deps.runs.marker(cnpj, "LOYALTY") is not None, "an edit keeps the marker"


# -- recipients ---------------------------------------------------------------------------


@pytest.fixture
def held(deps: Container, sample_tenant: SampleTenant) -> Cnpj:
    """A tenant whose deliveries are paused (targets wait QUEUED), after a morning's run."""
    cnpj = sample_tenant(customers=120, delivery=DeliverySettings(paused=True))
    process_tenant(_job(cnpj, "t1"), deps.tenant_ports())
    return cnpj


def test_recipients_page_through_every_target_with_masked_phones(
    deps: Container, held: Cnpj, api_as: Client
) -> None:
    expected = {t["id"]: t for t in deps.targets.list(held, "LOYALTY")}
    assert len(expected) > 5
    client = api_as(held, Role.VIEWER)
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, Any] = {"page_size": 4}
        if token is not None:
            params["page_token"] = token
        answer = client.get("/api/v1/campaigns/LOYALTY/recipients", params=params)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        for item in page["items"]:
            target = expected[item["target_id"]]
            assert item["name"] == target["name"]
            assert MASKED.fullmatch(item["phone"]) and item["phone"] != target["phone"]
            assert item["phone"][-2:] == target["phone"][-2:]
            assert target["phone"] not in answer.text
        seen += [item["target_id"] for item in page["items"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == sorted(expected)


def test_recipients_filter_by_status_with_the_failure_reason(
    deps: Container, held: Cnpj, api_as: Client
) -> None:
    ids = sorted(t["id"] for t in deps.targets.list(held, "LOYALTY"))
    failed = ids[:2]
    now = datetime.now(UTC)
    for target_id in failed:
        change = Change(Status.FAILED, error_code=131026, error_reason="Message undeliverable")
        ref = TargetRef(held, "LOYALTY", target_id)
        assert deps.delivery_store.transition(ref, frozenset(Status), None, change, now)
    client = api_as(held)

    answer = client.get("/api/v1/campaigns/LOYALTY/recipients", params={"status": "FAILED"})
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [i["target_id"] for i in items] == failed
    assert {(i["status"], i["error_code"], i["error_reason"]) for i in items} == {
        ("FAILED", 131026, "Message undeliverable")
    }
    others = client.get("/api/v1/campaigns/LOYALTY/recipients?status=QUEUED&page_size=200")
    assert not set(failed) & {i["target_id"] for i in others.json()["items"]}
    assert client.get("/api/v1/campaigns/LOYALTY/recipients?status=sent").status_code == 422


def test_another_tenants_campaign_has_no_recipients_here(
    deps: Container, held: Cnpj, sample_tenant: SampleTenant, api_as: Client
) -> None:
    body = {
        "name": "Minha",
        "segmentation": {"include_all": True},
        "templates": [{"name": "Oi", "content": "Oi"}],
    }
    mine = api_as(held).post("/api/v1/campaigns", json=body).json()["id"]
    stranger = api_as(sample_tenant(customers=5))
    assert stranger.get(f"/api/v1/campaigns/{mine}/recipients").status_code == 404
    assert stranger.get(f"/api/v1/analytics/daily?campaign_id={mine}").status_code == 404
    assert api_as(held).get(f"/api/v1/campaigns/{mine}/recipients").json()["items"] == []


# -- today and the daily figures --------------------------------------------------------------

CAMPAIGN = "SEG_0123456789ABCDEF"
Row = dict[str, Any]


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


class _History:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self._versions: dict[tuple[str, str], int] = {}

    def change(self, campaign: str, target: str, user: str, status: str, at: datetime) -> None:
        version = self._versions.get((campaign, target), 0) + 1
        self._versions[(campaign, target)] = version
        self.rows.append(
            {
                "event_id": f"users/x/campaigns/{campaign}/targets/{target}#{version}",
                "user_id": user,
                "campaign_type": campaign,
                "campaign_id": campaign,
                "target_id": target,
                "sent_at": _stamp(at),
                "status": status,
                "phone": "+5511900000000",
                "wamid": f"wamid.{campaign}.{target}" if status != "QUEUED" else "",
                "period": "p",
            }
        )

    def journey(self, campaign: str, target: str, user: str, at: datetime, *statuses: str) -> None:
        for offset, status in enumerate(("QUEUED", *statuses)):
            self.change(campaign, target, user, status, at + timedelta(minutes=offset))


@pytest.fixture
def figures(deps: Container, new_cnpj: Cnpj) -> tuple[Cnpj, date]:
    """History and sales around today (São Paulo); the expected figures are in each test."""
    register_tenant(
        new_cnpj,
        name="Números",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,
    )
    today = datetime.now(SAO_PAULO).date()

    def at(days_ago: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today - timedelta(days=days_ago), time(hour, minute), SAO_PAULO)

    history = _History()
    # Campaign A: a1 sent and delivered yesterday; a2 five days ago; a3 sent today, never
    # delivered; a4 planned today and waiting; a5 planned three days ago, still waiting; a6
    # failed today; a8 expired today (no slot before its send-by); a7 sent 40 days ago (out of
    # every range).
    history.journey(CAMPAIGN, "a1", "c1", at(1, 10), "SENT", "DELIVERED")
    history.journey(CAMPAIGN, "a2", "c2", at(5, 10), "SENT", "DELIVERED")
    history.journey(CAMPAIGN, "a3", "c3", at(0, 0, 5), "SENT")
    history.journey(CAMPAIGN, "a4", "c4", at(0, 0, 1))
    history.journey(CAMPAIGN, "a5", "c5", at(3, 9))
    history.journey(CAMPAIGN, "a6", "c6", at(0, 0, 1), "FAILED")
    history.journey(CAMPAIGN, "a8", "c8", at(0, 0, 1), "EXPIRED")
    history.journey(CAMPAIGN, "a7", "c7", at(40, 10), "SENT", "DELIVERED", "READ")
    # BIRTHDAY: b1 to c1 sent, delivered and read today: the latest message before c1's sale.
    history.journey("BIRTHDAY", "b1", "c1", at(0, 0, 2), "SENT", "DELIVERED", "READ")
    rows = [*history.rows, dict(history.rows[0])]  # a retried append: same event id
    customers = [{"id": f"c{n}", "nome": f"Cliente {n}", "cpf": f"cpf{n}"} for n in range(1, 8)]
    sales = [
        {"data": _stamp(at(0, 0, 10)), "cpfCliente": "cpf1", "valor": 50.0, "status": "COMPLETED"},
        {"data": _stamp(at(4, 12)), "cpfCliente": "cpf2", "valor": 30.0, "status": "COMPLETED"},
        {"data": _stamp(at(3, 12)), "cpfCliente": "cpf2", "valor": 99.0, "status": "CANCELLED"},
        {"data": _stamp(at(0, 0, 20)), "cpfCliente": "cpf3", "valor": 70.0, "status": "COMPLETED"},
        {"data": _stamp(at(39, 12)), "cpfCliente": "cpf7", "valor": 80.0, "status": "COMPLETED"},
    ]
    project = deps.settings.google_cloud_project
    for table, values in (
        (f"{new_cnpj.campaign_dataset}.message_history", rows),
        (f"{new_cnpj.raw_dataset}.clientes", customers),
        (f"{new_cnpj.raw_dataset}.vendas", sales),
    ):
        assert deps.bigquery_client.insert_rows_json(f"{project}.{table}", values) == []
    return new_cnpj, today


def test_daily_figures_count_first_sends_and_attribute_each_sale_once(
    figures: tuple[Cnpj, date], api_as: Client
) -> None:
    cnpj, today = figures
    client = api_as(cnpj, Role.VIEWER)
    answer = client.get("/api/v1/analytics/daily", params={"days": 30})
    assert answer.status_code == 200, answer.text
    series = answer.json()
    assert series["timezone"] == "America/Sao_Paulo" and series["attribution_window_days"] == 7
    days = {d["day"]: (d["sent"], d["revenue"]) for d in series["days"]}
    assert len(series["days"]) == 30 and series["days"][-1]["day"] == today.isoformat()
    ago = {n: (today - timedelta(days=n)).isoformat() for n in range(30)}
    # Today: a3 and b1 sent; c1's 50 goes to b1 (its latest message), c3's 70 to nothing
    # (a3 was never delivered). Yesterday a1; five days ago a2; c2's 30 four days ago.
    assert days[ago[0]] == (2, 50.0)
    assert days[ago[1]] == (1, 0.0)
    assert days[ago[4]] == (0, 30.0)
    assert days[ago[5]] == (1, 0.0)
    assert (series["sent"], series["revenue"]) == (4, 80.0)
    assert sum(sent for sent, _ in days.values()) == 4

    one = client.get("/api/v1/analytics/daily", params={"days": 30, "campaign_id": CAMPAIGN})
    assert one.status_code == 404  # no such campaign in this tenant (history alone is not one)
    birthday = client.get("/api/v1/analytics/daily?days=7&campaign_id=BIRTHDAY").json()
    assert (birthday["sent"], birthday["revenue"]) == (1, 50.0)
    assert len(birthday["days"]) == 7
    assert client.get("/api/v1/analytics/daily?days=91").status_code == 422


def test_progress_counts_recipients_and_sent_per_campaign(
    figures: tuple[Cnpj, date], api_as: Client
) -> None:
    cnpj, _ = figures
    answer = api_as(cnpj).get(
        "/api/v1/analytics/progress",
        params=[("campaign_id", CAMPAIGN), ("campaign_id", "BIRTHDAY"), ("campaign_id", "WELCOME")],
    )
    assert answer.status_code == 200, answer.text
    # A: seven targets, of which a1, a2, a3 and a7 were sent.
    assert answer.json()["items"] == [
        {"campaign_id": CAMPAIGN, "recipients": 8, "sent": 4},
        {"campaign_id": "BIRTHDAY", "recipients": 1, "sent": 1},
        {"campaign_id": "WELCOME", "recipients": 0, "sent": 0},
    ]
    bad = api_as(cnpj).get("/api/v1/analytics/progress", params={"campaign_id": "x/y"})
    assert bad.status_code == 422


def test_the_dashboard_has_todays_messages_and_the_alerts(
    deps: Container, figures: tuple[Cnpj, date], api_as: Client
) -> None:
    cnpj, today = figures
    client = api_as(cnpj, Role.EDITOR)
    broken = FlakyWarehouse(deps.warehouse, "HAVING COUNT(*) >= @min_visits", PermanentError("x"))
    ports = replace(deps.tenant_ports(), warehouse=broken)
    process_tenant(_job(cnpj, "now", datetime.now(UTC), force=True), ports)
    deps.campaigns.pause(cnpj, "BIRTHDAY", "WhatsApp error 131048: spam rate limit hit")
    imported = client.post(
        "/api/v1/contacts/import",
        json={"data": [{"phone_number": "+5561992221234", "name": "Ana"}, {"phone_number": "1"}]},
    )
    assert imported.status_code == 200 and imported.json()["rejected"] == 1, imported.text

    answer = client.get("/api/v1/dashboard")
    assert answer.status_code == 200, answer.text
    board = answer.json()
    assert board["local_date"] == today.isoformat()
    # a3 and b1 sent today, b1 delivered and read; a6 failed; a8 expired; a4 and a5 wait.
    assert board["messages"] == {
        "sent": 2,
        "delivered": 1,
        "read": 1,
        "failed": 1,
        "expired": 1,
        "waiting": 2,
    }
    shown = {c["campaign_id"]: c for c in board["campaigns"]}
    assert shown["BIRTHDAY"]["messages"] == {
        "sent": 1,
        "delivered": 1,
        "read": 1,
        "failed": 0,
        "expired": 0,
        "waiting": 0,
    }
    assert shown["BIRTHDAY"]["status"] == "paused" and shown["BIRTHDAY"]["next_run_at"] is None
    assert shown["LOYALTY"]["run"]["status"] == "failed"
    assert shown["WELCOME"]["run"]["status"] == "done"
    assert datetime.fromisoformat(shown["WELCOME"]["next_run_at"]) > datetime.now(UTC)
    alerts = {(a["kind"], a["campaign_id"]): a for a in board["alerts"]}
    assert "spam rate limit" in alerts[("campaign_paused", "BIRTHDAY")]["detail"]
    assert ("run_failed", "LOYALTY") in alerts
    assert alerts[("import_rejected", None)]["rejected"] == 1
    assert len(board["alerts"]) == 3
