"""Contacts may carry a WhatsApp user id (BSUID) beside the phone, or instead of it.

A row with a phone, a BSUID or both is imported; with neither, or with a BSUID that is not a
person's (a typo, a parent ``CC.ENT.`` id), it is rejected with its line and reason while the
good rows still land. A contact with no phone is keyed by its BSUID, never colliding with a
phone's id.
"""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.contact_merge import RowOutcome, merge_row
from shared.domain.contact_parsing import parse_csv_text, parse_json
from shared.domain.contacts import (
    ImportOptions,
    MergeStrategy,
    contact_id_for,
    contact_id_for_bsuid,
    is_contact_id,
)

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
BSUID = "BR.1502576394655843"


def test_a_row_may_give_a_phone_a_bsuid_or_both_but_not_neither() -> None:
    parsed = parse_json(
        [
            {"phone": "11987654321", "name": "Phone only"},
            {"bsuid": BSUID, "name": "BSUID only"},
            {"phone": "11987654322", "bsuid": "BR.77", "name": "Both"},
            {"name": "Neither"},
            {"phone": "", "bsuid": "  ", "name": "Blank both"},
        ]
    )
    assert [(r.phone, r.bsuid) for r in parsed.rows] == [
        ("+5511987654321", None),
        (None, BSUID),
        ("+5511987654322", "BR.77"),
    ]
    assert [(r.line, r.field, r.reason) for r in parsed.rejections] == [
        (3, "phone_number", "missing_phone"),
        (4, "phone", "missing_phone"),
    ]
    assert "bsuid" in parsed.rejections[0].detail


def test_a_bad_bsuid_is_a_rejected_row_naming_the_field() -> None:
    parsed = parse_json(
        [
            {"phone": "11987654321", "bsuid": "1502576394655843"},  # no country code
            {"bsuid": "US.ENT.1234"},  # a parent id names a portfolio group, not a person
            {"bsuid": "BR." + "1" * 129},  # over Meta's 128
            {"bsuid": "BR.15-02"},  # not letters and digits
            {"user_id": 15025},  # not text
            {"bsuid": "BR." + "1" * 128},  # the longest good one
        ]
    )
    assert [(r.line, r.field, r.reason) for r in parsed.rejections] == [
        (0, "bsuid", "invalid_bsuid"),
        (1, "bsuid", "invalid_bsuid"),
        (2, "bsuid", "invalid_bsuid"),
        (3, "bsuid", "invalid_bsuid"),
        (4, "user_id", "invalid_value"),
    ]
    assert "parent id" in parsed.rejections[1].detail
    assert [r.line for r in parsed.rows] == [5]


def test_a_bad_phone_rejects_the_row_even_beside_a_good_bsuid() -> None:
    parsed = parse_json([{"phone": "(61) 9abc-1234", "bsuid": BSUID}])
    assert [(r.field, r.reason) for r in parsed.rejections] == [("phone", "invalid_phone")]
    assert parsed.rows == ()


def test_csv_with_a_bsuid_column_and_a_repeated_bsuid() -> None:
    text = (
        "Telefone;BSUID;Nome\r\n"
        f"11987654321;{BSUID};Ana\r\n"
        ";BR.99;Bia\r\n"
        f"11987654322;{BSUID};Carla\r\n"  # the same person id as line 2
        ";;Dora\r\n"
        ";BR.9-9;Eva\r\n"
    )
    parsed = parse_csv_text(text)
    assert parsed.delimiter == ";"
    assert [(r.line, r.phone, r.bsuid, r.name) for r in parsed.rows] == [
        (2, "+5511987654321", BSUID, "Ana"),
        (3, None, "BR.99", "Bia"),
    ]
    assert [(r.line, r.field, r.reason) for r in parsed.rejections] == [
        (4, "BSUID", "duplicate_bsuid"),
        (5, "Telefone", "missing_phone"),
        (6, "BSUID", "invalid_bsuid"),
    ]
    assert "line 2" in parsed.rejections[0].detail


def test_a_file_with_only_a_bsuid_column_is_accepted() -> None:
    parsed = parse_csv_text(f"user_id,name\n{BSUID},Ana\n")
    assert [(r.phone, r.bsuid) for r in parsed.rows] == [(None, BSUID)]


def test_a_contact_without_phone_is_keyed_by_its_bsuid_apart_from_any_phone() -> None:
    row = parse_json([{"bsuid": BSUID}]).rows[0]
    assert row.contact_id == contact_id_for_bsuid(BSUID)
    assert is_contact_id(row.contact_id)
    assert row.contact_id != contact_id_for(BSUID)
    with_phone = parse_json([{"phone": "11987654321", "bsuid": BSUID}]).rows[0]
    assert with_phone.contact_id == contact_id_for("+5511987654321")


def test_update_keeps_a_stored_bsuid_the_row_omits_and_replace_clears_it() -> None:
    both = parse_json([{"phone": "11987654321", "bsuid": BSUID, "name": "Ana"}]).rows[0]
    phone_only = parse_json([{"phone": "11987654321", "name": "Ana"}]).rows[0]
    options = ImportOptions()
    _, stored = merge_row(None, both, MergeStrategy.UPDATE, options, NOW)
    assert stored is not None and stored.bsuid == BSUID

    outcome, written = merge_row(stored, phone_only, MergeStrategy.UPDATE, options, NOW)
    assert (outcome, written) == (RowOutcome.UNCHANGED, None)

    outcome, written = merge_row(stored, phone_only, MergeStrategy.REPLACE, options, NOW)
    assert outcome is RowOutcome.REPLACED
    assert written is not None and written.bsuid is None and written.phone == "+5511987654321"

    new_id = parse_json([{"phone": "11987654321", "bsuid": "BR.42"}]).rows[0]
    outcome, written = merge_row(stored, new_id, MergeStrategy.UPDATE, options, NOW)
    assert outcome is RowOutcome.UPDATED and written is not None and written.bsuid == "BR.42"
