"""Firestore as the audit log: one append-only document per API write.

``users/{cnpj}/audit/{autoId}``  who (subject, role), what (action, resource), when (the
Firestore server's commit time, so instances with skewed clocks still agree on the order) and
the resource before and after the write.

The snapshots are stored as JSON text, not as Firestore maps: Firestore refuses arrays of
arrays (valid JSON), and every field of a map is indexed, so a large campaign snapshot would
cost index writes on each audit entry and could hit the 40,000-index-entries-per-document
limit. A snapshot above :data:`MAX_SNAPSHOT_BYTES` is replaced by a marker with its size and
digest, which keeps the document far from Firestore's 1 MiB limit.

Listing is newest first (``at`` descending, then document id descending so equal times keep
a stable order) and pages with the last document's id. Production needs a composite index for
each combination of the equality filters (resource, action, subject) with ``at desc``, declared
in :mod:`shared.adapters.firestore_schema` (the emulator does not ask for them).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.adapters.firestore_paging import newest_first
from shared.domain.audit import AuditFilter, AuditRecord
from shared.domain.cnpj import Cnpj

MAX_SNAPSHOT_BYTES = 256 * 1024
"""Above this a snapshot is stored as ``{"_truncated": true, "bytes": n, "sha256": ...}``."""


def _encode(snapshot: Any) -> str | None:
    """JSON text of an already JSON-safe value, or a marker when it is too large to keep."""
    if snapshot is None:
        return None
    text = json.dumps(snapshot, ensure_ascii=False, sort_keys=True, allow_nan=False)
    size = len(text.encode())
    if size <= MAX_SNAPSHOT_BYTES:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()
    return json.dumps({"_truncated": True, "bytes": size, "sha256": digest})


def _decode(text: Any) -> Any:
    return json.loads(text) if isinstance(text, str) else None


class FirestoreAuditLog:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _collection(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "audit")

    def append(
        self,
        cnpj: Cnpj,
        *,
        subject: str,
        role: str,
        action: str,
        resource: str,
        before: Any,
        after: Any,
    ) -> str:
        """Store one entry (``before``/``after`` must be JSON-safe); returns its id."""
        reference = self._collection(cnpj).document()
        fields = {
            "at": firestore.SERVER_TIMESTAMP,
            "subject": subject,
            "role": role,
            "action": action,
            "resource": resource,
            "before": _encode(before),
            "after": _encode(after),
        }
        with translated("Firestore"):
            reference.create(fields)
        return str(reference.id)

    def page(
        self, cnpj: Cnpj, where: AuditFilter, size: int, after_id: str | None = None
    ) -> tuple[list[AuditRecord], str | None]:
        """Up to ``size`` entries, newest first, after the entry ``after_id`` of an earlier page.

        Returns the entries and the id to continue from (None on the last page). An
        ``after_id`` that is not one of this tenant's entries raises KeyError.
        """
        collection = self._collection(cnpj)
        query: Any = collection
        if where.resource is not None:
            query = query.where(filter=FieldFilter("resource", "==", where.resource))
        if where.action is not None:
            query = query.where(filter=FieldFilter("action", "==", where.action))
        if where.subject is not None:
            query = query.where(filter=FieldFilter("subject", "==", where.subject))
        if where.since is not None:
            query = query.where(filter=FieldFilter("at", ">=", where.since))
        if where.until is not None:
            query = query.where(filter=FieldFilter("at", "<", where.until))
        page, more = newest_first(collection, query, time_field="at", after=after_id, limit=size)
        records = [_record(snapshot.id, snapshot.to_dict() or {}) for snapshot in page]
        return records, (records[-1].id if more and records else None)

    def entries(
        self, cnpj: Cnpj, action: str, since: datetime, limit: int
    ) -> list[tuple[datetime, Any]]:
        """The latest entries of ``action`` at or after ``since``: (when, state after)."""
        records, _ = self.page(cnpj, AuditFilter(action=action, since=since), limit)
        return [(record.at, record.after) for record in records]


def _record(document_id: str, fields: Mapping[str, Any]) -> AuditRecord:
    return AuditRecord(
        id=document_id,
        at=fields["at"],
        subject=str(fields.get("subject", "")),
        role=str(fields.get("role", "")),
        action=str(fields.get("action", "")),
        resource=str(fields.get("resource", "")),
        before=_decode(fields.get("before")),
        after=_decode(fields.get("after")),
    )
