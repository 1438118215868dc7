"""Nova campanha in a real browser on the local stack: the live estimate, a campaign made and
started through the form until all is delivered, errors beside their fields, every step at 375 px.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from shared.api.auth import Role
from shared.domain.cnpj import Cnpj
from tests.browser.conftest import axe_violations, horizontal_overflow, keep_screenshot, sign_in
from tests.integration.api_fixtures import ApiClient

Client = Callable[..., ApiClient]


def _estimate(api_as: Client, cnpj: Cnpj, segmentation: dict[str, Any]) -> int:
    answer = api_as(cnpj).post("/api/v1/segments/estimate", json={"segmentation": segmentation})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["estimated_recipients"])


def _segment_campaigns(api_as: Client, cnpj: Cnpj) -> list[dict[str, Any]]:
    items = api_as(cnpj).get("/api/v1/campaigns", params={"page_size": 100}).json()["items"]
    return [item for item in items if item["kind"] == "SEGMENT"]


def test_the_estimate_follows_the_audience_and_equals_the_apis(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=25)
    imported = api_as(cnpj).post(
        "/api/v1/contacts/import",
        json={
            "source": "json",
            "data": [
                {"phone_number": "+5561999990001", "name": "Vera Lima"},
                {"phone_number": "+5561999990002", "name": "Vitor Reis"},
            ],
            "tags": ["vip"],
        },
    )
    assert imported.status_code == 200, imported.text
    everyone = _estimate(api_as, cnpj, {"include_all": True})
    regulars = {"field": "visit_count", "operator": "greater_or_equal", "value": "3"}
    frequent = _estimate(api_as, cnpj, {"include_all": True, "custom_filters": [regulars]})
    tagged = _estimate(api_as, cnpj, {"included_tags": ["VIP"]})
    assert len({everyone, frequent, tagged}) == 3  # each change must show a new number

    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.get_by_role("link", name="Nova campanha").click()
    estimate = page.locator('[data-figure="estimate"]')
    expect(estimate).to_have_text(str(everyone))

    page.get_by_label("Filtro 1: campo").select_option("visit_count")
    page.get_by_label("Comparação").select_option("greater_or_equal")
    page.get_by_label("Valor", exact=True).fill("3")
    expect(estimate).to_have_text(str(frequent))

    page.get_by_label("Filtro 1: campo").select_option(value="")
    page.get_by_label("Quem tem uma destas etiquetas ou está em um destes grupos").check()
    page.get_by_label("Etiquetas (separadas por vírgula)").fill("VIP")
    expect(estimate).to_have_text(str(tagged))
    sample = page.locator("#estimativa tbody tr")
    expect(sample).to_have_count(tagged)
    expect(sample.first).to_contain_text("+5561")
    expect(page.locator("#estimativa")).not_to_contain_text("+5561999990001")  # masked


def test_a_campaign_made_in_the_form_starts_and_is_all_delivered(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=12)
    everyone = _estimate(api_as, cnpj, {"include_all": True})
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/campanhas/nova")
    page.get_by_label("Nome da campanha").fill("Feita no console")
    page.get_by_role("button", name="Próximo: mensagem").click()
    page.wait_for_load_state()  # the step is a new page: its script must be listening first

    page.get_by_label("Modelo aprovado pelo WhatsApp").select_option("boas_vindas@pt_BR")
    expect(page.locator("#bolha-a .bubble-text")).to_contain_text("Seja bem-vindo(a)")
    page.get_by_role("button", name="Próximo: quando enviar").click()

    page.get_by_label("A qualquer hora").check()  # the sandbox delivers at once, day or night
    page.get_by_label("Mensagens por minuto").fill("4200")
    page.get_by_label("Mensagens por hora").fill("250000")
    page.get_by_label("Mensagens por dia").fill("1000000")
    page.get_by_role("button", name="Próximo: teste A/B").click()
    page.get_by_role("button", name="Próximo: revisão").click()
    expect(page.locator('[data-figure="review-recipients"]')).to_have_text(str(everyone))
    page.get_by_role("button", name="Iniciar", exact=True).click()

    expect(page).to_have_url(re.compile(r"/campanhas/SEG_[0-9A-Z]{16}$"))
    expect(page.get_by_role("heading", name="Feita no console")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    page.wait_for_function(
        """() => {
            const read = (name) => document.querySelector(`[data-figure="${name}"]`)?.textContent;
            return read("recipients") !== "0" && read("delivered") === read("recipients");
        }""",
        timeout=240_000,
    )
    assert page.evaluate("window.stillTheSamePage") is True
    (campaign,) = _segment_campaigns(api_as, cnpj)
    assert campaign["templates"][0]["whatsapp_template"]["name"] == "boas_vindas"
    assert campaign["throttle_config"]["respect_business_hours"] is False


def test_a_bad_field_shows_its_error_beside_it_and_creates_nothing(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=5)
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/campanhas/nova")
    page.get_by_label("Nome da campanha").fill("Com erro")
    page.get_by_label("Filtro 1: campo").select_option("visit_count")
    page.get_by_label("Comparação").select_option("greater_than")
    page.get_by_label("Valor", exact=True).fill("muitas")
    page.get_by_role("button", name="Próximo: mensagem").click()

    value = page.get_by_label("Valor", exact=True)
    expect(value).to_have_attribute("aria-invalid", "true")
    expect(value).to_have_attribute("aria-describedby", "filter-0-value-erro")
    expect(page.locator("#filter-0-value-erro")).to_have_text(
        "Digite um número (use ponto para decimais)."
    )
    expect(page.get_by_text("Corrija os campos marcados. Nada foi salvo.")).to_be_visible()
    assert _segment_campaigns(api_as, cnpj) == []


def test_every_step_fits_a_phone_and_has_no_serious_accessibility_problem(
    phone: Page, console_url: str, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=8)
    sign_in(phone, console_url, cnpj, Role.EDITOR)
    phone.goto(f"{console_url}/campanhas/nova")
    problems: dict[str, Any] = {}

    def look(name: str) -> None:
        overflow = horizontal_overflow(phone)
        violations = axe_violations(phone)
        if overflow > 0 or violations:
            problems[name] = {"overflow_px": overflow, "axe": [v["id"] for v in violations]}
        if name in ("publico", "mensagem", "revisao"):
            keep_screenshot(phone, f"nova_campanha_{name}")

    expect(phone.locator('[data-figure="estimate"]')).to_be_visible()
    look("publico")
    phone.get_by_role("button", name="Próximo: mensagem").click()
    expect(phone.locator("#name-erro")).to_be_visible()
    look("publico_com_erro")
    phone.get_by_label("Nome da campanha").fill("Fidelidade de dezembro")
    phone.get_by_role("button", name="Próximo: mensagem").click()
    phone.get_by_label("Modelo aprovado pelo WhatsApp").select_option("programa_fidelidade@pt_BR")
    phone.get_by_label("Valor de {{visit_count}} (o mesmo para todos)").fill("10")
    phone.get_by_label("Enviar um cupom a cada cliente (um código diferente para cada um)").check()
    expect(phone.locator("#bolha-a .bubble-text")).to_contain_text("10 visitas")
    look("mensagem")
    phone.get_by_role("button", name="Próximo: quando enviar").click()
    phone.get_by_label("Repetir", exact=True).check()
    look("quando")
    phone.get_by_role("button", name="Próximo: teste A/B").click()
    phone.get_by_label("Testar duas mensagens").check()
    phone.get_by_label("Modelo da mensagem B").select_option("sentimos_sua_falta@pt_BR")
    expect(phone.locator("#bolha-b .bubble-text")).to_contain_text("sentimos sua falta")
    look("ab")
    phone.get_by_role("button", name="Próximo: revisão").click()
    expect(phone.locator('[data-figure="review-cost"]')).to_be_visible()
    look("revisao")
    assert problems == {}


def test_rich_messages_show_as_whatsapp_draws_them(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    """The review bubble shows a copy-code voucher's button; a campaign page shows its image
    header, footer and buttons (the API's preview, escaped)."""
    cnpj = sample_tenant(customers=3)
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/campanhas/nova")
    page.get_by_label("Nome da campanha").fill("Cupom no console")
    page.get_by_role("button", name="Próximo: mensagem").click()
    page.wait_for_load_state()
    options = page.get_by_label("Modelo aprovado pelo WhatsApp").locator("option")
    assert "oferta_com_imagem@pt_BR" not in options.evaluate_all("os => os.map(o => o.value)")
    page.get_by_label("Modelo aprovado pelo WhatsApp").select_option("cupom_desconto@pt_BR")
    page.locator("#cupom").check()
    button = page.locator('#bolha-a .bubble-button[data-tipo="copy_code"]')
    expect(button).to_contain_text("Copiar código")
    expect(page.locator("#bolha-a .bubble-footer")).to_have_text(
        "Responda SAIR para não receber ofertas"
    )

    rich = {
        "name": "Semana <b>limpa</b>",
        "content": "{{first_name}}, chegou a semana da roupa limpa: lavagem com desconto até "
        "domingo!",
        "template_type": "image",
        "media_url": "https://cdn.lavo.example/semana.jpg?a=<script>",
        "buttons": [{"type": "url", "suffix": "semana"}],
    }
    created = api_as(cnpj).post(
        "/api/v1/campaigns",
        json={"name": "Imagem", "segmentation": {"include_all": True}, "templates": [rich]},
    )
    assert created.status_code == 201, created.text
    page.goto(f"{console_url}/campanhas/{created.json()['id']}")
    section = page.locator("#mensagem")
    expect(section.locator('[data-midia="image"]')).to_contain_text(
        "https://cdn.lavo.example/semana.jpg?a=<script>"
    )
    expect(section.locator(".bubble-text")).to_contain_text("chegou a semana da roupa limpa")
    expect(section.locator('.bubble-button[data-tipo="url"]')).to_contain_text(
        "https://lavanderia.example/oferta/semana"
    )
    expect(section.locator('.bubble-button[data-tipo="quick_reply"]')).to_have_text(
        re.compile("Parar promoções")
    )
