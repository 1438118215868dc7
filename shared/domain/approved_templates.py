"""The approved WhatsApp templates a tenant's campaigns may send: its template catalogue.

Marketing messages outside the 24-hour service window must be templates Meta has approved,
so a campaign picks one from this catalogue rather than typing free text. An entry keeps
what Meta's ``message_templates`` gives for it (name, language, category, the body text with
its ``{{1}}``-style or named parameters) plus ``parameters``: the target fields that fill the
body's parameters in order (``first_name``, ``voucherCode``, or a name the campaign fills with
a fixed value). :meth:`ApprovedTemplate.message_template` turns an entry into the campaign
model's :class:`~shared.domain.campaign.MessageTemplate`, whose ``render`` shows the text a
customer reads.

Every tenant starts with :data:`DEFAULT_TEMPLATES`: the templates the built-in campaigns already
send, the one the API's examples use, and one that carries a voucher. They must exist, approved,
on the tenant's WhatsApp Business account for messages to go out (Meta refuses an unknown
template with 132001), so a sync (:mod:`shared.services.template_sync`) replaces the catalogue by
what the account holds: each entry then also has Meta's ``status``, ``parameter_format`` and
``components``, and one the account no longer has is kept with ``on_meta`` false, so a campaign
that names it is refused before start rather than failing at every send.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from shared.domain.campaign import MessageTemplate, Name
from shared.domain.message_parts import TemplateShape, default_buttons, shape_of

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
TemplateStatus = Literal[
    "APPROVED",
    "PENDING",
    "REJECTED",
    "PAUSED",
    "DISABLED",
    "IN_APPEAL",
    "FLAGGED",
    "REINSTATED",
    "PENDING_DELETION",
    "DELETED",
    "ARCHIVED",
    "UNARCHIVED",
    "LIMIT_EXCEEDED",
    "LOCKED",
]
"""Meta's template statuses (the list API and ``message_template_status_update``)."""
QualityScore = Literal["GREEN", "YELLOW", "RED", "UNKNOWN"]
"""Meta's template quality rating (``quality_score.score``, ``new_quality_score``)."""
ParameterFormat = Literal["POSITIONAL", "NAMED"]
_POSITIONAL = re.compile(r"\{\{\s*([0-9]{1,2})\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
MAX_CONTENT = 1024
"""The campaign model's limit on a template's content (and Meta's on a body)."""


class ApprovedTemplate(BaseModel):
    """One approved template, as ``GET /api/v1/templates`` lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$", examples=["feliz_aniversario"])
    language: str = Field(default="pt_BR", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    category: Category = "MARKETING"
    body: str = Field(
        min_length=1,
        max_length=MAX_CONTENT,
        description="the body as approved, with positional ({{1}}) or named ({{first_name}}) "
        "parameters",
        examples=["Feliz aniversário, {{1}}!"],
    )
    parameters: list[Name] = Field(
        default_factory=list,
        max_length=20,
        description="what fills the body's parameters, in order: first_name, name, voucherCode, "
        "voucherValue, voucherExpiresAt, or a name the campaign gives a value (variable_values)",
        examples=[["first_name"]],
    )
    status: TemplateStatus = Field(
        default="APPROVED", description="Meta's status; only APPROVED templates can be sent"
    )
    on_meta: bool = Field(
        default=True,
        description="false: the last sync did not find it on the WhatsApp Business account",
    )
    parameter_format: ParameterFormat = "POSITIONAL"
    components: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Meta's components (HEADER, BODY, FOOTER, BUTTONS) as last synced; empty "
        "for a default never synced",
    )
    synced_at: datetime | None = Field(default=None, description="when Meta last listed it")
    quality_score: QualityScore | None = Field(
        default=None,
        description="Meta's quality rating (sync or message_template_quality_update); "
        "None: not rated yet",
    )

    @property
    def unusable_reason(self) -> str | None:
        """Why a campaign cannot send it now, or None when it can."""
        if not self.on_meta:
            return "no longer exists on the WhatsApp Business account"
        if self.status != "APPROVED":
            return f"is {self.status} on WhatsApp, not APPROVED"
        return None

    @model_validator(mode="after")
    def _parameters_match_body(self) -> ApprovedTemplate:
        numbers = [int(n) for n in _POSITIONAL.findall(self.body)]
        if numbers:
            if sorted(set(numbers)) != list(range(1, len(self.parameters) + 1)):
                raise ValueError(
                    f"the body's parameters {{{{1}}}}..{{{{{max(numbers)}}}}} must be exactly "
                    f"one per entry of parameters ({len(self.parameters)})"
                )
        elif list(dict.fromkeys(_NAMED.findall(self.body))) != self.parameters:
            raise ValueError("parameters must list the body's named parameters in order")
        if len(self.content) > MAX_CONTENT:
            raise ValueError(f"the body with named parameters exceeds {MAX_CONTENT} characters")
        return self

    @computed_field(  # type: ignore[prop-decorator]
        description="the body with named variables ({{first_name}}): a campaign template's content"
    )
    @property
    def content(self) -> str:
        return _POSITIONAL.sub(
            lambda m: "{{" + self.parameters[int(m.group(1)) - 1] + "}}", self.body
        )

    @property
    def shape(self) -> TemplateShape:
        """What its components ask of a send: header, footer, buttons."""
        return shape_of(self.components)

    @property
    def key(self) -> str:
        """Unique within a catalogue: the same name exists once per language."""
        return f"{self.name}@{self.language}"

    def message_fields(
        self,
        *,
        variable_values: dict[str, str],
        template_id: str | None = None,
        ab_variant: str | None = None,
    ) -> dict[str, Any]:
        """A campaign template (``templates[]`` of the API) sending this one, not yet validated:
        its content and variables in the body's order, the values of its own parameters."""
        return {
            "id": template_id,
            "name": self.name,
            "content": self.content,
            "variables": list(self.parameters),
            "variable_values": {k: v for k, v in variable_values.items() if k in self.parameters},
            "ab_variant": ab_variant,
            "whatsapp_template": {"name": self.name, "language": self.language},
            "buttons": [b.model_dump(exclude_none=True) for b in default_buttons(self.shape)],
        }

    def message_template(self, *, variable_values: dict[str, str]) -> MessageTemplate:
        """The campaign model's template sending this one (for ``render``)."""
        return MessageTemplate.model_validate(self.message_fields(variable_values=variable_values))


def meta_components(
    body: str,
    parameters: list[str],
    *,
    header: dict[str, Any] | None = None,
    footer: str = "",
    buttons: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Meta's components for a positional body (with its example) and optional parts."""
    component: dict[str, Any] = {"type": "BODY", "text": body}
    if parameters:
        component["example"] = {"body_text": [list(parameters)]}
    parts = [header] if header else []
    parts.append(component)
    if footer:
        parts.append({"type": "FOOTER", "text": footer})
    if buttons:
        parts.append({"type": "BUTTONS", "buttons": buttons})
    return parts


STOP_FOOTER = "Responda SAIR para não receber ofertas"
STOP_BUTTON = {"type": "QUICK_REPLY", "text": "Parar promoções"}
"""Meta's marketing opt-out quick reply: a tap is an opt-out (shared.domain.optout)."""
_CUPOM_BODY = "{{1}}, este cupom é seu: {{2}}. Ele vale {{3}} de desconto até {{4}}."
_CUPOM_PARAMETERS = ["first_name", "voucherCode", "voucherValue", "voucherExpiresAt"]
_IMAGEM_BODY = "{{1}}, chegou a semana da roupa limpa: lavagem com desconto até domingo!"
DEFAULT_TEMPLATES: tuple[ApprovedTemplate, ...] = (
    ApprovedTemplate(
        name="cupom_desconto",
        body=_CUPOM_BODY,
        parameters=_CUPOM_PARAMETERS,
        components=meta_components(
            _CUPOM_BODY,
            _CUPOM_PARAMETERS,
            footer=STOP_FOOTER,
            buttons=[{"type": "COPY_CODE", "example": "LAVA10"}, STOP_BUTTON],
        ),
    ),
    ApprovedTemplate(
        name="oferta_com_imagem",
        body=_IMAGEM_BODY,
        parameters=["first_name"],
        components=meta_components(
            _IMAGEM_BODY,
            ["first_name"],
            header={
                "type": "HEADER",
                "format": "IMAGE",
                "example": {"header_handle": ["4::aW1hZ2VtLmpwZw=="]},
            },
            footer=STOP_FOOTER,
            buttons=[
                {
                    "type": "URL",
                    "text": "Ver oferta",
                    "url": "https://lavanderia.example/oferta/{{1}}",
                    "example": ["https://lavanderia.example/oferta/semana"],
                },
                STOP_BUTTON,
            ],
        ),
    ),
    ApprovedTemplate(
        name="boas_vindas",
        body="Olá, {{1}}! Seja bem-vindo(a) à nossa lavanderia. Qualquer dúvida, é só chamar "
        "por aqui.",
        parameters=["first_name"],
    ),
    ApprovedTemplate(
        name="feliz_aniversario",
        body="Feliz aniversário, {{1}}! 🎉 Hoje tem um presente esperando por você na lavanderia.",
        parameters=["first_name"],
    ),
    ApprovedTemplate(
        name="oferta_fim_de_ano",
        body="🎉 Promoção especial! 30% OFF em tudo!",
        parameters=[],
    ),
    ApprovedTemplate(
        name="programa_fidelidade",
        body="Parabéns, {{1}}! Você já fez {{2}} visitas e agora faz parte do nosso programa "
        "de fidelidade.",
        parameters=["first_name", "visit_count"],
    ),
    ApprovedTemplate(
        name="sentimos_sua_falta",
        body="{{1}}, sentimos sua falta! Volte a lavar com a gente esta semana.",
        parameters=["first_name"],
    ),
)
"""The built-in campaigns' default templates, the API examples' ``oferta_fim_de_ano``,
``cupom_desconto`` for campaigns with a voucher (its code, value and last day fill it; its
COPY_CODE button copies the code) and ``oferta_com_imagem`` (an IMAGE header and a URL button
whose suffix the campaign gives: the demo's rich message). Those two carry Meta's components,
so the sandbox's registry, a fresh tenant's catalogue and the docs show rich messages."""
