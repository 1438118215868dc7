"""The one transaction helper, on the Firestore emulator: commit, re-run, give up, pass through.

Contention is made, not hoped for: a racing transaction reads the document first and holds it
open, so the body's commit waits for it and is aborted by the emulator's lock timeout (a few
seconds), exactly as when two delivery steps write one target at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from google.cloud import firestore

from shared.adapters.firestore_transactions import run_transaction
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.errors import TransientError

_Body = Callable[[firestore.Transaction], int]


@pytest.fixture
def counter(deps: Container, new_cnpj: Cnpj) -> firestore.DocumentReference:
    doc = deps.firestore_client.document("users", new_cnpj.value, "scratch", "counter")
    doc.set({"n": 0})
    return doc


class Racer:
    """A transaction that reads the counter, holds it until released, then adds 100."""

    def __init__(self, client: firestore.Client, doc: firestore.DocumentReference) -> None:
        self._client = client
        self._doc = doc
        self._holding = threading.Event()
        self._release = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def hold(self) -> None:
        self._thread.start()
        assert self._holding.wait(timeout=30), "the racer never read the counter"

    def finish(self) -> None:
        """Let it write and commit; return once it has."""
        self._release.set()
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the racer never committed"

    def _run(self) -> None:
        def body(transaction: firestore.Transaction) -> None:
            self._doc.get(transaction=transaction)
            self._holding.set()
            self._release.wait(timeout=60)
            transaction.update(self._doc, {"n": firestore.Increment(100)})

        firestore.transactional(body)(self._client.transaction())


@pytest.fixture
def racer(deps: Container, counter: firestore.DocumentReference) -> Iterator[Racer]:
    racing = Racer(deps.firestore_client, counter)
    yield racing
    racing.finish()  # idempotent: a test that already let it finish waits for nothing


def _increment(counter: firestore.DocumentReference, runs: list[int]) -> _Body:
    def body(transaction: firestore.Transaction) -> int:
        seen = int((counter.get(transaction=transaction).to_dict() or {})["n"])
        runs.append(seen)
        transaction.update(counter, {"n": seen + 1})
        return seen + 1

    return body


def test_commits_the_body_and_returns_its_result(
    deps: Container, counter: firestore.DocumentReference
) -> None:
    runs: list[int] = []
    result = run_transaction(deps.firestore_client, _increment(counter, runs), max_attempts=1)
    assert (result, runs) == (1, [0])
    assert counter.get().to_dict() == {"n": 1}


def test_a_contended_body_runs_again_and_reads_what_the_racer_wrote(
    deps: Container, counter: firestore.DocumentReference, racer: Racer
) -> None:
    runs: list[int] = []
    increment = _increment(counter, runs)

    def body(transaction: firestore.Transaction) -> int:
        if runs:  # the first run's commit was aborted: let the racer commit before reading
            racer.finish()
        return increment(transaction)

    racer.hold()
    result = run_transaction(deps.firestore_client, body, max_attempts=2)
    assert (result, runs) == (101, [0, 100])
    assert counter.get().to_dict() == {"n": 101}


def test_contention_beyond_the_cap_is_transient_and_writes_nothing(
    deps: Container, counter: firestore.DocumentReference, racer: Racer
) -> None:
    runs: list[int] = []
    racer.hold()
    with pytest.raises(TransientError, match="contended"):
        run_transaction(deps.firestore_client, _increment(counter, runs), max_attempts=1)
    racer.finish()
    assert runs == [0]
    assert counter.get().to_dict() == {"n": 100}  # the racer's write alone


def test_what_the_body_raises_reaches_the_caller_and_writes_nothing(
    deps: Container, counter: firestore.DocumentReference
) -> None:
    def body(transaction: firestore.Transaction) -> None:
        transaction.update(counter, {"n": 7})
        raise ValueError("the caller's own refusal")

    with pytest.raises(ValueError, match="the caller's own refusal"):
        run_transaction(deps.firestore_client, body, max_attempts=3)
    assert counter.get().to_dict() == {"n": 0}
