"""Contatos: upload a spreadsheet and see, row by row, what happened to it.

The import runs through the same service as ``POST /api/v1/contacts/import``, so the rules for a
valid phone or a merge are the API's; a bad row is reported with its line and the good rows land.
"""

from __future__ import annotations

import json

import pydantic
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from shared.api.audit import record_write
from shared.console.forms import field_errors
from shared.console.templating import render
from shared.console.visit import SignedIn, Visit, write_form
from shared.domain.contacts import (
    MAX_FILE_BYTES,
    ImportOptions,
    JsonImportRequest,
    MergeStrategy,
)
from shared.domain.errors import ValidationError
from shared.services.contacts import ImportReport, import_file, import_json

router = APIRouter(prefix="/contatos")

FIELD_LABELS = {"file": "Arquivo", "merge_strategy": "Se o contato já existe", "tags": "Etiquetas"}


@router.get("/importar")
def import_form(visit: SignedIn) -> Response:
    return _form(visit, errors={})


def _form(visit: Visit, errors: dict[str, str], status: int = 200) -> Response:
    return render(
        visit.request,
        "contacts_import.html",
        visit,
        status=status,
        strategies=list(MergeStrategy),
        errors=errors,
    )


@router.post("/importar")
async def import_upload(visit: SignedIn) -> Response:
    form = await write_form(visit)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form(visit, {"file": "Escolha um arquivo .csv, .xlsx ou .json."}, 422)
    content = await upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        megabytes = MAX_FILE_BYTES // 1_000_000
        return _form(visit, {"file": f"Arquivo grande demais (máximo {megabytes} MB)."}, 422)
    tags = [t.strip() for t in str(form.get("tags", "")).split(",") if t.strip()]
    try:
        options = ImportOptions.from_form(None, tags, str(form.get("merge_strategy", "")) or None)
        report = await run_in_threadpool(_import, visit, content, upload.filename, options)
    except pydantic.ValidationError as error:
        return _form(visit, field_errors(error), 422)
    except ValidationError as error:
        return _form(visit, {error.field: _portuguese(error.reason)}, 422)
    summary = report.model_dump(mode="json", exclude={"rejections"})
    await run_in_threadpool(
        record_write, visit.services, visit.principal, "contacts.import", "contacts", None, summary
    )
    return render(visit.request, "contacts_import_result.html", visit, report=report)


def _import(visit: Visit, content: bytes, filename: str, options: ImportOptions) -> ImportReport:
    """A ``.json`` file holds the API's ``data`` array; CSV and Excel go to the file parser."""
    ports = visit.services.contact_ports()
    if filename.lower().endswith(".json"):
        try:
            rows = json.loads(content)
        except ValueError as error:
            raise ValidationError("file", "not valid JSON") from error
        request = JsonImportRequest(data=rows, **options.model_dump())
        return import_json(visit.principal.cnpj, request, ports)
    return import_file(visit.principal.cnpj, content, filename, options, ports)


def _portuguese(reason: str) -> str:
    """The service's reasons are English for API clients; the owner reads Portuguese."""
    return f"Valor inválido ({reason})."
