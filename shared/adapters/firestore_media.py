"""Firestore as the MediaLibrary: ``users/{cnpj}/media/{media_id}``, one document per header
media the tenant uploaded through ``POST /api/v1/media`` (its kind, type, size, file name and
when), so a campaign naming a media id is checked before start: one of this tenant's, and young
enough for Meta to still hold it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from google.cloud import firestore

from shared.adapters.errors import translated
from shared.domain.cnpj import Cnpj


class FirestoreMediaLibrary:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _media(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "media")

    def record(self, cnpj: Cnpj, media_id: str, fields: Mapping[str, Any]) -> None:
        with translated("Firestore"):
            self._media(cnpj).document(media_id).set(dict(fields))

    def uploaded_at(self, cnpj: Cnpj, media_ids: Sequence[str]) -> dict[str, datetime]:
        if not media_ids:
            return {}
        refs = [self._media(cnpj).document(media_id) for media_id in dict.fromkeys(media_ids)]
        with translated("Firestore"):
            snapshots = list(self._client.get_all(refs))
        found = {}
        for snapshot in snapshots:
            at = (snapshot.to_dict() or {}).get("uploaded_at") if snapshot.exists else None
            if isinstance(at, datetime):
                found[snapshot.id] = at
        return found
