"""``/api/v1/contacts``: bulk import (JSON, CSV, Excel) and bulk tagging.

One import endpoint takes the seed's JSON body or a multipart upload, as clients send both;
bad rows are reported with their line numbers and never fail the request.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from shared.api.audit import record_write
from shared.api.deps import Services, Writer
from shared.domain.contacts import (
    MAX_FILE_BYTES,
    ImportOptions,
    ImportTooLarge,
    JsonImportRequest,
    TagUpdateRequest,
)
from shared.domain.errors import ValidationError
from shared.services.contacts import ImportReport, TagReport, import_file, import_json, update_tags

router = APIRouter(prefix="/api/v1/contacts", tags=["contacts"])

_UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": ".csv or .xlsx"},
        "group_name": {"type": "string"},
        "tags": {"type": "string", "description": "comma-separated, or repeat the field"},
        "merge_strategy": {"type": "string", "enum": ["skip", "update", "replace"]},
    },
}


@router.post(
    "/import",
    response_model=ImportReport,
    summary="Import contacts: JSON body, or a CSV/Excel file as multipart/form-data",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/JsonImportRequest"}},
                "multipart/form-data": {"schema": _UPLOAD_SCHEMA},
            },
        }
    },
)
async def import_contacts(request: Request, principal: Writer, services: Services) -> ImportReport:
    ports = services.contact_ports()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_part_size=MAX_FILE_BYTES + 1) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise ValidationError("file", "attach the .csv or .xlsx file as the 'file' field")
            content = await upload.read(MAX_FILE_BYTES + 1)
            if len(content) > MAX_FILE_BYTES:
                raise ImportTooLarge("file", f"larger than {MAX_FILE_BYTES} bytes")
            options = ImportOptions.from_form(
                _text(form.get("group_name")),
                [value for value in form.getlist("tags") if isinstance(value, str)],
                _text(form.get("merge_strategy")),
            )
            filename = upload.filename or "upload"
        report = await run_in_threadpool(
            import_file, principal.cnpj, content, filename, options, ports
        )
    else:
        try:
            body = JsonImportRequest.model_validate(await request.json())
        except ValueError as error:
            if isinstance(error, pydantic.ValidationError):
                raise
            raise ValidationError("body", "expected a JSON object") from error
        report = await run_in_threadpool(import_json, principal.cnpj, body, ports)
    await run_in_threadpool(
        record_write,
        services,
        principal,
        "contacts.import",
        "contacts",
        None,
        _summary(report),
    )
    return report


@router.post("/tags", response_model=TagReport, summary="Add or remove tags on many contacts")
def tag_contacts(body: TagUpdateRequest, principal: Writer, services: Services) -> TagReport:
    report = update_tags(principal.cnpj, body, services.contact_ports())
    record_write(
        services,
        principal,
        "contacts.tags",
        "contacts",
        None,
        {"request": body.model_dump(mode="json"), "report": _summary(report)},
    )
    return report


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _summary(report: pydantic.BaseModel) -> dict[str, Any]:
    """What the audit keeps of a report: its counts, not every rejected row."""
    dumped = report.model_dump(mode="json")
    return {k: v for k, v in dumped.items() if not isinstance(v, list) or len(v) <= 20}
