"""What a customer sees of a campaign's message, part by part (pure).

The preview is built from the same things the send is: the campaign's template (its content,
header and buttons) and the approved template's components (footer, button labels, a URL
button's address), filled for a sample customer. It is what the API answers and what the
console draws as a WhatsApp bubble, so both show the same message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from shared.domain.approved_templates import ApprovedTemplate
from shared.domain.campaign import Campaign, CampaignFields, MessageTemplate
from shared.domain.cnpj import Cnpj
from shared.domain.message_parts import HeaderKind, indexed, shape_of
from shared.services.campaign_review import draft_campaign
from shared.services.campaigns import CampaignPorts, get_campaign
from shared.services.message_checks import approved_components, mapped_to_approved
from shared.services.templates import approved_templates
from shared.whatsapp.requests_body import first_name

SAMPLE_NAME = "Maria Souza"
SAMPLE_VALUES = {
    "voucherCode": "EXEMPLO10",
    "voucherValue": "10%",
    "voucherExpiresAt": "31/12",
    "visit_count": "12",
}
"""The sample customer's fields: a made-up person, never a real one's data."""
_POSITIONAL = re.compile(r"\{\{\s*([0-9]{1,2})\s*\}\}")
COPY_CODE_LABEL = "Copiar código"
"""Meta draws a copy-code button with its own fixed label (in the person's language)."""


class PreviewHeader(BaseModel):
    type: HeaderKind
    link: str | None = None
    media_id: str | None = None
    filename: str | None = None
    text: str | None = None


class PreviewButton(BaseModel):
    kind: Literal["quick_reply", "url", "copy_code"]
    label: str
    url: str | None = None
    """url: the address the tap opens (tracked buttons: where our redirect lands)."""
    tracked: bool = False
    code: str | None = None
    payload: str | None = None


class MessagePreview(BaseModel):
    template: str
    """The approved template's name (``name@language``), or the campaign template's name."""
    ab_variant: str | None = None
    header: PreviewHeader | None = None
    body: str
    footer: str | None = None
    buttons: list[PreviewButton]


def preview(
    template: MessageTemplate,
    components: Sequence[Mapping[str, Any]],
    *,
    values: Mapping[str, str] | None = None,
) -> MessagePreview:
    """``template`` as a sample customer sees it, with the approved ``components`` (empty:
    the body and the campaign's own parts only)."""
    fields = {
        "name": SAMPLE_NAME,
        "first_name": first_name(SAMPLE_NAME),
        **SAMPLE_VALUES,
        **template.variable_values,
        **(values or {}),
    }
    shape = shape_of(components)
    header = None
    if template.header is not None:
        h = template.header
        text = None
        if h.type == "text":
            name = h.text_variable or ""
            text = shape.header_text.replace("{{1}}", fields.get(name, "{{" + name + "}}"))
        header = PreviewHeader(
            type=h.type, link=h.link, media_id=h.media_id, filename=h.filename, text=text
        )
    elif shape.header == "text":
        header = PreviewHeader(type="text", text=shape.header_text)
    given = dict(indexed(template.buttons))
    buttons = []
    for approved in shape.buttons:
        button = given.get(approved.index)
        if approved.type == "copy_code":
            field = (button.variable if button else None) or "voucherCode"
            buttons.append(
                PreviewButton(kind="copy_code", label=COPY_CODE_LABEL, code=fields.get(field))
            )
        elif approved.type == "url":
            url, tracked = approved.url, False
            if button is not None and button.url is not None:
                url, tracked = button.url, True
            elif button is not None:
                suffix = button.suffix or str(fields.get(button.suffix_field or "", ""))
                url = approved.url.replace("{{1}}", suffix)
            buttons.append(PreviewButton(kind="url", label=approved.text, url=url, tracked=tracked))
        else:
            payload = (button.payload if button else None) or approved.text
            buttons.append(PreviewButton(kind="quick_reply", label=approved.text, payload=payload))
    wa = template.whatsapp_template
    return MessagePreview(
        template=f"{wa.name}@{wa.language}" if wa else template.name,
        ab_variant=template.ab_variant,
        header=header,
        body=template.render({k: str(v) for k, v in fields.items()}),
        footer=shape.footer or None,
        buttons=buttons,
    )


def campaign_preview(ports: CampaignPorts, cnpj: Cnpj, campaign_id: str) -> list[MessagePreview]:
    """Each message of a stored campaign (one per A/B variant's template) as sent."""
    return campaign_previews(ports, cnpj, get_campaign(ports, cnpj, campaign_id))


def draft_preview(
    ports: CampaignPorts, cnpj: Cnpj, fields: CampaignFields, now: datetime
) -> list[MessagePreview]:
    """The same for a campaign not saved yet (the console's review step; ``POST
    /api/v1/campaigns/preview``), its templates mapped onto the approved ones as a save would."""
    campaign = draft_campaign(fields, now)
    if ports.templates is not None:
        campaign = mapped_to_approved(ports.templates, cnpj, campaign, strict=False)
    return campaign_previews(ports, cnpj, campaign)


def campaign_previews(ports: CampaignPorts, cnpj: Cnpj, campaign: Campaign) -> list[MessagePreview]:
    listed = approved_templates(ports.templates, cnpj) if ports.templates is not None else []
    catalogue = {t.key: t for t in listed}
    previews = []
    for template in campaign.templates:
        wa = template.whatsapp_template
        entry = catalogue.get(f"{wa.name}@{wa.language}") if wa else None
        if entry is None:
            previews.append(preview(template, []))
            continue
        shown = template.model_copy(update={"content": _as_sent(entry, template.parameters)})
        previews.append(preview(shown, approved_components(entry)))
    return previews


def _as_sent(entry: ApprovedTemplate, parameters: list[str]) -> str:
    """The approved body with the campaign's variables in its parameters' places, in order, as
    Meta fills it (a built-in campaign's own content lists only its variables)."""
    if entry.parameter_format == "NAMED" or len(parameters) != len(entry.parameters):
        return entry.content
    return _POSITIONAL.sub(lambda m: "{{" + parameters[int(m.group(1)) - 1] + "}}", entry.body)
