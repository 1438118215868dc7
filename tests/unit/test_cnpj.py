"""CNPJ validation: numeric and alphanumeric (July 2026) formats, canonical form, dataset names.

Expected check digits come from ``_reference_check_digits`` below, a deliberately plain
re-implementation of the Receita Federal mod-11 rule (every character weighs ``ord(c) - 48``),
and from examples worked out by hand in the comments.
"""

from __future__ import annotations

import pytest

from shared.domain.cnpj import Cnpj, check_digits
from shared.domain.errors import FieldError


def _reference_digit(chars: str) -> int:
    # Weights run 2, 3, ..., 9, 2, 3, ... from the rightmost character leftwards.
    total = 0
    weight = 2
    for char in reversed(chars):
        total += (ord(char) - ord("0")) * weight
        weight = 2 if weight == 9 else weight + 1
    remainder = total % 11
    return 0 if remainder in (0, 1) else 11 - remainder


def _reference_check_digits(base: str) -> str:
    first = _reference_digit(base)
    second = _reference_digit(base + str(first))
    return f"{first}{second}"


# Worked by hand:
#   112223330001 -> 1*5+1*4+2*3+2*2+2*9+3*8+3*7+3*6+0+0+0+1*2 = 102, 102 % 11 = 3 -> 8;
#   1122233300018 -> 120, 120 % 11 = 10 -> 1.                              => 11.222.333/0001-81
#   114447770001 -> 214 % 11 = 5 -> 6; 1144477700016 -> 230 % 11 = 10 -> 1 => 11.444.777/0001-61
#   12ABC34501DE (A=17, B=18, C=19, D=20, E=21) -> 459 % 11 = 8 -> 3;
#   12ABC34501DE3 -> 424 % 11 = 6 -> 5                                      => 12.ABC.345/01DE-35
HAND_CHECKED = [
    ("11.222.333/0001-81", "11222333000181"),
    ("11.444.777/0001-61", "11444777000161"),
    ("12.ABC.345/01DE-35", "12ABC34501DE35"),
]

NUMERIC_BASES = ["112223330001", "114447770001", "123456780001", "000000010001", "987654320001"]
ALPHANUMERIC_BASES = [
    "12ABC34501DE",
    "ABCDEFGHIJKL",
    "Z00000000001",
    "1A2B3C4D5E6F",
    "LAVANDERIA01",
]


def _first_base_with_zero_check_digit() -> str:
    """A numeric base whose first check digit falls in the ``remainder < 2`` branch."""
    for number in range(112223330001, 112223330200):
        base = f"{number:012d}"
        if _reference_check_digits(base)[0] == "0":
            return base
    raise AssertionError("no base found")  # pragma: no cover


def test_reference_matches_hand_worked_examples() -> None:
    assert _reference_check_digits("112223330001") == "81"
    assert _reference_check_digits("114447770001") == "61"
    assert _reference_check_digits("12ABC34501DE") == "35"


@pytest.mark.parametrize(("written", "canonical"), HAND_CHECKED)
def test_hand_checked_cnpjs_parse_to_canonical_form(written: str, canonical: str) -> None:
    cnpj = Cnpj.parse(written)
    assert cnpj.value == canonical
    assert str(cnpj) == canonical


@pytest.mark.parametrize("base", NUMERIC_BASES + ALPHANUMERIC_BASES)
def test_check_digits_agree_with_reference(base: str) -> None:
    assert check_digits(base) == _reference_check_digits(base)


@pytest.mark.parametrize("base", NUMERIC_BASES + ALPHANUMERIC_BASES)
def test_base_with_reference_digits_is_valid(base: str) -> None:
    value = base + _reference_check_digits(base)
    assert Cnpj(value).value == value


def test_zero_check_digit_branch() -> None:
    base = _first_base_with_zero_check_digit()
    value = base + _reference_check_digits(base)
    assert value[12] == "0"
    assert Cnpj(value).value == value


@pytest.mark.parametrize("base", NUMERIC_BASES + ALPHANUMERIC_BASES)
def test_every_other_check_digit_pair_is_rejected(base: str) -> None:
    good = _reference_check_digits(base)
    for first in "0123456789":
        for second in "0123456789":
            candidate = first + second
            if candidate == good:
                continue
            with pytest.raises(FieldError) as caught:
                Cnpj(base + candidate)
            assert caught.value.field == "cnpj"


@pytest.mark.parametrize(
    "written",
    [
        "11.222.333/0001-81",
        "11222333000181",
        "11 222 333 0001 81",
        " 11.222.333/0001-81\n",
        "11.222.333/0001-81\t",
        "11-222-333-0001-81",
    ],
)
def test_numeric_punctuation_is_removed(written: str) -> None:
    assert Cnpj.parse(written).value == "11222333000181"


@pytest.mark.parametrize(
    "written",
    ["12.ABC.345/01DE-35", "12.abc.345/01de-35", "12abc34501de35", "12.AbC.345/01dE-35"],
)
def test_alphanumeric_is_upper_cased(written: str) -> None:
    assert Cnpj.parse(written).value == "12ABC34501DE35"


def test_alphanumeric_flag() -> None:
    assert Cnpj.parse("12.ABC.345/01DE-35").is_alphanumeric is True
    assert Cnpj.parse("11.222.333/0001-81").is_alphanumeric is False


@pytest.mark.parametrize("base", ["112223330001", "12abc34501de", "12ABC34501DE"])
def test_from_base_completes_check_digits(base: str) -> None:
    expected = base.upper() + _reference_check_digits(base.upper())
    assert Cnpj.from_base(base).value == expected


def test_from_base_of_known_examples() -> None:
    assert Cnpj.from_base("112223330001").value == "11222333000181"
    assert Cnpj.from_base("12ABC34501DE").value == "12ABC34501DE35"


@pytest.mark.parametrize(
    "raw",
    [
        "11.222.333/0001-82",  # second digit wrong
        "11.222.333/0001-71",  # first digit wrong
        "11.222.333/0001-18",  # digits swapped
        "12.ABC.345/01DE-53",
        "12.ABC.345/01DE-36",
        "11.222.333/0002-81",  # base changed, digits kept
        "21.222.333/0001-81",
    ],
)
def test_wrong_check_digits_rejected(raw: str) -> None:
    with pytest.raises(FieldError) as caught:
        Cnpj.parse(raw)
    assert caught.value.field == "cnpj"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "1122233300018",  # 13
        "112223330001811",  # 15
        "11.222.333/0001-8",
        "1",
        "12ABC34501DE3",
        "0" * 28,
    ],
)
def test_wrong_length_rejected(raw: str) -> None:
    with pytest.raises(FieldError) as caught:
        Cnpj.parse(raw)
    assert caught.value.field == "cnpj"


@pytest.mark.parametrize("char", "0123456789")
def test_repeated_digit_rejected(char: str) -> None:
    with pytest.raises(FieldError) as caught:
        Cnpj(char * 14)
    assert caught.value.field == "cnpj"


def test_all_zeros_has_matching_check_digits_but_is_still_rejected() -> None:
    # 000000000000 -> both sums are 0 -> check digits "00": only the repeated rule rejects it.
    assert _reference_check_digits("0" * 12) == "00"
    with pytest.raises(FieldError, match="repeated"):
        Cnpj.parse("00.000.000/0000-00")


@pytest.mark.parametrize(
    "raw",
    [
        "12ABC34501DE3A",
        "12ABC34501DEA5",
        "12ABC34501DEAB",
        "1122233300018A",
        "AAAAAAAAAAAAAA",
    ],
)
def test_letters_in_check_digit_positions_rejected(raw: str) -> None:
    with pytest.raises(FieldError) as caught:
        Cnpj.parse(raw)
    assert caught.value.field == "cnpj"


@pytest.mark.parametrize(
    "raw",
    [
        "12345678000199_RAW`; DROP",
        "11222333000181`; DROP TABLE x; --",
        "11222333000181_RAW",
        "11222333000181`",
        "1122233300018'",
        "11222333000181;",
        "11,222,333/0001-81",
        "１１２２２３３３０００１８１",  # full-width digits
        "12ABC34501DÉ35",
        "11222333000181\x00",
    ],
)
def test_injection_and_foreign_characters_rejected(raw: str) -> None:
    with pytest.raises(FieldError) as caught:
        Cnpj.parse(raw)
    assert caught.value.field == "cnpj"


def test_constructor_does_not_canonicalise() -> None:
    # Only parse() strips punctuation; the value object itself demands the canonical form.
    with pytest.raises(FieldError):
        Cnpj("11.222.333/0001-81")
    with pytest.raises(FieldError):
        Cnpj("12abc34501de35")


@pytest.mark.parametrize(
    ("raw", "raw_dataset", "campaign_dataset"),
    [
        ("11.222.333/0001-81", "11222333000181_RAW", "11222333000181_CAMPAIGN"),
        ("12.abc.345/01de-35", "12ABC34501DE35_RAW", "12ABC34501DE35_CAMPAIGN"),
    ],
)
def test_dataset_names(raw: str, raw_dataset: str, campaign_dataset: str) -> None:
    cnpj = Cnpj.parse(raw)
    assert cnpj.raw_dataset == raw_dataset
    assert cnpj.campaign_dataset == campaign_dataset


def test_value_object_equality_and_immutability() -> None:
    assert Cnpj.parse("11.222.333/0001-81") == Cnpj("11222333000181")
    assert hash(Cnpj.parse("12.abc.345/01de-35")) == hash(Cnpj("12ABC34501DE35"))
    cnpj = Cnpj("11222333000181")
    with pytest.raises(AttributeError):
        cnpj.value = "11444777000161"  # type: ignore[misc]
