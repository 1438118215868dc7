"""The audit trail of API writes: every route that changes something calls :func:`record_write`.

The caller's identity comes from its verified token (never from the request), the tenant is
the token's CNPJ, and the time is the store's commit time. An audit entry is written *after*
the change it describes; if the store is briefly unavailable the write has already happened,
so failing the request would invite a client retry that repeats it. Instead the entry is
logged at ERROR with every field (Cloud Logging keeps it, and the log-based alert on ERROR
says the trail has a gap) and the request still succeeds.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import logging
import math
from collections.abc import Mapping, Set
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pydantic

from shared import logs
from shared.api.auth import Principal
from shared.bootstrap import Container
from shared.domain.errors import CampaignError

_log = logging.getLogger(__name__)


def json_safe(value: Any) -> Any:
    """The value as plain JSON types: times as ISO 8601, enums by value, models dumped,
    mapping keys as strings, non-finite floats and anything unknown as text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, pydantic.BaseModel):
        return json_safe(value.model_dump(mode="json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(json_safe(key)): json_safe(item) for key, item in value.items()}
    if isinstance(value, Set):
        return sorted((json_safe(item) for item in value), key=repr)
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return str(value)


def record_write(
    services: Container,
    principal: Principal,
    action: str,
    resource: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """Append ``users/{principal.cnpj}/audit/{auto-id}`` for a write that already happened.

    ``action`` is a verb such as ``campaign.create``; ``resource`` the path of what changed,
    such as ``campaigns/{id}``; ``before``/``after`` its state (None when it did not / no
    longer exists), made JSON-safe here. Never raises for a store failure (see module doc).
    """
    entry = {
        "subject": principal.subject,
        "role": principal.role.value,
        "action": action,
        "resource": resource,
        "before": json_safe(before),
        "after": json_safe(after),
    }
    try:
        services.audit.append(principal.cnpj, **entry)
    except CampaignError as error:
        # As text, so the log formatter masks any phone number inside the snapshots.
        logs.log(
            _log,
            logging.ERROR,
            "audit entry not stored",
            cnpj=principal.cnpj.value,
            error=str(error),
            **{**entry, "before": json.dumps(entry["before"]), "after": json.dumps(entry["after"])},
        )
