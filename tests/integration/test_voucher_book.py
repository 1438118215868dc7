"""The voucher book on the Firestore emulator: reservation, collisions, batches and look-ups.

Collisions are forced with a scripted ``draw`` (the codes it hands out are ordinary codes;
Firestore itself decides which ones are taken). The client is wrapped in a recorder that
enforces production's 500-writes-per-batch limit, which the emulator does not, and counts the
round trips the adapter makes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from google.cloud import firestore

from shared.adapters.firestore_vouchers import MAX_DRAWS, FirestoreVoucherBook, vouchers_collection
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.errors import PermanentError
from shared.domain.vouchers import VoucherConfig, new_code
from shared.ports import MAX_BATCH_WRITES
from tests.conftest import new_tenant_id

ISSUED = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
TEN_PERCENT = VoucherConfig(kind="percentage", value=10, validity_days=30)


class _RecordingBatch:
    def __init__(self, batch: Any, client: RecordingClient) -> None:
        self._batch = batch
        self._client = client
        self._writes = 0

    def create(self, reference: Any, data: dict[str, Any]) -> None:
        self._writes += 1
        self._batch.create(reference, data)

    def commit(self) -> Any:
        if self._writes > MAX_BATCH_WRITES:
            raise AssertionError(f"production refuses a batch of {self._writes} writes")
        self._client.commits.append(self._writes)
        return self._batch.commit()


class RecordingClient:
    """The real client, counting batch commits (and their sizes) and ``get_all`` reads."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self.commits: list[int] = []
        self.reads = 0

    def batch(self) -> _RecordingBatch:
        return _RecordingBatch(self._client.batch(), self)

    def get_all(self, references: Iterable[Any]) -> Iterator[Any]:
        self.reads += 1
        return iter(self._client.get_all(list(references)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def scripted(*codes: str) -> Callable[[str], str]:
    """A draw that hands out ``codes`` in order, then random ones."""
    queue = list(codes)
    return lambda prefix: prefix + queue.pop(0) if queue else new_code(prefix)


def book(deps: Container, draw: Callable[[str], str] = new_code) -> FirestoreVoucherBook:
    return FirestoreVoucherBook(deps.firestore_client, draw=draw)


def stored(deps: Container, cnpj: Cnpj, code: str) -> dict[str, Any]:
    snapshot = vouchers_collection(deps.firestore_client, cnpj).document(code).get()
    assert snapshot.exists, code
    return snapshot.to_dict() or {}


def path(index: int) -> str:
    return f"users/x/campaigns/c-1/targets/C{index:06d}_2026-11"


@pytest.fixture
def other_cnpj() -> Cnpj:
    """A second tenant no other test uses."""
    return new_tenant_id()


def test_issue_reserves_the_code_and_lookup_finds_it(deps: Container, new_cnpj: Cnpj) -> None:
    voucher = book(deps).issue(
        new_cnpj, "c-1", path(1), TEN_PERCENT, ISSUED, prefix="LAVO", timezone="America/Manaus"
    )
    assert voucher.code.startswith("LAVO")
    assert voucher.expires_at == datetime(2026, 12, 21, 4, 0, tzinfo=UTC)  # Manaus is UTC-4
    document = stored(deps, new_cnpj, voucher.code)
    assert document["targetPath"] == path(1)
    assert document["campaignId"] == "c-1"
    assert (document["kind"], document["value"], document["validityDays"]) == ("percentage", 10, 30)
    assert document["expiresAt"] == voucher.expires_at
    assert isinstance(document["createdAt"], datetime)

    assert book(deps).lookup(new_cnpj, voucher.code) == voucher
    typed = f" {voucher.code[:6].lower()}-{voucher.code[6:]} "
    assert book(deps).lookup(new_cnpj, typed) == voucher
    assert voucher.template_fields()["voucherExpiresAt"] == "20/12/2026"


def test_lookup_of_unknown_codes_and_other_tenants(
    deps: Container, new_cnpj: Cnpj, other_cnpj: Cnpj
) -> None:
    voucher = book(deps).issue(new_cnpj, "c-1", path(1), TEN_PERCENT, ISSUED)
    assert book(deps).lookup(other_cnpj, voucher.code) is None  # codes are per tenant
    assert book(deps).lookup(new_cnpj, "ZZZZZZZZ") is None
    assert book(deps).lookup(new_cnpj, "not a code") is None


def test_a_taken_code_is_drawn_again_and_never_overwritten(deps: Container, new_cnpj: Cnpj) -> None:
    first = book(deps, scripted("7K3M9QXD")).issue(new_cnpj, "c-1", path(1), TEN_PERCENT, ISSUED)
    second = book(deps, scripted("7K3M9QXD", "7K3M9QXE")).issue(
        new_cnpj, "c-2", path(2), TEN_PERCENT, ISSUED
    )
    assert (first.code, second.code) == ("7K3M9QXD", "7K3M9QXE")
    assert stored(deps, new_cnpj, "7K3M9QXD")["targetPath"] == path(1)
    assert stored(deps, new_cnpj, "7K3M9QXE")["targetPath"] == path(2)


def test_the_same_code_may_exist_in_two_tenants(
    deps: Container, new_cnpj: Cnpj, other_cnpj: Cnpj
) -> None:
    code = new_code()
    one = book(deps, scripted(code)).issue(new_cnpj, "c", path(1), TEN_PERCENT, ISSUED)
    other = book(deps, scripted(code)).issue(other_cnpj, "c", path(1), TEN_PERCENT, ISSUED)
    assert one.code == other.code == code


def test_a_full_code_space_is_a_clear_error(deps: Container, new_cnpj: Cnpj) -> None:
    taken = book(deps).issue(new_cnpj, "c-1", path(1), TEN_PERCENT, ISSUED)
    stuck = book(deps, lambda _prefix: taken.code)
    with pytest.raises(PermanentError, match=f"no free voucher code after {MAX_DRAWS} draws"):
        stuck.issue(new_cnpj, "c-2", path(2), TEN_PERCENT, ISSUED)
    with pytest.raises(PermanentError, match="no free voucher code"):
        stuck.issue_many(new_cnpj, "c-2", [path(2)], TEN_PERCENT, ISSUED)
    assert stored(deps, new_cnpj, taken.code)["campaignId"] == "c-1"


def test_issue_many_is_one_commit_per_500_codes(deps: Container, new_cnpj: Cnpj) -> None:
    client = RecordingClient(deps.firestore_client)
    paths = [path(index) for index in range(1200)]
    vouchers = FirestoreVoucherBook(client).issue_many(  # type: ignore[arg-type]
        new_cnpj, "c-1", paths, TEN_PERCENT, ISSUED, prefix="LAVO"
    )
    assert client.commits == [500, 500, 200]
    assert client.reads == 0
    assert [voucher.target_path for voucher in vouchers] == paths
    assert len({voucher.code for voucher in vouchers}) == 1200
    stored_codes = {
        snapshot.id for snapshot in vouchers_collection(deps.firestore_client, new_cnpj).stream()
    }
    assert stored_codes == {voucher.code for voucher in vouchers}


def test_issue_many_redraws_only_the_taken_codes(deps: Container, new_cnpj: Cnpj) -> None:
    early = [
        book(deps, scripted(code)).issue(new_cnpj, "c-0", path(900 + i), TEN_PERCENT, ISSUED)
        for i, code in enumerate(("AAAA0001", "AAAA0002"))
    ]
    client = RecordingClient(deps.firestore_client)
    draw = scripted(
        "BBBB0001",
        "AAAA0001",  # taken by c-0
        "BBBB0001",  # a repeat within the batch: never sent to Firestore twice
        "BBBB0002",
        "AAAA0002",  # taken by c-0
        "BBBB0003",  # the redraws of the two taken codes
        "BBBB0004",
    )
    vouchers = FirestoreVoucherBook(client, draw=draw).issue_many(  # type: ignore[arg-type]
        new_cnpj, "c-1", [path(i) for i in range(4)], TEN_PERCENT, ISSUED
    )
    assert [voucher.code for voucher in vouchers] == [
        "BBBB0001",
        "BBBB0003",
        "BBBB0002",
        "BBBB0004",
    ]
    assert client.commits == [4, 4]  # the first commit failed whole on the taken codes
    assert client.reads == 1
    for voucher in early:
        assert stored(deps, new_cnpj, voucher.code)["campaignId"] == "c-0"
    for voucher in vouchers:
        assert stored(deps, new_cnpj, voucher.code)["targetPath"] == voucher.target_path
