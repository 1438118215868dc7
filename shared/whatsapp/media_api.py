"""HTTP client of Graph's ``POST /{phone_number_id}/media``: upload a header's media, get its id.

Meta prefers a media id to a link in template headers (it fetches a link at every send). The
upload is multipart (``messaging_product=whatsapp``, ``file``, ``type`` = the MIME type) and
answers ``{"id": "<MEDIA_ID>"}``; ids last about 30 days (per pywa: **UNCONFIRMED** by Meta's
pages), so a long campaign should upload again. Unreachable or 5xx is a
:class:`~shared.domain.errors.TransientError`; a refusal is :class:`MediaRefused`
(:mod:`shared.whatsapp.graph`).
"""

from __future__ import annotations

from shared.whatsapp.graph import GraphClient, GraphRefused

DEFAULT_TIMEOUT_SECONDS = (3.05, 120.0)


class MediaRefused(GraphRefused):
    what = "the media"


class MetaMediaUploader(GraphClient):
    default_timeout = DEFAULT_TIMEOUT_SECONDS

    def upload(self, phone_number_id: str, content: bytes, mime_type: str, filename: str) -> str:
        """The media id Meta gave the file."""
        answer = self._json(
            "POST",
            self._url(phone_number_id, "media"),
            MediaRefused,
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        media_id = answer.get("id")
        if not isinstance(media_id, str) or not media_id:
            raise MediaRefused(200, None, "no id in the answer")
        return media_id
