"""A per-tenant lease in Firestore that serialises changes of the tenant's contacts table.

BigQuery has no row locks and production runs only a couple of mutating DML statements per
table at once, so two imports of one tenant must not interleave their read-plan-MERGE steps.
The lease is one document, ``users/{cnpj}/locks/contacts``, taken in a transaction (so two
takers cannot both win) and held under a random holder id until ``expiresAt``: a function
that dies while holding it blocks the tenant for at most the lease's time-to-live, after
which the next taker overwrites it. Release deletes the document only if it is still ours.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from google.cloud import firestore

from shared import logs
from shared.adapters.firestore_transactions import EDIT_ATTEMPTS, run_transaction
from shared.clock import Clock
from shared.domain.cnpj import Cnpj
from shared.domain.contacts import ContactsBusy
from shared.domain.errors import TransientError

LEASE_TTL = timedelta(minutes=10)
"""Far above a 50,000-row import in production (seconds), renewed before every write."""
MAX_WAIT_SECONDS = 30.0
"""How long a caller waits for another change of the same tenant to finish."""
_FIRST_POLL_SECONDS = 0.1
_MAX_POLL_SECONDS = 1.0
_log = logging.getLogger(__name__)


class FirestoreLease:
    """The held lease: renew it before long steps; the lock releases it."""

    def __init__(
        self,
        client: firestore.Client,
        doc: firestore.DocumentReference,
        holder: str,
        ttl: timedelta,
        clock: Clock,
    ) -> None:
        self._client = client
        self._doc = doc
        self.holder = holder
        self._ttl = ttl
        self._clock = clock

    def renew(self) -> None:
        def body(transaction: firestore.Transaction) -> bool:
            snapshot = self._doc.get(transaction=transaction)
            if not snapshot.exists or snapshot.get("holder") != self.holder:
                return False
            now = self._clock()
            transaction.update(self._doc, {"expiresAt": now + self._ttl, "renewedAt": now})
            return True

        if not run_transaction(self._client, body, max_attempts=EDIT_ATTEMPTS):
            raise TransientError(f"lost the lease {self._doc.path}; nothing was written, retry")

    def release(self) -> None:
        def body(transaction: firestore.Transaction) -> None:
            snapshot = self._doc.get(transaction=transaction)
            if snapshot.exists and snapshot.get("holder") == self.holder:
                transaction.delete(self._doc)

        run_transaction(self._client, body, max_attempts=EDIT_ATTEMPTS)


class FirestoreContactsLock:
    def __init__(
        self,
        client: firestore.Client,
        clock: Clock,
        ttl: timedelta = LEASE_TTL,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        self._client = client
        self._clock = clock
        self._ttl = ttl
        self._max_wait = max_wait_seconds

    def document(self, cnpj: Cnpj) -> firestore.DocumentReference:
        return self._client.document("users", cnpj.value, "locks", "contacts")

    @contextmanager
    def hold(self, cnpj: Cnpj) -> Iterator[FirestoreLease]:
        lease = self._acquire(cnpj)
        try:
            yield lease
        finally:
            try:
                lease.release()
            except TransientError as error:  # it expires by itself; keep the block's outcome
                logs.log(_log, logging.WARNING, "lease not released", error=str(error))

    def _acquire(self, cnpj: Cnpj) -> FirestoreLease:
        doc = self.document(cnpj)
        holder = uuid.uuid4().hex

        def take(transaction: firestore.Transaction) -> bool:
            snapshot = doc.get(transaction=transaction)
            now = self._clock()
            if snapshot.exists:
                current: dict[str, Any] = snapshot.to_dict() or {}
                expires = current.get("expiresAt")
                if current.get("holder") != holder and expires is not None and expires > now:
                    return False
            transaction.set(
                doc, {"holder": holder, "acquiredAt": now, "expiresAt": now + self._ttl}
            )
            return True

        deadline = time.monotonic() + self._max_wait
        pause = _FIRST_POLL_SECONDS
        while True:
            try:
                if run_transaction(self._client, take, max_attempts=EDIT_ATTEMPTS):
                    return FirestoreLease(self._client, doc, holder, self._ttl, self._clock)
            except TransientError:
                pass  # contended with another taker: as good as taken, poll again
            if time.monotonic() >= deadline:
                raise ContactsBusy(
                    "another import or tag change of these contacts is still running; "
                    "retry in a minute"
                )
            time.sleep(pause * random.uniform(0.5, 1.0))
            pause = min(pause * 2, _MAX_POLL_SECONDS)
