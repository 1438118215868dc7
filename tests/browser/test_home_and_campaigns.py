"""Início and Campanhas in a real browser, after a real tick of a fresh sample tenant.

The tick goes through the stack's own plumbing (Pub/Sub -> fanout -> process_tenant in the
functions host), exactly as Cloud Scheduler's would. The sample (20 customers, seed 5) holds
phones the reactivation campaign must skip, and its reactivation runs on any day of the month,
so today's run always has skips to explain. Numbers on the pages are compared with what the
REST API answers for the same tenant.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from playwright.sync_api import Page, expect

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.cli.tick import publish_tick, wait_for_runs
from shared.console import labels
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.domain.tenant import DeliverySettings
from shared.ports import Change
from tests.browser.conftest import (
    axe_violations,
    fast_campaign,
    horizontal_overflow,
    keep_screenshot,
    sign_in,
)
from tests.campaign_records import edit_built_in
from tests.integration.api_fixtures import ApiClient

Client = Callable[..., ApiClient]
SampleTenant = Callable[..., Cnpj]
MASKED = re.compile(r"^\+\d{4}\*+\d{2}$")
PAUSE_REASON = "WhatsApp error 131048: spam rate limit hit"
STILL_LOADING = '[hx-trigger^="load"]'
"""Parts a page loads after it is shown; each replaces itself when it comes."""


def loaded(page: Page) -> None:
    """Wait until every part loaded after the page has come, and none failed."""
    expect(page.locator(STILL_LOADING)).to_have_count(0, timeout=30_000)
    expect(page.get_by_text("Não foi possível carregar agora.")).to_have_count(0)


def ticked_tenant(deps: Container, sample_tenant: SampleTenant, **fields: Any) -> Cnpj:
    """A fresh sample tenant after one tick of now, its run finished."""
    cnpj = sample_tenant(customers=20, seed=5, as_of=date.today(), **fields)
    edit_built_in(deps.campaigns, cnpj, "REACTIVATION", thresholds={"min_day_of_month": 1})
    tick = publish_tick(deps, datetime.now(UTC), cnpj.value, force=True)
    runs = wait_for_runs(deps, tick, timeout=120)
    assert runs[cnpj.value]["status"] == "FINISHED", runs
    return cnpj


def settled(api: ApiClient, done: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """``GET /api/v1/dashboard`` once ``done`` holds for it (messages reach BigQuery's log a
    moment after they are planned)."""
    deadline = time.monotonic() + 60
    board: dict[str, Any] = api.get("/api/v1/dashboard").json()
    while not done(board):
        assert time.monotonic() < deadline, board
        time.sleep(0.5)
        board = api.get("/api/v1/dashboard").json()
    return board


def _planned(messages: dict[str, int]) -> int:
    return messages["waiting"] + messages["expired"]


def test_home_shows_todays_run_in_words_the_chart_and_a_paused_campaign(
    page: Page,
    console_url: str,
    deps: Container,
    sample_tenant: SampleTenant,
    api_as: Client,
) -> None:
    # Deliveries paused: the messages wait, so the page's counts and the API's stay equal.
    cnpj = ticked_tenant(deps, sample_tenant, delivery=DeliverySettings(paused=True))
    deps.campaigns.pause(cnpj, "LOYALTY", PAUSE_REASON)  # as a 131048 send does
    [run] = api_as(cnpj).get("/api/v1/runs").json()["items"]
    outcome = {c["campaign_id"]: c for c in run["campaigns"]}["REACTIVATION"]
    assert outcome["status"] == "done" and outcome["skipped"], outcome
    created = sum(c["created"] for c in run["campaigns"])
    # every target planned (or expired: a birthday found after its window closed)
    today = settled(api_as(cnpj), lambda board: _planned(board["messages"]) == created)

    sign_in(page, console_url, cnpj, Role.VIEWER)
    card = page.locator('[data-campaign="REACTIVATION"]')
    expect(card.locator('[data-figure="candidates"]')).to_have_text(str(outcome["candidates"]))
    expect(card.locator('[data-figure="created"]')).to_have_text(str(outcome["created"]))
    expect(card.locator('[data-figure="skipped"]')).to_have_text(
        str(sum(outcome["skipped"].values()))
    )
    for reason, count in outcome["skipped"].items():
        line = card.locator(f'[data-reason="{reason}"]')
        expect(line).to_contain_text(labels.SKIP_REASON[reason])
        expect(line).to_contain_text(str(count))
    expect(card.locator(".run-status")).to_contain_text("rodou")
    expect(card.locator(".next-run time")).to_have_count(1)

    alert = page.locator('[data-alert="campaign_paused"]')
    expect(alert).to_contain_text("Fidelidade")
    expect(alert).to_contain_text("foi pausada pelo WhatsApp")
    expect(alert).to_contain_text(labels.SEND_ERROR["131048"])

    charts = page.locator("svg.chart-wide")
    expect(charts).to_have_count(2)
    expect(page.get_by_role("img", name="Mensagens enviadas por dia")).to_be_visible()
    expect(page.get_by_role("img", name="Receita atribuída por dia")).to_be_visible()
    daily = api_as(cnpj).get("/api/v1/analytics/daily?days=30").json()
    expect(page.locator('[data-figure="period-sent"]')).to_have_text(str(daily["sent"]))
    waiting = str(today["messages"]["waiting"])
    expect(page.locator('[data-figure="today-waiting"]')).to_have_text(waiting)
    for entry in today["campaigns"]:  # each card's line, swapped into its own card
        line = page.locator(f'[data-campaign="{entry["campaign_id"]}"] .today-messages')
        expect(line).to_contain_text(f"{entry['messages']['waiting']} aguardando")
    loaded(page)

    page.goto(f"{console_url}/campanhas")
    ids = page.locator("tr[data-campaign]").evaluate_all(
        "rows => rows.map(r => r.dataset.campaign)"
    )
    progress = api_as(cnpj).get(
        "/api/v1/analytics/progress", params=[("campaign_id", i) for i in ids]
    )
    for item in progress.json()["items"]:
        bar = page.locator(f'tr[data-campaign="{item["campaign_id"]}"] progress')
        expect(bar).to_have_attribute("value", str(item["sent"]))  # swapped into its own row
    expect(
        page.locator('tr[data-campaign="REACTIVATION"] [data-figure="progress"]')
    ).to_be_visible()


def test_a_campaign_page_lists_its_recipients_and_filters_them_by_status(
    page: Page,
    console_url: str,
    deps: Container,
    sample_tenant: SampleTenant,
    api_as: Client,
) -> None:
    # Deliveries paused: every message waits, planned (QUEUED), except the one failed below.
    cnpj = ticked_tenant(deps, sample_tenant, delivery=DeliverySettings(paused=True))
    [failed, *_] = sorted(t["id"] for t in deps.targets.list(cnpj, "REACTIVATION"))
    change = Change(Status.FAILED, error_code=131026, error_reason="Message undeliverable")
    ref = TargetRef(cnpj, "REACTIVATION", failed)
    assert deps.delivery_store.transition(ref, frozenset(Status), None, change, datetime.now(UTC))
    api = api_as(cnpj).get("/api/v1/campaigns/REACTIVATION/recipients?page_size=25").json()

    sign_in(page, console_url, cnpj, Role.VIEWER)
    page.goto(f"{console_url}/campanhas/REACTIVATION")
    rows = page.locator("#destinatarios tr.recipient")
    expect(rows).to_have_count(len(api["items"]))
    phones = page.locator("#destinatarios td.phone").all_inner_texts()
    assert phones == [item["phone"] for item in api["items"]]
    assert all(MASKED.fullmatch(phone) for phone in phones)
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("Situação da mensagem").select_option("FAILED")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("falhou")
    expect(rows.first).to_contain_text(labels.SEND_ERROR["131026"])
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in by htmx, no reload

    page.get_by_label("Situação da mensagem").select_option("QUEUED")
    page.get_by_role("button", name="Filtrar").click()
    expect(rows.first).to_contain_text("agendada")
    assert set(
        page.locator("#destinatarios tr.recipient").evaluate_all(
            "rows => rows.map(row => row.dataset.status)"
        )
    ) == {"QUEUED"}


def test_home_the_list_and_a_campaign_fit_a_phone_without_serious_axe_problems(
    phone: Page,
    console_url: str,
    deps: Container,
    sample_tenant: SampleTenant,
    api_as: Client,
) -> None:
    cnpj = ticked_tenant(deps, sample_tenant)
    deps.campaigns.pause(cnpj, "LOYALTY", PAUSE_REASON)
    campaign_id = fast_campaign(api_as, cnpj, "Promoção de verão com um nome bem comprido")
    assert api_as(cnpj).post(f"/api/v1/campaigns/{campaign_id}/start").status_code == 200
    sign_in(phone, console_url, cnpj, Role.EDITOR)
    pages = {
        "home-today": "/",
        "campaigns-list": "/campanhas",
        "campaign-reactivation": "/campanhas/REACTIVATION",
        "campaign-sending": f"/campanhas/{campaign_id}",
    }
    problems: dict[str, Any] = {}
    for name, path in pages.items():
        phone.goto(console_url + path)
        expect(phone.locator("main h1")).to_be_visible()
        loaded(phone)
        overflow = horizontal_overflow(phone)
        violations = axe_violations(phone)
        if overflow > 0 or violations:
            problems[name] = {
                "overflow_px": overflow,
                "axe": [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations],
            }
        keep_screenshot(phone, name)
    assert problems == {}
