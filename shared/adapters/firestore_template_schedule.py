"""Firestore as the template sync's schedule: ``users/{cnpj}/templateSync/schedule``.

One small document per tenant: the last attempt's instant and whether it succeeded. A claim
is a transaction that writes the attempt only if the document still holds what the caller
read, so two jobs of the same hour (a redelivery, an overlap) sync once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.cloud import firestore

from shared.adapters.errors import translated
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.domain.cnpj import Cnpj
from shared.ports import SyncState


class FirestoreTemplateSyncSchedule:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _document(self, cnpj: Cnpj) -> firestore.DocumentReference:
        return self._client.document("users", cnpj.value, "templateSync", "schedule")

    def read(self, cnpj: Cnpj) -> SyncState | None:
        with translated("Firestore"):
            snapshot = self._document(cnpj).get()
        return _state(snapshot.to_dict() if snapshot.exists else None)

    def claim(self, cnpj: Cnpj, seen: SyncState | None, now: datetime) -> bool:
        document = self._document(cnpj)

        def body(transaction: firestore.Transaction) -> bool:
            snapshot = document.get(transaction=transaction)
            if _state(snapshot.to_dict() if snapshot.exists else None) != seen:
                return False
            transaction.set(document, {"attemptedAt": now, "succeeded": False, "error": ""})
            return True

        return run_transaction(self._client, body, max_attempts=EDIT_ATTEMPTS)

    def finish(self, cnpj: Cnpj, attempted_at: datetime, error: str) -> None:
        fields: dict[str, Any] = {"attemptedAt": attempted_at, "succeeded": not error}
        fields["error"] = error
        if not error:
            fields["syncedAt"] = attempted_at
        with translated("Firestore"):
            self._document(cnpj).set(fields, merge=True)


def _state(fields: dict[str, Any] | None) -> SyncState | None:
    if not fields or not isinstance(fields.get("attemptedAt"), datetime):
        return None
    return SyncState(fields["attemptedAt"], bool(fields.get("succeeded")))
