"""Firestore as the record of one-time console sign-in links already used.

``console_signins/{jti}``  created once when a link is followed; a second create fails, so a
                           link copied from a terminal or a chat cannot sign anyone in twice.

Links exist only on the local stack (HS256 mode), so these few documents need no TTL policy.
"""

from __future__ import annotations

from datetime import datetime

from google.api_core import exceptions as api
from google.cloud import firestore

from shared.adapters.errors import translated

COLLECTION = "console_signins"


class FirestoreSigninLedger:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def consume(self, link_id: str, subject: str, at: datetime) -> bool:
        """True the first time ``link_id`` is consumed, False on every later attempt."""
        reference = self._client.collection(COLLECTION).document(link_id)
        with translated("Firestore"):
            try:
                reference.create({"subject": subject, "usedAt": at})
            except api.Conflict:
                return False
        return True
