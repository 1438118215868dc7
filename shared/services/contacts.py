"""Contacts import and tag changes: what ``POST /contacts/import`` and ``/contacts/tags`` do.

Production BigQuery runs only a couple of mutating DML statements per table at a time and
queues a few more before failing the rest, and an import's plan (which contacts exist, what
they hold) is only right if nobody changes them between the read and the MERGE. So every
change of a tenant's contacts runs inside the tenant's contacts lease (:class:`ContactsLock`):
read, plan and write happen one change at a time per tenant, while tenants never wait for each
other. The plan itself is pure (:mod:`shared.domain.contact_merge`): a store only reads rows and
writes the rows the plan computed.

A route is a thin call: parse nothing itself, pass the body (or the uploaded bytes and
filename) here and return the report, which is a pydantic model.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from shared import logs
from shared.domain.cnpj import Cnpj
from shared.domain.contact_merge import RowOutcome, StoredContact, plan_import, retagged
from shared.domain.contact_parsing import (
    ContactRow,
    LineNumbering,
    ParsedImport,
    Rejection,
    SourceFormat,
    parse_json_request,
    parse_upload,
)
from shared.domain.contacts import (
    MAX_REPORTED_REJECTIONS,
    ImportOptions,
    JsonImportRequest,
    MergeStrategy,
    TagUpdateRequest,
    contact_id_for,
    is_contact_id,
)
from shared.domain.identity import mask_bsuid
from shared.domain.phones import normalize_br_mobile
from shared.ports import IdentityLinks, TenantRepository

_log = logging.getLogger(__name__)


class ContactStore(Protocol):
    """``{CNPJ}_CAMPAIGN.contacts``. Callers hold the tenant's :class:`ContactsLock`."""

    def find(self, cnpj: Cnpj, contact_ids: Sequence[str]) -> list[StoredContact]:
        """The stored contacts among ``contact_ids`` (unknown ids are simply absent)."""
        ...

    def upsert(self, cnpj: Cnpj, contacts: Sequence[StoredContact]) -> None:
        """Write these contacts as given, inserting new ids; one mutating statement.

        Never changes ``is_opted_out``, ``is_blacklisted``, ``created_at`` or
        ``last_interaction`` of a stored contact.
        """
        ...

    def retag(
        self,
        cnpj: Cnpj,
        contact_ids: Sequence[str],
        add: Sequence[str],
        remove: Sequence[str],
        now: datetime,
    ) -> int:
        """Add/remove tags on these contacts (stamping ``updated_at``); rows changed."""
        ...


class Lease(Protocol):
    def renew(self) -> None:
        """Extend the lease before a long step; raises if it was lost (nothing written yet)."""
        ...


class ContactsLock(Protocol):
    def hold(self, cnpj: Cnpj) -> AbstractContextManager[Lease]:
        """Wait for and hold the tenant's contacts lease; released when the block exits.

        Raises :class:`~shared.domain.contacts.ContactsBusy` if it stays taken too long.
        """
        ...


@dataclass(frozen=True, slots=True)
class ContactPorts:
    store: ContactStore
    lock: ContactsLock
    identities: IdentityLinks | None = None
    """Where an import's phone <-> BSUID pairs are recorded (None: not recorded)."""
    tenants: TenantRepository | None = None
    """To find the tenant's sending number, which scopes a pair."""
    default_phone_number_id: str = ""
    """The number of tenants that set none."""


IMPORT_PAIR_SOURCE = "contacts_import"
"""The ``source`` of a pair an import recorded in the identity links."""


class ImportReport(BaseModel):
    """The answer of an import."""

    format: SourceFormat
    line_numbering: LineNumbering = Field(
        description="what rejections[].line counts: data_index (0-based index in the JSON "
        "data array), file_line (CSV line, header = 1) or sheet_row (Excel row)"
    )
    merge_strategy: MergeStrategy
    group_name: str | None
    received: int = Field(description="data rows read (blank CSV/Excel rows not counted)")
    created: int
    updated: int = Field(description="stored contacts the update strategy changed")
    replaced: int = Field(
        default=0,
        description="stored contacts the replace strategy overwrote (fields it left out cleared)",
    )
    skipped: int = Field(description="valid rows that wrote nothing (see skipped_by_reason)")
    skipped_by_reason: dict[str, int] = Field(
        description="unchanged: the contact already holds these values; "
        "exists: the skip strategy kept a stored contact"
    )
    rejected: int
    rejections: list[Rejection] = Field(
        description=f"the first {MAX_REPORTED_REJECTIONS} rejected rows, in source order"
    )
    rejections_truncated: bool
    ignored_columns: list[str] = Field(
        default_factory=list, description="columns an import may not set (flags, ids, dates)"
    )
    pairs_linked: int = Field(
        default=0,
        description="rows with a phone and a bsuid whose pair was recorded for the tenant's "
        "WhatsApp number (so an opt-out by either one stops sends to both)",
    )
    pairs_conflicting: int = Field(
        default=0,
        description="rows whose phone or bsuid WhatsApp already pairs with another one: "
        "WhatsApp's pair is kept, the row's is not recorded",
    )
    encoding: str | None = Field(default=None, description="CSV: the encoding detected")
    delimiter: str | None = Field(default=None, description="CSV: the delimiter detected")
    duration_ms: int


class TagReport(BaseModel):
    """The answer of a tag change."""

    add: list[str]
    remove: list[str]
    matched: int = Field(description="distinct stored contacts named by the request")
    changed: int = Field(description="contacts whose tags changed (updated_at stamped)")
    unchanged: int = Field(description="matched contacts that already had the asked tags")
    unknown_ids: list[str] = Field(description="contact ids that are not this tenant's")
    unknown_phones: list[str] = Field(description="valid phones (as given) with no contact")
    invalid_phones: list[Rejection] = Field(
        description="phones that are no Brazilian mobile: line = index in phone_numbers, "
        "detail = the phone as given"
    )


def import_json(
    cnpj: Cnpj, request: JsonImportRequest, ports: ContactPorts, *, now: datetime
) -> ImportReport:
    """``POST /contacts/import`` with a JSON body (rows, or CSV text with ``source: csv``)."""
    return import_contacts(cnpj, parse_json_request(request), request, ports, now=now)


def import_file(
    cnpj: Cnpj,
    content: bytes,
    filename: str,
    options: ImportOptions,
    ports: ContactPorts,
    *,
    now: datetime,
) -> ImportReport:
    """``POST /contacts/import`` with a multipart upload (.csv or .xlsx).

    The route should read at most ``MAX_FILE_BYTES + 1`` bytes: a larger file raises
    :class:`~shared.domain.contacts.ImportTooLarge` here.
    """
    return import_contacts(cnpj, parse_upload(content, filename), options, ports, now=now)


def import_contacts(
    cnpj: Cnpj,
    parsed: ParsedImport,
    options: ImportOptions,
    ports: ContactPorts,
    *,
    now: datetime,
) -> ImportReport:
    """Write the valid rows of ``parsed`` by ``options.merge_strategy``; report every row."""
    started = time.monotonic()
    outcomes: dict[RowOutcome, int] = {}
    if parsed.rows:
        with ports.lock.hold(cnpj) as lease:
            stored = ports.store.find(cnpj, [row.contact_id for row in parsed.rows])
            plan = plan_import(parsed.rows, {c.contact_id: c for c in stored}, options, now)
            if plan.writes:
                lease.renew()
                ports.store.upsert(cnpj, plan.writes)
        outcomes = dict(plan.outcomes)
    linked, conflicting = _link_pairs(cnpj, parsed.rows, ports, now)
    skipped = {
        "unchanged": outcomes.get(RowOutcome.UNCHANGED, 0),
        "exists": outcomes.get(RowOutcome.EXISTS, 0),
    }
    report = ImportReport(
        format=parsed.format,
        line_numbering=parsed.line_numbering,
        merge_strategy=options.merge_strategy,
        group_name=options.group_name,
        received=parsed.received,
        created=outcomes.get(RowOutcome.CREATED, 0),
        updated=outcomes.get(RowOutcome.UPDATED, 0),
        replaced=outcomes.get(RowOutcome.REPLACED, 0),
        skipped=sum(skipped.values()),
        skipped_by_reason=skipped,
        rejected=len(parsed.rejections),
        rejections=list(parsed.rejections[:MAX_REPORTED_REJECTIONS]),
        rejections_truncated=len(parsed.rejections) > MAX_REPORTED_REJECTIONS,
        ignored_columns=list(parsed.ignored_columns),
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        pairs_linked=linked,
        pairs_conflicting=conflicting,
        duration_ms=int((time.monotonic() - started) * 1000),
    )
    logs.log(
        _log,
        logging.INFO,
        "contacts imported",
        tenant=cnpj.value,
        **report.model_dump(
            include={"format", "received", "created", "updated", "replaced", "skipped"}
        ),
        rejected=report.rejected,
        duration_ms=report.duration_ms,
    )
    return report


def _link_pairs(
    cnpj: Cnpj, rows: Sequence[ContactRow], ports: ContactPorts, now: datetime
) -> tuple[int, int]:
    """Record the phone <-> BSUID pair of every row that gives both; (linked, conflicting).

    The business's file is a claim, WhatsApp's webhooks are the authority: a pair is recorded
    only where neither id is paired yet (or already with each other), so an old spreadsheet
    never undoes a number change WhatsApp announced. After the contacts are written: a lost
    pair costs only the second key of an opt-out check, and a repeated import records it.
    """
    pairs = [(row.phone, row.bsuid) for row in rows if row.phone and row.bsuid]
    if not pairs or ports.identities is None or ports.tenants is None:
        return 0, 0
    tenant = ports.tenants.get(cnpj)
    number = (tenant.delivery.phone_number_id if tenant else "") or ports.default_phone_number_id
    if not number:
        logs.log(
            _log, logging.WARNING, "import pairs not recorded: no sending number", tenant=cnpj.value
        )
        return 0, 0
    linked = conflicting = 0
    for phone, bsuid in pairs:
        known_bsuid = ports.identities.bsuid_of(number, phone)
        known_phone = ports.identities.phone_of(number, bsuid)
        if known_bsuid == bsuid and known_phone == phone:
            continue
        if known_bsuid is not None or known_phone is not None:
            conflicting += 1
            logs.log(
                _log,
                logging.INFO,
                "import pair conflicts with WhatsApp's",
                tenant=cnpj.value,
                phone=logs.mask_phone(phone),
                bsuid=mask_bsuid(bsuid),
            )
            continue
        linked += ports.identities.link(number, phone, bsuid, now, IMPORT_PAIR_SOURCE)
    return linked, conflicting


def update_tags(
    cnpj: Cnpj, request: TagUpdateRequest, ports: ContactPorts, *, now: datetime
) -> TagReport:
    """``POST /contacts/tags``: contacts are named by id or by phone (normalised like imports)."""
    wanted: dict[str, str | None] = {}  # contact id -> the phone as given (None: named by id)
    invalid: list[Rejection] = []
    unknown_ids = [i for i in dict.fromkeys(request.contact_ids) if not is_contact_id(i)]
    for contact_id in request.contact_ids:
        if is_contact_id(contact_id):
            wanted.setdefault(contact_id, None)
    for index, raw in enumerate(request.phone_numbers):
        check = normalize_br_mobile(raw)
        if check.e164 is None:
            reason = check.problem.value if check.problem else "invalid_phone"
            invalid.append(
                Rejection(line=index, field="phone_numbers", reason=reason, detail=raw[:40])
            )
        else:
            wanted.setdefault(contact_id_for(check.e164), raw)
    stored: list[StoredContact] = []
    changing: list[str] = []
    if wanted:
        with ports.lock.hold(cnpj) as lease:
            stored = ports.store.find(cnpj, list(wanted))
            changing = [
                contact.contact_id
                for contact in stored
                if retagged(contact.tags, request.add, request.remove) != contact.tags
            ]
            if changing:
                lease.renew()
                ports.store.retag(cnpj, changing, request.add, request.remove, now)
    found = {contact.contact_id for contact in stored}
    missing = [contact_id for contact_id in wanted if contact_id not in found]
    logs.log(
        _log,
        logging.INFO,
        "contact tags changed",
        tenant=cnpj.value,
        matched=len(stored),
        changed=len(changing),
        unknown=len(missing),
    )
    return TagReport(
        add=request.add,
        remove=request.remove,
        matched=len(stored),
        changed=len(changing),
        unchanged=len(stored) - len(changing),
        unknown_ids=unknown_ids + [i for i in missing if wanted[i] is None],
        unknown_phones=[phone for i in missing if (phone := wanted[i]) is not None],
        invalid_phones=invalid,
    )
