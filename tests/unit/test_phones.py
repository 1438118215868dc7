"""Brazilian mobile normalisation: E.164 with the ninth digit, or the reason there is none."""

from __future__ import annotations

import pytest

from shared.domain.phones import PhoneCheck, PhoneProblem, normalize_br_mobile


@pytest.mark.parametrize(
    "raw",
    [
        "(11) 98765-4321",
        "11987654321",
        "+55 11 98765-4321",
        "5511987654321",
        "011 98765-4321",
        "0xx11 98765-4321",
        "+55 (11) 98765 4321",
        "11 9 8765-4321",
        "015 11 98765-4321",  # carrier code 15 before the area code
        " (11) 98765-4321 ",
        "+5511987654321",
    ],
)
def test_written_forms_of_one_mobile(raw: str) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck("+5511987654321", None)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(11) 8765-4321", "+5511987654321"),
        ("1187654321", "+5511987654321"),
        ("+55 11 8765-4321", "+5511987654321"),
        ("5511 8765-4321", "+5511987654321"),
        ("(21) 7654-3210", "+5521976543210"),
        ("(61) 8765-4321", "+5561987654321"),
        ("(11) 6765-4321", "+5511967654321"),
        ("(11) 9876-5432", "+5511998765432"),
    ],
)
def test_legacy_eight_digit_mobiles_get_the_ninth_digit(raw: str, e164: str) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck(e164, None)


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(21) 97654-3210", "+5521976543210"),
        ("(85) 99876-5432", "+5585998765432"),
        ("(51) 98123-4567", "+5551981234567"),
    ],
)
def test_other_area_codes(raw: str, e164: str) -> None:
    assert normalize_br_mobile(raw).e164 == e164


@pytest.mark.parametrize(
    "raw",
    ["(11) 3456-7890", "+55 11 3456-7890", "(11) 2345-6789", "1145678901", "(21) 2555-1234"],
)
def test_landlines_are_not_mobile(raw: str) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck(None, PhoneProblem.NOT_MOBILE)


@pytest.mark.parametrize("raw", ["", None, "   ", "\t\n"])
def test_missing(raw: str | None) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck(None, PhoneProblem.MISSING)


@pytest.mark.parametrize(
    "raw", ["123", "abc", "98765-4321", "(11) 58765-4321", "(11) 98765-43210", "+55 1"]
)
def test_invalid(raw: str) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck(None, PhoneProblem.INVALID)


@pytest.mark.parametrize("raw", ["+1 415 555 2671", "+44 7911 123456", "+351 912 345 678"])
def test_foreign(raw: str) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck(None, PhoneProblem.FOREIGN)


def test_problem_values_are_report_keys() -> None:
    # The run report counts skips under str(problem).
    assert str(PhoneProblem.MISSING) == "missing_phone"
    assert str(PhoneProblem.INVALID) == "invalid_phone"
    assert str(PhoneProblem.NOT_MOBILE) == "not_mobile"
    assert str(PhoneProblem.FOREIGN) == "foreign_phone"


def test_exactly_one_of_number_or_problem() -> None:
    for raw in ["(11) 98765-4321", "(11) 3456-7890", "", "abc", "+1 415 555 2671"]:
        check = normalize_br_mobile(raw)
        assert (check.e164 is None) != (check.problem is None)
