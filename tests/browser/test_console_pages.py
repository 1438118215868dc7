"""The console in a real browser (Debian's Chromium through Playwright) on the local stack.

Each test signs in with a one-time link of its own tenant; pages are checked as a person on a
375 px phone would meet them (no sideways scrolling), and by axe-core for serious problems.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from shared.api.auth import Role
from shared.domain.cnpj import Cnpj
from tests.browser.conftest import (
    axe_violations,
    fast_campaign,
    horizontal_overflow,
    keep_screenshot,
    sign_in,
)
from tests.integration.api_fixtures import ApiClient


def test_every_page_fits_a_phone_and_has_no_serious_accessibility_problem(
    phone: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj = sample_tenant(customers=30)
    campaign_id = fast_campaign(api_as, cnpj, "Promoção de verão com um nome bem comprido")
    sign_in(phone, console_url, cnpj)
    pages = {
        "inicio": "/",
        "campanhas": "/campanhas",
        "campanha": f"/campanhas/{campaign_id}",
        "confirmar": f"/campanhas/{campaign_id}/confirmar?acao=start",
        "importar": "/contatos/importar",
    }
    problems: dict[str, Any] = {}
    for name, path in pages.items():
        phone.goto(console_url + path)
        expect(phone.locator('[hx-trigger^="load"]')).to_have_count(0)  # loaded after the page
        overflow = horizontal_overflow(phone)
        violations = axe_violations(phone)
        if overflow > 0 or violations:
            problems[name] = {"overflow_px": overflow, "axe": [v["id"] for v in violations]}
        if name in ("confirmar", "importar"):  # the others: test_home_and_campaigns.py
            keep_screenshot(phone, name)
    phone.context.clear_cookies()
    phone.goto(console_url + "/login")
    login_problems = axe_violations(phone)
    assert problems == {} and login_problems == []


def test_a_started_campaign_updates_by_itself_until_all_is_delivered(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj = sample_tenant(customers=12)
    campaign_id = fast_campaign(api_as, cnpj, "Teste ao vivo")
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/campanhas/{campaign_id}")
    page.get_by_role("link", name="Iniciar").click()
    page.get_by_role("button", name="Confirmar: Iniciar").click()
    expect(page.get_by_text("Enviando")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")  # lost on any reload

    recipients = page.locator('[data-figure="recipients"]')
    delivered = page.locator('[data-figure="delivered"]')
    expect(recipients).not_to_have_text("0", timeout=60_000)
    page.wait_for_function(
        """() => {
            const read = (name) => document.querySelector(`[data-figure="${name}"]`)?.textContent;
            const everyone = read("recipients");
            return everyone !== undefined && everyone !== "0" && read("delivered") === everyone;
        }""",
        timeout=240_000,
    )
    assert page.evaluate("window.stillTheSamePage") is True
    assert int(delivered.inner_text().replace(".", "")) >= 1


def test_pause_and_resume_with_a_confirmation_that_says_what_happens(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj = sample_tenant(customers=5)
    campaign_id = fast_campaign(api_as, cnpj, "Pausar e retomar")
    assert api_as(cnpj).post(f"/api/v1/campaigns/{campaign_id}/start").status_code == 200
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/campanhas/{campaign_id}")
    page.get_by_role("link", name="Pausar").click()
    expect(page.get_by_text("Nenhuma nova mensagem sai até você retomar")).to_be_visible()
    page.get_by_role("button", name="Confirmar: Pausar").click()
    expect(page.locator(".badge")).to_have_text("Pausada")
    assert api_as(cnpj).get(f"/api/v1/campaigns/{campaign_id}").json()["status"] == "paused"
    page.get_by_role("link", name="Retomar").click()
    page.get_by_role("button", name="Confirmar: Retomar").click()
    expect(page.locator(".badge")).not_to_have_text("Pausada")
    assert api_as(cnpj).get(f"/api/v1/campaigns/{campaign_id}").json()["status"] != "paused"


def test_an_uploaded_csv_shows_its_bad_row_by_line(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], tmp_path: Path
) -> None:
    cnpj = sample_tenant(customers=5)
    upload = tmp_path / "clientes.csv"
    upload.write_text("name,phone\nAna,+55 61 99222-1234\nBeto,12345\n<b>Caio</b>,11987654321\n")
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/contatos/importar")
    page.get_by_label("Arquivo (.csv, .xlsx ou .json)").set_input_files(str(upload))
    page.get_by_role("button", name="Importar").click()
    expect(page.get_by_role("heading", name="Resultado da importação")).to_be_visible()
    expect(page.locator('[data-figure="created"]')).to_have_text("2")
    row = page.locator("tr.rejection")
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_have_text("3")
    expect(row).to_contain_text("celular inválido")


def test_a_viewer_sees_no_write_control_and_the_english_switch_works(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj = sample_tenant(customers=5)
    campaign_id = fast_campaign(api_as, cnpj, "Somente leitura")
    sign_in(page, console_url, cnpj, Role.VIEWER)
    page.goto(f"{console_url}/campanhas/{campaign_id}")
    expect(page.get_by_role("link", name="Iniciar")).to_have_count(0)
    page.goto(f"{console_url}/contatos/importar")
    expect(page.get_by_role("button", name="Importar")).to_have_count(0)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
