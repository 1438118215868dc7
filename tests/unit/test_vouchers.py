"""Vouchers: the config's rules, the codes' shape and entropy, validity, what customers read."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest

from shared.domain.errors import FieldError
from shared.domain.vouchers import (
    ALPHABET,
    CODE_BITS,
    Voucher,
    VoucherConfig,
    format_value,
    new_code,
    normalize_code,
)

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEW_YORK = ZoneInfo("America/New_York")


def voucher_config(**fields: Any) -> VoucherConfig:
    return VoucherConfig.model_validate({"kind": "percentage", "value": 10, **fields})


# -- config -------------------------------------------------------------------------------------


def test_the_seed_shape_is_accepted() -> None:
    parsed = voucher_config(validity_days=30)
    assert (parsed.kind, parsed.value, parsed.validity_days) == ("percentage", 10.0, 30)
    assert voucher_config(kind="amount", value=15).value == 15.0


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"value": 100.5}, "value", "a percentage voucher is at most 100, got 100.5"),
        ({"value": 0}, "value", "greater than 0"),
        ({"kind": "amount", "value": -5}, "value", "greater than 0"),
        ({"kind": "amount", "value": 100_001}, "value", "an amount voucher is at most 100000"),
        ({"kind": "amount", "value": 15.005}, "value", "at most two decimals"),
        ({"kind": "gift"}, "kind", "'percentage' or 'amount'"),
        ({"validity_days": 0}, "validity_days", "greater than or equal to 1"),
        ({"validity_days": 366}, "validity_days", "less than or equal to 365"),
        ({"prefix": "LAVO"}, "prefix", "Extra inputs"),
    ],
)
def test_invalid_configs_name_the_field(fields: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        voucher_config(**fields)
    errors = raised.value.errors()
    assert len(errors) == 1, errors
    assert ".".join(str(part) for part in errors[0]["loc"]) == field
    assert message in errors[0]["msg"]


def test_a_full_percentage_and_a_large_amount_are_allowed() -> None:
    assert voucher_config(value=100).value == 100
    assert voucher_config(kind="amount", value=100_000).value == 100_000


# -- codes --------------------------------------------------------------------------------------


def test_the_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert CODE_BITS >= 40


def test_codes_are_eight_symbols_after_an_optional_prefix() -> None:
    plain = new_code()
    assert len(plain) == 8
    assert set(plain) <= set(ALPHABET)
    prefixed = new_code("LAVO")
    assert prefixed.startswith("LAVO")
    assert len(prefixed) == 12
    assert set(prefixed[4:]) <= set(ALPHABET)


@pytest.mark.parametrize("prefix", ["L", "LAVANDE", "lavo", "LAV0", "LA-V"])
def test_a_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(FieldError) as raised:
        new_code(prefix)
    assert raised.value.field == "voucher_prefix"


def test_codes_look_uniformly_random() -> None:
    """50k codes: no repeats, and every symbol at every position about equally often."""
    codes = [new_code() for _ in range(50_000)]
    assert len(set(codes)) == len(codes)
    for position in range(8):
        counts = Counter(code[position] for code in codes)
        statistic = sum((counts[s] - 50_000 / 32) ** 2 / (50_000 / 32) for s in ALPHABET)
        # chi-square with 31 degrees of freedom: mean 31, sd 7.9; 80 is beyond 6 sd.
        assert statistic < 80, (position, counts)
    # Entropy per symbol close to the 5 bits the alphabet allows.
    symbols = Counter("".join(codes))
    total = sum(symbols.values())
    entropy = -sum(n / total * math.log2(n / total) for n in symbols.values())
    assert entropy > 4.99


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("7K3M9QXD", "7K3M9QXD"),
        ("7k3m-9qxd", "7K3M9QXD"),
        (" lavo 7K3M 9QXD ", "LAVO7K3M9QXD"),
        ("7K3M9QXO", "7K3M9QX0"),  # O is read as zero in the body ...
        ("LAVOIK3L9QXD", "LAVO1K319QXD"),  # ... I and L as one, but the prefix keeps its letters
        ("7K3M9QX", None),  # too short
        ("7K3M9QXU", None),  # U is not a symbol
        ("LAVANDE7K3M9QXD", None),  # prefix too long
        ("12AB7K3M9QXD", None),  # a prefix has letters only
    ],
)
def test_typed_codes_are_normalized(typed: str, canonical: str | None) -> None:
    assert normalize_code(typed) == canonical


# -- validity and rendering ---------------------------------------------------------------------


def test_a_voucher_is_valid_through_the_local_day_validity_days_after_issue() -> None:
    settings = voucher_config(validity_days=30)
    # 22:30 local on 20 Nov is already 21 Nov in UTC: the local date counts.
    issued = datetime(2026, 11, 20, 22, 30, tzinfo=SAO_PAULO)
    expires = settings.expires_at(issued, "America/Sao_Paulo")
    assert expires == datetime(2026, 12, 21, 0, 0, tzinfo=SAO_PAULO)
    assert expires.tzinfo == UTC
    voucher = Voucher("X", "c", "p", "percentage", 10, issued, expires, "America/Sao_Paulo")
    assert voucher.last_valid_day == date(2026, 12, 20)
    assert voucher.is_valid_at(datetime(2026, 12, 20, 23, 59, 59, tzinfo=SAO_PAULO))
    assert not voucher.is_valid_at(datetime(2026, 12, 21, 0, 0, tzinfo=SAO_PAULO))
    assert not voucher.is_valid_at(datetime(2026, 11, 20, 22, 29, tzinfo=SAO_PAULO))


def test_expiry_is_a_local_midnight_across_a_dst_change() -> None:
    # Issued before New York's clocks go back (1 Nov 2026); expires at local midnight after.
    issued = datetime(2026, 10, 30, 12, 0, tzinfo=NEW_YORK)
    expires = voucher_config(validity_days=5).expires_at(issued, "America/New_York")
    assert expires == datetime(2026, 11, 5, 0, 0, tzinfo=NEW_YORK)
    assert expires == datetime(2026, 11, 5, 5, 0, tzinfo=UTC)


def test_an_unknown_time_zone_names_the_field() -> None:
    with pytest.raises(FieldError) as raised:
        voucher_config().expires_at(datetime(2026, 1, 1, tzinfo=UTC), "Mars/Olympus")
    assert raised.value.field == "timezone"


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("percentage", 10, "10%"),
        ("percentage", 12.5, "12,5%"),
        ("percentage", 100, "100%"),
        ("amount", 15, "R$ 15,00"),
        ("amount", 15.5, "R$ 15,50"),
        ("amount", 0.99, "R$ 0,99"),
        ("amount", 1250, "R$ 1.250,00"),
        ("amount", 100_000, "R$ 100.000,00"),
    ],
)
def test_values_read_as_brazilians_write_them(kind: str, value: float, text: str) -> None:
    assert format_value(kind, value) == text


def test_template_fields() -> None:
    issued = datetime(2026, 11, 20, 11, 30, tzinfo=UTC)
    settings = voucher_config(kind="amount", value=15, validity_days=30)
    voucher = Voucher(
        code="LAVO7K3M9QXD",
        campaign_id="c",
        target_path="users/x/campaigns/c/targets/t",
        kind="amount",
        value=15,
        issued_at=issued,
        expires_at=settings.expires_at(issued, "America/Sao_Paulo"),
    )
    assert voucher.template_fields() == {
        "voucherCode": "LAVO7K3M9QXD",
        "voucherValue": "R$ 15,00",
        "voucherExpiresAt": "20/12/2026",
    }


def test_every_field_is_documented_for_openapi() -> None:
    properties = VoucherConfig.model_json_schema()["properties"]
    assert all(field.get("description") for field in properties.values()), properties
