"""The merge rule of each import strategy, the plan of a whole import, and retagging: pure,
on fixed instants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.domain.contact_merge import RowOutcome, StoredContact, merge_row, plan_import, retagged
from shared.domain.contact_parsing import ContactRow
from shared.domain.contacts import ImportOptions, MergeStrategy, contact_id_for, is_contact_id

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


def stored(phone: str = "+5561999999999", **fields: Any) -> StoredContact:
    values: dict[str, Any] = {
        "contact_id": contact_id_for(phone),
        "phone": phone,
        "name": "Ana",
        "email": "ana@x.com",
        "groups": ("Gold",),
        "tags": ("old", "vip"),
        "custom_fields": (("bairro", "Asa Sul"), ("cidade", "Brasília")),
        "timezone": "America/Sao_Paulo",
        "is_opted_out": True,
        "is_blacklisted": True,
        "created_at": NOW,
        "updated_at": NOW,
        "last_interaction": NOW,
    }
    return StoredContact(**{**values, **fields})


ROW = ContactRow(
    line=2,
    phone="+5561999999999",
    name="Ana Souza",
    email=None,
    timezone=None,
    tags=("new",),
    groups=(),
    custom_fields=(("cidade", "Goiânia"), ("idade", "35")),
)
OPTIONS = ImportOptions(group_name="Black Friday", tags=["promo"])


def test_contact_id_is_stable_and_phone_derived() -> None:
    assert contact_id_for("+5561999999999") == contact_id_for("+5561999999999")
    assert contact_id_for("+5561999999999") != contact_id_for("+5561999999998")
    assert is_contact_id(contact_id_for("+5561999999999"))
    assert ROW.phone is not None and ROW.contact_id == contact_id_for(ROW.phone)


def test_new_contact_whatever_the_strategy() -> None:
    for strategy in MergeStrategy:
        outcome, contact = merge_row(None, ROW, strategy, OPTIONS, LATER)
        assert outcome is RowOutcome.CREATED
        assert contact == StoredContact(
            contact_id=ROW.contact_id,
            phone=ROW.phone,
            name="Ana Souza",
            email=None,
            groups=("Black Friday",),
            tags=("new", "promo"),
            custom_fields=ROW.custom_fields,
            timezone=None,
            is_opted_out=False,
            is_blacklisted=False,
            created_at=LATER,
            updated_at=LATER,
        )


def test_skip_keeps_the_stored_contact() -> None:
    assert merge_row(stored(), ROW, MergeStrategy.SKIP, OPTIONS, LATER) == (RowOutcome.EXISTS, None)


def test_update_merges_fields_tags_groups_and_custom_fields() -> None:
    outcome, contact = merge_row(stored(), ROW, MergeStrategy.UPDATE, OPTIONS, LATER)
    assert outcome is RowOutcome.UPDATED
    assert contact == stored(
        name="Ana Souza",  # given: overwritten
        email="ana@x.com",  # not given: kept
        timezone="America/Sao_Paulo",
        groups=("Black Friday", "Gold"),
        tags=("new", "old", "promo", "vip"),
        custom_fields=(("bairro", "Asa Sul"), ("cidade", "Goiânia"), ("idade", "35")),
        updated_at=LATER,
    )


def test_replace_replaces_but_keeps_flags_and_dates() -> None:
    outcome, contact = merge_row(stored(), ROW, MergeStrategy.REPLACE, OPTIONS, LATER)
    assert outcome is RowOutcome.REPLACED
    assert contact == stored(
        name="Ana Souza",
        email=None,
        timezone=None,
        groups=("Black Friday",),
        tags=("new", "promo"),
        custom_fields=ROW.custom_fields,
        updated_at=LATER,
    )
    assert contact.is_opted_out and contact.is_blacklisted
    assert contact.created_at == NOW and contact.last_interaction == NOW


@pytest.mark.parametrize("strategy", [MergeStrategy.UPDATE, MergeStrategy.REPLACE])
def test_a_merge_that_changes_nothing_writes_nothing(strategy: MergeStrategy) -> None:
    _, first = merge_row(None, ROW, strategy, OPTIONS, NOW)
    assert first is not None
    assert merge_row(first, ROW, strategy, OPTIONS, LATER) == (RowOutcome.UNCHANGED, None)


def test_update_with_less_information_is_unchanged() -> None:
    bare = ContactRow(line=1, phone="+5561999999999")
    assert merge_row(stored(), bare, MergeStrategy.UPDATE, ImportOptions(), LATER) == (
        RowOutcome.UNCHANGED,
        None,
    )
    outcome, contact = merge_row(stored(), bare, MergeStrategy.REPLACE, ImportOptions(), LATER)
    assert outcome is RowOutcome.REPLACED
    assert contact is not None
    assert (contact.name, contact.tags, contact.custom_fields) == (None, (), ())


def test_plan_counts_each_outcome() -> None:
    rows = [ROW, replace(ROW, phone="+5561988887777", line=3)]
    existing = {ROW.contact_id: stored()}
    for strategy, expected in [
        (MergeStrategy.SKIP, {RowOutcome.CREATED: 1, RowOutcome.EXISTS: 1}),
        (MergeStrategy.UPDATE, {RowOutcome.CREATED: 1, RowOutcome.UPDATED: 1}),
        (MergeStrategy.REPLACE, {RowOutcome.CREATED: 1, RowOutcome.REPLACED: 1}),
    ]:
        options = ImportOptions(merge_strategy=strategy)
        plan = plan_import(rows, existing, options, LATER)
        assert dict(plan.outcomes) == expected
        assert len(plan.writes) == sum(n for o, n in expected.items() if o is not RowOutcome.EXISTS)


def test_retagged_is_sorted_distinct() -> None:
    assert retagged(("b", "a"), ["c", "a", "ção"], ["b"]) == ("a", "c", "ção")
