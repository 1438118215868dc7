"""A tenant's media for template headers: checked here, then uploaded to WhatsApp from its own
number (``POST /api/v1/media``).

Type and size are checked before anything leaves (the limits of
:data:`shared.domain.message_parts.MEDIA_LIMITS`), so a file Meta would refuse is a 422 naming
``file`` or ``type``. The upload goes from the tenant's own sending number (its
``phone_number_id``, else the installation's), so a tenant never uses another's number; the id
it answers is what a campaign's ``header.media_id`` carries. The sandbox keeps the ids it
issued, so a send with an id that was never uploaded is refused locally as Meta refuses it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Protocol

from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError, NotFoundError
from shared.domain.message_parts import MEDIA_LIMITS, MediaKind, check_media
from shared.ports import MediaLibrary, TenantRepository

MEDIA_ID_LIFETIME = timedelta(days=30)
"""How long Meta keeps an uploaded media (pywa's figure: **UNCONFIRMED** by Meta's pages). A
campaign whose media id is older is refused before start: upload it again."""


class MediaUploader(Protocol):
    def upload(
        self, phone_number_id: str, content: bytes, mime_type: str, filename: str
    ) -> str: ...


@dataclass(frozen=True, slots=True)
class UploadedMedia:
    id: str
    type: MediaKind
    mime_type: str
    size_bytes: int
    filename: str


def kind_of(mime_type: str) -> MediaKind:
    """The header kind a MIME type is for, or a :class:`FieldError` on ``type``."""
    for kind, (types, _) in MEDIA_LIMITS.items():
        if mime_type in types:
            return kind
    every = sorted(t for types, _ in MEDIA_LIMITS.values() for t in types)
    raise FieldError("type", f"{mime_type[:100]!r} is not one of {', '.join(every)}")


def upload_media(
    uploader: MediaUploader,
    tenants: TenantRepository,
    library: MediaLibrary,
    cnpj: Cnpj,
    default_phone_number_id: str,
    *,
    content: bytes,
    mime_type: str,
    filename: str,
    now: datetime,
) -> UploadedMedia:
    kind = kind_of(mime_type)
    check_media(kind, mime_type, len(content), "file")
    if not content:
        raise FieldError("file", "is empty")
    tenant = tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("no such tenant")
    number = tenant.delivery.phone_number_id or default_phone_number_id
    media_id = uploader.upload(number, content, mime_type, filename)
    media = UploadedMedia(media_id, kind, mime_type, len(content), filename)
    library.record(cnpj, media_id, {**asdict(media), "uploaded_at": now})
    return media


def check_media_ids(
    library: MediaLibrary, cnpj: Cnpj, wanted: list[tuple[str, str]], now: datetime
) -> None:
    """A :class:`FieldError` at the first ``(field, media_id)`` this tenant did not upload, or
    uploaded so long ago that Meta no longer has it: every send would be refused (131053)."""
    uploaded = library.uploaded_at(cnpj, [media_id for _, media_id in wanted])
    for field, media_id in wanted:
        at = uploaded.get(media_id)
        if at is None:
            raise FieldError(field, f"media {media_id!r} was not uploaded with POST /api/v1/media")
        if now - at > MEDIA_ID_LIFETIME:
            raise FieldError(field, f"media {media_id!r} is older than 30 days: upload it again")
