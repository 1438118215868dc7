"""``/api/v1/contacts`` and ``/api/v1/opt-outs``: the tenant's people and their LGPD rights.

One import endpoint takes the seed's JSON body or a multipart upload, as clients send both;
bad rows are reported with their line numbers and never fail the request. The people
endpoints (list and search, one person, their tags, export, erasure, the opt-out ledger) are
thin over :mod:`shared.services.people`, which the console's Contatos pages call too.

Phones are masked in every answer but the export: it is the LGPD access right itself, so it
carries everything in clear and, although a read, is recorded in the audit trail. The audit
entries of an export or an erasure hold ids and counts, never the personal data.
"""

from __future__ import annotations

from typing import Annotated, Any

import pydantic
from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from shared.api.audit import record_write
from shared.api.deps import Now, Reader, Services, Writer
from shared.domain.contacts import (
    MAX_FILE_BYTES,
    ImportOptions,
    ImportTooLarge,
    JsonImportRequest,
    TagUpdateRequest,
)
from shared.domain.errors import FieldError
from shared.services import consent, people
from shared.services.contacts import ImportReport, TagReport, import_file, import_json, update_tags

router = APIRouter(prefix="/api/v1", tags=["contacts"])

PersonId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_.:@-]{1,128}$",
        description="a person's id from the list: a customer id, or an imported contact's ct_ id",
    ),
]
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(ge=1, le=100)]

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
    "/contacts/import",
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
async def import_contacts(
    request: Request, principal: Writer, services: Services, now: Now
) -> ImportReport:
    ports = services.contact_ports()
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_part_size=MAX_FILE_BYTES + 1) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise FieldError("file", "attach the .csv or .xlsx file as the 'file' field")
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
            import_file, principal.cnpj, content, filename, options, ports, now=now
        )
    else:
        try:
            body = JsonImportRequest.model_validate(await request.json())
        except ValueError as error:
            if isinstance(error, pydantic.ValidationError):
                raise
            raise FieldError("body", "expected a JSON object") from error
        report = await run_in_threadpool(import_json, principal.cnpj, body, ports, now=now)
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


@router.post(
    "/contacts/tags", response_model=TagReport, summary="Add or remove tags on many contacts"
)
def tag_contacts(
    body: TagUpdateRequest, principal: Writer, services: Services, now: Now
) -> TagReport:
    report = update_tags(principal.cnpj, body, services.contact_ports(), now=now)
    record_write(
        services,
        principal,
        "contacts.tags",
        "contacts",
        None,
        {"request": body.model_dump(mode="json"), "report": _summary(report)},
    )
    return report


@router.get("/contacts", response_model=people.PersonPage, summary="List and search people")
def list_people(
    principal: Reader,
    services: Services,
    q: Annotated[
        str,
        Query(
            max_length=100,
            description="part of a name or e-mail (case and accents ignored), or of a phone "
            "(digits and phone punctuation only)",
        ),
    ] = "",
    tag: Annotated[str, Query(max_length=64, description="only people with this tag")] = "",
    page: Page = 1,
    page_size: PageSize = 20,
) -> people.PersonPage:
    """Customers and imported contacts (one row per person, joined by phone), by name; phones
    masked. People erased at their request are never listed."""
    return people.search(
        principal.cnpj, services.people_ports(), q=q, tag=tag, page=page, page_size=page_size
    )


@router.get("/contacts/{person_id}", response_model=people.Person, summary="One person")
def get_person(
    person_id: PersonId, principal: Reader, services: Services, now: Now
) -> people.Person:
    """Who they are, what they bought, the messages of the last year with their status, and
    their opt-out state with its evidence (phones masked)."""
    return people.get_person(principal.cnpj, services.people_ports(), person_id, now)


@router.get(
    "/contacts/{person_id}/export",
    response_model=people.PersonExport,
    summary="LGPD access: everything held about one person (audited)",
)
def export_person(
    person_id: PersonId, principal: Reader, services: Services, now: Now
) -> people.PersonExport:
    """Their customer and contact rows, sales, message history, targets, vouchers, opt-out
    record, clicks and frequency-cap record, phone in clear. Recorded in the audit trail as
    `contacts.export` (with counts only)."""
    export = consent.person_export(
        services.consent_ports(),
        services.tenants,
        services.people_ports(),
        principal.cnpj,
        person_id,
        now,
    )
    record_write(
        services, principal, "contacts.export", f"contacts/{export.id}", None, export.counts()
    )
    return export


@router.get(
    "/contacts/{person_id}/consent",
    response_model=consent.ConsentHistory,
    summary="LGPD: the evidence of one person's marketing consent, newest first",
)
def consent_history(
    person_id: PersonId, principal: Reader, services: Services
) -> consent.ConsentHistory:
    """Every opt-out and opt-in recorded for them (by their phone, and by the WhatsApp user id
    paired with it): how it reached us (`source`), when it happened by WhatsApp's own clock,
    the message that carried it and the number it reached; phones and user ids masked.
    Whether they may receive marketing now follows from the latest event (`opted_out`): only a
    resume in WhatsApp or a new explicit opt-in lifts an opt-out, and an erasure never."""
    return consent.person_consent(
        services.consent_ports(), services.tenants, services.people_ports(), principal.cnpj,
        person_id,
    )  # fmt: skip


@router.post(
    "/contacts/{person_id}/consent",
    response_model=consent.ConsentHistory,
    summary="Record an opt-out the person asked for, or a new explicit opt-in they gave",
)
def record_consent(
    person_id: PersonId,
    body: consent.ConsentChange,
    principal: Writer,
    services: Services,
    now: Now,
) -> consent.ConsentHistory:
    """The consent a person gave the business itself (at the counter, on a signed form), kept
    as evidence beside the ones WhatsApp brought. An `opt_in` is the only way, besides the
    person's resume in WhatsApp, to lift an opt-out, and only if it is the latest event by its
    `at`; an erasure is never lifted. Answers the person's consent history afterwards."""
    history = consent.record_consent(
        services.consent_ports(), services.tenants, services.people_ports(), principal.cnpj,
        person_id, body, principal.subject, now,
    )  # fmt: skip
    record_write(
        services,
        principal,
        "contacts.consent",
        f"contacts/{person_id}",
        None,
        {"kind": body.kind, "opted_out": history.opted_out},
    )
    return history


@router.delete(
    "/contacts/{person_id}",
    response_model=people.ErasureReport,
    summary="LGPD erasure: remove one person's personal data; their phone stays suppressed",
)
def erase_person(
    person_id: PersonId, principal: Writer, services: Services, now: Now
) -> people.ErasureReport:
    """Deletes their imported contact row and empties the name, e-mail, birth date, gender and
    phone of their customer row (the row and its CPF stay: sales are fiscal records); their
    phone goes into the opt-out ledger (source `erasure`), so no campaign ever reaches it, and
    so do their WhatsApp user ids (BSUID); their phone <-> BSUID pair is erased unless another
    tenant of the same WhatsApp number has an opt-out of them. `erased` and `kept` say in plain
    Portuguese what was removed and what stays, and why.
    Repeating it is harmless (`already_erased`); afterwards the person is not found."""
    report = people.erase_person(
        principal.cnpj, services.people_ports(), person_id, principal.subject, now
    )
    record_write(
        services,
        principal,
        "contacts.erase",
        f"contacts/{report.id}",
        None,
        report.model_dump(mode="json"),
    )
    return report


@router.post(
    "/contacts/{person_id}/tags",
    response_model=people.PersonTags,
    summary="Add or remove tags on one person",
)
def tag_person(
    person_id: PersonId,
    body: people.PersonTagChange,
    principal: Writer,
    services: Services,
    now: Now,
) -> people.PersonTags:
    """Like `POST /contacts/tags` for one person; a customer who has no imported contact yet
    gets one (their phone and the tags), which holds the tags."""
    result = people.tag_person(principal.cnpj, services.people_ports(), person_id, body, now)
    record_write(
        services,
        principal,
        "contacts.tags",
        f"contacts/{result.id}",
        None,
        {"request": body.model_dump(mode="json"), "tags": result.tags},
    )
    return result


@router.get(
    "/opt-outs", response_model=people.OptOutPage, summary="The opt-out ledger, newest first"
)
def list_opt_outs(
    principal: Reader, services: Services, page: Page = 1, page_size: PageSize = 50
) -> people.OptOutPage:
    """Every phone that must not be messaged, masked, with how and when it was recorded."""
    return people.list_opt_outs(
        principal.cnpj, services.people_ports(), page=page, page_size=page_size
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _summary(report: pydantic.BaseModel) -> dict[str, Any]:
    """What the audit keeps of a report: its counts, not every rejected row."""
    dumped = report.model_dump(mode="json")
    return {k: v for k, v in dumped.items() if not isinstance(v, list) or len(v) <= 20}
