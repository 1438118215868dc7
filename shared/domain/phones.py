"""Brazilian mobile numbers as WhatsApp needs them: E.164, with the ninth digit.

Customer exports hold numbers typed by hand over many years: with or without +55, trunk and
carrier prefixes (``0xx11``, ``015 11``), punctuation, and pre-2016 mobiles that lack the
leading 9 ("nono dígito"). ``phonenumbers`` knows the numbering plan; we add the one rule it
does not apply: a 10-digit national number whose subscriber part starts with 6-9 is a legacy
mobile and gets the 9 inserted. Landlines cannot receive WhatsApp templates, so they are
rejected like any other unusable number, each with its own reason for the run report.

Only digits and the punctuation people type between them are read. ``phonenumbers`` would turn
letters into keypad digits (``9abc`` -> ``9222``) and read other scripts' digits as ours, so a
typo could become a stranger's number: any letter (but the ``0xx`` long-distance placeholder),
any other character, is an invalid number instead. The README's phone table lists every rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_LEGACY_MOBILE_FIRST_DIGITS = "6789"
_CARRIER_PLACEHOLDER = re.compile(r"^([\s(]*0)[xX]{2}")
"""``0xx11 ...``: the old written form of a long-distance call, the carrier left open."""
_TYPED = re.compile(r"[0-9+()./ \t\u00a0-]+")
"""ASCII digits and what people type between them (spreadsheets bring tabs and no-break spaces)."""


class PhoneProblem(StrEnum):
    MISSING = "missing_phone"
    INVALID = "invalid_phone"
    NOT_MOBILE = "not_mobile"
    FOREIGN = "foreign_phone"


@dataclass(frozen=True, slots=True)
class PhoneCheck:
    e164: str | None
    problem: PhoneProblem | None


def normalize_br_mobile(raw: str | None) -> PhoneCheck:
    """Return the E.164 form of a Brazilian mobile number, or why there is none."""
    if raw is None or not raw.strip():
        return PhoneCheck(None, PhoneProblem.MISSING)
    typed = _CARRIER_PLACEHOLDER.sub(r"\g<1>", raw.strip())
    if not _TYPED.fullmatch(typed):
        return PhoneCheck(None, PhoneProblem.INVALID)
    try:
        parsed = phonenumbers.parse(typed, "BR")
    except NumberParseException:
        return PhoneCheck(None, PhoneProblem.INVALID)
    if parsed.country_code != 55:
        return PhoneCheck(None, PhoneProblem.FOREIGN)
    national = phonenumbers.national_significant_number(parsed)
    if len(national) == 10 and national[2] in _LEGACY_MOBILE_FIRST_DIGITS:
        national = f"{national[:2]}9{national[2:]}"
        parsed = phonenumbers.parse(f"+55{national}")
    if not phonenumbers.is_valid_number(parsed):
        return PhoneCheck(None, PhoneProblem.INVALID)
    if phonenumbers.number_type(parsed) not in _MOBILE_TYPES:
        return PhoneCheck(None, PhoneProblem.NOT_MOBILE)
    return PhoneCheck(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), None)
