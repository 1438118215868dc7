"""The one way an adapter runs a Firestore transaction: retried on contention, then transient.

Firestore aborts a transaction whose documents another transaction holds (the emulator after
a lock timeout, production by wound-wait). The SDK re-runs the body up to ``max_attempts``
times and then raises a ``ValueError`` wrapping the last ``Aborted``. That is contention, not
a bug in the caller: it becomes a :class:`~shared.domain.errors.TransientError`, so the step is
retried later (Pub/Sub redelivery, a Cloud Tasks retry, a 503) like any other unavailability.

The retry cap is named at every call, because it depends on how contended the documents are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from google.api_core import exceptions as api
from google.cloud import firestore

from shared.adapters.errors import translated
from shared.domain.errors import TransientError

HOT_DOCUMENT_ATTEMPTS = 25
"""For delivery steps: every enqueue of a tenant writes one of its few pacing shards, and a
task dispatched twice, a webhook and the sweeper can all write one target at once. The
emulator settles each contending pair by a lock timeout, so these need many more rounds to
get through a burst than a document edited now and then."""
EDIT_ATTEMPTS = 10
"""For everything else (a tenant, a campaign, an opt-out, the contacts lease): documents that
people or one import edit now and then, where contention is a rare collision."""

_T = TypeVar("_T")


def run_transaction(
    client: firestore.Client,
    body: Callable[[firestore.Transaction], _T],
    *,
    max_attempts: int,
) -> _T:
    """``body``'s result once its reads and writes commit together (``body`` may run again).

    ``body`` must do nothing but read and write through the transaction: on contention it is
    run again from the start. Whatever it raises aborts the transaction and reaches the caller.
    """

    @firestore.transactional
    def attempt(transaction: firestore.Transaction) -> _T:
        return body(transaction)

    with translated("Firestore"):
        try:
            result: _T = attempt(client.transaction(max_attempts=max_attempts))
            return result
        except ValueError as error:
            if isinstance(error.__cause__, api.Aborted):
                raise TransientError(f"Firestore transaction contended: {error}") from error
            raise
