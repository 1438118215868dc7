"""The TargetStore contract, run against the Firestore emulator AND the production-rule fake."""

from __future__ import annotations

import threading

import pytest

from shared.adapters.firestore_targets import FirestoreTargetStore
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.targets import Target
from shared.ports import MAX_BATCH_WRITES, BatchTooLarge, TargetStore
from tests.fakes import FakeTargetStore


def _targets(
    count: int, period: str = "2026", kind: str = "BIRTHDAY", start: int = 0
) -> list[Target]:
    return [
        Target(
            customer_id=f"C{index:06d}",
            name=f"Cliente {index}",
            phone="+5511987654321",
            campaign_id=kind,
            period=period,
            run_id="run-1",
            local_date="2026-11-20",
            data={"n": index},
        )
        for index in range(start, start + count)
    ]


@pytest.fixture(params=["firestore", "fake"])
def store(request: pytest.FixtureRequest) -> TargetStore:
    if request.param == "fake":
        return FakeTargetStore()
    deps: Container = request.getfixturevalue("deps")
    return FirestoreTargetStore(deps.firestore_client)


def test_creates_new_targets(store: TargetStore, new_cnpj: Cnpj) -> None:
    result = store.create_batch(new_cnpj, _targets(3))
    assert (result.created, result.already_present) == (3, 0)


def test_never_overwrites_and_counts_what_was_there(store: TargetStore, new_cnpj: Cnpj) -> None:
    store.create_batch(new_cnpj, _targets(2))
    result = store.create_batch(new_cnpj, _targets(5))  # 2 exist, 3 are new
    assert (result.created, result.already_present) == (3, 2)
    again = store.create_batch(new_cnpj, _targets(5))
    assert (again.created, again.already_present) == (0, 5)


def test_refuses_more_than_production_batch_limit(store: TargetStore, new_cnpj: Cnpj) -> None:
    with pytest.raises(BatchTooLarge, match=f"at most {MAX_BATCH_WRITES} writes"):
        store.create_batch(new_cnpj, _targets(MAX_BATCH_WRITES + 1))
    assert store.create_batch(new_cnpj, _targets(MAX_BATCH_WRITES)).created == MAX_BATCH_WRITES


def test_concurrent_writers_create_each_target_once(store: TargetStore, new_cnpj: Cnpj) -> None:
    """Two ticks writing the same targets at the same time: every target created exactly once."""
    created: list[int] = []
    barrier = threading.Barrier(3)

    def writer() -> None:
        barrier.wait()
        for chunk_start in range(0, 300, 100):
            created.append(store.create_batch(new_cnpj, _targets(100, start=chunk_start)).created)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(created) == 300


def test_rolling_lookup_sees_targets_from_the_period_on(store: TargetStore, new_cnpj: Cnpj) -> None:
    store.create_batch(new_cnpj, _targets(1, period="2026-08-01", kind="LOYALTY", start=1))
    store.create_batch(new_cnpj, _targets(1, period="2026-10-05", kind="LOYALTY", start=2))
    store.create_batch(new_cnpj, _targets(1, period="2026-10-05", kind="BIRTHDAY", start=3))
    assert store.customers_with_targets_since(new_cnpj, "LOYALTY", "2026-08-24") == {"C000002"}


def test_targets_of_one_tenant_are_invisible_to_another(store: TargetStore, new_cnpj: Cnpj) -> None:
    other = Cnpj.from_base("A1B2C3D40001")
    store.create_batch(new_cnpj, _targets(1, period="2026-10-05", kind="LOYALTY"))
    assert store.customers_with_targets_since(other, "LOYALTY", "2000") == set()
