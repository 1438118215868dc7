"""The audit trail's vocabulary: one recorded write, and what a listing filters on.

Who wrote (the token's subject and role), what (an action such as ``campaign.create`` on a
resource such as ``campaigns/{id}``), when (the store's commit time) and the resource before
and after, as JSON. Written by :mod:`shared.api.audit` after every API or console write; read
by ``GET /api/v1/audit``, the console's Auditoria and the dashboard's alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: str
    at: datetime
    subject: str
    role: str
    action: str
    resource: str
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class AuditFilter:
    resource: str | None = None
    action: str | None = None
    since: datetime | None = None
    """Inclusive."""
    until: datetime | None = None
    """Exclusive."""
    subject: str | None = None
