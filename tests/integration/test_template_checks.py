"""Meta's template checks as a send outcome, on the local stack: the sandbox refuses a template
its registry does not hold (132001) or a body with the wrong number of parameters (132000), and
the pipeline treats both as configuration errors: the target FAILED with the code, nothing
accepted, the campaign paused with the code in its reason."""

from __future__ import annotations

import pytest

from shared.domain.delivery_status import Status
from tests.campaign_records import edit_built_in
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import SandboxClient, TenantFactory

delivery_tenant = delivery_fixtures.delivery_tenant
sandbox = delivery_fixtures.sandbox


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
    target = tenant.target()
    (ref,) = tenant.create(target)

    failed = tenant.wait_status(ref, {Status.FAILED})
    assert (failed.error_code, failed.attempts) == (code, 1)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 0}
    campaign = tenant.deps.campaigns.get(tenant.cnpj, "BIRTHDAY")
    assert campaign is not None and campaign.pipeline.paused is True
    assert str(code) in campaign.pipeline.paused_reason
