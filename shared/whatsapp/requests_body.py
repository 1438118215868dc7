"""The /messages request for one target: an approved template with its body parameters.

Parameters come from the target (its name, its campaign data) in the order the template
declares; a missing field is a configuration error of the campaign, reported by name, rather
than a message with a blank where the customer's voucher should be.

The recipient is the phone (``to``) whenever one is known, else the person's business-scoped
user id (``recipient``). Meta accepts a BSUID for marketing and utility templates only; it
refuses one-tap, zero-tap and copy-code authentication templates sent to a BSUID (131062), so an
authentication template must always be addressed with ``to``. We send no authentication
templates today: every template this builds is a campaign's (marketing) one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.domain.campaign import tracked_button_name
from shared.domain.campaign_settings import TemplateRef
from shared.domain.errors import FieldError
from shared.domain.identity import is_bsuid
from shared.domain.message_parts import MAX_COUPON, MessageHeader, indexed
from shared.domain.tracked_links import is_trackable

MAX_PARAMETER_CHARS = 1024
"""Meta's limit for a template body; a single parameter can never be longer."""


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0].capitalize() if parts else ""


def parameter_values(template: TemplateRef, name: str, data: Mapping[str, Any]) -> list[str]:
    fields = fields_of(name, data)
    values = []
    for parameter in template.parameters:
        value = fields.get(parameter)
        if value is None or str(value).strip() == "":
            raise FieldError(
                f"template.parameters.{parameter}",
                f"template {template.name!r} needs {parameter!r} but the target has no value",
            )
        values.append(str(value)[:MAX_PARAMETER_CHARS])
    return values


def fields_of(name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """What a target can fill: its first name and name, then its data (and campaign values)."""
    return {"first_name": first_name(name), "name": name.strip(), **data}


TrackButton = Callable[[str], str]
"""Given a tracked button's link name, the suffix that makes its URL our redirect's."""


def rich_components(
    template: TemplateRef, fields: Mapping[str, Any], track: TrackButton | None
) -> list[dict[str, Any]]:
    """The header and button components of Meta's send, in Meta's shapes
    (``../shared/notes/whatsapp-providers-2026.md`` §2.1); [] for a body-only template.
    A value a target lacks is a :class:`FieldError` naming it, as for body parameters."""
    components: list[dict[str, Any]] = []
    if template.header is not None:
        components.append(_header(template.header, fields, template.name))
    for index, button in indexed(template.buttons):
        where = f"template.buttons[{index}]"
        if button.type == "quick_reply":
            parameter = {"type": "payload", "payload": button.payload or button.text or ""}
            if not parameter["payload"]:
                continue  # Meta sends the label as the payload
        elif button.type == "copy_code":
            code = _value(fields, button.variable or "voucherCode", where, template.name)
            if len(code) > MAX_COUPON:
                raise FieldError(where, f"the coupon has more than {MAX_COUPON} characters")
            parameter = {"type": "coupon_code", "coupon_code": code}
        elif button.url is not None:
            if track is None:
                raise FieldError(where, "a tracked button needs LINK_SECRET (no redirect here)")
            parameter = {"type": "text", "text": track(tracked_button_name(index))}
        elif button.suffix is not None:
            parameter = {"type": "text", "text": button.suffix}
        else:
            suffix = _value(fields, button.suffix_field or "", where, template.name)
            parameter = {"type": "text", "text": suffix}
        component = {"type": "button", "sub_type": button.type, "index": str(index)}
        components.append({**component, "parameters": [parameter]})
    return components


def _header(header: MessageHeader, fields: Mapping[str, Any], template: str) -> dict[str, Any]:
    if header.type == "text":
        text = _value(fields, header.text_variable or "", "template.header", template)
        return {"type": "header", "parameters": [{"type": "text", "text": text[:60]}]}
    media: dict[str, str] = {"id": header.media_id} if header.media_id else {}
    if header.link is not None:
        if not is_trackable(header.link):
            raise FieldError("template.header.link", "must be a public https:// address")
        media = {"link": header.link}
    if header.type == "document" and header.filename:
        media["filename"] = header.filename
    return {"type": "header", "parameters": [{"type": header.type, header.type: media}]}


def _value(fields: Mapping[str, Any], name: str, where: str, template: str) -> str:
    value = fields.get(name)
    if value is None or str(value).strip() == "":
        raise FieldError(where, f"template {template!r} needs {name!r} but the target has none")
    return str(value).strip()


def addressee(phone: str, bsuid: str = "") -> dict[str, str]:
    """``{"to": digits}`` when there is a phone, else ``{"recipient": bsuid}`` (never both:
    Meta would use ``to``). Neither is a :class:`FieldError` on ``phone``."""
    if phone.strip():
        return {"to": phone.strip().lstrip("+")}
    if is_bsuid(bsuid):
        return {"recipient": bsuid}
    raise FieldError("phone", "the target has neither a phone nor a WhatsApp user id (BSUID)")


def template_message(
    to_e164: str,
    template: TemplateRef,
    values: list[str],
    callback_data: str,
    *,
    bsuid: str = "",
    rich: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A marketing template for one person: by phone, or by ``bsuid`` when the phone is empty;
    ``rich`` are its header and button components (:func:`rich_components`), in Meta's order
    (header, body, buttons)."""
    parts = rich or []
    headers = [c for c in parts if c["type"] == "header"]
    buttons = [c for c in parts if c["type"] == "button"]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **addressee(to_e164, bsuid),
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language},
            "components": [
                *headers,
                {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]},
                *buttons,
            ],
        },
        "biz_opaque_callback_data": callback_data,
    }
