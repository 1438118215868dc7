"""Receipts move a target forward by rank only, whatever order or how often they arrive."""

from __future__ import annotations

from itertools import chain, combinations, permutations

import pytest

from shared.domain.delivery_status import Status, is_final, status_after_receipts

RECEIPTS = ("sent", "delivered", "read", "failed")
RANK = {
    Status.SENDING: 0,
    Status.UNKNOWN: 0,
    Status.SENT: 1,
    Status.FAILED: 2,
    Status.DELIVERED: 3,
    Status.READ: 4,
}
"""``delivered`` outranks ``failed``: a multi-device user may get both for one message."""

SUBSETS = [
    frozenset(subset)
    for subset in chain.from_iterable(combinations(RECEIPTS, n) for n in range(1, 5))
]


def at(receipt: str) -> str:
    return f"2026-03-10T12:00:0{RECEIPTS.index(receipt)}Z"


@pytest.mark.parametrize("start", [Status.SENDING, Status.SENT, Status.UNKNOWN])
@pytest.mark.parametrize("order", list(permutations(RECEIPTS)), ids="-".join)
def test_any_order_of_receipts_ends_read_and_never_moves_back(
    order: tuple[str, ...], start: Status
) -> None:
    status = start
    receipts: dict[str, str] = {}
    for receipt in order:
        for _duplicate in range(2):
            receipts[receipt] = at(receipt)
            after = status_after_receipts(status, receipts)
            assert RANK[after] >= RANK[status], (order, receipt, status, after)
            assert RANK[after] == max(RANK[Status(name.upper())] for name in receipts)
            status = after
    assert status is Status.READ


@pytest.mark.parametrize(
    ("receipts", "expected"),
    [
        ({"sent"}, Status.SENT),
        ({"failed"}, Status.FAILED),
        ({"sent", "failed"}, Status.FAILED),
        ({"failed", "delivered"}, Status.DELIVERED),
        ({"sent", "failed", "delivered"}, Status.DELIVERED),
        ({"read"}, Status.READ),
        ({"failed", "read"}, Status.READ),
    ],
)
def test_subsets_of_receipts(receipts: set[str], expected: Status) -> None:
    applied = {receipt: at(receipt) for receipt in receipts}
    assert status_after_receipts(Status.SENDING, applied) is expected


@pytest.mark.parametrize("start", [Status.SENDING, Status.SENT, Status.UNKNOWN])
def test_no_receipts_change_nothing(start: Status) -> None:
    assert status_after_receipts(start, {}) is start


@pytest.mark.parametrize("receipts", SUBSETS, ids=lambda subset: "+".join(sorted(subset)))
@pytest.mark.parametrize("status", [Status.PENDING, Status.QUEUED, Status.SKIPPED])
def test_our_own_workflow_states_ignore_receipts(status: Status, receipts: frozenset[str]) -> None:
    applied = {receipt: at(receipt) for receipt in receipts}
    assert status_after_receipts(status, applied) is status


@pytest.mark.parametrize(
    ("status", "settled", "final"),
    [
        (Status.PENDING, False, False),
        (Status.QUEUED, False, False),
        (Status.SENDING, False, False),
        (Status.SENT, False, False),
        (Status.UNKNOWN, False, False),
        (Status.UNKNOWN, True, True),
        (Status.DELIVERED, False, True),
        (Status.READ, False, True),
        (Status.FAILED, False, True),
        (Status.SKIPPED, False, True),
        (Status.SENT, True, False),
        (Status.QUEUED, True, False),
    ],
)
def test_is_final(status: Status, settled: bool, final: bool) -> None:
    assert is_final(status, settled) is final


def test_only_unknown_depends_on_settled() -> None:
    assert [s for s in Status if is_final(s) != is_final(s, settled=True)] == [Status.UNKNOWN]
