"""The WhatsApp sandbox's template registry: what Meta knows of each business account's templates.

Meta refuses a template send whose template it does not know in that language (132001), whose
body parameters are not as many as the approved body has (132000), or whose template is paused
(132015) or disabled (132016); without the same checks locally, a payload mistake is only found
in production. So the sandbox keeps, per WhatsApp Business Account (WABA), templates in the
shape ``GET /{WABA_ID}/message_templates`` returns them (``name``, ``language``, ``status``,
``category``, ``parameter_format``, ``components`` with HEADER/BODY/FOOTER/BUTTONS), serves them
paged like Graph (``data``, ``paging.cursors``, ``paging.next``), and checks every send against
the registry of the sending number's account.

Every account starts with :data:`SEED`: the project's default catalogue
(:data:`~shared.domain.approved_templates.DEFAULT_TEMPLATES`) plus the templates the demo and
the built-in fallback send (:data:`LOCAL_TEMPLATES`), all APPROVED. Tests add or change
templates of an account of their own, as a business does in Meta's manager.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Any, get_args

from shared.domain.approved_templates import (
    DEFAULT_TEMPLATES,
    ApprovedTemplate,
    Category,
    TemplateStatus,
)
from shared.localstack.template_shapes import SentParts, TemplateRefusal, check_parts

STATUSES = frozenset(get_args(TemplateStatus))
"""Meta's template statuses (API and ``message_template_status_update``)."""
CATEGORIES = frozenset(get_args(Category))
COMPONENT_TYPES = frozenset({"HEADER", "BODY", "FOOTER", "BUTTONS"})
MAX_PAGE = 100
"""Graph's usual ``limit`` ceiling for this edge."""

_POSITIONAL = re.compile(r"\{\{\s*([0-9]{1,2})\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
_NAME = re.compile(r"[a-z0-9_]{1,512}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")

LOCAL_TEMPLATES: tuple[dict[str, Any], ...] = (
    {
        "name": "oferta",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Temos uma oferta para você na lavanderia!"}],
    },
    {
        "name": "black_friday_vip",
        "category": "MARKETING",
        "components": [
            {
                "type": "BODY",
                "text": "Olá {{1}}! {{2}} OFF com o cupom {{3}} até {{4}}.",
                "example": {"body_text": [["Ana", "15%", "BF15AB", "30/11"]]},
            },
            {"type": "FOOTER", "text": "Responda SAIR para não receber ofertas"},
        ],
    },
    {
        "name": "aniversario_cupom",
        "category": "MARKETING",
        "components": [
            {
                "type": "BODY",
                "text": "Feliz aniversário, {{1}}! Seu cupom de presente: {{2}}.",
                "example": {"body_text": [["Ana", "NIVER10"]]},
            }
        ],
    },
)
"""Sent locally but not in the default catalogue: ``oferta`` (what a campaign kind sends when it
names no template), the demo's ``black_friday_vip`` and the Cloud API notes' example."""


class InvalidTemplate(ValueError):
    """A template the registry cannot hold; ``field`` names the part at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field


def meta_shape(template: ApprovedTemplate, template_id: str) -> dict[str, Any]:
    """A catalogue entry as Meta lists it: its components (a positional body when it has
    none), APPROVED."""
    component: dict[str, Any] = {"type": "BODY", "text": template.body}
    if template.parameters:
        component["example"] = {"body_text": [list(template.parameters)]}
    components = copy.deepcopy(template.components) if template.components else [component]
    return {
        "id": template_id,
        "name": template.name,
        "language": template.language,
        "status": "APPROVED",
        "category": template.category,
        "parameter_format": "POSITIONAL",
        "components": components,
    }


def body_parameter_count(template: Mapping[str, Any]) -> int:
    """How many body parameters a send must carry: distinct ``{{n}}`` (or ``{{name}}``)."""
    for component in template.get("components", []):
        if component.get("type") == "BODY":
            text = str(component.get("text", ""))
            if template.get("parameter_format") == "NAMED":
                return len(set(_NAMED.findall(text)))
            return len(set(_POSITIONAL.findall(text)))
    return 0


def validated(raw: Any, template_id: str) -> dict[str, Any]:
    """A template as the registry stores it, or :class:`InvalidTemplate` naming the field."""
    if not isinstance(raw, dict):
        raise InvalidTemplate("template", "must be a JSON object")
    name, language = raw.get("name"), raw.get("language", "pt_BR")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidTemplate("name", "must be lowercase letters, digits and _")
    if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
        raise InvalidTemplate("language", "must be a locale such as pt_BR")
    status = raw.get("status", "APPROVED")
    if status not in STATUSES:
        raise InvalidTemplate("status", f"must be one of {sorted(STATUSES)}")
    category = raw.get("category", "MARKETING")
    if category not in CATEGORIES:
        raise InvalidTemplate("category", f"must be one of {sorted(CATEGORIES)}")
    parameter_format = raw.get("parameter_format", "POSITIONAL")
    if parameter_format not in ("POSITIONAL", "NAMED"):
        raise InvalidTemplate("parameter_format", "must be POSITIONAL or NAMED")
    components = raw.get("components")
    if not isinstance(components, list) or not components:
        raise InvalidTemplate("components", "must be a non-empty list")
    types = []
    for i, component in enumerate(components):
        kind = component.get("type") if isinstance(component, dict) else None
        if kind not in COMPONENT_TYPES:
            raise InvalidTemplate(
                f"components[{i}].type", f"must be one of {sorted(COMPONENT_TYPES)}"
            )
        types.append(kind)
    if types.count("BODY") != 1:
        raise InvalidTemplate("components", "must have exactly one BODY")
    body = next(c for c in components if c["type"] == "BODY")
    if not isinstance(body.get("text"), str) or not 1 <= len(body["text"]) <= 1024:
        raise InvalidTemplate("components.BODY.text", "must be 1 to 1,024 characters")
    return {
        "id": str(raw.get("id") or template_id),
        "name": name,
        "language": language,
        "status": status,
        "category": category,
        "parameter_format": parameter_format,
        "components": copy.deepcopy(components),
    }


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    after: str | None
    """The cursor of the next page, None on the last one."""


class TemplateRegistry:
    """Templates per business account; thread-safe; each account seeded on first use."""

    def __init__(self, seed: tuple[dict[str, Any], ...] | None = None) -> None:
        self._lock = threading.Lock()
        self._seed = seed if seed is not None else default_seed()
        self._accounts: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._next_id = 900_000_000_000_000

    def _account(self, waba_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Caller holds the lock."""
        if waba_id not in self._accounts:
            self._accounts[waba_id] = {}
            for raw in self._seed:
                stored = validated(raw, self._new_id())
                self._accounts[waba_id][stored["name"], stored["language"]] = stored
        return self._accounts[waba_id]

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def page(self, waba_id: str, limit: int, after: str | None) -> Page:
        """Sorted by name then language; ``after`` is the previous page's cursor."""
        with self._lock:
            ordered = sorted(self._account(waba_id).items())
            start = 0
            if after:
                start = next(
                    (i + 1 for i, (key, _) in enumerate(ordered) if _cursor(key) == after),
                    len(ordered),
                )
            chunk = ordered[start : start + limit]
            more = start + limit < len(ordered)
            return Page(
                [copy.deepcopy(t) for _, t in chunk],
                _cursor(chunk[-1][0]) if chunk and more else None,
            )

    def put(self, waba_id: str, raw: Any) -> tuple[dict[str, Any], str | None]:
        """Add or change a template; (what is stored, its previous status or None if new)."""
        with self._lock:
            account = self._account(waba_id)
            key = (
                (str(raw.get("name")), str(raw.get("language", "pt_BR")))
                if isinstance(raw, dict)
                else ("", "")
            )
            previous = account.get(key)
            stored = validated(raw, previous["id"] if previous else self._new_id())
            account[stored["name"], stored["language"]] = stored
            return copy.deepcopy(stored), previous["status"] if previous else None

    def delete(self, waba_id: str, name: str, language: str) -> bool:
        with self._lock:
            return self._account(waba_id).pop((name, language), None) is not None

    def check(
        self,
        waba_id: str,
        name: str,
        language: str,
        parameter_count: int,
        parts: SentParts | None = None,
        issued_media: Container[str] = (),
    ) -> None:
        """Meta's checks of a send's template, or :class:`TemplateRefusal`: the template, its
        status, the body's parameter count, then header and buttons
        (:mod:`shared.localstack.template_shapes`)."""
        with self._lock:
            template = self._account(waba_id).get((name, language))
        if template is None or template["status"] not in ("APPROVED", "PAUSED", "DISABLED"):
            raise TemplateRefusal(
                132001,
                "(#132001) Template name does not exist in the translation",
                f"template name ({name}) does not exist in {language}",
            )
        if template["status"] == "PAUSED":
            raise TemplateRefusal(
                132015, "(#132015) Template is Paused", f"template {name} is paused"
            )
        if template["status"] == "DISABLED":
            raise TemplateRefusal(
                132016, "(#132016) Template is Disabled", f"template {name} is disabled"
            )
        expected = body_parameter_count(template)
        if parameter_count != expected:
            raise TemplateRefusal(
                132000,
                "(#132000) Number of parameters does not match the expected number of params",
                f"body: number of localizable_params ({parameter_count}) does not match the "
                f"expected number of params ({expected})",
            )
        check_parts(template, parts or SentParts(), issued_media)


def default_seed() -> tuple[dict[str, Any], ...]:
    catalogue = tuple(meta_shape(t, "") for t in DEFAULT_TEMPLATES)
    return catalogue + tuple(
        {"language": "pt_BR", "status": "APPROVED", **t} for t in LOCAL_TEMPLATES
    )


def _cursor(key: tuple[str, str]) -> str:
    return f"{key[0]}@{key[1]}"
