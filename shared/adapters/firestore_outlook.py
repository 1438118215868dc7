"""Firestore as the DeliveryOutlook: what a forecast reads, and nothing it could change.

A campaign's targets still waiting (``status in [PENDING, QUEUED]``, served by Firestore's
automatic single-field index), the tenant's pacing shard documents and a campaign's own (when
it sets a pace of its own), read outside any transaction: a forecast is a picture of now, and
must never hold the locks planning needs.
"""

from __future__ import annotations

from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.adapters.firestore_targets import targets_collection
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.pacing import ShardState

_WAITING = [Status.PENDING.value, Status.QUEUED.value]


class FirestoreDeliveryOutlook:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def waiting(self, cnpj: Cnpj, campaign_id: str) -> list[TargetRecord]:
        query = targets_collection(self._client, cnpj, campaign_id).where(
            filter=FieldFilter("status", "in", _WAITING)
        )
        with translated("Firestore"):
            snapshots = list(query.stream())
        return [
            TargetRecord.from_document(
                TargetRef(cnpj, campaign_id, snapshot.id), snapshot.to_dict() or {}
            )
            for snapshot in snapshots
        ]

    def pacing(self, cnpj: Cnpj, shards: int) -> dict[int, ShardState]:
        return self._states(["users", cnpj.value, "pacing"], shards)

    def campaign_pacing(self, cnpj: Cnpj, campaign_id: str, shards: int) -> dict[int, ShardState]:
        return self._states(["users", cnpj.value, "campaigns", campaign_id, "pacing"], shards)

    def _states(self, collection: list[str], shards: int) -> dict[int, ShardState]:
        refs = [self._client.document(*collection, f"shard-{shard}") for shard in range(shards)]
        with translated("Firestore"):
            snapshots = list(self._client.get_all(refs))
        states: dict[int, ShardState] = {}
        for snapshot in snapshots:
            if snapshot.exists:
                shard = int(snapshot.id.removeprefix("shard-"))
                states[shard] = (snapshot.to_dict() or {}).get("slots", {})
        return states
