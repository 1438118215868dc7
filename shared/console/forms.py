"""Validation errors in Portuguese, next to the field they belong to.

The models that validate a form are the API's own; this only rewords pydantic's error types
for a person (the field path stays the API's, so a page can put the message beside its input).
"""

from __future__ import annotations

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
}


def field_path(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part not in ("body", "query", "path"))


def field_errors(error: pydantic.ValidationError) -> dict[str, str]:
    """``{"audience.tags": "Itens demais (máximo 50)."}``, first error per field."""
    messages: dict[str, str] = {}
    for item in error.errors():
        template = _MESSAGES.get(item["type"])
        context = item.get("ctx") or {}
        text = template.format(**context) if template else f"Valor inválido: {item['msg']}."
        messages.setdefault(field_path(item["loc"]) or "formulário", text)
    return messages
