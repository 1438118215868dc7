"""A template message's header and buttons: what a campaign may give, and how it is checked
against the approved template's components before start (pure)."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest

from shared.domain.approved_templates import DEFAULT_TEMPLATES
from shared.domain.campaign import MessageTemplate
from shared.domain.campaign_settings import TemplateRef
from shared.domain.errors import FieldError
from shared.domain.message_parts import ButtonValue, MessageHeader, check_against, shape_of
from shared.whatsapp.requests_body import rich_components

IMAGE = next(t for t in DEFAULT_TEMPLATES if t.name == "oferta_com_imagem").shape
COUPON = next(t for t in DEFAULT_TEMPLATES if t.name == "cupom_desconto").shape
TRACKED = shape_of(
    [
        {"type": "BODY", "text": "Oi"},
        {
            "type": "BUTTONS",
            "buttons": [{"type": "URL", "text": "Ver", "url": "https://l.example/l/{{1}}"}],
        },
    ]
)
LINK = "https://cdn.example.com/p.jpg"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"type": "image", "link": "http://cdn.example.com/p.jpg"}, "https"),
        ({"type": "image", "link": LINK, "media_id": "123"}, "exactly one"),
        ({"type": "image"}, "exactly one"),
        ({"type": "image", "link": LINK, "filename": "p.jpg"}, "filename"),
        ({"type": "image", "link": "https://cdn.example.com/p.gif"}, "image/gif"),
        (
            {"type": "video", "media_id": "1", "mime_type": "video/mp4", "size_bytes": 17 * 2**20},
            "16 MB",
        ),
        ({"type": "text", "link": LINK}, "text header"),
    ],
)
def test_a_header_meta_would_refuse_is_refused_when_given(
    header: dict[str, Any], message: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        MessageHeader.model_validate(header)


def test_a_url_button_takes_one_address_and_a_coupon_button_no_url() -> None:
    with pytest.raises(pydantic.ValidationError, match="one of"):
        ButtonValue(type="url", url="https://x.example", suffix="a")
    with pytest.raises(pydantic.ValidationError, match="code_field"):
        ButtonValue.model_validate({"type": "COPY_CODE", "url": "https://x.example"})
    assert ButtonValue.model_validate({"type": "COPY_CODE"}).variable == "voucherCode"


def test_the_seeds_media_fields_are_a_header() -> None:
    seed = MessageTemplate(name="s", content="Oi", template_type="image", media_url=LINK)
    assert seed.header == MessageHeader(type="image", link=LINK)
    mime = MessageTemplate(name="s", content="Oi", media_url=LINK, media_type="image/png")
    assert (mime.template_type, mime.header and mime.header.mime_type) == ("image", "image/png")
    with pytest.raises(pydantic.ValidationError, match="needs media_url"):
        MessageTemplate(name="s", content="Oi", template_type="video")


ALL = frozenset({"first_name", "voucherCode"})


@pytest.mark.parametrize(
    ("shape", "header", "buttons", "field"),
    [
        (IMAGE, None, [{"type": "url", "suffix": "a"}], "t.header"),
        (
            IMAGE,
            {"type": "video", "link": "https://x.example/v.mp4"},
            [{"type": "url", "suffix": "a"}],
            "t.header.type",
        ),
        (IMAGE, {"type": "image", "link": LINK}, [], "t.buttons"),
        (
            IMAGE,
            {"type": "image", "link": LINK},
            [{"type": "url", "index": 4, "suffix": "a"}],
            "t.buttons[0].index",
        ),
        (IMAGE, {"type": "image", "link": LINK}, [{"type": "copy_code"}], "t.buttons[0].type"),
        (
            IMAGE,
            {"type": "image", "link": LINK},
            [{"type": "url", "url": "https://x.example"}],
            "t.buttons[0].url",
        ),
        (COUPON, {"type": "image", "link": LINK}, [{"type": "copy_code"}], "t.header"),
        (COUPON, None, [], "t.buttons"),
        (COUPON, None, [{"type": "copy_code", "code_field": "cupom"}], "t.buttons[0].code_field"),
        (TRACKED, None, [{"type": "url"}], "t.buttons[0].suffix"),
    ],
)
def test_parts_that_do_not_fit_the_approved_template_name_the_part(
    shape: Any, header: dict[str, Any] | None, buttons: list[dict[str, Any]], field: str
) -> None:
    given = [ButtonValue.model_validate(b) for b in buttons]
    parsed = MessageHeader.model_validate(header) if header else None
    with pytest.raises(FieldError) as error:
        check_against(shape, parsed, given, where="t", fillable=ALL)
    assert error.value.field == field


def test_parts_that_fit_pass_and_a_tracked_button_takes_a_destination() -> None:
    check_against(
        IMAGE,
        MessageHeader(type="image", link=LINK),
        [ButtonValue(type="url", suffix="semana")],
        where="t",
        fillable=ALL,
    )
    check_against(COUPON, None, [ButtonValue(type="copy_code")], where="t", fillable=ALL)
    check_against(
        TRACKED, None, [ButtonValue(type="url", url="https://x.example/p")], where="t", fillable=ALL
    )


def test_a_coupon_over_15_characters_or_a_tracked_button_without_a_signer_fails_the_send() -> None:
    ref = TemplateRef(name="cupom_desconto", buttons=[ButtonValue(type="copy_code")])
    assert rich_components(ref, {"voucherCode": "ABC"}, None) == [
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "0",
            "parameters": [{"type": "coupon_code", "coupon_code": "ABC"}],
        }
    ]
    with pytest.raises(FieldError, match="15"):
        rich_components(ref, {"voucherCode": "X" * 16}, None)
    tracked = TemplateRef(name="t", buttons=[ButtonValue(type="url", url="https://x.example")])
    with pytest.raises(FieldError, match="LINK_SECRET"):
        rich_components(tracked, {}, None)
    assert rich_components(tracked, {}, lambda name: f"c/{name}")[0]["parameters"] == [
        {"type": "text", "text": "c/button_0"}
    ]
