"""Brazilian mobile normalisation: E.164 with the ninth digit, or the reason there is none."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize(
    "raw",
    [
        "(61) 9abc-1234",  # keypad letters would read as 9222: a stranger's number
        "(11) 98765-432l",  # a lower-case L for a 1
        "(11) 98765-4321 ramal 2",
        "(11) ９８７６５-４３２１",  # full-width digits
        "(11) ٩٨٧٦٥-٤٣٢١",  # Arabic-Indic digits
        "(11) 98765\u200b4321",  # a zero-width space
        "(11) 98765-4321\x00",
    ],
)
def test_anything_but_digits_and_typed_punctuation_is_invalid(raw: str) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck(None, PhoneProblem.INVALID)


@pytest.mark.parametrize("raw", ["0xx11 98765-4321", "0XX11 98765-4321", "(0xx11) 98765-4321"])
def test_the_long_distance_placeholder_is_the_one_accepted_letter_pair(raw: str) -> None:
    assert normalize_br_mobile(raw) == PhoneCheck("+5511987654321", None)


def _in_order(wanted: str, digits: str) -> bool:
    remaining = iter(digits)
    return all(digit in remaining for digit in wanted)


_TYPED_CHARACTERS = list("0123456789+()-. /\t\xa0")
_HOSTILE_CHARACTERS = [*"xXabclOoIi", "９", "٣", "३", "\x00", "\x1f", "\u200b", "\n", "\u2028"]
_PLAUSIBLE = st.builds(
    lambda prefix, area, subscriber, separator, noise, at: (
        prefix + area + separator + subscriber[:at] + noise + subscriber[at:]
    ),
    st.sampled_from(["", "+55 ", "55", "0", "015 ", "0xx", "(", "+1 "]),
    st.sampled_from(["11", "21", "61", "85", "51", "(11)", "99"]),
    st.text(alphabet="0123456789", min_size=7, max_size=10),
    st.sampled_from(["", " ", "-", ".", "\t", "\xa0"]),
    st.one_of(
        st.text(alphabet=st.sampled_from(_TYPED_CHARACTERS + _HOSTILE_CHARACTERS), max_size=4),
        st.sampled_from(["abc", "DEF", "wxyz", "٣٣٣"]),  # what a keypad or a parser may read
    ),
    st.integers(min_value=0, max_value=10),
)
"""A mobile as people type it, sometimes with a stray character inside: a typo must never be
read as a digit."""


@settings(max_examples=1000, deadline=None, derandomize=True)
@example("(61) 9abc-1234")  # the typo found in an import: read as +55 61 99222-1234
@example("6199abc1234")
@example("(11) 9٨٧٦٥-4321")
@given(
    st.one_of(
        st.text(min_size=1, max_size=40),
        st.text(
            alphabet=st.sampled_from(_TYPED_CHARACTERS + _HOSTILE_CHARACTERS),
            min_size=1,
            max_size=40,
        ),
        _PLAUSIBLE,
    )
)
def test_a_number_accepted_from_any_string_is_a_brazilian_mobile_typed_in_it(raw: str) -> None:
    """Whatever the string, nothing raises; an accepted number is a valid Brazilian mobile
    whose national digits were typed, in order (the ninth digit may be the one we added)."""
    check = normalize_br_mobile(raw)
    assert (check.e164 is None) != (check.problem is None)
    if check.e164 is None:
        return
    parsed = phonenumbers.parse(check.e164)
    assert parsed.country_code == 55 and phonenumbers.is_valid_number(parsed)
    assert phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )
    typed = "".join(character for character in raw if character in "0123456789")
    national = check.e164.removeprefix("+55")
    assert _in_order(national, typed) or _in_order(national[:2] + national[3:], typed)
