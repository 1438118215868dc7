"""Automáticas, Configurações and Auditoria in a real browser, on the local stack.

What a person does on these pages is checked where it lands: a run hour changed on Automáticas
is the hour the next tick honours, a refused setting is refused beside its field with nothing
saved, a viewer has nothing to press and a forced write changes nothing, and the audit trail
shows an admin (only an admin) the changes just made, escaped and with phones masked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from shared.api.audit import record_write
from shared.api.auth import Principal, Role
from shared.bootstrap import Container
from shared.console.pages.settings import HINTS
from shared.domain.cnpj import Cnpj
from shared.domain.runs import CampaignOutcome, OutcomeStatus
from shared.domain.sending_number import NumberLimits
from shared.messages import TenantJob
from shared.services.process_tenant import process_tenant
from tests.browser.conftest import axe_violations, horizontal_overflow, keep_screenshot, sign_in
from tests.integration.api_fixtures import ApiClient

ApiAs = Callable[..., ApiClient]
DAY = "2026-11-20"  # the sample data's day; São Paulo is UTC-3


def _tick(deps: Container, cnpj: Cnpj, local_time: str) -> dict[str, CampaignOutcome]:
    """Run the tenant's job as the hourly tick would, at ``local_time`` in São Paulo."""
    instant = datetime.fromisoformat(f"{DAY}T{local_time}:00-03:00")
    job = TenantJob(cnpj=cnpj.value, instant=instant, tick_id=f"tick-{local_time}")
    return {o.campaign_id: o for o in process_tenant(job, deps.tenant_ports())}


def _post_form(page: Page, url: str, fields: dict[str, str]) -> int:
    """POST ``fields`` with this session's own valid CSRF token, as a tampered page would."""
    status: int = page.evaluate(
        """async ([url, fields]) => {
            const token = document.querySelector('input[name="csrf_token"]').value;
            const body = new URLSearchParams({...fields, csrf_token: token});
            return (await fetch(url, {method: "POST", body, redirect: "manual"})).status;
        }""",
        [url, fields],
    )
    return status


def test_a_run_hour_changed_on_automaticas_is_the_one_the_next_tick_honours(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], deps: Container
) -> None:
    cnpj = sample_tenant(customers=10)
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/automaticas")
    birthday = page.locator("#BIRTHDAY")
    expect(birthday).to_contain_text("no dia do aniversário do cliente, uma vez por ano")
    expect(birthday).to_contain_text("08:00")
    birthday.get_by_role("link", name="Alterar Aniversário").click()
    page.get_by_label("Hora em que roda").select_option("15")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_role("status")).to_contain_text("Alterações salvas")
    expect(page.locator("#BIRTHDAY")).to_contain_text("15:00")

    before = _tick(deps, cnpj, "14:30")
    assert before["BIRTHDAY"].status is OutcomeStatus.NOT_DUE
    assert before["BIRTHDAY"].detail == "runs at 15:00 local"
    assert before["WELCOME"].status is OutcomeStatus.DONE  # still at its 08:00
    after = _tick(deps, cnpj, "15:10")
    assert after["BIRTHDAY"].status is OutcomeStatus.DONE


def test_a_viewer_has_nothing_to_press_and_a_forced_post_changes_nothing(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: ApiAs
) -> None:
    cnpj = sample_tenant(customers=5)
    settings = api_as(cnpj).get("/api/v1/settings").json()
    birthday = api_as(cnpj).get("/api/v1/campaigns/BIRTHDAY").json()
    sign_in(page, console_url, cnpj, Role.VIEWER)
    for path in ("/automaticas", "/automaticas/BIRTHDAY", "/configuracoes"):
        page.goto(console_url + path)
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("main form")).to_have_count(0)
        expect(page.locator("main").get_by_role("link", name="Alterar")).to_have_count(0)
    expect(page.get_by_text("Só administradores alteram estas configurações.")).to_be_visible()
    expect(page.locator("main dl")).to_contain_text("o padrão desta instalação")

    assert _post_form(page, f"{console_url}/configuracoes", {"messages_per_day": "5"}) == 403
    forced = {"enabled": "", "recurrence.hour": "3", "send_window.start": "00:00"}
    assert _post_form(page, f"{console_url}/automaticas/BIRTHDAY", forced) == 403
    assert api_as(cnpj).get("/api/v1/settings").json() == settings
    assert api_as(cnpj).get("/api/v1/campaigns/BIRTHDAY").json() == birthday
    for not_built_in in ("SEGMENT", "BIRTHDAYS"):
        answer = page.goto(f"{console_url}/automaticas/{not_built_in}")
        assert answer is not None and answer.status == 404

    sign_in(page, console_url, cnpj, Role.EDITOR)  # editors run campaigns, not the settings
    assert _post_form(page, f"{console_url}/configuracoes", {"messages_per_day": "5"}) == 403
    assert api_as(cnpj).get("/api/v1/settings").json() == settings


def test_one_bad_value_is_refused_beside_its_field_and_nothing_is_saved(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: ApiAs,
    deps: Container,
) -> None:
    cnpj = sample_tenant(customers=5)
    settings = api_as(cnpj).get("/api/v1/settings").json()
    sign_in(page, console_url, cnpj, Role.ADMIN)
    page.goto(f"{console_url}/configuracoes")
    expect(page.get_by_text("limite diário do seu número de WhatsApp")).to_be_visible()
    page.get_by_label("Limite diário de mensagens").fill("1000")
    page.get_by_label("Mensagens por minuto").fill("0")
    page.get_by_role("button", name="Salvar").click()
    per_minute = page.get_by_label("Mensagens por minuto")
    expect(per_minute).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#messages_per_minute-erro")).to_have_text("Deve ser no mínimo 1.")
    expect(per_minute).to_have_attribute(
        "aria-describedby", "messages_per_minute-ajuda messages_per_minute-erro"
    )
    expect(page.get_by_label("Limite diário de mensagens")).to_have_value("1000")
    expect(page.locator(".field-error")).to_have_count(1)
    assert api_as(cnpj).get("/api/v1/settings").json() == settings

    # On a number whose daily messaging limit is 500, 501 a day is refused there, in Portuguese.
    number = f"4{cnpj.value}"
    deps.number_shares.set_limits(number, NumberLimits(daily_limit=500))
    assert (
        api_as(cnpj).patch("/api/v1/settings", json={"phone_number_id": number}).status_code == 200
    )
    page.goto(f"{console_url}/configuracoes")
    page.get_by_label("Limite diário de mensagens").fill("501")
    page.get_by_role("button", name="Salvar").click()
    expect(page.locator("#messages_per_day-erro")).to_have_text(HINTS["messages_per_day"])
    assert api_as(cnpj).get("/api/v1/settings").json()["messages_per_day"] == 250

    reactivation = api_as(cnpj).get("/api/v1/campaigns/REACTIVATION").json()
    page.goto(f"{console_url}/automaticas/REACTIVATION")
    offered = page.locator("#modelos-aprovados option")  # the tenant's approved templates
    expect(offered.and_(page.locator('[value="sentimos_sua_falta"]'))).to_have_count(1)
    page.get_by_label("Hora em que roda").select_option("6")
    page.get_by_label("A partir do dia do mês").fill("31")
    page.get_by_role("button", name="Salvar").click()
    day_error = page.locator("#thresholds\\.min_day_of_month-erro")
    expect(day_error).to_have_text("Deve ser no máximo 28.")
    expect(page.get_by_label("Hora em que roda")).to_have_value("6")  # kept, not saved
    page.get_by_label("A partir do dia do mês").fill("25")
    page.get_by_label("Termina às").fill("07:00")
    page.get_by_role("button", name="Salvar").click()
    expect(page.locator("#send_window-erro")).to_have_text(
        "O fim da janela deve ser depois do início."
    )
    expect(day_error).to_have_count(0)
    assert api_as(cnpj).get("/api/v1/campaigns/REACTIVATION").json() == reactivation


def test_an_admin_sees_the_changes_just_made_in_the_audit_trail_and_others_do_not(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: ApiAs,
    deps: Container,
) -> None:
    cnpj = sample_tenant(customers=5)
    sign_in(page, console_url, cnpj, Role.ADMIN)
    page.goto(f"{console_url}/configuracoes")
    page.get_by_label("Limite de frequência (horas)").fill("48")
    page.get_by_role("button", name="Salvar").click()
    expect(page.get_by_role("status")).to_contain_text("Configurações salvas")
    page.goto(f"{console_url}/automaticas/WELCOME")
    page.get_by_label("Ativa: roda todos os dias").uncheck()
    page.get_by_role("button", name="Salvar").click()
    expect(page.locator("#WELCOME")).to_contain_text("Desativada")
    hostile = "<b>negrito</b><script>alert(1)</script>"
    api_as(cnpj, Role.EDITOR).patch("/api/v1/campaigns/LOYALTY", json={"description": hostile})
    someone = Principal(cnpj=cnpj, subject="import-bot", role=Role.EDITOR)
    phone = "+5511987654321"
    record_write(deps, someone, "contacts.tags", f"contacts/{phone}", None, {"phone": phone})

    page.goto(f"{console_url}/auditoria")
    entries = page.locator(".audit-list > li")
    expect(entries).to_have_count(4)
    settings_entry = entries.filter(has_text="Configurações alteradas")
    expect(settings_entry.get_by_role("row", name="frequency_cap_hours 24 48")).to_be_visible()
    welcome_entry = entries.filter(has_text="campaigns/WELCOME")
    expect(welcome_entry.get_by_role("row", name="status running paused")).to_be_visible()
    expect(entries.filter(has_text="campaigns/LOYALTY")).to_contain_text(hostile)
    expect(page.locator("main b, main script")).to_have_count(0)
    assert "987654" not in page.content()
    expect(entries.filter(has_text="import-bot")).to_contain_text("+5511*******21")

    page.get_by_label("Item alterado").fill("settings")
    page.get_by_role("button", name="Filtrar").click()
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Configurações alteradas")
    today = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
    days = {"since": today - timedelta(days=1), "until": today + timedelta(days=1)}
    page.goto(f"{console_url}/auditoria?subject=import-bot&{urlencode(days)}")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("import-bot")
    page.goto(f"{console_url}/auditoria?until={today - timedelta(days=2)}")
    expect(entries).to_have_count(0)

    for role in (Role.EDITOR, Role.VIEWER):
        sign_in(page, console_url, cnpj, role)
        expect(page.get_by_role("link", name="Auditoria")).to_have_count(0)
        answer = page.goto(f"{console_url}/auditoria")
        assert answer is not None and answer.status == 403
        expect(page.get_by_text("só para administradores")).to_be_visible()
        expect(page.get_by_text("Configurações alteradas")).to_have_count(0)


def test_each_page_fits_a_phone_and_has_no_serious_accessibility_problem(
    phone: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: ApiAs
) -> None:
    cnpj = sample_tenant(customers=5)
    api_as(cnpj).patch("/api/v1/settings", json={"messages_per_day": 1000})
    api_as(cnpj).patch("/api/v1/campaigns/LOYALTY", json={"description": "x" * 300})
    pages = {
        "automaticas": "/automaticas",
        "automatica": "/automaticas/REACTIVATION",
        "configuracoes": "/configuracoes",
        "auditoria": "/auditoria",
    }
    problems: dict[str, Any] = {}

    def check(name: str) -> None:
        overflow, violations = horizontal_overflow(phone), axe_violations(phone)
        if overflow > 0 or violations:
            problems[name] = {"overflow_px": overflow, "axe": [v["id"] for v in violations]}

    for role in (Role.ADMIN, Role.VIEWER):
        sign_in(phone, console_url, cnpj, role)
        for name, path in pages.items():
            phone.goto(console_url + path)
            check(f"{name} ({role.value})")
            if role is Role.ADMIN:
                keep_screenshot(phone, name)
        if role is Role.ADMIN:  # a form showing its errors
            phone.goto(f"{console_url}/automaticas/REACTIVATION")
            phone.get_by_label("Dias sem voltar").fill("0")
            phone.get_by_role("button", name="Salvar").click()
            expect(phone.locator(".field-error")).to_have_count(1)
            check("automatica com erro")
    assert problems == {}
