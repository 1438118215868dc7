"""Contatos over plain HTTP. The search page answers without BigQuery and loads its list as a
fragment; a search a person asks for (a plain GET, as without JavaScript) is answered in full.
A person's page answers with who they are (one small read that also proves they are the
tenant's) and loads their profile and messages as fragments, each a 404 for anyone else's
person. The browser's view (the htmx swap, the address, layout, accessibility) is in
tests/browser/test_contacts_pages.py.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urljoin

import requests

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.logs import mask_phone
from shared.ports import HistoryRow
from shared.services.tenants import register_tenant
from tests.integration import api_fixtures, console_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.console_fixtures import csrf_of, sign_in

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
console_url = console_fixtures.console_url

Client = Callable[..., ApiClient]
_LOADER = re.compile(r'<div id="resultados"[^>]*hx-get="([^"]+)" hx-trigger="load"')
_PERSON_PARTS = re.compile(
    r'<(?:div|section) id="(perfil|mensagens|consentimento)"[^>]* '
    r'hx-get="([^"]+)" hx-trigger="load"'
)
_FAILED = "Não foi possível carregar agora."


def _people(page: requests.Response) -> list[str]:
    """The names listed, in order."""
    rows = re.findall(r'<tr class="person">\s*<td><a href="[^"]+">([^<]*)</a>', page.text)
    return [html.unescape(name) for name in rows]


def _total(page: requests.Response) -> str:
    found = re.search(r'data-figure="total">[^<]*: ([^<]*)</p>', page.text)
    assert found, page.text[:2000]
    return found.group(1)


def _api_people(api: ApiClient, **params: Any) -> dict[str, Any]:
    answer = api.get("/api/v1/contacts", params={"page_size": 25, **params})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_the_bare_page_answers_without_the_list_and_loads_it_right_after(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=30)
    everyone = _api_people(api_as(cnpj))
    assert everyone["total"] > 25  # two pages
    browser = sign_in(console_url, cnpj, Role.VIEWER)
    url = f"{console_url}/contatos"
    page = browser.get(url, timeout=60)
    assert page.status_code == 200 and _people(page) == []
    assert 'data-figure="total"' not in page.text and "Carregando contatos" in page.text
    loader = _LOADER.search(page.text)
    assert loader, page.text[:2000]

    fragment = browser.get(urljoin(url, html.unescape(loader.group(1))), timeout=60)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="resultados"')  # the section alone
    assert _total(fragment) == str(everyone["total"])
    assert _people(fragment) == [item["name"] or "Sem nome" for item in everyone["items"]]
    assert "HX-Push-Url" not in fragment.headers
    following = re.search(r'<a href="([^"]+)" hx-get="([^"]+)">Próxima</a>', fragment.text)
    assert following, fragment.text[-1000:]
    assert html.unescape(following.group(1)).endswith("/contatos?q=&etiqueta=&pagina=2")
    assert html.unescape(following.group(2)).endswith("/contatos/resultados?q=&etiqueta=&pagina=2")


def test_a_search_is_answered_in_the_page_without_javascript_and_as_a_fragment_with_it(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=30)
    api = api_as(cnpj)
    name = next(item["name"] for item in _api_people(api)["items"] if item["name"])
    wanted = _api_people(api, q=name)
    assert wanted["total"] >= 1
    browser = sign_in(console_url, cnpj, Role.VIEWER)
    url = f"{console_url}/contatos"

    searched = browser.get(url, params={"q": name, "etiqueta": ""}, timeout=60)
    assert searched.status_code == 200 and not _LOADER.search(searched.text)
    assert _total(searched) == str(wanted["total"])
    assert _people(searched) == [item["name"] for item in wanted["items"]]
    assert f'value="{html.escape(name)}"' in searched.text  # the form keeps the search

    everyone = _api_people(api, page=2)
    second = browser.get(url, params={"q": "", "etiqueta": "", "pagina": "2"}, timeout=60)
    assert _people(second) == [item["name"] or "Sem nome" for item in everyone["items"]]
    assert "Anterior" in second.text

    swapped = browser.get(
        f"{url}/resultados",
        params={"q": name, "etiqueta": ""},
        headers={"HX-Request": "true", "HX-Trigger": "busca"},
        timeout=60,
    )
    assert _people(swapped) == [item["name"] for item in wanted["items"]]
    pushed = swapped.headers["HX-Push-Url"]
    assert pushed.endswith("/app/contatos?" + urlencode({"q": name, "etiqueta": "", "pagina": 1}))
    nobody = browser.get(f"{url}/resultados", params={"q": "zzzz-ninguem"}, timeout=60)
    assert _total(nobody) == "0" and "Ninguém encontrado com esta busca." in nobody.text


def test_without_its_warehouse_the_page_still_answers_and_the_list_says_it_failed(
    console_url: str, deps: Container, new_cnpj: Cnpj
) -> None:
    """A tenant whose BigQuery datasets do not exist: the page itself never needed them."""
    register_tenant(
        new_cnpj, name="Sem dados", timezone=None, tenants=deps.tenants, warehouse=None, queues=None
    )
    browser = sign_in(console_url, new_cnpj, Role.VIEWER)
    page = browser.get(f"{console_url}/contatos", timeout=60)
    assert page.status_code == 200 and _LOADER.search(page.text)
    fragment = browser.get(f"{console_url}/contatos/resultados", timeout=60)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="resultados"')  # a later search still works
    assert "Não foi possível carregar agora." in fragment.text


# -- one person ------------------------------------------------------------------------------


def _customer_with_phone(api: ApiClient) -> dict[str, Any]:
    """A sample customer with a name and a valid mobile, as the API lists them."""
    for item in _api_people(api, page_size=100)["items"]:
        if item["name"] and (item["phone_masked"] or "").startswith("+55"):
            found: dict[str, Any] = item
            return found
    raise AssertionError("the sample has no customer with a mobile phone")


def _parts(page: requests.Response) -> dict[str, str]:
    """The fragments the page loads right after it is shown: {element id: address}."""
    return {part: html.unescape(url) for part, url in _PERSON_PARTS.findall(page.text)}


def test_a_persons_page_answers_with_who_they_are_and_loads_the_rest_right_after(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client, deps: Container
) -> None:
    cnpj = sample_tenant(customers=8)
    api = api_as(cnpj)
    customer = _customer_with_phone(api)
    person_id = customer["id"]
    full = api.get(f"/api/v1/contacts/{person_id}/export").json()["profile"]["phone"]
    assert api.post(f"/api/v1/contacts/{person_id}/tags", json={"add": ["vip"]}).status_code == 200
    now = datetime.now(UTC)
    deps.history.append(
        cnpj,
        [
            HistoryRow(
                event_id=f"users/{cnpj.value}/campaigns/BIRTHDAY/targets/{person_id}_2026#{n}",
                user_id=person_id,
                campaign_kind="BIRTHDAY",
                campaign_id="BIRTHDAY",
                target_id=f"{person_id}_2026",
                sent_at=now - timedelta(minutes=10 - n),
                status=status,
                phone=full,
                error_code=131026 if status == "FAILED" else None,
                error_reason="undeliverable" if status == "FAILED" else "",
            )
            for n, status in enumerate(("QUEUED", "SENT", "FAILED"), start=1)
        ],
    )
    deps.delivery_store.record_opt_out(cnpj, full, now, "inbound_keyword", "wamid.TESTE")
    expected = api.get(f"/api/v1/contacts/{person_id}").json()
    browser = sign_in(console_url, cnpj, Role.VIEWER)
    url = f"{console_url}/contatos/{person_id}"

    page = browser.get(url, timeout=60)
    assert page.status_code == 200
    assert f"<h1>{html.escape(customer['name'])}</h1>" in page.text
    assert f'data-figure="phone">{customer["phone_masked"]}</dd>' in page.text
    assert 'data-figure="visits"' not in page.text and 'class="message"' not in page.text
    assert "Carregando os dados…" in page.text and "Carregando as mensagens…" in page.text
    parts = _parts(page)
    assert sorted(parts) == ["consentimento", "mensagens", "perfil"], page.text[:3000]
    assert parts["perfil"].endswith(f"/contatos/{person_id}/perfil")
    assert parts["mensagens"].endswith(f"/contatos/{person_id}/mensagens")

    profile = browser.get(urljoin(url, parts["perfil"]), timeout=60)
    assert profile.status_code == 200
    assert profile.text.lstrip().startswith('<div id="perfil">')  # the section alone, loaded
    visits = re.search(r'data-figure="visits">([^<]*)<', profile.text)
    assert visits and visits.group(1) == str(expected["visit_count"])
    assert re.findall(r'<li class="tag">\s*<span>([^<]*)</span>', profile.text) == ["vip"]
    assert "pediu para sair" in profile.text and "wamid.TESTE" in profile.text
    assert 'name="add"' not in profile.text  # a viewer gets no tag form

    messages = browser.get(urljoin(url, parts["mensagens"]), timeout=60)
    assert messages.status_code == 200
    assert messages.text.lstrip().startswith('<section id="mensagens"')
    assert messages.text.count('<tr class="message">') == len(expected["messages"]) == 1
    assert "falhou" in messages.text and "undeliverable (131026)" in messages.text

    consent = browser.get(urljoin(url, parts["consentimento"]), timeout=60)
    assert consent.status_code == 200
    assert consent.text.lstrip().startswith('<section id="consentimento"')
    assert consent.text.count('<tr class="consent-event">') == 1
    assert "Descadastro" in consent.text and "pediu para sair" in consent.text
    assert "wamid.TESTE" in consent.text and "Agora: não recebe" in consent.text
    for answer in (page, profile, messages, consent):
        assert full not in answer.text


def test_another_tenants_an_erased_or_an_unknown_person_is_not_found_nor_any_part_of_them(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    mine, theirs = sample_tenant(customers=3), sample_tenant(customers=3)
    imported = {"data": [{"name": "Zélia de Outra Empresa", "phone_number": "+5511987650000"}]}
    assert api_as(theirs).post("/api/v1/contacts/import", json=imported).status_code == 200
    their_id = _api_people(api_as(theirs), q="Zélia")["items"][0]["id"]
    own = sign_in(console_url, theirs, Role.VIEWER).get(f"{console_url}/contatos/{their_id}")
    assert own.status_code == 200 and "<h1>Zélia de Outra Empresa</h1>" in own.text
    assert f'data-figure="phone">{mask_phone("+5511987650000")}<' in own.text
    erased = _customer_with_phone(api_as(mine))["id"]  # their customer record stays (sales)
    assert api_as(mine, Role.EDITOR).delete(f"/api/v1/contacts/{erased}").status_code == 200
    browser = sign_in(console_url, mine, Role.ADMIN)
    for person_id in (their_id, erased, "C999999"):
        for part in ("", "/perfil", "/mensagens", "/consentimento"):
            answer = browser.get(f"{console_url}/contatos/{person_id}{part}", timeout=60)
            assert answer.status_code == 404, (person_id, part)
            assert "Zélia" not in answer.text


def test_a_persons_parts_that_cannot_be_read_say_so_in_place(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client, deps: Container
) -> None:
    """The profile view and the history gone: the page, which reads neither, still answers."""
    cnpj = sample_tenant(customers=3)
    customer = _customer_with_phone(api_as(cnpj))
    for kind, name in (("VIEW", "customer_profile"), ("TABLE", "message_history")):
        deps.bigquery_client.query(f"DROP {kind} `{cnpj.campaign_dataset}.{name}`").result()
    browser = sign_in(console_url, cnpj, Role.ADMIN)
    url = f"{console_url}/contatos/{customer['id']}"
    page = browser.get(url, timeout=60)
    parts = _parts(page)
    assert page.status_code == 200 and len(parts) == 3
    del parts["consentimento"]  # in Firestore: it still loads
    for part, address in parts.items():
        fragment = browser.get(urljoin(url, address), timeout=60)
        assert fragment.status_code == 200
        assert re.match(rf'\s*<(div|section) id="{part}"', fragment.text)  # the part alone
        assert _FAILED in fragment.text and "hx-trigger" not in fragment.text


def test_a_refused_tag_answers_with_the_profile_and_the_reason_beside_the_field(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=3)
    customer = _customer_with_phone(api_as(cnpj))
    browser = sign_in(console_url, cnpj, Role.EDITOR)
    url = f"{console_url}/contatos/{customer['id']}"
    token = csrf_of(browser.get(url, timeout=60).text)
    answer = browser.post(f"{url}/etiquetas", data={"csrf_token": token, "add": " , "}, timeout=60)
    assert answer.status_code == 422
    assert 'aria-invalid="true" aria-describedby="add-erro"' in answer.text
    assert "Escreva ao menos uma etiqueta." in answer.text
    assert "perfil" not in dict(_parts(answer))  # the form is in the page, not loaded after
    assert 'data-figure="visits"' in answer.text


def test_a_consent_given_at_the_counter_is_recorded_and_a_bad_one_named_beside_its_field(
    console_url: str, sample_tenant: Callable[..., Cnpj], api_as: Client
) -> None:
    cnpj = sample_tenant(customers=3)
    customer = _customer_with_phone(api_as(cnpj))
    url = f"{console_url}/contatos/{customer['id']}"
    editor = sign_in(console_url, cnpj, Role.EDITOR)
    token = csrf_of(editor.get(url, timeout=60).text)

    short = {"csrf_token": token, "kind": "opt_out", "evidence": "x"}
    refused = editor.post(f"{url}/consentimento", data=short, timeout=60)
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="evidence-erro"' in refused.text
    assert 'value="x"' in refused.text  # what was typed stays
    stop = {"csrf_token": token, "kind": "opt_out", "evidence": "formulario-0042"}
    done = editor.post(f"{url}/consentimento", data=stop, timeout=60, allow_redirects=False)
    assert done.status_code == 303

    history = api_as(cnpj).get(f"/api/v1/contacts/{customer['id']}/consent").json()
    assert history["opted_out"] is True
    assert [e["message_id"] for e in history["events"]] == ["formulario-0042"]
    viewer = sign_in(console_url, cnpj, Role.VIEWER)
    assert '/consentimento" class="consent-form"' not in viewer.get(url, timeout=60).text
