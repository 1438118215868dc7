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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.api_core import exceptions as api
from google.cloud import firestore

from shared import logs
from shared.adapters.errors import translated
from shared.domain.cnpj import Cnpj
from shared.domain.contacts import ContactsBusy
from shared.domain.errors import TransientError

LEASE_TTL = timedelta(minutes=10)
"""Far above a 50,000-row import in production (seconds), renewed before every write."""
MAX_WAIT_SECONDS = 30.0
"""How long a caller waits for another change of the same tenant to finish."""
_FIRST_POLL_SECONDS = 0.1
_MAX_POLL_SECONDS = 1.0
_MAX_ATTEMPTS = 10
_T = TypeVar("_T")
_log = logging.getLogger(__name__)


class FirestoreLease:
    """The held lease: renew it before long steps; the lock releases it."""

    def __init__(
        self,
        client: firestore.Client,
        doc: firestore.DocumentReference,
        holder: str,
        ttl: timedelta,
    ) -> None:
        self._client = client
        self._doc = doc
        self.holder = holder
        self._ttl = ttl

    def renew(self) -> None:
        def body(transaction: firestore.Transaction) -> bool:
            snapshot = self._doc.get(transaction=transaction)
            if not snapshot.exists or snapshot.get("holder") != self.holder:
                return False
            now = datetime.now(UTC)
            transaction.update(self._doc, {"expiresAt": now + self._ttl, "renewedAt": now})
            return True

        if not _transact(self._client, body):
            raise TransientError(f"lost the lease {self._doc.path}; nothing was written, retry")

    def release(self) -> None:
        def body(transaction: firestore.Transaction) -> None:
            snapshot = self._doc.get(transaction=transaction)
            if snapshot.exists and snapshot.get("holder") == self.holder:
                transaction.delete(self._doc)

        _transact(self._client, body)


class FirestoreContactsLock:
    def __init__(
        self,
        client: firestore.Client,
        ttl: timedelta = LEASE_TTL,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        self._client = client
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
            now = datetime.now(UTC)
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
                if _transact(self._client, take):
                    return FirestoreLease(self._client, doc, holder, self._ttl)
            except TransientError:
                pass  # contended with another taker: as good as taken, poll again
            if time.monotonic() >= deadline:
                raise ContactsBusy(
                    "another import or tag change of these contacts is still running; "
                    "retry in a minute"
                )
            time.sleep(pause * random.uniform(0.5, 1.0))
            pause = min(pause * 2, _MAX_POLL_SECONDS)


def _transact(client: firestore.Client, body: Callable[[firestore.Transaction], _T]) -> _T:
    @firestore.transactional
    def run(transaction: firestore.Transaction) -> _T:
        return body(transaction)

    with translated("Firestore"):
        try:
            result: _T = run(client.transaction(max_attempts=_MAX_ATTEMPTS))
            return result
        except ValueError as error:
            # The SDK wraps the last ABORTED of a transaction that never committed in a
            # ValueError: that is contention, retried later like any other ABORTED.
            if isinstance(error.__cause__, api.Aborted):
                raise TransientError(f"Firestore transaction contended: {error}") from error
            raise
