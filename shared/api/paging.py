"""Opaque page tokens: base64url of a listing's own prefix and the last item's id.

Clients pass back what they were given; the scheme can change without breaking them, and a
token only ever positions a query inside the caller's own tenant (the id is looked up, or
compared, under the tenant's path). A token that is not one of the listing's is a 422 naming
``page_token``.
"""

from __future__ import annotations

import base64
import binascii
import re

from shared.domain.errors import FieldError

FIELD = "page_token"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")


def token(listing: str, item_id: str) -> str:
    return base64.urlsafe_b64encode(f"{listing}:{item_id}".encode()).decode()


def item_id(listing: str, page_token: str) -> str:
    """The id in a token of ``listing``; FieldError for anything else."""
    try:
        text = base64.urlsafe_b64decode(page_token.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError) as error:
        raise FieldError(FIELD, "not a token from this listing") from error
    prefix, _, found = text.partition(":")
    if prefix != listing or not _ID.fullmatch(found):
        raise FieldError(FIELD, "not a token from this listing")
    return found
