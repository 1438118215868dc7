"""Meta's ``message_templates`` entries read into catalogue entries (pure, no I/O).

Meta describes a template by its components; the catalogue also needs what fills each body
parameter (``parameters``: ``first_name``, ``voucherCode``...), which Meta does not know. A
NAMED template's parameter names are that list; a POSITIONAL one keeps the list the tenant's
catalogue already had for the same body text (the defaults' mapping survives a sync), and a body
never seen before gets ``parametro_1``.. ``parametro_N``, which a campaign fills through its
``variable_values``. An entry that cannot be read (no body, a category or status Meta added
since, a body over the limits) is reported by key and reason instead of stopping the sync.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args

from pydantic import ValidationError

from shared.domain.approved_templates import ApprovedTemplate, QualityScore

_POSITIONAL = re.compile(r"\{\{\s*([0-9]{1,2})\s*\}\}")
_NAMED = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")
UNNAMED_PREFIX = "parametro_"


class UnreadableTemplate(ValueError):
    """A Meta entry the catalogue cannot hold; ``key`` is ``name@language`` as far as known."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


def key_of(raw: Mapping[str, Any]) -> str:
    return f"{raw.get('name', '?')}@{raw.get('language', '?')}"


def body_text(components: Any) -> str | None:
    if not isinstance(components, list):
        return None
    for component in components:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == "BODY":
            text = component.get("text")
            return text if isinstance(text, str) else None
    return None


def from_meta(
    raw: Mapping[str, Any],
    known: Mapping[str, ApprovedTemplate],
    synced_at: datetime,
) -> ApprovedTemplate:
    """One catalogue entry from one Meta entry; ``known`` is the catalogue by key (the current
    entries and the defaults), whose parameter mapping a POSITIONAL body keeps."""
    key = key_of(raw)
    body = body_text(raw.get("components"))
    if not body:
        raise UnreadableTemplate(key, "has no BODY text")
    parameter_format = raw.get("parameter_format") or "POSITIONAL"
    if parameter_format == "NAMED":
        parameters = list(dict.fromkeys(_NAMED.findall(body)))
    else:
        previous = known.get(key)
        if previous is not None and previous.body == body:
            parameters = list(previous.parameters)
        else:
            count = len(set(_POSITIONAL.findall(body)))
            parameters = [f"{UNNAMED_PREFIX}{i}" for i in range(1, count + 1)]
    try:
        return ApprovedTemplate.model_validate(
            {
                "name": raw.get("name"),
                "language": raw.get("language"),
                "category": raw.get("category"),
                "status": raw.get("status"),
                "body": body,
                "parameters": parameters,
                "parameter_format": parameter_format,
                "components": raw.get("components"),
                "on_meta": True,
                "synced_at": synced_at,
                "quality_score": _quality(raw.get("quality_score")),
            }
        )
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "template" for e in error.errors()})
        raise UnreadableTemplate(key, f"not a template we can send ({', '.join(fields)})") from None


def _quality(raw: object) -> str | None:
    """``quality_score: {"score": "GREEN", "date": ...}``: the score, if Meta gave one."""
    score = raw.get("score") if isinstance(raw, dict) else None
    return score if score in get_args(QualityScore) else None
