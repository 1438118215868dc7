"""Firestore as the IdentityLinks store: phone <-> BSUID pairs per sending number.

``identityLinks/{phone_number_id}/phones/{e164}``  ``{bsuid, at, source}``
``identityLinks/{phone_number_id}/bsuids/{bsuid}``  ``{phone, at, source}``

Both directions are plain documents read by id (no query, so no index), written together in
one transaction. ``at`` is when the webhook said so: a pair newer than both sides replaces
them, and the partner each side had before is unlinked (``phone``/``bsuid`` None, with the
new ``at``). That tombstone is what makes a late, older webhook harmless: it finds a side
newer than itself and changes nothing, instead of bringing back a stale pair.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from google.cloud import firestore

from shared.adapters.errors import translated
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.domain.identity import is_bsuid

COLLECTION = "identityLinks"


class FirestoreIdentityLinks:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def bsuid_of(self, number: str, phone: str) -> str | None:
        return self._partner(self._phone_doc(number, phone), "bsuid")

    def phone_of(self, number: str, bsuid: str) -> str | None:
        return self._partner(self._bsuid_doc(number, bsuid), "phone")

    def link(self, number: str, phone: str, bsuid: str, at: datetime, source: str) -> bool:
        if not number or not phone.startswith("+") or not is_bsuid(bsuid):
            raise ValueError("link needs a sending number, an E.164 phone and a person's BSUID")
        phone_ref = self._phone_doc(number, phone)
        bsuid_ref = self._bsuid_doc(number, bsuid)

        def body(transaction: firestore.Transaction) -> bool:
            sides = {
                "phone": _data(phone_ref.get(transaction=transaction)),
                "bsuid": _data(bsuid_ref.get(transaction=transaction)),
            }
            if sides["phone"].get("bsuid") == bsuid and sides["bsuid"].get("phone") == phone:
                return False
            if any(side.get("at") is not None and side["at"] > at for side in sides.values()):
                return False
            old_bsuid = sides["phone"].get("bsuid")
            old_phone = sides["bsuid"].get("phone")
            # Reads before writes (a transaction's rule): each old partner, still ours or not.
            stale: list[tuple[firestore.DocumentReference, str, str]] = []
            if isinstance(old_bsuid, str) and old_bsuid != bsuid:
                stale.append((self._bsuid_doc(number, old_bsuid), "phone", phone))
            if isinstance(old_phone, str) and old_phone != phone:
                stale.append((self._phone_doc(number, old_phone), "bsuid", bsuid))
            unlinks = [
                ref
                for ref, field, ours in stale
                if _data(ref.get(transaction=transaction)).get(field) == ours
            ]
            for ref in unlinks:
                transaction.update(ref, {_field_of(ref): None, "at": at, "source": source})
            transaction.set(phone_ref, {"bsuid": bsuid, "at": at, "source": source})
            transaction.set(bsuid_ref, {"phone": phone, "at": at, "source": source})
            return True

        return run_transaction(self._client, body, max_attempts=EDIT_ATTEMPTS)

    def unlink(self, number: str, phone: str, bsuid: str) -> bool:
        phone_ref = self._phone_doc(number, phone)
        bsuid_ref = self._bsuid_doc(number, bsuid)

        def body(transaction: firestore.Transaction) -> bool:
            sides = ((phone_ref, "bsuid", bsuid), (bsuid_ref, "phone", phone))
            ours = [
                ref
                for ref, field, partner in sides
                if _data(ref.get(transaction=transaction)).get(field) == partner
            ]
            for ref in ours:  # deleted, not blanked: the ids are the documents' names
                transaction.delete(ref)
            return bool(ours)

        return run_transaction(self._client, body, max_attempts=EDIT_ATTEMPTS)

    def _partner(self, ref: firestore.DocumentReference, field: str) -> str | None:
        with translated("Firestore"):
            value = _data(ref.get()).get(field)
        return value if isinstance(value, str) and value else None

    def _phone_doc(self, number: str, phone: str) -> firestore.DocumentReference:
        return self._client.document(COLLECTION, number, "phones", phone)

    def _bsuid_doc(self, number: str, bsuid: str) -> firestore.DocumentReference:
        return self._client.document(COLLECTION, number, "bsuids", bsuid)


def _data(snapshot: Any) -> dict[str, Any]:
    return (snapshot.to_dict() or {}) if snapshot.exists else {}


def _field_of(ref: firestore.DocumentReference) -> str:
    """The partner field of a link document: a phone document names a BSUID and back."""
    return "bsuid" if ref.parent.id == "phones" else "phone"
