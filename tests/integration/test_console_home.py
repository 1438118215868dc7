"""Início and Campanhas over HTTP on the local stack: every number is the API's number.

The browser-only parts (layout at 375 px, accessibility, htmx swaps) are in
``tests/browser/test_home_and_campaigns.py``; here the pages and the fragments they load after
they are shown (``hx-trigger="load"``) are read as text and compared with what the REST API
answers for the same tenant at the same moment.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import urlparse

import pytest
import requests

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.console import labels
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status
from shared.domain.tenant import DeliverySettings
from shared.messages import TenantJob
from shared.services.dashboard import dashboard
from shared.services.process_tenant import process_tenant
from tests.campaign_records import edit_built_in
from tests.integration import api_fixtures, console_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.console_fixtures import sign_in

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
console_url = console_fixtures.console_url

Client = Callable[..., ApiClient]
SampleTenant = Callable[..., Cnpj]


LOADED_AFTER = re.compile(r'hx-get="([^"]+)" hx-trigger="load[^"]*"')


def fragments(console_url: str, page: str) -> list[str]:
    """The addresses of the fragments ``page`` loads once it is shown, as a browser would."""
    origin = console_url[: console_url.index("/", len("http://"))]
    return [origin + html.unescape(path) for path in LOADED_AFTER.findall(page)]


def fragment(browser: requests.Session, console_url: str, page: str, path: str) -> str:
    """The one fragment of ``page`` whose address ends with ``path``, fetched."""
    [address] = [a for a in fragments(console_url, page) if urlparse(a).path.endswith(path)]
    answer = browser.get(address, timeout=60)
    assert answer.status_code == 200, answer.text
    return html.unescape(answer.text)


def figure(page: str, name: str, scope: str = "") -> str:
    """The text of the ``data-figure`` element (within the card of campaign ``scope``)."""
    if scope:
        page = page[page.index(f'data-campaign="{scope}"') :]
    found = re.search(rf'data-figure="{name}">([^<]*)<', page)
    assert found, f"no figure {name}"
    return found.group(1)


@pytest.fixture
def ran_today(deps: Container, sample_tenant: SampleTenant) -> Cnpj:
    """A tenant (deliveries paused, so nothing moves) after a forced run of today; its
    reactivation runs every day of the month, and this sample has phones it must skip."""
    cnpj = sample_tenant(
        customers=20,
        seed=5,
        as_of=date.today(),
        delivery=DeliverySettings(paused=True),
    )
    edit_built_in(deps.campaigns, cnpj, "REACTIVATION", thresholds={"min_day_of_month": 1})
    job = TenantJob(cnpj=cnpj.value, instant=datetime.now(UTC), tick_id="today", force=True)
    created = sum(outcome.created for outcome in process_tenant(job, deps.tenant_ports()))
    # every target planned (or expired: a birthday found after its window closed), and logged
    wait_until(lambda: _planned(deps, cnpj) == created)
    return cnpj


def _planned(deps: Container, cnpj: Cnpj) -> int:
    messages = dashboard(deps.dashboard_ports(), cnpj, datetime.now(UTC)).messages
    return messages.waiting + messages.expired


def wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the stack did not get there in time"
        time.sleep(0.5)


def test_home_shows_todays_run_of_each_campaign_as_the_api_reports_it(
    console_url: str, ran_today: Cnpj, api_as: Client, deps: Container
) -> None:
    deps.campaigns.pause(ran_today, "WELCOME", "WhatsApp error 131048: spam rate limit")
    browser = sign_in(console_url, ran_today, Role.VIEWER)
    page = browser.get(f"{console_url}/", timeout=60)
    assert page.status_code == 200, page.text
    board = api_as(ran_today).get("/api/v1/dashboard").json()
    text = html.unescape(page.text)
    for entry in board["campaigns"]:
        run = entry["run"]
        if run is None or run["status"] != "done":
            continue
        assert run["candidates"] > 0 or entry["campaign_id"] != "REACTIVATION"
        kind = entry["campaign_id"]
        assert figure(text, "candidates", kind) == str(run["candidates"])
        assert figure(text, "created", kind) == str(run["created"])
        assert figure(text, "skipped", kind) == str(sum(run["skipped"].values()))
    skipped = {
        reason: count
        for entry in board["campaigns"]
        if entry["run"]
        for reason, count in entry["run"]["skipped"].items()
    }
    assert skipped, "the sample has phones to skip"
    for reason in skipped:
        assert f'data-reason="{reason}"' in text
        assert labels.SKIP_REASON[reason] in text
    assert 'data-alert="campaign_paused"' in text
    assert "limite do WhatsApp por mensagens marcadas como spam" in text

    messages = fragment(browser, console_url, page.text, "/inicio/mensagens")
    assert messages.lstrip().startswith('<section id="mensagens"')
    assert 'hx-trigger="load' not in messages  # loaded once, not again and again
    for name in ("sent", "delivered", "read", "failed", "waiting"):
        assert figure(messages, f"today-{name}") == str(board["messages"][name])
    assert board["messages"]["waiting"] > 0
    for entry in board["campaigns"]:  # each card's line comes with them, to its card by id
        line_id = f'id="hoje-{entry["campaign_id"]}"'
        assert line_id in text
        line = messages[messages.index(line_id) :].split("</p>")[0]
        assert 'hx-swap-oob="true"' in line
        assert " ".join(line.split()).endswith(f"{entry['messages']['waiting']} aguardando")
    days = fragment(browser, console_url, page.text, "/inicio/30-dias")
    assert days.count('class="chart chart-wide"') == 2
    daily = api_as(ran_today).get("/api/v1/analytics/daily?days=30").json()
    assert figure(days, "period-sent") == str(daily["sent"])


def test_the_list_filters_like_the_api_and_names_a_bad_filter(
    console_url: str, ran_today: Cnpj, api_as: Client
) -> None:
    browser = sign_in(console_url, ran_today)
    listed = browser.get(f"{console_url}/campanhas?status=running&sort=name&order=asc", timeout=60)
    assert listed.status_code == 200
    api = api_as(ran_today).get("/api/v1/campaigns?status=running&sort=name&order=asc").json()
    shown = re.findall(r'<tr data-campaign="([A-Z_0-9]+)"', listed.text)
    assert shown == [c["id"] for c in api["items"]] and shown
    progress = (
        api_as(ran_today)
        .get("/api/v1/analytics/progress", params=[("campaign_id", i) for i in shown])
        .json()["items"]
    )
    assert 'id="progresso-' in listed.text and "<progress" not in listed.text
    bars = fragment(browser, console_url, listed.text, "/campanhas/progresso")
    for item in progress:
        cell = bars[bars.index(f'id="progresso-{item["campaign_id"]}"') :].split("</td>")[0]
        assert f'value="{item["sent"]}"' in cell and 'hx-swap-oob="true"' in cell
        assert f'id="progresso-{item["campaign_id"]}"' in listed.text

    bad = browser.get(f"{console_url}/campanhas?created_from=ontem&status=running", timeout=60)
    assert bad.status_code == 200
    assert 'id="created_from-erro"' in bad.text and "Data inválida." in bad.text
    assert sorted(re.findall(r'<tr data-campaign="([A-Z_0-9]+)"', bad.text)) == sorted(shown)


def test_a_campaign_page_lists_its_recipients_and_filters_them(
    console_url: str, ran_today: Cnpj, api_as: Client, deps: Container
) -> None:
    browser = sign_in(console_url, ran_today)
    recipients = (
        api_as(ran_today)
        .get("/api/v1/campaigns/LOYALTY/recipients", params={"page_size": 25})
        .json()
    )
    assert recipients["items"]
    page = browser.get(f"{console_url}/campanhas/LOYALTY", timeout=60)
    assert page.status_code == 200, page.text
    assert "Carregando os destinatários…" in page.text  # below the fold: loaded right after
    page = browser.get(f"{console_url}/campanhas/LOYALTY/destinatarios", timeout=60)
    rows = re.findall(r'<td class="phone"[^>]*>([^<]*)</td>', page.text)
    assert rows == [item["phone"] for item in recipients["items"]]
    assert "Próxima página" in page.text or recipients["next_page_token"] is None

    part = browser.get(
        f"{console_url}/campanhas/LOYALTY/destinatarios", params={"situacao": "FAILED"}, timeout=60
    )
    assert part.status_code == 200
    assert (
        part.text.lstrip().startswith("<section")
        and "Nenhuma mensagem nesta situação." in part.text
    )
    filtered = browser.get(f"{console_url}/campanhas/LOYALTY?situacao=QUEUED", timeout=60).text
    assert set(re.findall(r'data-status="([A-Z]+)"', filtered)) == {Status.QUEUED.value}


def test_another_tenants_campaign_pages_are_not_found(
    console_url: str, ran_today: Cnpj, sample_tenant: SampleTenant, api_as: Client
) -> None:
    body = {"name": "Minha", "segmentation": {"include_all": True}, "templates": []}
    mine = api_as(ran_today).post("/api/v1/campaigns", json=body).json()["id"]
    stranger = sign_in(console_url, sample_tenant(customers=5))
    for path in ("", "/destinatarios", "/numeros", "/envios"):
        assert stranger.get(f"{console_url}/campanhas/{mine}{path}", timeout=60).status_code == 404
    foreign = stranger.get(f"{console_url}/campanhas/progresso?campaign_id={mine}", timeout=60)
    assert foreign.status_code == 200 and 'value="0"' in foreign.text  # not theirs: 0 of 0


def test_a_campaign_page_shows_at_once_and_loads_its_numbers_after(
    console_url: str, ran_today: Cnpj, api_as: Client
) -> None:
    browser = sign_in(console_url, ran_today)
    page = browser.get(f"{console_url}/campanhas/REACTIVATION", timeout=60)
    assert page.status_code == 200, page.text
    assert "Carregando números…" in page.text and 'data-figure="recipients"' not in page.text
    figures = api_as(ran_today).get("/api/v1/campaigns/REACTIVATION/analytics").json()
    numbers = fragment(browser, console_url, page.text, "/campanhas/REACTIVATION/numeros")
    assert numbers.lstrip().startswith('<section id="numeros"')
    assert figure(numbers, "recipients") == str(figures["metrics"]["total_recipients"])
    assert figure(numbers, "responses") == str(figures["metrics"]["responses"])
    assert 'hx-trigger="every 3s"' in numbers  # the campaign runs: the numbers keep coming
    sends = fragment(browser, console_url, page.text, "/campanhas/REACTIVATION/envios")
    daily = (
        api_as(ran_today)
        .get("/api/v1/analytics/daily", params={"days": 30, "campaign_id": "REACTIVATION"})
        .json()
    )
    assert figure(sends, "period-sent") == str(daily["sent"])
    assert sends.count('class="chart chart-wide"') == 1


def test_without_bigquery_the_pages_still_show_and_each_part_says_it_could_not_load(
    console_url: str, ran_today: Cnpj, deps: Container
) -> None:
    """The tenant's message history gone: every query of the fragments fails, as when
    BigQuery is unreachable; the pages, which read only Firestore, are whole."""
    deps.bigquery_client.delete_table(f"{ran_today.campaign_dataset}.message_history")
    browser = sign_in(console_url, ran_today)
    for path, shown in (
        ("/", 'data-figure="candidates"'),
        ("/campanhas", '<tr data-campaign="REACTIVATION"'),
        ("/campanhas/REACTIVATION", "Carregando os destinatários…"),
    ):
        page = browser.get(f"{console_url}{path}", timeout=60)
        assert page.status_code == 200, page.text
        assert shown in page.text
        loads = fragments(console_url, page.text)
        assert loads, path
        for address in loads:
            part = browser.get(address, timeout=60)
            assert part.status_code == 200, (address, part.text)
            if "/destinatarios" in address:  # Firestore's targets: whole without BigQuery
                assert 'class="recipient"' in part.text, address
            elif "/previsao" in address:  # a built-in's forecast reads Firestore alone
                assert "Previsão de envio" in part.text, address
                assert "data-failed" not in part.text, address
            else:
                assert "Não foi possível carregar agora." in part.text, address
