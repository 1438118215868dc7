"""A campaign's messages checked against the tenant's approved templates before it starts.

Meta checks every send against the approved template (its body's parameter count, its header,
its buttons) and refuses a mismatch at every message; a campaign that would be refused must
therefore be refused at start, with a 422 naming the part to fix, never fail message by message
after it. The checks use the tenant's catalogue (``users/{cnpj}/templates``): a template it does
not hold is left to Meta (the catalogue may not be synced yet); a default stored before defaults
carried Meta's components is checked against the default's components.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from shared.domain.approved_templates import DEFAULT_TEMPLATES, ApprovedTemplate
from shared.domain.campaign import Campaign, MessageTemplate, WhatsAppTemplate
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.domain.message_parts import TemplateShape, check_against, indexed, shape_of
from shared.ports import MediaLibrary, TemplateCatalogue
from shared.services.media import check_media_ids
from shared.services.template_sync import refuse_unusable

_DEFAULTS = {t.key: t for t in DEFAULT_TEMPLATES}
_SPACES = re.compile(r"\s+")
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def mapped_to_approved(
    catalogue: TemplateCatalogue, cnpj: Cnpj, campaign: Campaign, *, strict: bool
) -> Campaign:
    """``campaign`` with each template that names no approved one (the seed's ``templates[]``:
    ``content``, ``template_type``, ``media_url``, ``buttons``) mapped onto a usable approved
    template of the tenant: the same body with named variables, the same header kind, buttons
    that fit. A rich template (media or buttons) that matches none is a 422 naming what is
    missing; a text one too when ``strict`` (at start, when nothing else is approved)."""
    unmapped = [i for i, t in enumerate(campaign.templates) if t.whatsapp_template is None]
    if not unmapped:
        return campaign
    usable = [t for t in catalogue.list(cnpj) if t.unusable_reason is None]
    none_mapped = len(unmapped) == len(campaign.templates)
    templates = list(campaign.templates)
    for i in unmapped:
        template = templates[i]
        found, unfit = _matching(template, usable, campaign.fillable(template), f"templates[{i}]")
        if unfit is not None and (_is_rich(template) or (strict and none_mapped)):
            raise unfit
        if found is not None:
            templates[i] = template.model_copy(
                update={
                    "whatsapp_template": WhatsAppTemplate(name=found.name, language=found.language),
                    "variables": list(found.parameters),
                }
            )
        elif _is_rich(template) or (strict and none_mapped):
            raise FieldError(f"templates[{i}]", _missing(template))
    return campaign.model_copy(update={"templates": templates})


def _matching(
    template: MessageTemplate,
    usable: list[ApprovedTemplate],
    fillable: frozenset[str] | None,
    where: str,
) -> tuple[ApprovedTemplate | None, FieldError | None]:
    """The approved template this one maps onto; else, when one has its body, header and
    buttons but cannot be filled (a coupon without vouchers), why: that is the error to fix."""
    body = _normal(template.content)
    unfit: FieldError | None = None
    header = template.header.type if template.header is not None else None
    for entry in usable:
        if _normal(entry.content) != body:
            continue
        shape = shape_of(approved_components(entry))
        if shape.header != header and not (header is None and shape.header == "text"):
            continue
        if not _buttons_fit(template, shape):
            continue
        try:
            check_against(shape, template.header, template.buttons, where=where, fillable=fillable)
        except FieldError as error:
            unfit = unfit or error
            continue
        return entry, None
    return None, unfit


def _buttons_fit(template: MessageTemplate, shape: TemplateShape) -> bool:
    """The seed lists a template's buttons: each given one is the approved button of its
    place and kind (an approved stop quick reply it leaves out still goes)."""
    approved = {b.index: b.type for b in shape.buttons}
    return all(approved.get(index) == b.type for index, b in indexed(template.buttons))


def _is_rich(template: MessageTemplate) -> bool:
    return template.header is not None or bool(template.buttons)


def _normal(text: str) -> str:
    return _SPACES.sub(" ", _VARIABLE.sub(lambda m: "{{" + m.group(1) + "}}", text)).strip()


def _missing(template: MessageTemplate) -> str:
    """What the tenant would have to get approved, in the console's language."""
    parts = []
    if template.header is not None:
        parts.append(f"cabeçalho {template.header.type.upper()}")
    if template.buttons:
        kinds = ", ".join(b.type.upper() for b in template.buttons)
        parts.append(f"botões {kinds}")
    content = template.content if len(template.content) <= 80 else template.content[:77] + "..."
    parts.append(f"corpo {content!r}")
    return (
        f"nenhum template aprovado com {' e '.join(parts)}: aprove-o no WhatsApp Manager e "
        "sincronize (POST /api/v1/templates/sync), ou indique whatsapp_template"
    )


def check_media(
    library: MediaLibrary | None, cnpj: Cnpj, campaign: Campaign, now: datetime
) -> None:
    """Every header ``media_id`` is one this tenant uploaded, recently enough (422 otherwise)."""
    wanted = [
        (f"templates[{i}].header.media_id", t.header.media_id)
        for i, t in enumerate(campaign.templates)
        if t.header is not None and t.header.media_id is not None
    ]
    if wanted and library is not None:
        check_media_ids(library, cnpj, wanted, now)


def check_messages(catalogue: TemplateCatalogue, cnpj: Cnpj, campaign: Campaign) -> None:
    """A :class:`FieldError` on the first template Meta would refuse: not APPROVED or gone
    (``templates[i].whatsapp_template``), a body with another number of parameters
    (``templates[i].variables``), a header or button that does not fit
    (``templates[i].header``, ``templates[i].buttons[j]``)."""
    approved = [
        (i, t.whatsapp_template) for i, t in enumerate(campaign.templates) if t.whatsapp_template
    ]
    wanted = [(f"templates[{i}].whatsapp_template", w.name, w.language) for i, w in approved]
    by_key = {t.key: t for t in catalogue.list(cnpj)}
    refuse_unusable(by_key, wanted)
    for i, template in enumerate(campaign.templates):
        if template.whatsapp_template is None:
            continue
        key = f"{template.whatsapp_template.name}@{template.whatsapp_template.language}"
        entry = by_key.get(key)
        if entry is None:
            continue
        if len(template.parameters) != len(entry.parameters):
            raise FieldError(
                f"templates[{i}].variables",
                f"template {entry.name!r} has {len(entry.parameters)} body parameters "
                f"({entry.content}); this message fills {len(template.parameters)}",
            )
        components = approved_components(entry)
        if components:
            check_against(
                shape_of(components),
                template.header,
                template.buttons,
                where=f"templates[{i}]",
                fillable=campaign.fillable(template),
            )


def approved_components(entry: ApprovedTemplate) -> list[dict[str, Any]]:
    """The entry's components; a default stored before defaults had them: the default's."""
    default = _DEFAULTS.get(entry.key)
    if entry.components or default is None or default.body != entry.body:
        return list(entry.components)
    return list(default.components)
