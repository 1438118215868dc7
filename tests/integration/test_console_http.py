"""The console over HTTP on the local stack: sign-in, sessions, CSRF, roles, tenants, escaping.

Requests go through the real functions host (``/api/app/...``), as a browser's do; the
browser-only behaviour (live updates, layout, accessibility) is in ``tests/browser``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urljoin, urlparse

import requests

from shared.api.auth import Principal, Role
from shared.bootstrap import Container
from shared.console.session import COOKIE_NAME, Session, SessionCodec
from shared.console.signin import signin_link_token
from shared.domain.cnpj import Cnpj
from tests.integration import api_fixtures, console_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE, approved
from tests.integration.console_fixtures import SECRET, csrf_of, sign_in

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
console_url = console_fixtures.console_url


def create_campaign(api_as: Callable[..., ApiClient], cnpj: Cnpj, name: str = "Promo") -> str:
    body = approved(SIMPLE) | {"name": name}
    answer = api_as(cnpj, Role.EDITOR).post("/api/v1/campaigns", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_sign_in_link_opens_a_session_once(
    console_url: str, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=20)
    token = signin_link_token(SECRET, cnpj, Role.ADMIN, "owner@example.com")
    first = requests.Session()
    landed = first.get(f"{console_url}/signin", params={"token": token}, timeout=60)
    assert landed.status_code == 200
    assert urlparse(landed.url).path.endswith("/app/")
    assert "Início" in landed.text
    cookie = next(c for c in first.cookies if c.name == COOKIE_NAME)
    assert cookie.has_nonstandard_attr("HttpOnly")
    again = requests.get(f"{console_url}/signin", params={"token": token}, timeout=60)
    assert again.status_code == 401
    assert "já foi usado" in again.text
    assert COOKIE_NAME not in again.cookies


def test_a_forged_or_expired_session_goes_to_sign_in_and_back(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Callable[..., ApiClient]
) -> None:
    cnpj = sample_tenant(customers=20)
    campaign_id = create_campaign(api_as, cnpj)
    codec = SessionCodec(SECRET)
    principal = Principal(cnpj=cnpj, subject="owner@example.com", role=Role.EDITOR)
    expired = Session(principal, "s1", datetime.now(UTC) - timedelta(minutes=1))
    browser = requests.Session()
    scope = {"domain": urlparse(console_url).hostname, "path": urlparse(console_url).path}
    browser.cookies.set(COOKIE_NAME, codec.encode(expired), **scope)  # as the browser kept it
    wanted = f"{console_url}/campanhas/{campaign_id}"
    bounced = browser.get(wanted, allow_redirects=False, timeout=60)
    assert bounced.status_code == 303
    location = urlparse(bounced.headers["location"])
    assert location.path.endswith("/app/login")
    assert parse_qs(location.query)["next"] == [f"/app/campanhas/{campaign_id}"]
    browser.get(urljoin(wanted, bounced.headers["location"]), timeout=60)  # the sign-in page itself
    token = signin_link_token(SECRET, cnpj, Role.EDITOR, "owner@example.com")  # a link without next
    back = browser.get(f"{console_url}/signin", params={"token": token}, timeout=60)
    assert urlparse(back.url).path == urlparse(wanted).path
    assert "Promo" in back.text

    forged = requests.Session()
    forged.cookies.set(COOKIE_NAME, codec.encode(expired).replace(".", "x.", 1))
    assert forged.get(wanted, allow_redirects=False, timeout=60).status_code == 303


def test_writes_need_the_csrf_token_and_a_writing_role(
    console_url: str,
    sample_tenant: Callable[..., Cnpj],
    api_as: Callable[..., ApiClient],
    deps: Container,
) -> None:
    cnpj = sample_tenant(customers=20)
    campaign_id = create_campaign(api_as, cnpj)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    page = editor.get(f"{console_url}/campanhas/{campaign_id}/confirmar?acao=start", timeout=60)
    token = csrf_of(page.text)
    action = f"{console_url}/campanhas/{campaign_id}/acao"

    missing = editor.post(action, data={"acao": "start"}, timeout=60)
    wrong = editor.post(action, data={"acao": "start", "csrf_token": "0" * 64}, timeout=60)
    assert (missing.status_code, wrong.status_code) == (403, 403)
    assert api_as(cnpj).get(f"/api/v1/campaigns/{campaign_id}").json()["status"] == "draft"

    viewer = sign_in(console_url, cnpj, Role.VIEWER)
    viewer_page = viewer.get(f"{console_url}/campanhas/{campaign_id}", timeout=60)
    assert "/confirmar?acao=" not in viewer_page.text  # no write controls
    attempt = viewer.post(
        action, data={"acao": "start", "csrf_token": csrf_of(viewer_page.text)}, timeout=60
    )
    assert attempt.status_code == 403
    assert api_as(cnpj).get(f"/api/v1/campaigns/{campaign_id}").json()["status"] == "draft"

    started = editor.post(action, data={"acao": "start", "csrf_token": token}, timeout=60)
    assert started.status_code == 200
    assert api_as(cnpj).get(f"/api/v1/campaigns/{campaign_id}").json()["status"] == "running"
    audit = api_as(cnpj, Role.ADMIN).get("/api/v1/audit").json()
    assert any(entry["action"] == "campaign.start" for entry in audit["items"])


def test_another_tenants_campaign_is_not_found(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Callable[..., ApiClient]
) -> None:
    owner, stranger = sample_tenant(customers=10), sample_tenant(customers=10)
    campaign_id = create_campaign(api_as, owner)
    answer = sign_in(console_url, stranger, Role.ADMIN).get(
        f"{console_url}/campanhas/{campaign_id}", timeout=60
    )
    assert answer.status_code == 404
    assert "Não encontrado" in answer.text


def test_pages_are_escaped_and_carry_security_headers(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Callable[..., ApiClient]
) -> None:
    cnpj = sample_tenant(customers=10)
    campaign_id = create_campaign(api_as, cnpj, name='<script>alert("x")</script>')
    answer = sign_in(console_url, cnpj, Role.ADMIN).get(
        f"{console_url}/campanhas/{campaign_id}", timeout=60
    )
    assert answer.status_code == 200
    assert '<script>alert("x")</script>' not in answer.text
    assert "&lt;script&gt;" in answer.text
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Cache-Control"] == "no-store"


def test_an_import_reports_the_bad_row_by_line_and_keeps_the_good_ones(
    console_url: str, new_cnpj: Cnpj, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=5)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    form = editor.get(f"{console_url}/contatos/importar", timeout=60)
    csv = "name,phone\nAna,+55 61 99222-1234\nBeto,12\nCaio,(11) 98765-4321\n"
    result = editor.post(
        f"{console_url}/contatos/importar",
        data={"csrf_token": csrf_of(form.text), "merge_strategy": "update"},
        files={"file": ("clientes.csv", csv.encode(), "text/csv")},
        timeout=60,
    )
    assert result.status_code == 200, result.text
    assert re.search(r'data-figure="created">2<', result.text)
    assert re.search(r'data-figure="rejected">1<', result.text)
    assert re.search(r"<td>3</td>\s*<td>phone</td>", result.text)  # line 3 of the file: Beto


def test_a_form_error_is_named_in_portuguese_beside_its_field(
    console_url: str, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=5)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    form = editor.get(f"{console_url}/contatos/importar", timeout=60)
    answer = editor.post(
        f"{console_url}/contatos/importar",
        data={"csrf_token": csrf_of(form.text), "merge_strategy": "sobrescrever"},
        files={"file": ("c.csv", b"name,phone\nAna,+5561992221234\n", "text/csv")},
        timeout=60,
    )
    assert answer.status_code == 422
    assert re.search(r'id="merge_strategy-erro"[^>]*>Escolha uma das opções', answer.text)


def test_a_pace_above_the_numbers_ceiling_is_refused_beside_its_field(
    console_url: str, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=5)
    admin = sign_in(console_url, cnpj, Role.ADMIN)
    form = admin.get(f"{console_url}/configuracoes", timeout=60)
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*value="([^"]*)"', form.text))
    fields["messages_per_minute"] = "5000"  # the default number carries 70/s = 4,200 a minute
    answer = admin.post(
        f"{console_url}/configuracoes",
        data={**fields, "csrf_token": csrf_of(form.text)},
        timeout=60,
    )
    assert answer.status_code == 422
    assert re.search(r'id="messages_per_minute-erro"[^>]*>Acima do que o número', answer.text)


def test_a_campaigns_forecast_loads_after_its_page(
    console_url: str, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=5)
    viewer = sign_in(console_url, cnpj, Role.VIEWER)
    page = viewer.get(f"{console_url}/campanhas/BIRTHDAY", timeout=60)
    assert 'hx-get="/api/app/campanhas/BIRTHDAY/previsao"' in page.text

    fragment = viewer.get(f"{console_url}/campanhas/BIRTHDAY/previsao", timeout=60)

    assert fragment.status_code == 200
    assert "Previsão de envio" in fragment.text
    assert "Nenhuma mensagem aguardando envio." in fragment.text
    assert "data-failed" not in fragment.text
