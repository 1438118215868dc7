"""Who a WhatsApp person is: a phone number, a business-scoped user id (BSUID), or both.

Since 2026 Meta identifies people in webhooks by a BSUID (``BR.1502576394655843``: an ISO
country code, a dot, up to 128 letters and digits), unique per person *per business
portfolio* and regenerated when the person changes number. For people with a WhatsApp
username the phone (``from``, ``wa_id``, ``recipient_id``) may be absent altogether, so every
path that reads a person from a webhook reads both ids, and either may be missing.

A parent BSUID (``US.ENT.…``) names a group of linked portfolios, not a person: it is not a
user id and is rejected here, so it can never key an opt-out or a send.

Phones are E.164 of any country (an opt-out from a foreign number must still count); a
Brazilian mobile is read by :func:`~shared.domain.phones.normalize_br_mobile`, so ``wa_id``
``551187654321`` (Meta may omit the ninth digit) and ``+5511987654321`` are one person.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.errors import FieldError
from shared.domain.phones import normalize_br_mobile

BSUID_MAX_CHARS = 128
"""Meta's limit for the part after the country code."""
_BSUID = re.compile(rf"[A-Z]{{2}}\.[A-Za-z0-9]{{1,{BSUID_MAX_CHARS}}}")
_WA_ID = re.compile(r"\+?[1-9][0-9]{6,14}")
"""E.164 allows at most 15 digits; no country has numbers shorter than 7 digits in all."""


def is_bsuid(value: str) -> bool:
    """True for a person's BSUID (``CC.`` + 1..128 letters and digits); a parent id is not."""
    return _BSUID.fullmatch(value) is not None


def parse_bsuid(raw: str | None, field: str = "bsuid") -> str:
    """The BSUID in ``raw`` (surrounding spaces removed), or a :class:`FieldError` naming
    ``field`` and why it is not one."""
    value = (raw or "").strip()
    if not value:
        raise FieldError(field, "missing")
    if value.count(".") > 1:
        raise FieldError(field, "a parent id (CC.ENT.…) names a portfolio group, not a person")
    if not is_bsuid(value):
        raise FieldError(
            field,
            f"not a WhatsApp user id: expected a country code, a dot and 1 to "
            f"{BSUID_MAX_CHARS} letters or digits (like BR.1502576394655843)",
        )
    return value


def optional_bsuid(value: Any) -> str | None:
    """A webhook's BSUID field, or None when it is absent or not a person's id: webhooks are
    read leniently (an unusable id is as good as none), imports and APIs use :func:`parse_bsuid`."""
    text = str(value).strip() if isinstance(value, str) else ""
    return text if is_bsuid(text) else None


def phone_of_wa_id(value: Any) -> str | None:
    """The E.164 phone in a webhook's ``wa_id``/``from``/``recipient_id``, or None.

    A Brazilian mobile comes back with its ninth digit (our targets and ledgers store that
    form); any other country's number is kept as sent, digits only, with a ``+``.
    """
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not _WA_ID.fullmatch(text):
        return None
    e164 = "+" + text.lstrip("+")
    if e164.startswith("+55"):
        return normalize_br_mobile(e164).e164 or e164
    return e164


def mask_bsuid(bsuid: str) -> str:
    """``BR.1502576394655843`` -> ``BR.15***43``: a BSUID is not a phone, but it identifies a
    person, so logs and history keep only enough to tell two apart (as for phones)."""
    country, _, rest = bsuid.partition(".")
    if len(rest) < 6:
        return f"{country}.***"
    return f"{country}.{rest[:2]}***{rest[-2:]}"


@dataclass(frozen=True, slots=True)
class Identity:
    """One person as a webhook names them: E.164 phone and/or BSUID (at least one is set
    when :attr:`known`)."""

    phone: str | None = None
    bsuid: str | None = None

    @property
    def known(self) -> bool:
        return self.phone is not None or self.bsuid is not None

    @property
    def paired(self) -> bool:
        """Both ids: a pair worth recording in the link store."""
        return self.phone is not None and self.bsuid is not None


def sender_of(message: Mapping[str, Any]) -> Identity:
    """The author of an inbound message: ``from`` and/or ``from_user_id``."""
    return Identity(
        phone_of_wa_id(message.get("from")), optional_bsuid(message.get("from_user_id"))
    )


def contact_identity(contact: Mapping[str, Any]) -> Identity:
    """An entry of a webhook's ``contacts[]`` or ``user_preferences[]``: ``wa_id`` and/or
    ``user_id``."""
    return Identity(phone_of_wa_id(contact.get("wa_id")), optional_bsuid(contact.get("user_id")))
