"""``POST /api/v1/media``: upload a template header's image, video or document; get its id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from shared.api.audit import record_write
from shared.api.deps import Now, Services, Writer
from shared.api.problems import MEDIA_TYPE
from shared.domain.errors import FieldError
from shared.domain.message_parts import MEDIA_LIMITS, MediaKind
from shared.services.media import kind_of, upload_media
from shared.whatsapp.media_api import MediaRefused

router = APIRouter(prefix="/api/v1", tags=["media"])
MAX_BYTES = max(limit for _, limit in MEDIA_LIMITS.values())
"""Read at most this (+1) into memory. A Cloud Function (2nd gen) takes HTTP requests up to
32 MB, so larger documents cannot come through this endpoint in production."""


class MediaAnswer(BaseModel):
    id: str
    type: MediaKind
    mime_type: str
    size_bytes: int
    filename: str


@router.post(
    "/media",
    response_model=MediaAnswer,
    status_code=201,
    summary="Upload a header media to WhatsApp (multipart: file, optional type)",
    responses={
        502: {
            "description": "WhatsApp refused the media",
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
async def upload(
    principal: Writer,
    services: Services,
    now: Now,
    file: Annotated[UploadFile, File(description="JPEG/PNG ≤ 5 MB, MP4/3GPP ≤ 16 MB, PDF...")],
    type: Annotated[str | None, Form(max_length=100, description="default: the file's")] = None,
) -> MediaAnswer:
    """Checks the type and size, then uploads from the tenant's own number; use the answered
    ``id`` as ``templates[].header.media_id``."""
    mime = (type or file.content_type or "").split(";")[0].strip().lower()
    kind_of(mime)
    content = await file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise FieldError("file", f"larger than {MAX_BYTES} bytes")
    try:
        media = await run_in_threadpool(
            upload_media,
            services.media_uploader,
            services.tenants,
            services.media_library,
            principal.cnpj,
            services.settings.whatsapp_phone_number_id,
            content=content,
            mime_type=mime,
            filename=(file.filename or "media")[:240],
            now=now,
        )
    except MediaRefused as error:
        raise HTTPException(502, str(error)) from None
    answer = MediaAnswer(
        id=media.id,
        type=media.type,
        mime_type=media.mime_type,
        size_bytes=media.size_bytes,
        filename=media.filename,
    )
    await run_in_threadpool(
        record_write, services, principal, "media.upload", f"media/{media.id}", None,
        answer.model_dump(),
    )  # fmt: skip
    return answer
