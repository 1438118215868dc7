"""Firestore as the PeopleLedger: what the tenant's documents hold about one person.

The opt-out ledger (``users/{cnpj}/optouts/{phone}``) is the one the sender reads in its claim
transaction, so a suppression written here stops every later send to that phone. Erasures are
remembered by person id in ``users/{cnpj}/erasures/{key}`` (no personal data: the id, when
and who), so an erased person stays out of search and a repeated erasure is recognised even
after their rows are gone. The rest are reads for the LGPD export: targets, vouchers, clicks
and the frequency ledger.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.adapters.errors import translated
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.domain.cnpj import Cnpj
from shared.domain.consent import ConsentState, blocks_sending
from shared.domain.targets import customer_key

ERASURE_SOURCE = "erasure"
"""The ``source`` of an opt-out record written by an erasure."""
Document = dict[str, Any]


class FirestorePeopleLedger:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    # -- the opt-out ledger ----------------------------------------------------------------

    def opt_out(self, cnpj: Cnpj, phone: str) -> Document | None:
        """The phone's record while it is opted out (a lifted opt-out is in its history)."""
        with translated("Firestore"):
            snapshot = self._optouts(cnpj).document(phone).get()
        fields = snapshot.to_dict() if snapshot.exists else None
        return fields if blocks_sending(fields) else None

    def opted_out_among(self, cnpj: Cnpj, phones: Sequence[str]) -> set[str]:
        """The phones of ``phones`` the ledger holds (one batched read)."""
        refs = [self._optouts(cnpj).document(phone) for phone in dict.fromkeys(phones)]
        if not refs:
            return set()
        with translated("Firestore"):
            return {
                snapshot.id
                for snapshot in self._client.get_all(refs)
                if snapshot.exists and blocks_sending(snapshot.to_dict())
            }

    def opt_out_page(self, cnpj: Cnpj, offset: int, limit: int) -> list[Document]:
        """Phones opted out now, newest first (one field's order: its automatic index serves
        it; the few lifted ones, and BSUID keys, are skipped as they stream by)."""
        query = self._optouts(cnpj).order_by("at", direction=firestore.Query.DESCENDING)
        page: list[Document] = []
        with translated("Firestore"):
            for snapshot in query.stream():
                fields = snapshot.to_dict() or {}
                if not snapshot.id.startswith("+") or not blocks_sending(fields):
                    continue
                if offset > 0:
                    offset -= 1
                    continue
                page.append({"id": snapshot.id, **fields})
                if len(page) >= limit:
                    break
        return page

    def opt_out_count(self, cnpj: Cnpj) -> int:
        """Phones opted out now: every key, less lifted ones and BSUID keys (which are
        written beside a phone's only when the person is known by both, and counted apart)."""
        states = self._optouts(cnpj)
        opted_in = FieldFilter("state", "==", ConsentState.OPTED_IN.value)
        lifted = states.where(filter=opted_in).where(filter=FieldFilter("keyType", "==", "phone"))
        bsuids = states.where(filter=FieldFilter("keyType", "==", "bsuid"))
        return _count(states) - _count(lifted) - _count(bsuids)

    def suppress(self, cnpj: Cnpj, phone: str, at: datetime, by: str) -> bool:
        """Keep ``phone`` out of every later send: True if this added it to the ledger.

        A phone already there keeps its record (the evidence of the opt-out); the erasure is
        noted beside it once.
        """
        doc = self._optouts(cnpj).document(phone)

        def run(transaction: firestore.Transaction) -> bool:
            snapshot = doc.get(transaction=transaction)
            if not snapshot.exists:
                record = {"phone": phone, "at": at, "source": ERASURE_SOURCE, "by": by}
                transaction.create(doc, record)
                return True
            current = snapshot.to_dict() or {}
            if current.get("source") != ERASURE_SOURCE and "erasedAt" not in current:
                erased = {"erasedAt": at, "erasedBy": by}
                if "state" in current:  # an erasure is never lifted (shared.domain.consent)
                    erased["state"] = ConsentState.OPTED_OUT.value
                transaction.update(doc, erased)
                return not blocks_sending(current)
            return False

        return run_transaction(self._client, run, max_attempts=EDIT_ATTEMPTS)

    # -- erasures --------------------------------------------------------------------------

    def erasure(self, cnpj: Cnpj, person_id: str) -> Document | None:
        with translated("Firestore"):
            snapshot = self._erasures(cnpj).document(customer_key(person_id)).get()
        return snapshot.to_dict() if snapshot.exists else None

    def erased_ids(self, cnpj: Cnpj) -> list[str]:
        with translated("Firestore"):
            return [str((s.to_dict() or {}).get("id", "")) for s in self._erasures(cnpj).stream()]

    def record_erasure(
        self, cnpj: Cnpj, person_ids: Sequence[str], at: datetime, by: str, suppressed: bool
    ) -> None:
        """One document per id the person was known by; a repeat keeps the first erasure's."""
        with translated("Firestore"):
            for person_id in dict.fromkeys(person_ids):
                doc = self._erasures(cnpj).document(customer_key(person_id))
                with contextlib.suppress(api.Conflict):  # erased before: keep the first
                    doc.create({"id": person_id, "at": at, "by": by, "suppressed": suppressed})

    # -- what else the tenant holds (the LGPD export) ----------------------------------------

    def targets(self, cnpj: Cnpj, refs: Sequence[tuple[str, str]]) -> list[Document]:
        """The target documents ``(campaign id, target id)`` that exist, with their path."""
        docs = [
            self._client.document("users", cnpj.value, "campaigns", campaign, "targets", target)
            for campaign, target in dict.fromkeys(refs)
        ]
        return self._existing(docs)

    def vouchers(self, cnpj: Cnpj, codes: Sequence[str]) -> list[Document]:
        docs = [
            self._client.document("users", cnpj.value, "vouchers", code)
            for code in dict.fromkeys(codes)
        ]
        return self._existing(docs)

    def clicks(self, cnpj: Cnpj, phone: str) -> list[Document]:
        """Quick-reply presses from this phone (one field's equality: automatic index)."""
        query = self._client.collection("users", cnpj.value, "clicks").where(
            filter=FieldFilter("phone", "==", phone)
        )
        with translated("Firestore"):
            return [{"path": s.reference.path, **(s.to_dict() or {})} for s in query.stream()]

    def recent_send(self, cnpj: Cnpj, phone: str) -> Document | None:
        """The frequency ledger's record of the last marketing message to this phone."""
        with translated("Firestore"):
            snapshot = self._client.document("users", cnpj.value, "recentSends", phone).get()
        return snapshot.to_dict() if snapshot.exists else None

    # -- helpers ---------------------------------------------------------------------------

    def _existing(self, docs: list[firestore.DocumentReference]) -> list[Document]:
        if not docs:
            return []
        with translated("Firestore"):
            return [
                {"path": s.reference.path, **(s.to_dict() or {})}
                for s in self._client.get_all(docs)
                if s.exists
            ]

    def _optouts(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "optouts")

    def _erasures(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "erasures")


def _count(query: Any) -> int:
    """A collection's or query's COUNT aggregation (one read per 1,000 documents)."""
    with translated("Firestore"):
        [[result]] = query.count().get()
    return int(result.value)
