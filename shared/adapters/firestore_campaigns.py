"""Firestore as the CampaignRepository: ``users/{cnpj}/campaigns/{id}`` plus its projection.

The campaign document is what the API reads and writes; the pipeline reads the campaign's
settings map in the tenant document (``users/{cnpj}.campaigns.<id>``). Both are written in
one transaction, so the two can never disagree, and a status change (a pause) reaches the
senders with their next tenant read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.adapters.firestore_runs import MARKER_FIELDS
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status
from shared.domain.errors import TransientError
from shared.ports import CampaignDocument, CampaignMutation

_MAX_ATTEMPTS = 10
_BeforeAfter = tuple[CampaignDocument | None, CampaignDocument]
_OPEN = (Status.PENDING, Status.QUEUED, Status.SENDING)


class FirestoreCampaignRepository:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _collection(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "campaigns")

    def get(self, cnpj: Cnpj, campaign_id: str) -> CampaignDocument | None:
        with translated("Firestore"):
            snapshot = self._collection(cnpj).document(campaign_id).get()
        return _campaign(snapshot.to_dict() if snapshot.exists else None)

    def get_many(self, cnpj: Cnpj, campaign_ids: list[str]) -> dict[str, CampaignDocument]:
        refs = [self._collection(cnpj).document(i) for i in campaign_ids]
        with translated("Firestore"):
            snapshots = list(self._client.get_all(refs))
        found = {s.id: _campaign(s.to_dict()) for s in snapshots if s.exists}
        return {campaign_id: document for campaign_id, document in found.items() if document}

    def page(
        self,
        cnpj: Cnpj,
        *,
        equals: dict[str, str],
        created_from: datetime | None,
        created_until: datetime | None,
        order_by: str,
        descending: bool,
        offset: int,
        limit: int,
    ) -> list[CampaignDocument]:
        """One page of campaign documents (fields and order are whitelisted by the caller)."""
        query: Any = self._collection(cnpj)
        for field, value in equals.items():
            query = query.where(filter=FieldFilter(field, "==", value))
        if created_from is not None:
            query = query.where(filter=FieldFilter("created_at", ">=", created_from))
        if created_until is not None:
            query = query.where(filter=FieldFilter("created_at", "<", created_until))
        direction = firestore.Query.DESCENDING if descending else firestore.Query.ASCENDING
        if order_by not in equals:  # production refuses to order on a field an equality fixes
            query = query.order_by(order_by, direction=direction)
        query = query.offset(offset).limit(limit)
        with translated("Firestore"):
            found = [_campaign(snapshot.to_dict()) for snapshot in query.stream()]
        return [document for document in found if document]

    def mutate(
        self, cnpj: Cnpj, campaign_id: str, mutation: CampaignMutation
    ) -> tuple[CampaignDocument | None, CampaignDocument]:
        """Apply ``mutation`` to the campaign and its projection atomically; (before, after)."""
        doc = self._collection(cnpj).document(campaign_id)
        tenant = self._client.document("users", cnpj.value)

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> _BeforeAfter:
            snapshot = doc.get(transaction=transaction)
            stored = (snapshot.to_dict() or {}) if snapshot.exists else {}
            current = _campaign(stored)
            new_doc, projection = mutation(current)
            markers = {name: stored[name] for name in MARKER_FIELDS if name in stored}
            transaction.set(doc, {**new_doc, **markers})
            path = f"campaigns.{campaign_id}"  # ids are [A-Z0-9_]: a plain field path
            value = projection if projection is not None else firestore.DELETE_FIELD
            transaction.set(tenant, {"campaigns": {campaign_id: value}}, merge=[path])
            return current, new_doc

        with translated("Firestore"):
            try:
                result: _BeforeAfter = run(self._client.transaction(max_attempts=_MAX_ATTEMPTS))
                return result
            except ValueError as error:
                if isinstance(error.__cause__, api.Aborted):
                    raise TransientError(f"Firestore transaction contended: {error}") from error
                raise

    def has_open_targets(self, cnpj: Cnpj, campaign_id: str) -> bool:
        """Whether any target is still on its way (a campaign completes only after its sends)."""
        targets = self._collection(cnpj).document(campaign_id).collection("targets")
        query = targets.where(filter=FieldFilter("status", "in", [s.value for s in _OPEN])).limit(1)
        with translated("Firestore"):
            return any(True for _ in query.stream())

    def opted_out_phones(self, cnpj: Cnpj) -> list[str]:
        """The opt-out ledger's phones (document ids), for audience queries to exclude."""
        collection = self._client.collection("users", cnpj.value, "optouts")
        with translated("Firestore"):
            return [ref.id for ref in collection.list_documents()]


def _campaign(document: CampaignDocument | None) -> CampaignDocument | None:
    """The campaign in its document, without the run ledger's daily marker kept there too
    (see :data:`MARKER_FIELDS`). A built-in kind's document may hold only that marker (and a
    WhatsApp pause's fields) before the campaign is first stored: that is no campaign yet."""
    if document is None or "id" not in document:
        return None
    return {name: value for name, value in document.items() if name not in MARKER_FIELDS}
