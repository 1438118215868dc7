"""Nova campanha over plain HTTP (as a browser without JavaScript posts it) on the local stack.

The browser's view (htmx updates, layout, accessibility) is in tests/browser/test_new_campaign.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import requests

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.services.tenants import register_tenant
from tests.integration import api_fixtures, console_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.console_fixtures import csrf_of, sign_in

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
console_url = console_fixtures.console_url

Client = Callable[..., ApiClient]
FILTER = {"field": "visit_count", "operator": "greater_or_equal", "value": "2"}


def _step(page: requests.Response) -> int:
    found = re.search(r'name="passo" value="(\d)"', page.text)
    assert found, page.text[:500]
    return int(found.group(1))


def _error(page: requests.Response, name: str) -> str:
    found = re.search(
        rf'<p class="field-error" id="{re.escape(name)}-erro"[^>]*>([^<]*)</p>', page.text
    )
    assert found, f"no error beside {name}"
    return html.unescape(found.group(1))


def _figure(page: requests.Response, name: str) -> str:
    found = re.search(rf'data-figure="{name}">([^<]*)<', page.text)
    assert found, f"no figure {name}"
    return found.group(1)


def _segment_campaigns(api_as: Client, cnpj: Cnpj) -> list[dict[str, Any]]:
    items = api_as(cnpj).get("/api/v1/campaigns", params={"page_size": 100}).json()["items"]
    return [item for item in items if item["kind"] == "SEGMENT"]


def _filled(token: str) -> dict[str, str]:
    """Every step filled in, as the browser posts the whole form each time."""
    return {
        "csrf_token": token,
        "name": "Volta às aulas",
        "publico": "todos",
        "filter_rows": "1",
        "filter-0-field": FILTER["field"],
        "filter-0-operator": FILTER["operator"],
        "filter-0-value": FILTER["value"],
        "template": "programa_fidelidade@pt_BR",
        "var-a-visit_count": "10",
        "quando": "agora",
        "janela": "livre",
        "messages_per_minute": "600",
        "messages_per_hour": "20000",
        "messages_per_day": "100000",
        "cost_per_message": "0,50",
    }


def test_without_javascript_each_step_checks_and_the_review_saves_a_draft(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=20)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    url = f"{console_url}/campanhas/nova"
    first = editor.get(url, timeout=60)
    assert first.status_code == 200 and _step(first) == 0
    form = _filled(csrf_of(first.text))
    for step in range(4):
        page = editor.post(url, data=form | {"passo": str(step), "ir": str(step + 1)}, timeout=60)
        assert page.status_code == 200, page.text[:2000]
        assert _step(page) == step + 1
    estimate = api_as(cnpj).post(
        "/api/v1/segments/estimate",
        json={"segmentation": {"include_all": True, "custom_filters": [FILTER]}},
    )
    recipients = estimate.json()["estimated_recipients"]
    assert _figure(page, "review-recipients") == str(recipients)
    assert html.unescape(_figure(page, "review-cost")).replace("\xa0", " ") == (
        f"R$ {recipients * 0.5:.2f}".replace(".", ",")
    )
    assert "Você já fez 10 visitas" in page.text  # the preview, for a customer of the sample

    saved = editor.post(
        url, data=form | {"passo": "4", "acao": "salvar"}, allow_redirects=False, timeout=60
    )
    assert saved.status_code == 303, saved.text[:2000]
    campaign_id = saved.headers["location"].rsplit("/", 1)[1]
    campaign = api_as(cnpj).get(f"/api/v1/campaigns/{campaign_id}").json()
    assert campaign["status"] == "draft"
    assert campaign["segmentation"]["custom_filters"] == [FILTER]
    template = campaign["templates"][0]
    assert template["whatsapp_template"] == {"name": "programa_fidelidade", "language": "pt_BR"}
    assert template["variables"] == ["first_name", "visit_count"]
    assert template["variable_values"] == {"visit_count": "10"}
    assert campaign["throttle_config"]["messages_per_minute"] == 600
    assert campaign["throttle_config"]["respect_business_hours"] is False
    assert campaign["analytics"]["cost_per_message"] == 0.5
    audit = api_as(cnpj, Role.ADMIN).get("/api/v1/audit").json()["items"]
    assert any(e["action"] == "campaign.create" and campaign_id in e["resource"] for e in audit)


def test_a_bad_field_is_named_in_portuguese_beside_it_and_nothing_is_saved(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=5)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    url = f"{console_url}/campanhas/nova"
    form = _filled(csrf_of(editor.get(url, timeout=60).text))

    words = editor.post(
        url, data=form | {"passo": "0", "ir": "1", "filter-0-value": "muitas"}, timeout=60
    )
    assert (words.status_code, _step(words)) == (422, 0)
    assert _error(words, "filter-0-value") == "Digite um número (use ponto para decimais)."
    assert 'aria-describedby="filter-0-value-erro"' in words.text

    for bad, field, message in (
        ({"messages_per_minute": "0"}, "messages_per_minute", "Deve ser no mínimo 1."),
        (
            {"var-a-visit_count": ""},
            "var-a-visit_count",
            "Preencha este valor: ele vai na mensagem.",
        ),
        ({"name": ""}, "name", "Dê um nome à campanha."),
        ({"janela": "comercial", "window_end": "08:00"}, "window_end", "A janela deve terminar"),
        ({"quando": "repetir", "end_type": "after"}, "end_type", "Informe depois de quantos"),
    ):
        page = editor.post(url, data=form | bad | {"passo": "4", "acao": "iniciar"}, timeout=60)
        assert page.status_code == 422, (bad, page.text[:500])
        assert _error(page, field).startswith(message), bad
    assert _segment_campaigns(api_as, cnpj) == []


def test_viewers_and_forms_without_a_csrf_token_are_refused(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=3)
    url = f"{console_url}/campanhas/nova"
    viewer = sign_in(console_url, cnpj, Role.VIEWER)
    assert viewer.get(url, timeout=60).status_code == 403
    home = viewer.get(f"{console_url}/", timeout=60)
    assert "/campanhas/nova" not in home.text
    tried = viewer.post(url, data=_filled(csrf_of(home.text)) | {"acao": "salvar"}, timeout=60)
    assert tried.status_code == 403

    editor = sign_in(console_url, cnpj, Role.EDITOR)
    editor.get(url, timeout=60)
    unsigned = _filled("") | {"acao": "salvar"}
    assert editor.post(url, data=unsigned, timeout=60).status_code == 403
    assert _segment_campaigns(api_as, cnpj) == []


def test_the_live_parts_show_the_apis_estimate_and_an_escaped_preview(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=20)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    form = _filled(csrf_of(editor.get(f"{console_url}/campanhas/nova", timeout=60).text))
    audience = editor.post(f"{console_url}/campanhas/nova/publico", data=form, timeout=60)
    estimate = api_as(cnpj).post(
        "/api/v1/segments/estimate",
        json={"segmentation": {"include_all": True, "custom_filters": [FILTER]}},
    )
    assert _figure(audience, "estimate") == str(estimate.json()["estimated_recipients"])
    assert "+55" in audience.text and not re.search(r"\+55\d{9}", audience.text)

    message = editor.post(
        f"{console_url}/campanhas/nova/mensagem?variante=a", data=form, timeout=60
    )
    assert 'name="var-a-visit_count"' in message.text
    sample = api_as(cnpj).post(
        "/api/v1/segments/sample",
        json={"segmentation": {"include_all": True, "custom_filters": [FILTER]}, "limit": 1},
    )
    first_name = sample.json()["items"][0]["first_name"]
    preview = editor.post(
        f"{console_url}/campanhas/nova/previa?variante=a",
        data=form | {"var-a-visit_count": "<b>7</b>"},
        timeout=60,
    )
    assert f"Parabéns, {html.escape(first_name)}! Você já fez &lt;b&gt;7&lt;/b&gt; visitas" in (
        preview.text
    )


def test_the_page_answers_without_the_estimate_and_loads_it_right_after(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    """The estimate is a BigQuery query: the form comes first, the estimate as a fragment."""
    cnpj = sample_tenant(customers=10)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    url = f"{console_url}/campanhas/nova"
    page = editor.get(url, timeout=60)
    assert page.status_code == 200 and 'data-figure="estimate"' not in page.text
    loader = re.search(r'<div id="estimativa"[^>]*hx-get="([^"]+)" hx-trigger="load"', page.text)
    assert loader, page.text[:2000]
    assert "Carregando a estimativa" in page.text
    fragment_url = urljoin(url, html.unescape(loader.group(1)))
    fragment = editor.get(fragment_url, timeout=60)
    everyone = api_as(cnpj).post(
        "/api/v1/segments/estimate", json={"segmentation": {"include_all": True}}
    )
    recipients = str(everyone.json()["estimated_recipients"])
    assert fragment.status_code == 200 and _figure(fragment, "estimate") == recipients
    assert fragment.text.lstrip().startswith('<div id="estimativa"')  # the section alone
    assert "+55" in fragment.text and not re.search(r"\+55\d{9}", fragment.text)

    # Without JavaScript, "Atualizar estimativa" (a post of the audience step) shows it in place.
    refreshed = editor.post(
        url, data={"csrf_token": csrf_of(page.text), "passo": "0", "ir": "0"}, timeout=60
    )
    assert refreshed.status_code == 200 and _figure(refreshed, "estimate") == recipients

    viewer = sign_in(console_url, cnpj, Role.VIEWER)
    assert viewer.get(fragment_url, timeout=60).status_code == 403


def test_without_its_warehouse_the_form_still_answers_and_the_estimate_says_it_failed(
    console_url: str, deps: Container, new_cnpj: Cnpj
) -> None:
    """A tenant whose BigQuery datasets do not exist: the form itself never needed them."""
    register_tenant(
        new_cnpj,
        name="Sem dados",
        timezone=None,
        tenants=deps.tenants,
        warehouse=None,
        queues=None,
        templates=deps.templates,
    )
    editor = sign_in(console_url, new_cnpj, Role.EDITOR)
    page = editor.get(f"{console_url}/campanhas/nova", timeout=60)
    assert page.status_code == 200 and "Carregando a estimativa" in page.text
    fragment = editor.get(f"{console_url}/campanhas/nova/publico", timeout=60)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="estimativa"')
    assert "Não foi possível carregar agora." in fragment.text


def test_the_form_speaks_english_on_request(
    console_url: str, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=3)
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    editor.cookies.set("console_lang", "en")
    page = editor.get(f"{console_url}/campanhas/nova", timeout=60)
    assert page.status_code == 200
    assert "Step 1 of 5: Audience" in page.text and "is at least" in page.text
