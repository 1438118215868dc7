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

from collections.abc import Mapping
from typing import Any

from shared.domain.campaign_settings import TemplateRef
from shared.domain.errors import FieldError
from shared.domain.identity import is_bsuid

MAX_PARAMETER_CHARS = 1024
"""Meta's limit for a template body; a single parameter can never be longer."""


def first_name(full_name: str) -> str:
    parts = full_name.split()
    return parts[0].capitalize() if parts else ""


def parameter_values(template: TemplateRef, name: str, data: Mapping[str, Any]) -> list[str]:
    fields: dict[str, Any] = {"first_name": first_name(name), "name": name.strip(), **data}
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
) -> dict[str, Any]:
    """A marketing template for one person: by phone, or by ``bsuid`` when the phone is empty."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **addressee(to_e164, bsuid),
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}
            ],
        },
        "biz_opaque_callback_data": callback_data,
    }
