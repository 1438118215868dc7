"""Validation errors in Portuguese, next to the field they belong to.

The models that validate a form are the API's own; this only rewords pydantic's error types
for a person (the field path stays the API's, so a page can put the message beside its input).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

_MESSAGES = {
    "missing": "Campo obrigatório.",
    "string_too_short": "Texto curto demais (mínimo {min_length}).",
    "string_too_long": "Texto longo demais (máximo {max_length} caracteres).",
    "too_long": "Itens demais (máximo {max_length}).",
    "greater_than_equal": "Deve ser no mínimo {ge}.",
    "less_than_equal": "Deve ser no máximo {le}.",
    "greater_than": "Deve ser maior que {gt}.",
    "less_than": "Deve ser menor que {lt}.",
    "int_parsing": "Digite um número inteiro.",
    "float_parsing": "Digite um número.",
    "enum": "Escolha uma das opções.",
    "literal_error": "Escolha uma das opções.",
    "datetime_parsing": "Data e hora inválidas.",
    "date_parsing": "Data inválida.",
    "extra_forbidden": "Campo não permitido.",
    "string_pattern_mismatch": "Formato inválido.",
    "int_type": "Digite um número inteiro.",
    "float_type": "Digite um número.",
    "bool_parsing": "Escolha sim ou não.",
}


def field_path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part not in ("body", "query", "path"))


def field_errors(
    error: pydantic.ValidationError, hints: Mapping[str, str] | None = None
) -> dict[str, str]:
    """``{"audience.tags": "Itens demais (máximo 50)."}``, first error per field.

    ``hints``: by field path, the Portuguese for a model's own rule (a validator's error has no
    generic wording, e.g. a send window whose end is before its start)."""
    messages: dict[str, str] = {}
    for item in error.errors():
        path = field_path(item["loc"]) or "formulário"
        template = _MESSAGES.get(item["type"])
        context = item.get("ctx") or {}
        if (
            hints
            and path in hints
            and (template is None or item["type"] == "string_pattern_mismatch")
        ):
            text = hints[path]
        elif template:
            text = template.format(**context)
        else:
            text = f"Valor inválido: {item['msg']}."
        messages.setdefault(path, text)
    return messages
