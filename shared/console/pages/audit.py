"""Auditoria: the audit trail, for admins.

The same store, filters and paging as ``GET /api/v1/audit`` (one function serves both). Other
roles get 403, as from the API: the page is no secret (the menu just leaves it out for them),
and "not allowed" tells a manager who follows a shared link what a 404 would hide.
Snapshots are shown as the fields that changed, then whole; every text from them is
escaped by the templates and has its phone numbers masked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.responses import Response

from shared.api.routes.audit import AuditEntry, AuditPage, audit_page
from shared.console.i18n import Formatter
from shared.console.templating import render
from shared.console.visit import SignedIn, Visit
from shared.domain.audit import AuditFilter
from shared.domain.calendar import start_of_day, zone
from shared.domain.errors import FieldError
from shared.logs import redact

router = APIRouter(prefix="/auditoria")

PAGE_SIZE = 20
KNOWN_ACTIONS = (
    "campaign.create",
    "campaign.update",
    "campaign.start",
    "campaign.pause",
    "campaign.resume",
    "campaign.cancel",
    "settings.update",
    "contacts.import",
    "contacts.tags",
    "templates.sync",
)
"""Suggestions for the action filter (any action string is accepted, as by the API)."""
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Row:
    entry: AuditEntry
    resource: str
    subject: str
    changes: list[Change]
    before: str
    after: str


def _instant(text: str) -> datetime | None:
    """An ISO 8601 instant (``updated_at``), or None: such text is a time, never a phone."""
    if not _ISO_INSTANT.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def masked(value: Any) -> Any:
    """The snapshot with every phone number in its texts masked (instants left alone)."""
    if isinstance(value, dict):
        return {redact(str(key)): masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str) and _instant(value) is None:
        return redact(value)
    return value


def _text(value: Any, fmt: Formatter) -> str:
    """A (masked) snapshot value as a person reads it: instants in the tenant's zone."""
    if value is None:
        return "—"
    if isinstance(value, str):
        moment = _instant(value)
        return fmt.datetime(moment) if moment is not None else value
    return json.dumps(value, ensure_ascii=False)


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """``{"a.b": 1, "items[0].name": "x"}``: every scalar of a snapshot under its path."""
    if isinstance(value, dict) and value:
        found: dict[str, Any] = {}
        for key, item in value.items():
            found |= _leaves(item, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(value, list) and value:
        found = {}
        for index, item in enumerate(value):
            found |= _leaves(item, f"{path}[{index}]")
        return found
    return {path or "valor": value}


def changes(before: Any, after: Any, fmt: Formatter) -> list[Change]:
    """The fields whose value differs, in order (a creation: every field of ``after``)."""
    old = _leaves(before) if before is not None else {}
    new = _leaves(after) if after is not None else {}
    return [
        Change(field, _text(old.get(field), fmt), _text(new.get(field), fmt))
        for field in dict.fromkeys([*old, *new])
        if old.get(field) != new.get(field)
    ]


def _whole(snapshot: Any) -> str:
    if snapshot is None:
        return ""
    return json.dumps(snapshot, ensure_ascii=False, indent=2, sort_keys=True)


def _row(entry: AuditEntry, fmt: Formatter) -> Row:
    before, after = masked(entry.before), masked(entry.after)
    return Row(
        entry=entry,
        resource=redact(entry.resource),
        subject=redact(entry.subject),
        changes=changes(before, after, fmt),
        before=_whole(before),
        after=_whole(after),
    )


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise FieldError(field, "Data inválida.") from error


@router.get("")
def audit_trail(
    visit: SignedIn,
    action: str = "",
    resource: str = "",
    subject: str = "",
    since: str = "",
    until: str = "",
    page_token: str = "",
) -> Response:
    if not visit.is_admin:
        return render(visit.request, "audit_forbidden.html", visit, status=403)
    filters = {
        "action": action.strip()[:200],
        "resource": resource.strip()[:500],
        "subject": subject.strip()[:200],
        "since": since.strip()[:10],
        "until": until.strip()[:10],
    }
    errors: dict[str, str] = {}
    page = AuditPage(items=[])
    try:
        page = _page(visit, filters, page_token.strip()[:200] or None)
    except FieldError as error:
        errors[error.field] = _portuguese(error)
    return render(
        visit.request,
        "audit.html",
        visit,
        status=422 if errors else 200,
        filters=filters,
        errors=errors,
        rows=[_row(entry, visit.fmt) for entry in page.items],
        next_url=_url(visit, filters, page.next_page_token) if page.next_page_token else None,
        first_url=_url(visit, filters, None) if page_token else None,
        actions=KNOWN_ACTIONS,
    )


def _page(visit: Visit, filters: dict[str, str], page_token: str | None) -> AuditPage:
    tz = zone(visit.tenant.timezone)
    first, last = _day(filters["since"], "since"), _day(filters["until"], "until")
    if first is not None and last is not None and last < first:
        raise FieldError("until", "A data final deve ser igual ou posterior à inicial.")
    where = AuditFilter(
        action=filters["action"] or None,
        resource=filters["resource"] or None,
        subject=filters["subject"] or None,
        since=start_of_day(first, tz) if first else None,
        until=start_of_day(last + timedelta(days=1), tz) if last else None,
    )
    return audit_page(visit.services, visit.principal.cnpj, where, PAGE_SIZE, page_token)


def _url(visit: Visit, filters: dict[str, str], page_token: str | None) -> str:
    query = {name: value for name, value in filters.items() if value}
    if page_token:
        query["page_token"] = page_token
    return visit.url("/auditoria" + (f"?{urlencode(query)}" if query else ""))


def _portuguese(error: FieldError) -> str:
    if error.field == "page_token":
        return "Esta página da lista não existe mais; volte à primeira página."
    return error.reason
