"""Keyset pages over Firestore, newest first: the one way the audit trail and the runs page.

A page ends at a document; the next starts after it. Ties on the time field are broken by the
document id, so no entry is skipped or repeated between pages, and the caller's cursor is a
plain document id that only resolves inside the collection it came from.
"""

from __future__ import annotations

from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.errors import translated


def newest_first(
    collection: firestore.CollectionReference,
    query: Any,
    *,
    time_field: str,
    after: str | None,
    limit: int,
) -> tuple[list[Any], bool]:
    """Up to ``limit`` documents of ``query`` (built on ``collection``) by ``time_field``
    descending, after the document ``after``; and whether more follow. An ``after`` that is
    not a document of ``collection`` raises KeyError."""
    query = query.order_by(time_field, direction=firestore.Query.DESCENDING).order_by(
        FieldPath.document_id(), direction=firestore.Query.DESCENDING
    )
    with translated("Firestore"):
        if after is not None:
            cursor = collection.document(after).get()
            if not cursor.exists:
                raise KeyError(after)
            query = query.start_after(cursor)
        snapshots = list(query.limit(limit + 1).stream())
    return snapshots[:limit], len(snapshots) > limit
