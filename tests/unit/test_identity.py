"""Business-scoped user ids and the phones webhooks carry: what is accepted, what is not."""

from __future__ import annotations

import pytest

from shared.domain.errors import FieldError
from shared.domain.identity import (
    Identity,
    contact_identity,
    is_bsuid,
    mask_bsuid,
    optional_bsuid,
    parse_bsuid,
    phone_of_wa_id,
    sender_of,
)


@pytest.mark.parametrize(
    "value",
    ["BR.1502576394655843", "US.13491208655302741918", "BR.a", "BR." + "Z9" * 64, "PT.AbC123"],
)
def test_a_persons_bsuid_is_accepted(value: str) -> None:
    assert is_bsuid(value)
    assert parse_bsuid(f"  {value} ") == value
    assert optional_bsuid(value) == value


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing"),
        ("   ", "missing"),
        ("US.ENT.13491208655302741918", "parent id"),
        ("BR.1502.576", "parent id"),
        ("BR." + "1" * 129, "1 to 128"),
        ("BR.", "1 to 128"),
        ("br.1502576394655843", "country code"),
        ("BRA.1502576394655843", "country code"),
        ("1502576394655843", "country code"),
        ("BR.1502 576", "country code"),
        ("BR.15025_76", "country code"),
        ("BR.١٢٣", "country code"),
        ("BR.1502\u00a0576", "country code"),
    ],
)
def test_anything_else_is_refused_naming_the_field(value: str | None, reason: str) -> None:
    with pytest.raises(FieldError) as caught:
        parse_bsuid(value, "data[3].bsuid")
    assert caught.value.field == "data[3].bsuid"
    assert reason in caught.value.reason
    assert optional_bsuid(value) is None


@pytest.mark.parametrize(
    ("wa_id", "phone"),
    [
        ("5511987654321", "+5511987654321"),
        ("+5511987654321", "+5511987654321"),
        ("551187654321", "+5511987654321"),  # a legacy mobile gets its ninth digit
        ("16505551234", "+16505551234"),  # any country's number counts
        ("351912345678", "+351912345678"),
        (5511987654321, "+5511987654321"),
    ],
)
def test_a_webhooks_phone_becomes_e164(wa_id: str | int, phone: str) -> None:
    assert phone_of_wa_id(wa_id) == phone


@pytest.mark.parametrize(
    "wa_id",
    [None, "", "BR.1502576394655843", "55 11 98765-4321", "0551198765432", "12345", "1" * 16],
)
def test_anything_but_digits_is_no_phone(wa_id: object) -> None:
    assert phone_of_wa_id(wa_id) is None


def test_webhook_entries_name_a_person_by_either_id() -> None:
    both = {"from": "5511987654321", "from_user_id": "BR.15"}
    assert sender_of(both) == Identity("+5511987654321", "BR.15")
    assert sender_of(both).paired
    alone = sender_of({"from_user_id": "BR.15", "id": "wamid.1"})
    assert (alone, alone.known, alone.paired) == (Identity(None, "BR.15"), True, False)
    assert contact_identity({"wa_id": "5511987654321", "user_id": "US.ENT.1"}).bsuid is None
    assert not contact_identity({"profile": {"name": "Ana"}}).known


def test_a_bsuid_is_masked_like_a_phone() -> None:
    assert mask_bsuid("BR.1502576394655843") == "BR.15***43"
    assert mask_bsuid("BR.12345") == "BR.***"
