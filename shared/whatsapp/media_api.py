"""HTTP client of Graph's ``POST /{phone_number_id}/media``: upload a header's media, get its id.

Meta prefers a media id to a link in template headers (it fetches a link at every send). The
upload is multipart (``messaging_product=whatsapp``, ``file``, ``type`` = the MIME type) and
answers ``{"id": "<MEDIA_ID>"}``; ids last about 30 days (per pywa: **UNCONFIRMED** by Meta's
pages), so a long campaign should upload again. Unreachable or 5xx is a
:class:`~shared.domain.errors.TransientError`; a refusal is :class:`MediaRefused`.
"""

from __future__ import annotations

from typing import Any

import requests

from shared.domain.errors import TransientError

DEFAULT_TIMEOUT_SECONDS = (3.05, 120.0)


class MediaRefused(Exception):
    def __init__(self, http_status: int, code: int | None, message: str) -> None:
        super().__init__(f"WhatsApp refused the media ({code}): {message}")
        self.http_status, self.code, self.message = http_status, code, message


class MetaMediaUploader:
    def __init__(
        self,
        base_url: str,
        version: str,
        access_token: str,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._version = version
        self._token = access_token
        self._timeout = timeout
        self._session = session or requests.Session()

    def upload(self, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str:
        """The media id Meta gave the file."""
        url = f"{self._base_url}/{self._version}/{phone_number_id}/media"
        try:
            response = self._session.post(
                url,
                data={"messaging_product": "whatsapp", "type": mime_type},
                files={"file": (filename, content, mime_type)},
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            raise TransientError(f"WhatsApp unreachable: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise TransientError(f"WhatsApp answered {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        media_id = payload.get("id")
        if response.ok and isinstance(media_id, str) and media_id:
            return media_id
        found = payload.get("error")
        refusal: dict[str, Any] = found if isinstance(found, dict) else {}
        code = refusal.get("code") if isinstance(refusal.get("code"), int) else None
        raise MediaRefused(response.status_code, code, str(refusal.get("message", "no id")))
