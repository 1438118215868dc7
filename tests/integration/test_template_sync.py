"""The template library synced from the tenant's WhatsApp Business account, on the local stack:
the sandbox plays Meta's ``message_templates``; the API syncs, lists and refuses a start on a
template Meta would refuse."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
import requests

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.cli.main import main as cli
from shared.domain.approved_templates import DEFAULT_TEMPLATES as DEFAULTS
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import LOCAL_WHATSAPP
from shared.localstack.template_registry import LOCAL_TEMPLATES
from shared.services.tenants import register_tenant
from tests.campaign_records import edit_built_in
from tests.integration import api_fixtures, delivery_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE
from tests.integration.delivery_fixtures import SandboxClient, wait_until

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
sandbox = delivery_fixtures.sandbox

Client = Callable[..., ApiClient]
DEFAULT_ACCOUNT = LOCAL_WHATSAPP["WHATSAPP_BUSINESS_ACCOUNT_ID"]

PROMO = {
    "name": "promo_junho",
    "language": "pt_BR",
    "category": "MARKETING",
    "parameter_format": "NAMED",
    "status": "APPROVED",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Junho na lavanderia"},
        {"type": "BODY", "text": "Oi {{first_name}}, use o cupom {{voucherCode}}!"},
        {"type": "FOOTER", "text": "Responda SAIR para não receber ofertas"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Parar promoções"}]},
    ],
}
PAUSED = {
    "name": "lavagem_em_dobro",
    "category": "UTILITY",
    "status": "PAUSED",
    "components": [{"type": "BODY", "text": "{{1}}, hoje a lavagem vale em dobro."}],
}


@pytest.fixture
def account(deps: Container, new_cnpj: Cnpj, sandbox: SandboxClient) -> tuple[Cnpj, str]:
    """A tenant with a WhatsApp Business account of its own in the sandbox (seeded, as every
    account there, with the default templates), plus a NAMED and a PAUSED template."""
    tenant = register_tenant(
        new_cnpj,
        name="Lavanderia Sincronizada",
        timezone=None,
        tenants=deps.tenants,
        warehouse=None,
        queues=None,
        templates=deps.templates,
    )
    waba_id = str(random.SystemRandom().randrange(10**14, 10**15))
    delivery = tenant.delivery.model_copy(update={"business_account_id": waba_id})
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    for template in (PROMO, PAUSED):
        _put(sandbox, waba_id, template)
    return new_cnpj, waba_id


def _put(
    sandbox: SandboxClient, waba_id: str, template: dict[str, Any], notify: bool = False
) -> None:
    body: dict[str, Any] = {"waba_id": waba_id, "template": template, "notify": notify}
    answer = requests.post(f"{sandbox.base_url}/_sandbox/templates", json=body, timeout=10)
    answer.raise_for_status()


def _listed(client: ApiClient) -> dict[str, dict[str, Any]]:
    answer = client.get("/api/v1/templates")
    assert answer.status_code == 200, answer.text
    return {item["name"]: item for item in answer.json()["items"]}


def _campaign_on(client: ApiClient, name: str, content: str) -> str:
    body = SIMPLE | {
        "templates": [
            {
                "name": "Oferta",
                "content": content,
                "variable_values": {"voucherCode": "JUN10", "x": "1"},
                "whatsapp_template": {"name": name, "language": "pt_BR"},
            }
        ]
    }
    created = client.post("/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_sync_stores_the_accounts_templates_with_status_and_category(
    api_as: Client, account: tuple[Cnpj, str], deps: Container
) -> None:
    cnpj, waba_id = account
    assert api_as(cnpj, Role.EDITOR).post("/api/v1/templates/sync").status_code == 403
    answer = api_as(cnpj, Role.ADMIN).post("/api/v1/templates/sync")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["business_account_id"] == waba_id
    # New: the two above and the sandbox's own extras; the seeded defaults without components
    # gain them (the rich ones are seeded with Meta's components already).
    bare = [t for t in DEFAULTS if not t.components]
    assert (report["added"], report["updated"]) == (2 + len(LOCAL_TEMPLATES), len(bare))
    assert (report["missing"], report["skipped"]) == (0, [])
    assert report["not_approved"] == ["lavagem_em_dobro@pt_BR: PAUSED"]

    listed = _listed(api_as(cnpj, Role.VIEWER))
    promo, paused = listed["promo_junho"], listed["lavagem_em_dobro"]
    assert (promo["status"], promo["category"], promo["parameter_format"]) == (
        "APPROVED",
        "MARKETING",
        "NAMED",
    )
    assert promo["parameters"] == ["first_name", "voucherCode"]
    assert [c["type"] for c in promo["components"]] == ["HEADER", "BODY", "FOOTER", "BUTTONS"]
    assert (paused["status"], paused["category"]) == ("PAUSED", "UTILITY")
    assert paused["parameters"] == ["parametro_1"]  # Meta does not say what fills {{1}}
    birthday = listed["feliz_aniversario"]
    assert birthday["parameters"] == ["first_name"] and birthday["on_meta"] is True
    assert birthday["synced_at"] is not None

    again = api_as(cnpj).post("/api/v1/templates/sync").json()
    assert (again["added"], again["updated"], again["missing"]) == (0, 0, 0)
    assert len(deps.templates.list(cnpj)) == len(listed)


def test_a_template_gone_or_not_approved_is_kept_marked_and_refused_at_start(
    api_as: Client, account: tuple[Cnpj, str], sandbox: SandboxClient
) -> None:
    cnpj, waba_id = account
    client = api_as(cnpj, Role.ADMIN)
    gone = _campaign_on(client, "cupom_desconto", "{{first_name}} {{voucherCode}}")
    paused = _campaign_on(client, "lavagem_em_dobro", "{{x}}, hoje em dobro.")
    deleted = requests.delete(
        f"{sandbox.base_url}/_sandbox/templates",
        params={"waba_id": waba_id, "name": "cupom_desconto", "language": "pt_BR"},
        timeout=10,
    )
    assert deleted.json() == {"deleted": True}
    report = client.post("/api/v1/templates/sync").json()
    assert report["missing"] == 1

    listed = _listed(client)
    assert listed["cupom_desconto"]["on_meta"] is False  # kept, marked
    for campaign_id, name in ((gone, "cupom_desconto"), (paused, "lavagem_em_dobro")):
        answer = client.post(f"/api/v1/campaigns/{campaign_id}/start")
        assert answer.status_code == 422, answer.text
        problem = answer.json()
        assert name in problem["detail"]
        assert problem["errors"][0]["field"] == "templates[0].whatsapp_template"

    _put(sandbox, waba_id, {**PAUSED, "status": "APPROVED"})
    assert client.post("/api/v1/templates/sync").json()["updated"] == 1
    assert _listed(client)["lavagem_em_dobro"]["status"] == "APPROVED"


def test_the_cli_syncs_a_tenants_templates(
    account: tuple[Cnpj, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cnpj, waba_id = account
    assert cli(["templates", "sync", cnpj.value]) == 0
    out = capsys.readouterr().out
    assert f"account {waba_id}:" in out and f"{2 + len(LOCAL_TEMPLATES)} added" in out
    assert "not approved: lavagem_em_dobro@pt_BR: PAUSED" in out


def test_a_template_paused_by_meta_pauses_its_campaigns_until_approved_again(
    api_as: Client, deps: Container, new_cnpj: Cnpj, sandbox: SandboxClient
) -> None:
    register_tenant(
        new_cnpj,
        name="Lavanderia Pausada",
        timezone=None,
        tenants=deps.tenants,
        warehouse=None,
        queues=None,
        templates=deps.templates,
        campaigns=deps.campaigns,
        now=deps.clock(),
    )
    template = {**PAUSED, "name": "volta_logo", "status": "APPROVED"}
    _put(sandbox, DEFAULT_ACCOUNT, template)  # the account of tenants that set none
    client = api_as(new_cnpj, Role.ADMIN)
    assert client.post("/api/v1/templates/sync").status_code == 200
    edit_built_in(
        deps.campaigns,
        new_cnpj,
        "REACTIVATION",
        templates=[
            {
                "name": "Volta",
                "content": "{{first_name}}, hoje a lavagem vale em dobro.",
                "whatsapp_template": {"name": "volta_logo", "language": "pt_BR"},
            }
        ],
    )

    _put(sandbox, DEFAULT_ACCOUNT, {**template, "status": "PAUSED"}, notify=True)
    paused = wait_until(
        lambda: (
            c
            if (c := deps.campaigns.get(new_cnpj, "REACTIVATION")) and c.status == "paused"
            else None
        ),
        "the campaign paused by the template's status webhook",
    )
    assert "volta_logo" in paused.status_reason and "PAUSED" in paused.status_reason
    assert _listed(client)["volta_logo"]["status"] == "PAUSED"
    birthday = deps.campaigns.get(new_cnpj, "BIRTHDAY")
    assert birthday is not None and birthday.status == "running"  # another template: untouched
    refused = client.post("/api/v1/campaigns/REACTIVATION/resume")
    assert refused.status_code == 422 and "volta_logo" in refused.json()["detail"]
    switched_on = client.patch("/api/v1/campaigns/REACTIVATION", json={"enabled": True})
    assert switched_on.status_code == 422 and "volta_logo" in switched_on.json()["detail"]

    _put(sandbox, DEFAULT_ACCOUNT, template, notify=True)
    wait_until(
        lambda: True if _listed(client)["volta_logo"]["status"] == "APPROVED" else None,
        "the library approved again by the webhook",
    )
    resumed = client.post("/api/v1/campaigns/REACTIVATION/resume")
    assert resumed.status_code == 200, resumed.text
