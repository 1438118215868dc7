"""Rich templates through the local stack: a campaign's header and buttons go from its record
through enqueue and send to the sandbox, which checks them the way Meta does and accepts them.
A tracked URL button's suffix is the tracked link's path, and following it lands where the
campaign said (the same redirect as a body link)."""

from __future__ import annotations

from typing import Any

import requests

from shared.domain.tracked_links import LinkRef
from tests.campaign_records import edit_built_in
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import DONE, SandboxClient, TenantFactory

delivery_tenant = delivery_fixtures.delivery_tenant
sandbox = delivery_fixtures.sandbox

IMAGE = "https://cdn.lavo.example/semana.jpg"
PROMO = "https://lavo.example/promo?c=semana"


def _send_one(
    tenant: Any, sandbox: SandboxClient, template: dict[str, Any], data: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    edit_built_in(tenant.deps.campaigns, tenant.cnpj, "BIRTHDAY", templates=[template])
    target = tenant.target(data=data)
    (ref,) = tenant.create(target)
    record = tenant.wait_status(ref, DONE)
    (message,) = sandbox.messages([target.phone])
    return ref, {"record": record, **message}


def test_an_image_header_url_suffix_and_copy_code_are_sent_and_accepted(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    _, image = _send_one(
        tenant,
        sandbox,
        {
            "name": "Imagem",
            "content": "x {{first_name}}",
            "template_type": "image",
            "media_url": IMAGE,
            "buttons": [{"type": "url", "suffix": "semana"}],
            "whatsapp_template": {"name": "oferta_com_imagem"},
        },
        {},
    )
    assert image["record"].wamid and image["components"] == [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": IMAGE}}]},
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "semana"}],
        },
    ]

    voucher = {"voucherCode": "ANA10", "voucherValue": "10%", "voucherExpiresAt": "31/12"}
    _, coupon = _send_one(
        tenant,
        sandbox,
        {
            "name": "Cupom",
            "content": "{{first_name}} {{voucherCode}} {{voucherValue}} {{voucherExpiresAt}}",
            "buttons": [{"type": "copy_code"}],
            "whatsapp_template": {"name": "cupom_desconto"},
        },
        voucher,
    )
    assert coupon["parameters"][1] == "ANA10" and coupon["components"] == [
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "0",
            "parameters": [{"type": "coupon_code", "coupon_code": "ANA10"}],
        },
    ]


def test_a_tracked_url_button_goes_through_the_redirect(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    button = {"type": "URL", "text": "Ver", "url": "https://links.lavo.example/l/{{1}}"}
    sandbox.approve_template(
        "botao_rastreado", "Oi {{1}}!", extra=[{"type": "BUTTONS", "buttons": [button]}]
    )
    ref, message = _send_one(
        tenant,
        sandbox,
        {
            "name": "Rastreado",
            "content": "Oi {{first_name}}!",
            "buttons": [{"type": "url", "url": PROMO}],
            "whatsapp_template": {"name": "botao_rastreado"},
        },
        {},
    )
    (component,) = message["components"]
    suffix = component["parameters"][0]["text"]
    signer = tenant.deps.link_signer
    assert signer is not None, "the local stack sets LINK_SECRET"
    assert suffix == signer.path(LinkRef(ref, "button_0")) and PROMO not in suffix
    answer = requests.get(
        signer.url(LinkRef(ref, "button_0")),
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile"},
        allow_redirects=False,
        timeout=30,
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, PROMO)
