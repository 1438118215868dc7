"""Template alerts over HTTP: Início shows them (escaped), an editor dismisses one with the
session's CSRF token, ``GET /api/v1/alerts`` lists the open ones, and a campaign's cost says
when its template is now billed as marketing. The browser's view is in
``tests/browser/test_template_alerts.py``."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.alerts import Alert, alert_id
from shared.domain.cnpj import Cnpj
from tests.integration import api_fixtures, console_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.console_fixtures import csrf_of, sign_in
from tests.integration.test_template_alerts import on_own_account, template_event

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
console_url = console_fixtures.console_url

TEMPLATE = {"message_template_name": "sentimos_sua_falta", "message_template_language": "pt_BR"}
PAUSED_TEXT = (
    "O template sentimos_sua_falta foi pausado pelo WhatsApp: "
    "as campanhas que o usam estão pausadas."
)


@pytest.fixture
def tenant(deps: Container, new_cnpj: Cnpj) -> tuple[Cnpj, str]:
    """A tenant on a WhatsApp Business account of its own, with BigQuery datasets (the
    campaign's numbers read them)."""
    return on_own_account(deps, new_cnpj, "Lavanderia Avisada", deps.warehouse)


def _open_ids(client: ApiClient) -> list[str]:
    answer = client.get("/api/v1/alerts")
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_a_paused_template_is_an_alert_on_home_dismissed_by_an_editor_only_with_its_token(
    deps: Container,
    tenant: tuple[Cnpj, str],
    console_url: str,
    api_as: Callable[..., ApiClient],
) -> None:
    cnpj, waba_id = tenant
    template_event(deps, waba_id, "message_template_status_update", {**TEMPLATE, "event": "PAUSED"})
    hostile = "<script>alert(1)</script>"  # no catalogue name can be this; escaped all the same
    forged = Alert(
        id=alert_id("template_quality", waba_id, hostile, "RED", "", "1"),
        kind="template_quality",
        template_name=hostile,
        template_language="pt_BR",
        value="RED",
        at=datetime(2026, 12, 7, 12, tzinfo=UTC),
    )
    assert deps.alerts.record(cnpj, forged)
    api = api_as(cnpj, Role.VIEWER)
    (paused_id,) = [i for i in _open_ids(api) if i != forged.id]

    editor = sign_in(console_url, cnpj, Role.EDITOR)
    home = editor.get(f"{console_url}/", timeout=60).text
    assert PAUSED_TEXT in " ".join(html.unescape(home).split())
    assert hostile not in home and html.escape(hostile) in home
    dismiss = f"{console_url}/alertas/{paused_id}/dispensar"
    assert f"/alertas/{paused_id}/dispensar" in home

    viewer = sign_in(console_url, cnpj, Role.VIEWER)
    viewer_home = viewer.get(f"{console_url}/", timeout=60).text
    assert "/dispensar" not in viewer_home  # nothing to press
    refused = [
        editor.post(dismiss, data={}, timeout=60, allow_redirects=False),  # no token
        editor.post(dismiss, data={"csrf_token": "0" * 64}, timeout=60, allow_redirects=False),
        viewer.post(dismiss, data={"csrf_token": csrf_of(viewer_home)}, timeout=60),
    ]
    assert [answer.status_code for answer in refused] == [403, 403, 403]
    assert paused_id in _open_ids(api)

    done = editor.post(
        dismiss, data={"csrf_token": csrf_of(home)}, timeout=60, allow_redirects=False
    )
    assert done.status_code == 303
    assert _open_ids(api) == [forged.id]
    assert PAUSED_TEXT not in " ".join(html.unescape(editor.get(f"{console_url}/").text).split())
    unknown = editor.post(
        f"{console_url}/alertas/{'f' * 32}/dispensar", data={"csrf_token": csrf_of(home)}
    )
    assert unknown.status_code == 404
    audit = api_as(cnpj, Role.ADMIN).get("/api/v1/audit", params={"action": "alert.dismiss"})
    assert [e["resource"] for e in audit.json()["items"]] == [f"alerts/{paused_id}"]


def test_a_template_now_billed_as_marketing_is_said_beside_the_campaigns_cost(
    deps: Container, tenant: tuple[Cnpj, str], console_url: str
) -> None:
    cnpj, waba_id = tenant
    change = {**TEMPLATE, "previous_category": "UTILITY", "new_category": "MARKETING"}
    template_event(deps, waba_id, "template_category_update", change)
    browser = sign_in(console_url, cnpj, Role.VIEWER)

    reactivation = browser.get(f"{console_url}/campanhas/REACTIVATION/numeros", timeout=60)
    birthday = browser.get(f"{console_url}/campanhas/BIRTHDAY/numeros", timeout=60)

    assert reactivation.status_code == 200, reactivation.text
    text = " ".join(html.unescape(reactivation.text).split())
    assert "O template sentimos_sua_falta agora é cobrado como marketing" in text
    assert birthday.status_code == 200, birthday.text
    assert 'data-billing="marketing"' not in birthday.text  # another template: no note
