"""Firestore as the CampaignRepository: one document ``users/{cnpj}/campaigns/{id}`` per campaign.

The document holds the campaign's fields, as the API reads and writes them, and its
``pipeline``: the settings targeting and delivery read, derived from those fields at every
write (:func:`shared.domain.campaign.pipeline_settings`), so the two are written together and
can never disagree. A reader derives them again from the fields it validates: the stored copy
shows what the pipeline does to whoever looks at the document.

The run ledger keeps a built-in kind's daily marker in the same document
(:data:`~shared.adapters.firestore_runs.MARKER_FIELDS`); a write here carries it over.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from google.cloud import firestore
from google.cloud.firestore_v1.base_document import DocumentSnapshot
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.adapters.errors import translated
from shared.adapters.firestore_runs import MARKER_FIELDS
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.clock import Clock
from shared.domain.campaign import Campaign, CampaignStatus, built_in_campaign
from shared.domain.campaign_ids import BUILT_IN_KINDS, SEGMENT
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status
from shared.domain.errors import reading_document
from shared.ports import CampaignChange

PIPELINE_FIELD = "pipeline"
_OPEN = (Status.PENDING, Status.QUEUED, Status.SENDING)
_LIVE = (CampaignStatus.SCHEDULED.value, CampaignStatus.RUNNING.value)
_PAUSABLE = (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)
"""A WhatsApp pause stops what may still send; a cancelled or completed campaign sends nothing."""


class FirestoreCampaignRepository:
    def __init__(self, client: firestore.Client, clock: Clock) -> None:
        self._client = client
        self._clock = clock  # when WhatsApp paused a campaign

    def _collection(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "campaigns")

    def get(self, cnpj: Cnpj, campaign_id: str) -> Campaign | None:
        with translated("Firestore"):
            snapshot = self._collection(cnpj).document(campaign_id).get()
        return read_campaign(snapshot)

    def get_many(self, cnpj: Cnpj, campaign_ids: list[str]) -> dict[str, Campaign]:
        refs = [self._collection(cnpj).document(i) for i in campaign_ids]
        with translated("Firestore"):
            snapshots = list(self._client.get_all(refs))
        found = {snapshot.id: read_campaign(snapshot) for snapshot in snapshots}
        return {campaign_id: campaign for campaign_id, campaign in found.items() if campaign}

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
    ) -> list[Campaign]:
        """One page of campaigns (fields and order are whitelisted by the caller)."""
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
            found = [read_campaign(snapshot) for snapshot in query.stream()]
        return [campaign for campaign in found if campaign]

    def live(self, cnpj: Cnpj) -> list[str]:
        """Equality filters only: served by single-field indexes, however many campaigns the
        tenant has had (cancelled and completed ones are never read). Only the ids are
        fetched: a campaign that does not validate fails on its own when it is read."""
        query = (
            self._collection(cnpj)
            .where(filter=FieldFilter("kind", "==", SEGMENT))
            .where(filter=FieldFilter("status", "in", list(_LIVE)))
            .select([FieldPath.document_id()])
        )
        with translated("Firestore"):
            return sorted(snapshot.id for snapshot in query.stream())

    def mutate(
        self, cnpj: Cnpj, campaign_id: str, change: CampaignChange
    ) -> tuple[Campaign | None, Campaign]:
        reference = self._collection(cnpj).document(campaign_id)

        def body(transaction: firestore.Transaction) -> tuple[Campaign | None, Campaign]:
            snapshot = reference.get(transaction=transaction)
            current = read_campaign(snapshot)
            after = change(current)
            stored = (snapshot.to_dict() or {}) if snapshot.exists else {}
            transaction.set(reference, campaign_document(after, stored))
            return current, after

        return run_transaction(self._client, body, max_attempts=EDIT_ATTEMPTS)

    def pause(self, cnpj: Cnpj, campaign_id: str, reason: str) -> None:
        now = self._clock()

        def paused(current: Campaign | None) -> Campaign:
            campaign = current
            if campaign is None and campaign_id in BUILT_IN_KINDS:
                campaign = built_in_campaign(campaign_id, now=now)
            if campaign is None:
                raise _Unchanged
            if campaign.status not in (*_PAUSABLE, CampaignStatus.PAUSED):
                raise _Unchanged
            update: dict[str, Any] = {"status_reason": reason[:500], "updated_at": now}
            if campaign.status != CampaignStatus.PAUSED:
                update.update(status=CampaignStatus.PAUSED, paused_at=now)
            return campaign.model_copy(update=update)

        try:
            self.mutate(cnpj, campaign_id, paused)
        except _Unchanged:
            return

    def has_open_targets(self, cnpj: Cnpj, campaign_id: str) -> bool:
        """Whether any target is still on its way (a campaign completes only after its sends)."""
        targets = self._collection(cnpj).document(campaign_id).collection("targets")
        query = targets.where(filter=FieldFilter("status", "in", [s.value for s in _OPEN])).limit(1)
        with translated("Firestore"):
            return any(True for _ in query.stream())

    def opted_out_phones(self, cnpj: Cnpj) -> list[str]:
        """The phones the opt-out ledger holds opted out now (document ids, less those whose
        opt-out was lifted), for audience queries to exclude."""
        collection = self._client.collection("users", cnpj.value, "optouts")
        lifted = collection.where(filter=FieldFilter("state", "==", "opted_in"))
        with translated("Firestore"):
            resumed = {snapshot.id for snapshot in lifted.select([]).stream()}
            keys = [ref.id for ref in collection.list_documents()]
        return [key for key in keys if key.startswith("+") and key not in resumed]


class _Unchanged(Exception):
    """Nothing to pause: the transaction writes nothing."""


def read_campaign(snapshot: DocumentSnapshot[Any]) -> Campaign | None:
    """The campaign in its document, None when there is none. A built-in kind's document may
    hold only the run ledger's daily marker before its campaign is stored: no campaign yet."""
    fields = (snapshot.to_dict() or {}) if snapshot.exists else {}
    if "id" not in fields:
        return None
    kept = {name: value for name, value in fields.items() if name not in _NOT_CAMPAIGN_FIELDS}
    with reading_document(snapshot.reference.path):
        campaign = Campaign.model_validate(kept)
        campaign.pipeline  # noqa: B018  # thresholds its kind refuses make the record corrupt
    return campaign


_NOT_CAMPAIGN_FIELDS = frozenset({*MARKER_FIELDS, PIPELINE_FIELD})


def campaign_document(campaign: Campaign, stored: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign's document: its fields, its pipeline settings, and the daily marker the
    run ledger keeps in the ``stored`` document. Its times are Firestore timestamps, for range
    filters and sorts."""
    document = campaign.model_dump(mode="json")
    document["created_at"] = campaign.created_at
    document["updated_at"] = campaign.updated_at
    document[PIPELINE_FIELD] = campaign.pipeline.model_dump(mode="json")
    document.update({name: stored[name] for name in MARKER_FIELDS if name in stored})
    return document
