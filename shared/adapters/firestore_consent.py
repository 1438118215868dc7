"""Firestore as the consent ledger: immutable events, a state document per identity key.

``users/{cnpj}/consentEvents/{eventId}``   one event (create-only: a duplicate webhook finds it)
``users/{cnpj}/optouts/{key}``             the state of one key (phone or BSUID): what the
                                           sender's claim transaction reads, and the audience
                                           exclusion; documents from before the ledger (no
                                           ``state``) are opt-outs and stay valid as they are
``consentQuarantine/{eventId}``            an opt-out for a number no tenant sends from, with
                                           its payload, kept until (and after) it is applied

An event and the state documents of its keys change in one transaction, so the state always
agrees with the events and a concurrent duplicate writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.domain.cnpj import Cnpj
from shared.domain.consent import (
    ConsentEvent,
    blocks_sending,
    keys_of,
    legacy_event,
    state_document,
)

QUARANTINE = "consentQuarantine"
_MAX_PAYLOAD_CHARS = 20_000


class FirestoreConsentLedger:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def record(self, cnpj: Cnpj, event: ConsentEvent) -> bool:
        """Store ``event`` and bring its keys' states up to date; False if it was there."""
        event_doc = self._events(cnpj).document(event.id)
        state_docs = {key: self._states(cnpj).document(key) for key in keys_of(event.identity)}

        def run(transaction: firestore.Transaction) -> bool:
            if event_doc.get(transaction=transaction).exists:
                return False
            snapshots = {key: doc.get(transaction=transaction) for key, doc in state_docs.items()}
            transaction.create(event_doc, event.document())
            for key, snapshot in snapshots.items():
                current = snapshot.to_dict() if snapshot.exists else None
                if current is not None and "state" not in current:
                    # A document from before the ledger: its one event joins the evidence.
                    legacy = legacy_event(key, current)
                    transaction.set(self._events(cnpj).document(legacy.id), legacy.document())
                updated = state_document(key, current, event)
                if updated is not None:
                    transaction.set(state_docs[key], updated)
            return True

        return run_transaction(self._client, run, max_attempts=EDIT_ATTEMPTS)

    def opted_out(self, cnpj: Cnpj, keys: Sequence[str]) -> bool:
        """Whether any of the person's keys is currently opted out."""
        refs = [self._states(cnpj).document(key) for key in dict.fromkeys(keys) if key]
        if not refs:
            return False
        with translated("Firestore"):
            return any(
                blocks_sending(snapshot.to_dict())
                for snapshot in self._client.get_all(refs)
                if snapshot.exists
            )

    def history(self, cnpj: Cnpj, keys: Sequence[str]) -> list[ConsentEvent]:
        """Every event of any of ``keys``, newest first (one array-contains per key)."""
        found: dict[str, ConsentEvent] = {}
        with translated("Firestore"):
            for key in dict.fromkeys(k for k in keys if k):
                query = self._events(cnpj).where(filter=FieldFilter("keys", "array_contains", key))
                for snapshot in query.stream():
                    event = ConsentEvent.from_document(snapshot.to_dict() or {})
                    found[event.id] = event
                state = self._states(cnpj).document(key).get()
                fields = state.to_dict() if state.exists else None
                if fields is not None and "state" not in fields:  # never touched since
                    legacy = legacy_event(key, fields)
                    found.setdefault(legacy.id, legacy)
        return sorted(found.values(), key=lambda e: (e.at, e.id), reverse=True)

    # -- the quarantine ----------------------------------------------------------------------

    def quarantine(self, event: ConsentEvent, payload: Any) -> bool:
        """Keep an opt-out no tenant could take; False if it is kept already."""
        text = json.dumps(payload, ensure_ascii=False, default=str)[:_MAX_PAYLOAD_CHARS]
        document = {**event.document(), "payload": text, "appliedTo": []}
        with translated("Firestore"):
            try:
                self._client.collection(QUARANTINE).document(event.id).create(document)
            except api.Conflict:
                return False
        return True

    def quarantined(self, number: str) -> list[ConsentEvent]:
        """The events kept for ``number`` (applied or not: applying is idempotent)."""
        query = self._client.collection(QUARANTINE).where(
            filter=FieldFilter("number", "==", number)
        )
        with translated("Firestore"):
            return [ConsentEvent.from_document(s.to_dict() or {}) for s in query.stream()]

    def mark_applied(self, event: ConsentEvent, cnpj: Cnpj) -> None:
        with translated("Firestore"):
            self._client.collection(QUARANTINE).document(event.id).update(
                {"appliedTo": firestore.ArrayUnion([cnpj.value])}
            )

    # -- helpers -----------------------------------------------------------------------------

    def _events(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "consentEvents")

    def _states(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "optouts")
