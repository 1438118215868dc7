"""``GET /api/v1/audit``: who changed what in this tenant, newest first (admins only).

The page token is opaque to clients (base64url of the last entry's id) so the paging scheme can
change without breaking them; it only ever resolves inside the caller's own tenant.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.api.deps import Admin, Services
from shared.bootstrap import Container
from shared.domain.audit import AuditFilter, AuditRecord
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError

router = APIRouter(prefix="/api/v1", tags=["audit"])

MAX_PAGE_SIZE = 100
_CURSOR_PREFIX = "a1:"
_DOCUMENT_ID = re.compile(r"[A-Za-z0-9]{1,64}")


class AuditEntry(BaseModel):
    id: str
    at: datetime = Field(description="when the write was committed (server time, UTC)")
    subject: str = Field(description="the token subject (`sub`) of the caller")
    role: str = Field(description="the caller's role when it wrote")
    action: str = Field(description="what was done, e.g. `campaign.create`")
    resource: str = Field(description="what it was done to, e.g. `campaigns/{id}`")
    before: Any = Field(default=None, description="the resource before the write (null: none)")
    after: Any = Field(default=None, description="the resource after the write (null: deleted)")


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_page_token: str | None = Field(
        default=None, description="pass as `page_token` for the next page; null on the last"
    )


def _token(document_id: str) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{document_id}".encode()).decode()


def _document_id(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise FieldError("page_token", "not a token from this listing") from error
    document_id = text.removeprefix(_CURSOR_PREFIX)
    if not text.startswith(_CURSOR_PREFIX) or not _DOCUMENT_ID.fullmatch(document_id):
        raise FieldError("page_token", "not a token from this listing")
    return document_id


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _entry(record: AuditRecord) -> AuditEntry:
    return AuditEntry(
        id=record.id,
        at=record.at,
        subject=record.subject,
        role=record.role,
        action=record.action,
        resource=record.resource,
        before=record.before,
        after=record.after,
    )


@router.get("/audit", response_model=AuditPage, summary="The tenant's audit trail of API writes")
def list_audit(
    principal: Admin,
    services: Services,
    resource: Annotated[
        str | None, Query(max_length=500, description="only this resource, e.g. `campaigns/x`")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=200, description="only this action, e.g. `campaign.create`")
    ] = None,
    subject: Annotated[
        str | None, Query(max_length=200, description="only writes by this token subject")
    ] = None,
    since: Annotated[
        datetime | None, Query(description="entries at or after (ISO 8601; no zone = UTC)")
    ] = None,
    until: Annotated[
        datetime | None, Query(description="entries before (ISO 8601; no zone = UTC)")
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    page_token: Annotated[str | None, Query(max_length=200)] = None,
) -> AuditPage:
    where = AuditFilter(
        resource=resource, action=action, subject=subject, since=_utc(since), until=_utc(until)
    )
    return audit_page(services, principal.cnpj, where, page_size, page_token)


def audit_page(
    services: Container, cnpj: Cnpj, where: AuditFilter, page_size: int, page_token: str | None
) -> AuditPage:
    """One page of the trail; the console's Auditoria reads it through here too."""
    if where.since is not None and where.until is not None and where.until <= where.since:
        raise FieldError("until", "must be after since")
    after_id = _document_id(page_token) if page_token is not None else None
    try:
        records, last = services.audit.page(cnpj, where, page_size, after_id)
    except KeyError as error:
        raise FieldError("page_token", "not a token from this listing") from error
    return AuditPage(
        items=[_entry(record) for record in records],
        next_page_token=_token(last) if last is not None else None,
    )
