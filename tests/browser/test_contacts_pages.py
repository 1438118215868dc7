"""Contatos in a real browser: find a customer, tag them, export and erase them; viewers; fit.

Each test has its own small tenant; what the pages show is checked against the API's answers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.sync_api import Page, expect

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.ports import HistoryRow
from tests.browser.conftest import axe_violations, horizontal_overflow, keep_screenshot, sign_in
from tests.integration.api_fixtures import ApiClient

Client = Callable[..., ApiClient]


def customer_with_phone(client: ApiClient) -> dict[str, Any]:
    """A sample customer with a name and a valid mobile, as the API lists them."""
    answer = client.get("/api/v1/contacts", params={"page_size": 100})
    assert answer.status_code == 200, answer.text
    for item in answer.json()["items"]:
        if item["name"] and (item["phone_masked"] or "").startswith("+55"):
            found: dict[str, Any] = item
            return found
    raise AssertionError("the sample has no customer with a mobile phone")


def test_search_open_tag_export_and_erase_a_customer(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=6)
    api = api_as(cnpj)
    customer = customer_with_phone(api)
    sign_in(page, console_url, cnpj, Role.EDITOR)

    page.get_by_role("link", name="Contatos").click()
    everyone = api.get("/api/v1/contacts").json()["total"]
    expect(page.locator('[data-figure="total"]')).to_contain_text(str(everyone))  # loaded after
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Nome, telefone ou e-mail").fill(customer["name"])
    page.get_by_role("button", name="Buscar").click()
    expect(page.locator("tr.person")).to_have_count(1)
    expect(page.locator("tr.person")).to_contain_text(customer["phone_masked"])
    expect(page).to_have_url(re.compile(r"/contatos\?q="))  # the address follows the search
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in, not reloaded
    page.get_by_role("link", name=customer["name"]).click()
    expect(page.get_by_role("heading", name=customer["name"])).to_be_visible()
    expect(page.locator('[data-figure="phone"]')).to_have_text(customer["phone_masked"])
    # The profile and the messages come right after the page, each in its place.
    expect(page.locator('[data-figure="visits"]')).to_have_text(str(customer["visit_count"]))
    expect(page.locator("#mensagens")).to_contain_text("Nenhuma mensagem.")

    page.get_by_label("Adicionar etiquetas (separadas por vírgula)").fill("Cliente VIP, lavagem")
    page.get_by_role("button", name="Adicionar", exact=True).click()
    expect(page.locator("li.tag > span")).to_have_text(["cliente vip", "lavagem"])
    page.get_by_role("button", name="Remover etiqueta lavagem").click()
    expect(page.locator("li.tag > span")).to_have_text(["cliente vip"])
    tagged = api.get("/api/v1/contacts", params={"tag": "cliente vip"}).json()
    assert [item["id"] for item in tagged["items"]] == [customer["id"]]

    with page.expect_download() as download:
        page.get_by_role("link", name="Exportar dados (JSON)").click()
    exported = json.loads(download.value.path().read_text())
    assert exported["id"] == customer["id"] and exported["profile"]["tags"] == ["cliente vip"]
    assert exported["profile"]["phone"].startswith("+55")

    page.get_by_role("link", name="Apagar pessoa").click()
    expect(page.get_by_text("fica na lista de descadastrados")).to_contain_text(
        customer["phone_masked"]
    )
    expect(page.get_by_text("Não é possível desfazer.")).to_be_visible()
    page.get_by_role("button", name="Confirmar: apagar pessoa").click()
    expect(page.get_by_role("status")).to_contain_text("foram apagados")
    page.get_by_label("Nome, telefone ou e-mail").fill(customer["name"])
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_text("Ninguém encontrado com esta busca.")).to_be_visible()
    assert api.get(f"/api/v1/contacts/{customer['id']}").status_code == 404
    page.goto(f"{console_url}/contatos/descadastrados")
    expect(page.locator("tr.optout")).to_contain_text(customer["phone_masked"])


def test_a_viewer_reads_but_cannot_tag_or_erase(
    page: Page, console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=5)
    customer = customer_with_phone(api_as(cnpj))
    sign_in(page, console_url, cnpj, Role.VIEWER)
    person_url = f"{console_url}/contatos/{customer['id']}"
    page.goto(person_url)
    expect(page.get_by_role("heading", name=customer["name"])).to_be_visible()
    expect(page.get_by_role("link", name="Exportar dados (JSON)")).to_be_visible()
    expect(page.get_by_text("Nenhuma etiqueta.")).to_be_visible()  # the profile is in
    expect(page.get_by_role("button", name="Adicionar")).to_have_count(0)
    expect(page.get_by_role("link", name="Apagar pessoa")).to_have_count(0)
    page.goto(f"{console_url}/contatos")
    expect(page.get_by_role("link", name="Importar contatos")).to_have_count(0)

    token = page.locator('input[name="csrf_token"]').first.get_attribute("value")
    assert token
    for path, form in (("/apagar", {}), ("/etiquetas", {"add": "vip"})):
        answer = page.request.post(person_url + path, form={"csrf_token": token, **form})
        assert answer.status == 403
    assert page.request.get(f"{person_url}/apagar").status == 403
    assert api_as(cnpj).get(f"/api/v1/contacts/{customer['id']}").json()["tags"] == []


def test_every_contacts_page_fits_a_phone_and_passes_axe(
    phone: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Client,
    deps: Container,
) -> None:
    cnpj = sample_tenant(customers=8)
    api = api_as(cnpj)
    customer = customer_with_phone(api)
    full = api.get(f"/api/v1/contacts/{customer['id']}/export").json()["profile"]["phone"]
    tags = {"add": ["cliente muito antigo da loja do centro", "vip"]}
    assert api.post(f"/api/v1/contacts/{customer['id']}/tags", json=tags).status_code == 200
    now = datetime.now(UTC)
    rows = [
        HistoryRow(
            event_id=f"users/{cnpj.value}/campaigns/BIRTHDAY/targets/{customer['id']}_2026#{n}",
            user_id=customer["id"],
            campaign_kind="BIRTHDAY",
            campaign_id="BIRTHDAY",
            target_id=f"{customer['id']}_2026",
            sent_at=now - timedelta(minutes=10 - n),
            status=status,
            phone=full,
            error_code=131026 if status == "FAILED" else None,
            error_reason="Message undeliverable: the number is not on WhatsApp"
            if status == "FAILED"
            else "",
        )
        for n, status in enumerate(("QUEUED", "SENT", "FAILED"), start=1)
    ]
    deps.history.append(cnpj, rows)
    deps.delivery_store.record_opt_out(cnpj, full, now, "inbound_keyword", "wamid.HBgM" + "A" * 40)
    sign_in(phone, console_url, cnpj, Role.ADMIN)
    pages = {
        "contatos": "/contatos",
        "busca": "/contatos?q=" + customer["name"].split()[0],
        "pessoa": f"/contatos/{customer['id']}",
        "apagar": f"/contatos/{customer['id']}/apagar",
        "descadastrados": "/contatos/descadastrados",
        "importar": "/contatos/importar",
    }
    problems: dict[str, Any] = {}
    for name, path in pages.items():
        answer = phone.goto(console_url + path)
        assert answer is not None and answer.status == 200, path
        expect(phone.locator('[hx-trigger^="load"]')).to_have_count(0)  # its parts are in
        overflow = horizontal_overflow(phone)
        violations = axe_violations(phone)
        if overflow > 0 or violations:
            problems[name] = {"overflow_px": overflow, "axe": [v["id"] for v in violations]}
        if name in ("contatos", "pessoa"):
            keep_screenshot(phone, name)
    assert problems == {}
    phone.goto(console_url + pages["pessoa"])
    expect(phone.locator("tr.message")).to_contain_text("falhou")
    expect(phone.locator('[data-figure="opt_out"]')).to_contain_text("pediu para sair")
    assert full not in phone.content()
