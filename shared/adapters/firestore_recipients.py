"""Firestore as the RecipientList: one campaign's target documents, a page at a time.

``users/{cnpj}/campaigns/{id}/targets/{targetId}`` in document-id order, optionally of one
status. Both shapes are served by Firestore's automatic single-field indexes (equality filters
come back in name order), and the cursor is the last target's id: no read is spent on it.
"""

from __future__ import annotations

from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.errors import translated
from shared.adapters.firestore_targets import targets_collection
from shared.domain.cnpj import Cnpj


class FirestoreRecipientList:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def page(
        self, cnpj: Cnpj, campaign_id: str, *, status: str | None, after: str | None, limit: int
    ) -> tuple[list[tuple[str, dict[str, Any]]], str | None]:
        """Up to ``limit`` targets as (id, fields) after the target ``after``; the id to
        continue from, or None on the last page."""
        query: Any = targets_collection(self._client, cnpj, campaign_id)
        if status is not None:
            query = query.where(filter=FieldFilter("status", "==", status))
        query = query.order_by(FieldPath.document_id())
        if after is not None:
            query = query.start_after({FieldPath.document_id(): after})
        with translated("Firestore"):
            snapshots = list(query.limit(limit + 1).stream())
        found = [(snapshot.id, snapshot.to_dict() or {}) for snapshot in snapshots[:limit]]
        more = len(snapshots) > limit
        return found, (found[-1][0] if more and found else None)
