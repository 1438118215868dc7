"""Meta's template checks as a send outcome, on the local stack: the sandbox refuses a template
its registry does not hold (132001) or a body with the wrong number of parameters (132000), and
the pipeline treats both as configuration errors: the target FAILED with the code, nothing
accepted, the campaign paused with the code in its reason."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import pytest
import requests

from shared.clock import SettableClock
from shared.domain.delivery_status import Status
from shared.services.campaigns import change_status
from shared.services.send import send_message
from tests.campaign_records import edit_built_in
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import DeliveryTenant, SandboxClient, TenantFactory

delivery_tenant = delivery_fixtures.delivery_tenant
sandbox = delivery_fixtures.sandbox


def _birthday_sends(tenant: DeliveryTenant, template: str, content: str) -> None:
    """The tenant's birthday campaign sends WhatsApp template ``template`` (pt_BR)."""
    edit_built_in(
        tenant.deps.campaigns,
        tenant.cnpj,
        "BIRTHDAY",
        templates=[
            {
                "name": "Aniversário",
                "content": content,
                "whatsapp_template": {"name": template, "language": "pt_BR"},
            }
        ],
    )


@pytest.mark.parametrize(
    ("template", "content", "code"),
    [
        ("natal_inexistente", "Feliz Natal, {{first_name}}!", 132001),
        ("feliz_aniversario", "Oi {{first_name}}, {{visit_count}} visitas!", 132000),
    ],
    ids=["unknown_template", "wrong_parameter_count"],
)
def test_a_send_meta_would_refuse_fails_with_its_code_and_pauses_the_campaign(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, template: str, content: str, code: int
) -> None:
    tenant = delivery_tenant()
    _birthday_sends(tenant, template, content)
    target = tenant.target()
    (ref,) = tenant.create(target)

    failed = tenant.wait_status(ref, {Status.FAILED})
    assert (failed.error_code, failed.attempts) == (code, 1)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 0}
    campaign = tenant.deps.campaigns.get(tenant.cnpj, "BIRTHDAY")
    assert campaign is not None and campaign.pipeline.paused is True
    assert str(code) in campaign.pipeline.paused_reason


def test_a_template_meta_paused_before_its_webhook_came_holds_the_message_until_resumed(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    name = f"pausa_{secrets.token_hex(4)}"
    sandbox.approve_template(name, "Feliz aniversário, {{1}}!")
    _birthday_sends(tenant, name, "Feliz aniversário, {{first_name}}!")
    # Meta pauses it; its status webhook has not come (or was lost): the send finds out.
    set_status(sandbox, name, "PAUSED")
    target = tenant.target()
    (ref,) = tenant.create(target)

    held = tenant.wait(ref, lambda record: record.task_generation == 2, "planned again")
    assert held.status is Status.QUEUED and held.error_code is None
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 0}
    campaign = tenant.deps.campaigns.get(tenant.cnpj, "BIRTHDAY")
    assert campaign is not None and campaign.status == "paused"
    assert "132015" in campaign.status_reason

    set_status(sandbox, name, "APPROVED")
    now = tenant.deps.clock()
    change_status(tenant.deps.campaign_ports(), tenant.cnpj, "BIRTHDAY", "resume", now=now)
    # Its task runs at its planned time (a pause's recheck, 15 minutes on): it goes once.
    assert held.planned_at is not None
    at_its_time = replace(tenant.ports, clock=SettableClock(held.planned_at))
    assert send_message(ref, held.task_generation, at_its_time).status is Status.SENT
    assert send_message(ref, held.task_generation, at_its_time).status is Status.SENT
    assert tenant.load(ref).attempts == 2
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}


def set_status(sandbox: SandboxClient, name: str, status: str) -> None:
    """Meta changes the template's status; no webhook is sent."""
    template: dict[str, Any] = {
        "name": name,
        "status": status,
        "components": [{"type": "BODY", "text": "Feliz aniversário, {{1}}!"}],
    }
    answer = requests.post(
        f"{sandbox.base_url}/_sandbox/templates", json={"template": template}, timeout=10
    )
    answer.raise_for_status()
