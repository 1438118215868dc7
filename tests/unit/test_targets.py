"""Deterministic target ids (safe Firestore document ids) and the target document."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from shared.domain.targets import PENDING, Target, customer_key, target_id

# What Firestore accepts as a document id segment, and what we promise on top: ASCII,
# no slash, not "." or "..", not __reserved__, at most 100 characters before the period.
_FIRESTORE_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")

UNSAFE_IDS = [
    "a/b",
    "a//b",
    "/",
    "__x__",
    "__",
    "_x",
    "",
    ".",
    "..",
    "-1",
    "a b",
    "ação",
    "x" * 101,
    "y" * 1000,
    "x" * 100 + "/",
    "12\n",
]


@pytest.mark.parametrize(
    ("customer", "period", "expected"),
    [
        ("C123", "2026", "C123_2026"),
        ("12345", "2026-11", "12345_2026-11"),
        ("cust-1.a_b", "once", "cust-1.a_b_once"),
        ("42", "2026-11-23", "42_2026-11-23"),
    ],
)
def test_safe_customer_ids_are_kept(customer: str, period: str, expected: str) -> None:
    assert target_id(customer, period) == expected


@pytest.mark.parametrize("customer", ["a", "Z9", "x" * 100, "a__b__", "1.2.3"])
def test_safe_edge_cases_are_kept(customer: str) -> None:
    assert customer_key(customer) == customer


def test_target_id_is_deterministic() -> None:
    assert target_id("C123", "2026") == target_id("C123", "2026")
    assert target_id("a/b", "2026") == target_id("a/b", "2026")


@pytest.mark.parametrize("customer", UNSAFE_IDS)
def test_unsafe_ids_are_hashed_to_a_safe_stable_key(customer: str) -> None:
    key = customer_key(customer)
    assert key != customer
    assert _FIRESTORE_SAFE.fullmatch(key)
    assert not key.startswith("__")
    assert key == customer_key(customer)
    assert target_id(customer, "2026") == f"{key}_2026"


def test_hashed_keys_differ_between_inputs() -> None:
    keys = {customer_key(customer) for customer in UNSAFE_IDS}
    assert len(keys) == len(UNSAFE_IDS)


def test_hashed_key_does_not_collide_with_a_similar_safe_id() -> None:
    assert customer_key("a/b") != customer_key("ab")
    assert customer_key("a/b") != customer_key("a_b")
    assert customer_key("x" * 101) != customer_key("x" * 100)


def test_different_periods_give_different_ids() -> None:
    assert target_id("C1", "2026") != target_id("C1", "2027")
    assert target_id("a/b", "2026") != target_id("a/b", "2027")


def _target(customer_id: str = "C123", period: str = "2026") -> Target:
    return Target(
        customer_id=customer_id,
        name="Maria",
        phone="+5511987654321",
        campaign_id="BIRTHDAY",
        period=period,
        run_id="tick-1",
        local_date="2026-11-20",
    )


def test_target_id_property() -> None:
    assert _target().id == "C123_2026"
    assert _target(customer_id="a/b").id == target_id("a/b", "2026")
    assert _target(customer_id="a/b").id.endswith("_2026")
    assert "/" not in _target(customer_id="a/b").id


def test_document() -> None:
    target = Target(
        customer_id="C123",
        name="Maria",
        phone="+5511987654321",
        campaign_id="LOYALTY",
        period="2026-11-20",
        run_id="tick-1",
        local_date="2026-11-20",
        data={"tier": "OURO", "visit_count": 21},
        send_by=datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
        priority=2,
    )
    assert target.document() == {
        "customerId": "C123",
        "name": "Maria",
        "phone": "+5511987654321",
        "campaignId": "LOYALTY",
        "campaignKind": "LOYALTY",
        "period": "2026-11-20",
        "data": {"tier": "OURO", "visit_count": 21},
        "status": "PENDING",
        "attempts": 0,
        "runId": "tick-1",
        "localDate": "2026-11-20",
        "sendBy": datetime(2026, 11, 27, 11, 0, tzinfo=UTC),
        "priority": 2,
    }


def test_document_status_and_defaults() -> None:
    document = _target().document()
    assert PENDING == "PENDING"
    assert document["status"] == "PENDING"
    assert document["attempts"] == 0
    assert document["data"] == {}
    for required in ("customerId", "name", "phone", "campaignId", "campaignKind", "period", "data"):
        assert required in document


def test_default_data_is_not_shared() -> None:
    first, second = _target(), _target(customer_id="C2")
    first.data["x"] = 1
    assert second.data == {}
