"""Firestore as the SendingNumberBook: one document ``numbers/{phone_number_id}`` per number
whose limits the operator set (``campaigns number set``); a number without one has Meta's
defaults (:class:`~shared.domain.sending_number.NumberLimits`)."""

from __future__ import annotations

from google.cloud import firestore

from shared.adapters.errors import translated
from shared.domain.errors import reading_document
from shared.domain.sending_number import NumberLimits


class FirestoreSendingNumbers:
    def __init__(self, client: firestore.Client) -> None:
        self._numbers = client.collection("numbers")

    def limits(self, phone_number_id: str) -> NumberLimits:
        with translated("Firestore"):
            snapshot = self._numbers.document(phone_number_id).get()
        if not snapshot.exists:
            return NumberLimits()
        with reading_document(f"numbers/{phone_number_id}"):
            return NumberLimits.model_validate(snapshot.to_dict() or {})

    def set_limits(self, phone_number_id: str, limits: NumberLimits) -> None:
        with translated("Firestore"):
            self._numbers.document(phone_number_id).set(limits.model_dump())
