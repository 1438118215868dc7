"""The console's guards as a person meets them in a real browser.

The HTTP-level checks (``tests/integration/test_console_http.py``) prove the server's answers;
these prove what the browser does with them: a tampered form lands on a refusal and changes
nothing, an expired session returns to the page after signing in again, a viewer has nothing to
press, and another tenant's address is a plain "not found".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

from playwright.sync_api import Page, expect

from shared.api.auth import Principal, Role
from shared.console.session import COOKIE_NAME, Session, SessionCodec
from shared.console.signin import signin_link_token
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import LOCAL_WHATSAPP
from tests.browser.conftest import fast_campaign, sign_in
from tests.integration.api_fixtures import ApiClient

SECRET = LOCAL_WHATSAPP["API_JWT_SECRET"]


def _status(api_as: Callable[..., ApiClient], cnpj: Cnpj, campaign_id: str) -> str:
    return str(api_as(cnpj).get(f"/api/v1/campaigns/{campaign_id}").json()["status"])


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj = sample_tenant(customers=5)
    campaign_id = fast_campaign(api_as, cnpj, "Sem token")
    sign_in(page, console_url, cnpj, Role.EDITOR)
    page.goto(f"{console_url}/campanhas/{campaign_id}/confirmar?acao=start")
    page.locator('main form input[name="csrf_token"]').evaluate("input => input.remove()")
    page.get_by_role("button", name="Confirmar: Iniciar").click()
    expect(page.get_by_role("heading", name="Não permitido")).to_be_visible()
    expect(page.get_by_text("Nada foi alterado")).to_be_visible()
    assert _status(api_as, cnpj, campaign_id) == "draft"


def test_an_expired_session_signs_in_again_and_returns_to_the_same_page(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj = sample_tenant(customers=5)
    campaign_id = fast_campaign(api_as, cnpj, "Volto aqui")
    principal = Principal(cnpj=cnpj, subject="owner@example.com", role=Role.EDITOR)
    expired = Session(principal, "expired", datetime.now(UTC) - timedelta(minutes=1))
    address = urlparse(console_url)
    page.context.add_cookies(
        [
            {
                "name": COOKIE_NAME,
                "value": SessionCodec(SECRET).encode(expired),
                "domain": address.hostname or "127.0.0.1",
                "path": address.path,
            }
        ]
    )
    page.goto(f"{console_url}/campanhas/{campaign_id}")
    expect(page.get_by_role("heading", name="Entrar")).to_be_visible()

    link = signin_link_token(SECRET, cnpj, Role.EDITOR, "owner@example.com")  # no `next` in it
    page.goto(f"{console_url}/signin?token={link}")
    expect(page.get_by_role("heading", name="Volto aqui")).to_be_visible()
    assert urlparse(page.url).path == f"{address.path}/campanhas/{campaign_id}"


def test_a_viewer_has_nothing_to_press_and_a_forced_write_is_refused(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj = sample_tenant(customers=5)
    campaign_id = fast_campaign(api_as, cnpj, "Só olhar")
    sign_in(page, console_url, cnpj, Role.VIEWER)
    page.goto(f"{console_url}/campanhas/{campaign_id}")
    expect(page.get_by_role("heading", name="Só olhar")).to_be_visible()
    for control in ("Iniciar", "Pausar", "Cancelar", "Nova campanha"):
        expect(page.get_by_role("link", name=control)).to_have_count(0)

    # The same POST the editor's confirmation sends, with this session's valid CSRF token.
    status = page.evaluate(
        """async (action) => {
            const token = document.querySelector('input[name="csrf_token"]').value;
            const body = new URLSearchParams({acao: "start", csrf_token: token});
            return (await fetch(action, {method: "POST", body})).status;
        }""",
        f"{console_url}/campanhas/{campaign_id}/acao",
    )
    assert status == 403
    assert _status(api_as, cnpj, campaign_id) == "draft"


def test_another_tenants_campaign_and_contact_addresses_are_not_found(
    page: Page,
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
) -> None:
    mine, theirs = sample_tenant(customers=5), sample_tenant(customers=5)
    their_campaign = fast_campaign(api_as, theirs, "Campanha de outra empresa")
    # Sample customers are numbered alike in every tenant: their own contact is an imported one.
    imported = {"data": [{"name": "Zélia de Outra Empresa", "phone_number": "+5511987650000"}]}
    assert api_as(theirs).post("/api/v1/contacts/import", json=imported).status_code == 200
    found = api_as(theirs).get("/api/v1/contacts", params={"q": "Zélia"}).json()["items"]
    their_person = found[0]
    sign_in(page, console_url, mine, Role.ADMIN)
    for address, their_text in (
        (f"/campanhas/{their_campaign}", "Campanha de outra empresa"),
        (f"/contatos/{their_person['id']}", their_person["name"]),
    ):
        answer = page.goto(console_url + address)
        assert answer is not None and answer.status == 404, address
        expect(page.get_by_role("heading", name="Não encontrado")).to_be_visible()
        expect(page.get_by_text(their_text)).to_have_count(0)
