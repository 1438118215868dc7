"""Vouchers: a discount attached to a campaign, with one unguessable code per customer.

A code must be short enough to read aloud at the counter, impossible to guess (a shared code
ends up in a WhatsApp group and is redeemed by strangers), and never reused (a redemption must
name exactly one customer and campaign). So each target gets its own code of eight symbols
drawn with :mod:`secrets` from Crockford's base32 alphabet — digits and letters without I, L,
O and U, which are easily confused (40 bits: a million codes leave a guess one chance in a
million) — optionally after a prefix of 2 to 6 letters that names the business. Uniqueness is
not left to chance: the adapter reserves each code with a create-only document and draws again
on a collision.

A voucher is valid from its issue until the end of the LOCAL day ``validity_days`` after the
day it was issued: issued on 20 Nov with 30 days, it is valid through 20 Dec, and the message
says "válido até 20/12/2026". Its expiry is an instant (the next local midnight) so comparing
it with a sale's timestamp needs no time zone.

A redemption is a COMPLETED sale whose ``cupom`` is the code (see
``sql/analytics/voucher_redemptions.sql``). Cashiers type codes, so :func:`normalize_code`
ignores case, spaces and hyphens and reads O as 0 and I/L as 1 in the eight-symbol body, as
Crockford's alphabet intends; the SQL applies the same rule to ``cupom``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.domain.calendar import DEFAULT_TIMEZONE, local_date, start_of_day, zone
from shared.domain.errors import FieldError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford's base32: 32 symbols, so each one carries exactly 5 bits."""
CODE_LENGTH = 8
"""Symbols after the prefix: 8 x 5 = 40 bits of entropy."""
CODE_BITS = CODE_LENGTH * 5

PREFIX_PATTERN = r"^[A-Z]{2,6}$"
VoucherPrefix = Annotated[
    str,
    Field(
        pattern=PREFIX_PATTERN,
        description="2-6 upper-case letters put before every voucher code of the tenant.",
        examples=["LAVO"],
    ),
]
"""A tenant's voucher code prefix, for the settings model that stores it."""

_PREFIX = re.compile(PREFIX_PATTERN)
_CODE = re.compile(rf"^([A-Z]{{2,6}})?[{ALPHABET}]{{{CODE_LENGTH}}}$")
_SEPARATORS = re.compile(r"[\s-]+")
_CROCKFORD_READINGS = str.maketrans("OIL", "011")

MAX_AMOUNT_BRL = 100_000


class VoucherConfig(BaseModel):
    """The discount a campaign attaches to each of its messages."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["percentage", "amount"] = Field(
        description="`percentage`: value% off; `amount`: value BRL off.", examples=["percentage"]
    )
    value: float = Field(
        gt=0,
        description="Percent off (at most 100) or BRL off (at most 100000), two decimals at most.",
        examples=[10],
    )
    validity_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="Valid through the end of the local day this many days after issue.",
        examples=[30],
    )

    @field_validator("value")
    @classmethod
    def _value_fits_kind(cls, value: float, info: ValidationInfo) -> float:
        if round(value, 2) != value:
            raise ValueError(f"at most two decimals, got {value}")
        kind = info.data.get("kind")  # absent when kind itself was invalid
        if kind == "percentage" and value > 100:
            raise ValueError(f"a percentage voucher is at most 100, got {value:g}")
        if kind == "amount" and value > MAX_AMOUNT_BRL:
            raise ValueError(f"an amount voucher is at most {MAX_AMOUNT_BRL} BRL, got {value:g}")
        return value

    def expires_at(self, issued_at: datetime, timezone: str) -> datetime:
        """The first instant the voucher is no longer valid (a local midnight, in UTC)."""
        tz = zone(timezone)
        last_day = local_date(issued_at, tz) + timedelta(days=self.validity_days)
        return start_of_day(last_day + timedelta(days=1), tz)


def check_prefix(prefix: str) -> str:
    """``prefix`` if it is empty or 2-6 upper-case letters, else a FieldError."""
    if prefix and not _PREFIX.fullmatch(prefix):
        raise FieldError("voucher_prefix", "must be 2 to 6 upper-case letters A-Z")
    return prefix


def new_code(prefix: str = "") -> str:
    """A fresh random code: the prefix, then 8 symbols from :data:`ALPHABET` (40 bits)."""
    return check_prefix(prefix) + "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str) -> str | None:
    """The canonical code a person meant to type, or None if it cannot be a code."""
    text = _SEPARATORS.sub("", raw).upper()
    if len(text) < CODE_LENGTH:
        return None
    head, body = text[:-CODE_LENGTH], text[-CODE_LENGTH:]
    code = head + body.translate(_CROCKFORD_READINGS)
    return code if _CODE.fullmatch(code) else None


def format_value(kind: str, value: float) -> str:
    """How a customer reads the discount: ``10%``, ``12,5%``, ``R$ 15,00``, ``R$ 1.250,00``."""
    amount = Decimal(str(value))
    if kind == "percentage":
        text = f"{amount.normalize():f}".replace(".", ",")
        return f"{text}%"
    grouped = f"{amount.quantize(Decimal('0.01')):,.2f}"  # 1,250.00
    return "R$ " + grouped.replace(",", "_").replace(".", ",").replace("_", ".")


def format_date(day: date) -> str:
    """A Brazilian date, as the template shows it: ``20/12/2026``."""
    return day.strftime("%d/%m/%Y")


@dataclass(frozen=True, slots=True)
class Voucher:
    """One issued code and what it is worth, for whom, until when."""

    code: str
    campaign_id: str
    target_path: str
    kind: Literal["percentage", "amount"]
    value: float
    issued_at: datetime
    expires_at: datetime
    timezone: str = DEFAULT_TIMEZONE

    @property
    def last_valid_day(self) -> date:
        """The last local date on which the voucher can be used."""
        return local_date(self.expires_at, zone(self.timezone)) - timedelta(days=1)

    def is_valid_at(self, instant: datetime) -> bool:
        return self.issued_at <= instant < self.expires_at

    def template_fields(self) -> dict[str, str]:
        """The target data that fills a template's voucher parameters (strings, as sent)."""
        return {
            "voucherCode": self.code,
            "voucherValue": format_value(self.kind, self.value),
            "voucherExpiresAt": format_date(self.last_valid_day),
        }
