"""Rich template sends against the sandbox's Meta-like shape checks, over real HTTP.

Every body is built by the code the pipeline sends with (``requests_body``), so an accepted case
proves our payload has Meta's shape for each component type, and each refused case is one
mistake Meta would refuse (its code; see :mod:`shared.localstack.template_shapes`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from shared.domain.campaign_settings import TemplateRef
from shared.localstack.whatsapp_sandbox import Sandbox, SandboxConfig, serving
from shared.whatsapp.requests_body import rich_components, template_message

TOKEN, PHONE_ID, WABA, CUSTOMER = "test-token", "1234567890", "100000000000000", "+5561999990001"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FIELDS = {
    "first_name": "Ana",
    "voucherCode": "LAVA10",
    "voucherValue": "10%",
    "voucherExpiresAt": "31/12",
    "cidade": "Brasília",
}
REGISTERED: tuple[dict[str, Any], ...] = (
    {
        "name": "boleto_documento",
        "components": [
            {"type": "HEADER", "format": "DOCUMENT"},
            {"type": "BODY", "text": "{{1}}, segue o seu boleto."},
        ],
    },
    {
        "name": "cabecalho_texto",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Novidades em {{1}}"},
            {"type": "BODY", "text": "{{1}}, abrimos uma loja nova."},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Quero saber"}]},
        ],
    },
    {
        "name": "link_rastreado",
        "components": [
            {"type": "BODY", "text": "{{1}}, veja a oferta."},
            {
                "type": "BUTTONS",
                "buttons": [{"type": "URL", "text": "Ver", "url": "https://links.example/l/{{1}}"}],
            },
        ],
    },
)


class Box:
    def __init__(self, url: str) -> None:
        self.url = url
        for template in REGISTERED:
            body: dict[str, Any] = {"waba_id": WABA, "template": template}
            requests.post(f"{url}/_sandbox/templates", json=body, timeout=5).raise_for_status()

    def upload(self, mime: str, size: int) -> requests.Response:
        return requests.post(
            f"{self.url}/v21.0/{PHONE_ID}/media",
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": ("f.bin", b"x" * size, mime)},
            headers=AUTH,
            timeout=5,
        )

    def send(self, body: dict[str, Any]) -> requests.Response:
        url = f"{self.url}/v21.0/{PHONE_ID}/messages"
        return requests.post(url, json=body, headers=AUTH, timeout=5)


@pytest.fixture(scope="module")
def box() -> Iterator[Box]:
    sandbox = Sandbox(SandboxConfig(access_token=TOKEN, webhook_url="http://127.0.0.1:9/none"))
    try:
        with serving(sandbox) as url:
            yield Box(url)
    finally:
        sandbox.close()


def body(ref: dict[str, Any]) -> dict[str, Any]:
    template = TemplateRef.model_validate(ref)
    values = [str(FIELDS[p]) for p in template.parameters]
    rich = rich_components(template, FIELDS, lambda name: f"16867571000168/tok-{name}")
    return template_message(CUSTOMER, template, values, "cb", rich=rich)


COUPON = {
    "name": "cupom_desconto",
    "parameters": ["first_name", "voucherCode", "voucherValue", "voucherExpiresAt"],
    "buttons": [{"type": "copy_code", "index": 0}],
}
IMAGE = {
    "name": "oferta_com_imagem",
    "parameters": ["first_name"],
    "header": {"type": "image", "link": "https://cdn.example.com/promo.jpg"},
    "buttons": [
        {"type": "url", "suffix": "semana"},
        {"type": "quick_reply", "index": 1, "payload": "stop_promotions"},
    ],
}
TEXT_HEADER = {
    "name": "cabecalho_texto",
    "parameters": ["first_name"],
    "header": {"type": "text", "text_variable": "cidade"},
    "buttons": [{"type": "quick_reply", "payload": "interesse:loja"}],
}
TRACKED = {
    "name": "link_rastreado",
    "parameters": ["first_name"],
    "buttons": [{"type": "url", "url": "https://lavanderia.example/promo"}],
}


@pytest.mark.parametrize(
    ("ref", "shape"),
    [
        (COUPON, [("button", "copy_code", "0")]),
        (IMAGE, [("header", None, None), ("button", "url", "0"), ("button", "quick_reply", "1")]),
        (TEXT_HEADER, [("header", None, None), ("button", "quick_reply", "0")]),
        (TRACKED, [("button", "url", "0")]),
    ],
    ids=["copy_code", "image_url_quick_reply", "text_header", "tracked_url"],
)
def test_every_component_type_is_accepted(
    box: Box, ref: dict[str, Any], shape: list[tuple[str, str | None, str | None]]
) -> None:
    answer = box.send(body(ref))
    assert answer.status_code == 200, answer.text
    accepted = requests.get(f"{box.url}/_sandbox/messages", timeout=5).json()
    wamid = answer.json()["messages"][0]["id"]
    (message,) = [m for m in accepted if m["wamid"] == wamid]
    sent = body(ref)["template"]["components"]
    assert message["components"] == [c for c in sent if c["type"] != "body"]
    # The parts Meta gets, in its order: the header, then each button at its approved index.
    assert [(c["type"], c.get("sub_type"), c.get("index")) for c in message["components"]] == shape


def test_a_document_header_by_uploaded_media_id_is_accepted_and_an_unknown_id_refused(
    box: Box,
) -> None:
    media_id = box.upload("application/pdf", 2048).json()["id"]
    ref: dict[str, Any] = {
        "name": "boleto_documento",
        "parameters": ["first_name"],
        "header": {"type": "document", "media_id": media_id, "filename": "boleto.pdf"},
    }
    sent = body(ref)
    assert sent["template"]["components"][0] == {
        "type": "header",
        "parameters": [
            {"type": "document", "document": {"id": media_id, "filename": "boleto.pdf"}}
        ],
    }
    assert box.send(sent).status_code == 200
    ref["header"]["media_id"] = "999"
    refused = box.send(body(ref))
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, 131053)


def test_the_upload_checks_type_and_size(box: Box) -> None:
    assert box.upload("image/png", 10).status_code == 200
    assert box.upload("image/gif", 10).json()["error"]["code"] == 100
    assert box.upload("image/jpeg", 5 * 1024 * 1024 + 1).json()["error"]["code"] == 100


def _without_header(sent: dict[str, Any]) -> None:
    sent["template"]["components"].pop(0)


def _header_type(kind: str) -> Any:
    def change(sent: dict[str, Any]) -> None:
        sent["template"]["components"][0]["parameters"][0] = {
            "type": kind,
            kind: {"link": "https://x.example/a"},
        }

    return change


def _http_link(sent: dict[str, Any]) -> None:
    sent["template"]["components"][0]["parameters"][0]["image"]["link"] = "http://x.example/a.jpg"


def _filename_on_image(sent: dict[str, Any]) -> None:
    sent["template"]["components"][0]["parameters"][0]["image"]["filename"] = "a.jpg"


def _button(field: str, value: Any) -> Any:
    def change(sent: dict[str, Any]) -> None:
        buttons = [c for c in sent["template"]["components"] if c["type"] == "button"]
        buttons[0][field] = value

    return change


def _drop_buttons(sent: dict[str, Any]) -> None:
    components = sent["template"]["components"]
    components[:] = [c for c in components if c["type"] != "button"]


def _long_coupon(sent: dict[str, Any]) -> None:
    button = next(c for c in sent["template"]["components"] if c["type"] == "button")
    button["parameters"][0]["coupon_code"] = "X" * 16


@pytest.mark.parametrize(
    ("ref", "mistake", "code"),
    [
        (IMAGE, _without_header, 132012),
        (IMAGE, _header_type("video"), 132012),
        (IMAGE, _http_link, 131009),
        (IMAGE, _filename_on_image, 132012),
        (IMAGE, _button("sub_type", "copy_code"), 132012),
        (IMAGE, _button("index", "5"), 132000),
        (IMAGE, _drop_buttons, 132000),
        (COUPON, _long_coupon, 132012),
        (COUPON, _drop_buttons, 132000),
        ({"name": "boas_vindas", "parameters": ["first_name"]}, None, 132000),
    ],
    ids=[
        "media_header_missing",
        "header_wrong_format",
        "link_not_https",
        "filename_on_image",
        "button_wrong_sub_type",
        "button_index_absent",
        "url_suffix_missing",
        "coupon_too_long",
        "copy_code_missing",
        "header_on_a_template_without",
    ],
)
def test_each_shape_mistake_is_refused_with_metas_code(
    box: Box, ref: dict[str, Any], mistake: Any, code: int
) -> None:
    sent = body(ref)
    if mistake is None:  # a header the template does not have
        header = {
            "type": "header",
            "parameters": [{"type": "image", "image": {"link": "https://x.example/a.jpg"}}],
        }
        sent["template"]["components"].insert(0, header)
    else:
        mistake(sent)
    before = copy.deepcopy(sent)
    answer = box.send(sent)
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, code), before
