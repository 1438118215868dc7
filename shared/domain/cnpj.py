"""CNPJ: the tenant's identity, and the only value that ever becomes part of a dataset name.

Since July 2026 the Receita Federal also issues alphanumeric CNPJs: twelve characters from
0-9/A-Z followed by two numeric check digits. Both formats share one check-digit algorithm in
which every character weighs ``ord(char) - 48``, so numeric CNPJs keep their old digits.
Because a :class:`Cnpj` can only be built from a value whose check digits verify, code that
formats dataset names from it can never inject SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.domain.errors import FieldError

_FORMATTING = re.compile(r"[.\-/\s]")
_SHAPE = re.compile(r"^[0-9A-Z]{12}[0-9]{2}$")
_FIRST_WEIGHTS = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_SECOND_WEIGHTS = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def _check_digit(body: str, weights: tuple[int, ...]) -> str:
    total = sum((ord(char) - 48) * weight for char, weight in zip(body, weights, strict=True))
    remainder = total % 11
    return "0" if remainder < 2 else str(11 - remainder)


def check_digits(base: str) -> str:
    """The two check digits for a 12-character CNPJ base (root + branch)."""
    first = _check_digit(base, _FIRST_WEIGHTS)
    return first + _check_digit(base + first, _SECOND_WEIGHTS)


@dataclass(frozen=True, slots=True)
class Cnpj:
    """A validated CNPJ in canonical form: 14 characters, upper case, no punctuation."""

    value: str

    def __post_init__(self) -> None:
        if not _SHAPE.fullmatch(self.value):
            raise FieldError(
                "cnpj", "must be 12 letters/digits followed by 2 check digits (14 in all)"
            )
        if len(set(self.value)) == 1:
            raise FieldError("cnpj", "a CNPJ of one repeated character is not valid")
        if check_digits(self.value[:12]) != self.value[12:]:
            raise FieldError("cnpj", "check digits do not match")

    @classmethod
    def parse(cls, raw: str) -> Cnpj:
        """Accept the usual written forms (``12.ABC.345/01DE-35``) and canonicalise them."""
        return cls(_FORMATTING.sub("", raw).upper())

    @classmethod
    def from_base(cls, base: str) -> Cnpj:
        """Complete a 12-character base with its check digits (sample data, tests)."""
        return cls(base.upper() + check_digits(base.upper()))

    @property
    def raw_dataset(self) -> str:
        return f"{self.value}_RAW"

    @property
    def campaign_dataset(self) -> str:
        return f"{self.value}_CAMPAIGN"

    @property
    def is_alphanumeric(self) -> bool:
        return not self.value.isdigit()

    def __str__(self) -> str:
        return self.value
