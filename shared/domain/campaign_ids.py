"""Campaign ids: the built-in kinds are their own ids; API campaigns are ``SEG_`` + 16 chars.

Delivery only sees a target's path, whose campaign segment is this id, so the kind must be
readable from the id alone.
"""

from __future__ import annotations

import re
import secrets

BUILT_IN_KINDS = ("BIRTHDAY", "WELCOME", "REACTIVATION", "LOYALTY")
SEGMENT = "SEGMENT"
SEGMENT_ID_PREFIX = "SEG_"
_SEGMENT_ID = re.compile(r"^SEG_[0-9A-Z]{16}$")
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_segment_id() -> str:
    """Unguessable ids, although guessing one gains nothing: every read is tenant-scoped."""
    return SEGMENT_ID_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def is_campaign_id(value: str) -> bool:
    return value in BUILT_IN_KINDS or bool(_SEGMENT_ID.fullmatch(value))


def kind_of(campaign_id: str) -> str:
    return SEGMENT if campaign_id.startswith(SEGMENT_ID_PREFIX) else campaign_id
