"""Firestore as the TargetStore: create-only batched writes under deterministic ids.

A batch commit is atomic, and ``create`` fails if the document exists, so a batch that meets
one existing target fails whole. That is the rare path (a duplicate delivery or a concurrent
tick): we then read which of the batch's targets exist, drop them, and commit the rest. The
common path — new targets — costs one commit per 500 targets and no reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.domain.cnpj import Cnpj
from shared.domain.errors import TransientError
from shared.domain.targets import Target
from shared.ports import MAX_BATCH_WRITES, BatchResult, BatchTooLarge

_MAX_CONFLICT_ROUNDS = 5


def targets_collection(
    client: firestore.Client, cnpj: Cnpj, campaign_id: str
) -> firestore.CollectionReference:
    return client.collection("users", cnpj.value, "campaigns", campaign_id, "targets")


class FirestoreTargetStore:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def create_batch(self, cnpj: Cnpj, targets: Sequence[Target]) -> BatchResult:
        if len(targets) > MAX_BATCH_WRITES:
            raise BatchTooLarge(
                f"a batch holds at most {MAX_BATCH_WRITES} writes, got {len(targets)}"
            )
        pending = list(targets)
        already_present = 0
        with translated("Firestore"):
            for _ in range(_MAX_CONFLICT_ROUNDS):
                try:
                    self._commit(cnpj, pending)
                    return BatchResult(created=len(pending), already_present=already_present)
                except api.Conflict:  # someone created some of them first: drop those, retry
                    existing = self._existing_ids(cnpj, pending)
                    already_present += len(existing)
                    pending = [target for target in pending if target.id not in existing]
                    if not pending:
                        return BatchResult(created=0, already_present=already_present)
        raise TransientError("targets kept conflicting with concurrent writers")

    def customers_with_targets_since(
        self, cnpj: Cnpj, campaign_id: str, period_key: str
    ) -> set[str]:
        query = (
            targets_collection(self._client, cnpj, campaign_id)
            .where(filter=FieldFilter("period", ">=", period_key))
            .select(["customerId"])
        )
        with translated("Firestore"):
            return {str(snapshot.get("customerId")) for snapshot in query.stream()}

    def list(self, cnpj: Cnpj, campaign_id: str) -> list[dict[str, Any]]:
        """Every target of one campaign, with its id (for the CLI and tests)."""
        with translated("Firestore"):
            return [
                {"id": snapshot.id, **(snapshot.to_dict() or {})}
                for snapshot in targets_collection(self._client, cnpj, campaign_id).stream()
            ]

    def _commit(self, cnpj: Cnpj, targets: Sequence[Target]) -> None:
        batch = self._client.batch()
        for target in targets:
            reference = targets_collection(self._client, cnpj, target.campaign_id).document(
                target.id
            )
            batch.create(
                reference,
                {
                    **target.document(),
                    "createdAt": firestore.SERVER_TIMESTAMP,
                    "updatedAt": firestore.SERVER_TIMESTAMP,  # the sweeper's "stuck since"
                },
            )
        batch.commit()

    def _existing_ids(self, cnpj: Cnpj, targets: Sequence[Target]) -> set[str]:
        references = [
            targets_collection(self._client, cnpj, target.campaign_id).document(target.id)
            for target in targets
        ]
        return {snap.id for snap in self._client.get_all(references) if snap.exists}
