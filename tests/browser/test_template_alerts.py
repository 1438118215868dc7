"""Início's alerts about WhatsApp templates, as the owner meets them on a phone: the words, the
dismiss button (a CSRF'd form), and no serious accessibility problem or sideways scrolling."""

from __future__ import annotations

import random
from collections.abc import Callable

from playwright.sync_api import Page, expect

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.services.webhooks import handle_webhook
from tests.browser.conftest import axe_violations, horizontal_overflow, keep_screenshot, sign_in

TEMPLATE = {"message_template_name": "sentimos_sua_falta", "message_template_language": "pt_BR"}


def _own_account(deps: Container, cnpj: Cnpj) -> str:
    """The tenant on a WhatsApp Business account of its own: no other tenant sees its events."""
    tenant = deps.tenants.get(cnpj)
    assert tenant is not None
    waba_id = str(random.SystemRandom().randrange(10**14, 10**15))
    delivery = tenant.delivery.model_copy(update={"business_account_id": waba_id})
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    return waba_id


def test_a_paused_template_is_shown_on_home_and_dismissed_on_a_phone(
    phone: Page, console_url: str, deps: Container, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=5)
    waba_id = _own_account(deps, cnpj)
    changes = [
        {"field": "message_template_status_update", "value": {**TEMPLATE, "event": "PAUSED"}},
        {
            "field": "template_category_update",
            "value": {**TEMPLATE, "previous_category": "UTILITY", "new_category": "MARKETING"},
        },
    ]
    entry = {"id": waba_id, "time": 1_796_000_000, "changes": changes}
    handle_webhook({"object": "whatsapp_business_account", "entry": [entry]}, deps.delivery_ports())

    sign_in(phone, console_url, cnpj, Role.EDITOR)
    paused = phone.locator('[data-alert="template_status"]')
    expect(paused).to_contain_text("O template sentimos_sua_falta foi pausado pelo WhatsApp")
    expect(paused).to_contain_text("as campanhas que o usam estão pausadas")
    expect(phone.locator('[data-alert="template_category"]')).to_contain_text(
        "agora é cobrado como marketing"
    )
    assert horizontal_overflow(phone) == 0
    violations = axe_violations(phone)
    assert [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations] == []
    keep_screenshot(phone, "home-template-alerts")

    paused.get_by_role("button", name="Dispensar o aviso sobre sentimos_sua_falta").click()

    expect(phone.get_by_role("heading", name="Início")).to_be_visible()
    expect(phone.locator('[data-alert="template_status"]')).to_have_count(0)
    expect(phone.locator('[data-alert="template_category"]')).to_have_count(1)
