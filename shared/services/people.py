"""The tenant's people, one at a time: find them, show them, tag them, and the LGPD rights.

A person is one row of the tenant's ``customer_profile`` view: a customer (``clientes``), an
imported contact, or both joined by phone; their id is the customer's id, or the contact id
of a contact who is no customer. The REST API (``/api/v1/contacts``, ``/api/v1/opt-outs``) and
the console's Contatos pages both call this module, so a number on a page is the API's.

Phones leave here masked (:func:`shared.logs.mask_phone`) everywhere but the LGPD export: a
list or a page needs to tell people apart, not to call them, and the one way to read a number
in clear is a request the audit trail records.

Erasure (LGPD Art. 18, VI) removes what identifies the person — the imported contact row, and
the name, e-mail, birth date, gender and phone of the customer row (which stays, with its CPF,
because sales are fiscal records) — and keeps one thing on purpose: the phone in the opt-out
ledger, which the sender reads in its claim transaction, so they are never messaged again,
whatever a later import or the nightly customer load brings back. The erasure itself is
remembered by id, so the person stays out of search and a repeated erasure is harmless.

What is kept is only what honouring the opt-out needs, and the answer says so in plain
Portuguese (:class:`ErasureReport` ``erased`` and ``kept``): the person's WhatsApp user ids
(the contact's BSUID, the one paired with the phone) are suppressed beside the phone, since a
send may address a BSUID alone; the consent events stay as the proof that a stop was asked for
and honoured. The phone <-> BSUID pair is then needed by no send of this tenant (both ids are
suppressed themselves), so it is erased — unless another tenant sending from the same WhatsApp
number has an opt-out of the person, which that pair makes hold for the phone and the BSUID
alike (pairs are per number, shared by its tenants).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.campaign import Campaign
from shared.domain.cnpj import Cnpj
from shared.domain.consent import ConsentEvent, ConsentSource
from shared.domain.contact_merge import retagged
from shared.domain.contacts import (
    MAX_LABELS,
    JsonImportRequest,
    MergeStrategy,
    TagUpdateRequest,
    contact_id_for,
    is_contact_id,
)
from shared.domain.errors import FieldError, NotFoundError
from shared.domain.identity import Identity, optional_bsuid
from shared.domain.phones import normalize_br_mobile
from shared.logs import mask_phone
from shared.ports import TenantRepository
from shared.services.contacts import ContactPorts, import_json, update_tags

MESSAGE_WINDOW = timedelta(days=365)
"""How far back a person's page looks for the messages they received."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PHONE_LIKE = re.compile(r"[\d\s+().-]+")
_MIN_PHONE_DIGITS = 4
Row = dict[str, Any]

if TYPE_CHECKING:  # shared.services.consent reads people's rows: no import cycle at run time
    from shared.services.consent import ConsentPorts


class PeopleDirectory(Protocol):
    """The warehouse's view of people (``shared/adapters/bigquery_people.py``)."""

    def search(
        self,
        cnpj: Cnpj,
        *,
        text: str,
        phone_digits: str,
        tag: str,
        excluded_ids: Sequence[str],
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        """One page of matching profile rows and how many match in all (0 past the end)."""
        ...

    def profile(self, cnpj: Cnpj, person_id: str) -> Row | None: ...

    def history(self, cnpj: Cnpj, customer_id: str, phone: str, since: datetime) -> list[Row]: ...

    def customer_records(self, cnpj: Cnpj, customer_id: str) -> list[Row]: ...

    def contact_record(self, cnpj: Cnpj, contact_id: str) -> Row | None: ...

    def sales(self, cnpj: Cnpj, cpf: str) -> list[Row]: ...

    def erase(
        self, cnpj: Cnpj, *, contact_id: str | None, customer_id: str | None
    ) -> tuple[int, int]:
        """Delete the contact row and empty the customer row's personal columns; the counts.

        Callers hold the tenant's contacts lease.
        """
        ...


class PeopleLedger(Protocol):
    """The documents about people (``shared/adapters/firestore_people.py``)."""

    def opt_out(self, cnpj: Cnpj, phone: str) -> Row | None: ...

    def opted_out_among(self, cnpj: Cnpj, phones: Sequence[str]) -> set[str]: ...

    def opt_out_page(self, cnpj: Cnpj, offset: int, limit: int) -> list[Row]: ...

    def opt_out_count(self, cnpj: Cnpj) -> int: ...

    def suppress(self, cnpj: Cnpj, phone: str, at: datetime, by: str) -> bool: ...

    def erasure(self, cnpj: Cnpj, person_id: str) -> Row | None: ...

    def erased_ids(self, cnpj: Cnpj) -> list[str]: ...

    def record_erasure(
        self, cnpj: Cnpj, person_ids: Sequence[str], at: datetime, by: str, suppressed: bool
    ) -> None: ...

    def targets(self, cnpj: Cnpj, refs: Sequence[tuple[str, str]]) -> list[Row]: ...

    def vouchers(self, cnpj: Cnpj, codes: Sequence[str]) -> list[Row]: ...

    def clicks(self, cnpj: Cnpj, phone: str) -> list[Row]: ...

    def recent_send(self, cnpj: Cnpj, phone: str) -> Row | None: ...


class CampaignNames(Protocol):
    def get_many(self, cnpj: Cnpj, campaign_ids: list[str]) -> dict[str, Campaign]: ...


@dataclass(frozen=True, slots=True)
class PeoplePorts:
    directory: PeopleDirectory
    ledger: PeopleLedger
    contacts: ContactPorts
    campaigns: CampaignNames
    consent: ConsentPorts | None = None
    """The ledger and the identity links an erasure suppresses and unpairs (None: phone only)."""
    tenants: TenantRepository | None = None
    """To find the WhatsApp number the tenant sends from, which scopes its pairs."""


# -- answers ---------------------------------------------------------------------------------


class PersonSummary(BaseModel):
    """One person in a list."""

    id: str = Field(
        description="the customer's id (clientes.id), or the contact id (ct_...) of an "
        "imported contact who is no customer"
    )
    contact_id: str | None = Field(description="their imported contact's id, when there is one")
    name: str | None
    phone_masked: str | None = Field(
        description="the phone with its middle digits hidden: only the audited export "
        "(GET /api/v1/contacts/{id}/export) carries it in clear"
    )
    tags: list[str]
    visit_count: int = Field(description="completed sales")
    last_purchase: datetime | None = Field(description="the last completed sale")
    total_spent: float = Field(description="R$ of completed sales")
    opted_out: bool = Field(
        description="in the opt-out ledger, or flagged opted out or blacklisted: never messaged"
    )


class PersonPage(BaseModel):
    items: list[PersonSummary]
    total: int = Field(description="people matching the search")
    page: int
    page_size: int


class MessageReceived(BaseModel):
    """One message a campaign meant for the person, as it stands now."""

    campaign_id: str
    campaign_name: str | None = Field(description="null for a built-in campaign never edited")
    target_id: str
    status: str = Field(
        description="PENDING, QUEUED, SENDING, SENT, DELIVERED, READ, FAILED, SKIPPED, UNKNOWN"
        " or EXPIRED"
    )
    first_at: datetime = Field(description="when the message was planned")
    last_at: datetime = Field(description="its latest change")
    error_code: int | None
    error_reason: str | None


class OptOutRecord(BaseModel):
    """An entry of the opt-out ledger: the evidence that a phone must not be messaged."""

    phone_masked: str
    at: datetime | None = Field(description="when the opt-out (or the erasure) was recorded")
    source: str = Field(
        description="inbound_keyword (they wrote SAIR, PARAR...), whatsapp_131050 (WhatsApp "
        "refused: they stopped marketing messages) or erasure (their data was erased)"
    )
    evidence: str | None = Field(
        description="the inbound message's id, or the target whose send WhatsApp refused"
    )
    by: str | None = Field(description="erasure: who erased the person")
    erased_at: datetime | None = Field(
        description="when the person's data was later erased (an opt-out recorded before)"
    )


class OptOutPage(BaseModel):
    items: list[OptOutRecord]
    total: int
    page: int
    page_size: int


class PersonHeader(BaseModel):
    """Who a person is by their own record (customer or contact): the head of their page."""

    id: str = Field(description="the id asked for")
    name: str | None
    phone_masked: str | None


class PersonProfile(PersonSummary):
    """A person without their messages: the console's profile fragment."""

    email: str | None
    birth_date: date | None
    signed_up_at: datetime | None
    timezone: str | None
    groups: list[str]
    custom_fields: dict[str, str]
    is_opted_out: bool = Field(description="the imported contact's own opt-out flag")
    is_blacklisted: bool
    opt_out: OptOutRecord | None = Field(description="the ledger's record of the phone, if any")


class MessagesReceived(BaseModel):
    items: list[MessageReceived] = Field(description="newest first, since ``since``")
    since: datetime


class Person(PersonProfile):
    """Everything the console's customer page shows."""

    messages: list[MessageReceived] = Field(description="newest first, since messages_since")
    messages_since: datetime


class PersonExport(BaseModel):
    """LGPD Art. 18, II: everything the tenant holds about one person, phone in clear."""

    exported_at: datetime
    tenant: str
    id: str
    profile: dict[str, Any] = Field(description="the customer_profile row")
    customer_records: list[dict[str, Any]] = Field(description="their clientes row")
    contact: dict[str, Any] | None = Field(description="their imported contacts row")
    sales: list[dict[str, Any]] = Field(description="every sale under their CPF")
    message_history: list[dict[str, Any]] = Field(description="every message_history row")
    targets: list[dict[str, Any]] = Field(description="the campaign targets of those messages")
    vouchers: list[dict[str, Any]] = Field(description="vouchers issued to them")
    opt_out: dict[str, Any] | None = Field(description="the opt-out ledger's record")
    consent_events: list[dict[str, Any]] = Field(
        default_factory=list,
        description="every opt-out and opt-in kept as evidence (source, time, message id, who "
        "recorded it), phone and WhatsApp user id in clear",
    )
    clicks: list[dict[str, Any]] = Field(description="their quick-reply button presses")
    frequency_ledger: dict[str, Any] | None = Field(
        description="the last marketing message the frequency cap counts"
    )

    def counts(self) -> dict[str, int]:
        """What the audit trail keeps of an export: how much of each part left, not the data."""
        parts = self.model_dump(exclude={"exported_at", "tenant", "id", "profile"})
        return {
            part: len(value) if isinstance(value, list) else int(value is not None)
            for part, value in parts.items()
        }


class KeptRecord(BaseModel):
    what: str = Field(description="what stays, in plain Portuguese")
    why: str = Field(description="why it stays, in plain Portuguese")


class ErasureReport(BaseModel):
    id: str
    erased_ids: list[str] = Field(description="every id the person was known by")
    contact_rows_deleted: int
    customer_rows_cleared: int
    phone_masked: str | None
    suppressed: bool = Field(
        description="their phone is in the opt-out ledger (put there by this erasure or by the "
        "first one), so no campaign reaches it; false when they had no valid mobile"
    )
    already_erased: bool = Field(description="an earlier erasure of this id was recorded")
    erased_at: datetime = Field(description="when the person was (first) erased")
    user_ids_suppressed: int = Field(
        default=0,
        description="the person's WhatsApp user ids (BSUID) put in the opt-out ledger beside the "
        "phone: a message may be sent to a BSUID alone",
    )
    pair_erased: bool = Field(
        default=False,
        description="the phone <-> BSUID pair of the person on the tenant's WhatsApp number was "
        "erased (kept only while another tenant of that number has an opt-out of the person)",
    )
    erased: list[str] = Field(
        default_factory=list, description="what this erasure removed, in plain Portuguese"
    )
    kept: list[KeptRecord] = Field(
        default_factory=list, description="what is kept and why, in plain Portuguese"
    )


class PersonTagChange(BaseModel):
    """The body of ``POST /api/v1/contacts/{id}/tags``."""

    model_config = ConfigDict(extra="forbid")

    add: list[str] = Field(default_factory=list, max_length=MAX_LABELS)
    remove: list[str] = Field(default_factory=list, max_length=MAX_LABELS)


class PersonTags(BaseModel):
    id: str
    contact_id: str = Field(description="the contact row that holds the tags")
    tags: list[str]
    changed: bool


# -- reads -----------------------------------------------------------------------------------


def search(
    cnpj: Cnpj, ports: PeoplePorts, *, q: str, tag: str, page: int, page_size: int
) -> PersonPage:
    """``q``: part of a name or e-mail (case and accents ignored), or part of a phone."""
    text, digits = search_terms(q)
    wanted_tag = " ".join(tag.split()).lower()
    erased = ports.ledger.erased_ids(cnpj)

    def run(offset: int, limit: int) -> tuple[list[Row], int]:
        return ports.directory.search(
            cnpj,
            text=text,
            phone_digits=digits,
            tag=wanted_tag,
            excluded_ids=erased,
            offset=offset,
            limit=limit,
        )

    rows, total = run((page - 1) * page_size, page_size)
    if not rows and page > 1:
        total = run(0, 1)[1]  # past the end: the count still says how many match
    phones = [phone for row in rows if (phone := _e164(row["phone"]))]
    ledger = ports.ledger.opted_out_among(cnpj, phones)
    items = [_summary(row, _e164(row["phone"]) in ledger) for row in rows]
    return PersonPage(items=items, total=total, page=page, page_size=page_size)


def search_terms(q: str) -> tuple[str, str]:
    """(folded text, phone digits): a query of phone characters only is a phone, else text."""
    query = " ".join(q.split())
    if not query:
        return "", ""
    if _PHONE_LIKE.fullmatch(query):
        digits = re.sub(r"\D", "", query)
        if len(digits) >= _MIN_PHONE_DIGITS:
            e164 = normalize_br_mobile(query).e164
            return "", (e164[1:] if e164 else digits)
    return fold(query), ""


def fold(text: str) -> str:
    """Lower case without accents, as ``sql/contacts/search.sql`` folds names."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def get_person(cnpj: Cnpj, ports: PeoplePorts, person_id: str, now: datetime) -> Person:
    """``GET /api/v1/contacts/{id}``: the profile and the messages, as the console's person
    page shows them in two parts (:func:`person_profile`, :func:`messages_received`)."""
    row = _profile(cnpj, ports, person_id)
    received = _messages(cnpj, ports, row["customer_id"], _e164(row["phone"]), now)
    return Person(
        **_person_profile(cnpj, ports, row).model_dump(),
        messages=received.items,
        messages_since=received.since,
    )


def find_person(cnpj: Cnpj, ports: PeoplePorts, person_id: str) -> PersonHeader:
    """The cheapest proof that ``person_id`` is one of the tenant's people, with their name and
    masked phone: a person's page reads only this before it answers (not found as
    :func:`get_person` is), and loads the rest right after."""
    row = _existing(cnpj, ports, person_id, lambda: _own_record(ports.directory, cnpj, person_id))
    phone = _e164(row["phone"]) or row["phone"]  # as the profile view shows a phone
    return PersonHeader(
        id=person_id, name=row["name"], phone_masked=mask_phone(phone) if phone else None
    )


def person_phone(cnpj: Cnpj, ports: PeoplePorts, person_id: str) -> str | None:
    """The E.164 phone of one of the tenant's people (None: no valid one), found by their own
    record as :func:`find_person` finds them (not found the same way): the key of their
    consent history."""
    row = _existing(cnpj, ports, person_id, lambda: _own_record(ports.directory, cnpj, person_id))
    return _e164(row["phone"])


def person_profile(cnpj: Cnpj, ports: PeoplePorts, person_id: str) -> PersonProfile:
    """:func:`get_person` without the messages."""
    return _person_profile(cnpj, ports, _profile(cnpj, ports, person_id))


def messages_received(
    cnpj: Cnpj, ports: PeoplePorts, person_id: str, now: datetime
) -> MessagesReceived:
    """:func:`get_person`'s messages, found by the person's own record (:func:`find_person`)
    rather than the profile view: the same id and phone but for a contact id that belongs to
    a customer (then by the phone they share)."""
    row = _existing(cnpj, ports, person_id, lambda: _own_record(ports.directory, cnpj, person_id))
    return _messages(cnpj, ports, person_id, _e164(row["phone"]), now)


def export_person(cnpj: Cnpj, ports: PeoplePorts, person_id: str, now: datetime) -> PersonExport:
    row = _profile(cnpj, ports, person_id)
    directory, ledger = ports.directory, ports.ledger
    phone = _e164(row["phone"])
    customer_id = _customer_record_id(row)
    history = directory.history(cnpj, row["customer_id"], phone or "", _EPOCH)
    refs = [
        (str(h["campaign_id"] or h["campaign_type"]), str(h["target_id"]))
        for h in history
        if h["target_id"]
    ]
    targets = ledger.targets(cnpj, refs)
    codes = [str(h["voucher_code"]) for h in history if h["voucher_code"]]
    codes += [str(code) for t in targets if (code := (t.get("data") or {}).get("voucherCode"))]
    return PersonExport(
        exported_at=now,
        tenant=cnpj.value,
        id=row["customer_id"],
        profile=row,
        customer_records=directory.customer_records(cnpj, customer_id) if customer_id else [],
        contact=directory.contact_record(cnpj, row["contact_id"]) if row["contact_id"] else None,
        sales=directory.sales(cnpj, row["cpf"]) if row["cpf"] else [],
        message_history=history,
        targets=targets,
        vouchers=ledger.vouchers(cnpj, codes),
        opt_out=ledger.opt_out(cnpj, phone) if phone else None,
        clicks=ledger.clicks(cnpj, phone) if phone else [],
        frequency_ledger=ledger.recent_send(cnpj, phone) if phone else None,
    )


def list_opt_outs(cnpj: Cnpj, ports: PeoplePorts, *, page: int, page_size: int) -> OptOutPage:
    """The opt-out ledger, newest first."""
    documents = ports.ledger.opt_out_page(cnpj, (page - 1) * page_size, page_size)
    return OptOutPage(
        items=[opt_out_record(document) for document in documents],
        total=ports.ledger.opt_out_count(cnpj),
        page=page,
        page_size=page_size,
    )


def opt_out_record(document: Mapping[str, Any]) -> OptOutRecord:
    return OptOutRecord(
        phone_masked=mask_phone(str(document.get("phone") or document.get("id") or "")),
        at=document.get("at"),
        source=str(document.get("source") or "unknown"),
        evidence=str(document["messageId"]) if document.get("messageId") else None,
        by=str(document["by"]) if document.get("by") else None,
        erased_at=document.get("erasedAt"),
    )


# -- writes ----------------------------------------------------------------------------------


def tag_person(
    cnpj: Cnpj, ports: PeoplePorts, person_id: str, change: PersonTagChange, now: datetime
) -> PersonTags:
    """Add/remove tags on one person, through the contact tag change everyone uses.

    Tags live on imported contact rows; a customer who has none gets one (by the same import
    every upload goes through, with just their phone and the added tags), which the profile
    view then joins to the customer by phone.
    """
    row = _profile(cnpj, ports, person_id)
    phone = _e164(row["phone"])
    contact_id = row["contact_id"]
    if contact_id is None:
        if phone is None:
            raise FieldError("phone", "this person has no valid mobile phone to hold tags")
        contact_id = contact_id_for(phone)
    request = TagUpdateRequest(contact_ids=[contact_id], add=change.add, remove=change.remove)
    before = tuple(row["tags"] or ())
    if row["contact_id"] is None and request.add:
        body = JsonImportRequest(
            data=[{"phone_number": phone}], tags=request.add, merge_strategy=MergeStrategy.UPDATE
        )
        import_json(cnpj, body, ports.contacts, now=now)
    else:
        update_tags(cnpj, request, ports.contacts, now=now)
    after = retagged(before, request.add, request.remove)
    return PersonTags(
        id=row["customer_id"], contact_id=contact_id, tags=list(after), changed=after != before
    )


def erase_person(
    cnpj: Cnpj, ports: PeoplePorts, person_id: str, by: str, now: datetime
) -> ErasureReport:
    """LGPD erasure (see the module's doc); repeating it changes nothing more."""
    earlier = ports.ledger.erasure(cnpj, person_id)
    row = ports.directory.profile(cnpj, person_id)
    if row is None:
        if earlier is None:
            raise NotFoundError(f"no person {person_id}")
        return ErasureReport(
            id=person_id,
            erased_ids=[person_id],
            contact_rows_deleted=0,
            customer_rows_cleared=0,
            phone_masked=None,
            suppressed=bool(earlier.get("suppressed")),
            already_erased=True,
            erased_at=earlier["at"],
            kept=_kept(None, bool(earlier.get("suppressed")), 0, PairOutcome.NONE, False),
        )
    phone = _e164(row["phone"])
    if phone is not None:
        # First: should the rest fail, the person is already never messaged again.
        ports.ledger.suppress(cnpj, phone, now, by)
    bsuids, pair = _suppress_user_ids(cnpj, ports, row, phone, person_id, by, now)
    with ports.contacts.lock.hold(cnpj) as lease:
        lease.renew()
        deleted, cleared = ports.directory.erase(
            cnpj, contact_id=row["contact_id"], customer_id=_customer_record_id(row)
        )
    ids = list(dict.fromkeys(i for i in (person_id, row["customer_id"], row["contact_id"]) if i))
    suppressed = phone is not None or bool(earlier and earlier.get("suppressed"))
    ports.ledger.record_erasure(cnpj, ids, now, by, suppressed=suppressed)
    return ErasureReport(
        id=row["customer_id"],
        erased_ids=ids,
        contact_rows_deleted=deleted,
        customer_rows_cleared=cleared,
        phone_masked=mask_phone(phone) if phone else None,
        suppressed=suppressed,
        already_erased=earlier is not None,
        erased_at=earlier["at"] if earlier is not None else now,
        user_ids_suppressed=len(bsuids),
        pair_erased=pair is PairOutcome.ERASED,
        erased=_erased(deleted, cleared, pair),
        kept=_kept(
            mask_phone(phone) if phone else None,
            suppressed,
            len(bsuids),
            pair,
            has_customer_row=_customer_record_id(row) is not None,
        ),
    )


class PairOutcome(StrEnum):
    NONE = "none"
    """The person had no phone <-> BSUID pair on the tenant's number."""
    ERASED = "erased"
    KEPT = "kept"
    """Another tenant of the number has an opt-out of the person: the pair makes it hold."""


ERASURE_MESSAGE = "erasure:{person}:{key}"
"""The message id of an erasure's consent event for one of the person's user ids."""


def _suppress_user_ids(
    cnpj: Cnpj,
    ports: PeoplePorts,
    row: Mapping[str, Any],
    phone: str | None,
    person_id: str,
    by: str,
    now: datetime,
) -> tuple[list[str], PairOutcome]:
    """Put the person's BSUIDs in the tenant's ledger (source ``erasure``, never lifted), then
    erase their phone <-> BSUID pair unless another tenant of the number still needs it.

    A person known here by BSUID alone whose BSUID WhatsApp paired with a phone: that phone is
    suppressed too before the pair goes, since a send to it read the BSUID's opt-out through
    the pair."""
    from shared.services.consent import number_of, tenants_of_number  # see TYPE_CHECKING

    consent = ports.consent
    if consent is None:
        return [], PairOutcome.NONE
    tenant = ports.tenants.get(cnpj) if ports.tenants is not None else None
    number = number_of(consent, tenant) if tenant else consent.default_phone_number_id
    own_bsuid = optional_bsuid(row.get("bsuid"))
    if number and phone is None and own_bsuid is not None:
        phone = consent.identities.phone_of(number, own_bsuid)
        if phone is not None:
            ports.ledger.suppress(cnpj, phone, now, by)
    paired = consent.identities.bsuid_of(number, phone) if (number and phone) else None
    bsuids = list(dict.fromkeys(b for b in (own_bsuid, paired) if b))
    for bsuid in bsuids:
        message_id = ERASURE_MESSAGE.format(person=person_id, key=bsuid)
        event = ConsentEvent(Identity(None, bsuid), ConsentSource.ERASURE, now, message_id, by=by)
        consent.ledger.record(cnpj, event)
    if not (number and phone and paired):
        return bsuids, PairOutcome.NONE
    others = [t for t in tenants_of_number(consent, number) if t.id != cnpj]
    if any(consent.ledger.opted_out(other.id, [phone, paired]) for other in others):
        return bsuids, PairOutcome.KEPT
    consent.identities.unlink(number, phone, paired)
    return bsuids, PairOutcome.ERASED


def _erased(deleted: int, cleared: int, pair: PairOutcome) -> list[str]:
    erased = []
    if deleted:
        erased.append(
            "o contato importado: nome, e-mail, etiquetas, grupos, campos e ID do WhatsApp"
        )
    if cleared:
        erased.append(
            "no cadastro de clientes: nome, e-mail, data de nascimento, gênero e telefone"
        )
    if pair is PairOutcome.ERASED:
        erased.append("a ligação entre o telefone e o ID do WhatsApp da pessoa")
    return erased


def _kept(
    phone_masked: str | None,
    suppressed: bool,
    user_ids: int,
    pair: PairOutcome,
    has_customer_row: bool,
) -> list[KeptRecord]:
    """What an erasure keeps and why, for the person and the business to read."""
    kept = []
    if suppressed:
        kept.append(
            KeptRecord(
                what=f"o telefone {phone_masked} na lista de descadastrados"
                if phone_masked
                else "o telefone na lista de descadastrados",
                why="é o que impede qualquer campanha de voltar a enviar mensagens para ele",
            )
        )
    if user_ids:
        kept.append(
            KeptRecord(
                what="o ID do WhatsApp da pessoa na lista de descadastrados",
                why="uma mensagem pode ser enviada só pelo ID, sem telefone; assim nenhuma sai",
            )
        )
    kept.append(
        KeptRecord(
            what="os registros de descadastro e de consentimento (quando e como a pessoa pediu)",
            why="são a prova de que o pedido foi atendido (LGPD, art. 16) e o que mantém o "
            "descadastro valendo",
        )
    )
    if pair is PairOutcome.KEPT:
        kept.append(
            KeptRecord(
                what="a ligação entre o telefone e o ID do WhatsApp da pessoa",
                why="outra empresa que envia pelo mesmo número do WhatsApp tem um descadastro "
                "desta pessoa, e é essa ligação que o faz valer para o telefone e para o ID",
            )
        )
    if has_customer_row:
        kept.append(
            KeptRecord(
                what="o CPF e as vendas do cliente",
                why="são registros fiscais, que a empresa precisa guardar",
            )
        )
    kept.append(
        KeptRecord(
            what="as mensagens já enviadas, no histórico das campanhas",
            why="são o registro do que foi enviado",
        )
    )
    kept.append(
        KeptRecord(
            what="o registro do pedido de exclusão, sem telefone",
            why="para que a pessoa não volte a aparecer na busca e um novo pedido não "
            "apague nada a mais",
        )
    )
    return kept


# -- helpers ---------------------------------------------------------------------------------


def _profile(cnpj: Cnpj, ports: PeoplePorts, person_id: str) -> Row:
    """The person's profile row; not found when unknown, another tenant's, or erased."""
    return _existing(cnpj, ports, person_id, lambda: ports.directory.profile(cnpj, person_id))


def _existing(
    cnpj: Cnpj, ports: PeoplePorts, person_id: str, read: Callable[[], Row | None]
) -> Row:
    """``read``'s row of the person; not found when there is none or the id was erased.

    The erasure record (Firestore) is read while the warehouse answers: the person's page
    waits for the slower of the two, not for both.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        erasure = pool.submit(ports.ledger.erasure, cnpj, person_id)
        row = read()
        erased = erasure.result() is not None
    if row is None or erased:
        raise NotFoundError(f"no person {person_id}")
    return row


def _own_record(directory: PeopleDirectory, cnpj: Cnpj, person_id: str) -> Row | None:
    """The name and phone of the person's own record, the cheapest read that proves they exist.

    An imported contact's id (``ct_`` and a hash of its phone, :func:`contact_id_for`) names a
    contact row, any other id a customer row, and the profile view holds a person exactly when
    one of the two does; reading the one row is much cheaper than the view, which normalises
    every phone of the tenant and sums every sale. The values are cleaned as the view cleans
    them (the view joins a contact to its customer by phone, so for a customer without a name
    whose contact has one, or a contact id that belongs to a customer, it names them otherwise).
    """
    if is_contact_id(person_id):
        contact = directory.contact_record(cnpj, person_id)
        found = (contact["name"], contact["phone"]) if contact else None
    else:
        customers = directory.customer_records(cnpj, person_id)
        found = (customers[0]["nome"], customers[0]["telefone"]) if customers else None
    if found is None:
        return None
    return {"name": _trimmed(found[0]), "phone": _trimmed(found[1])}


def _person_profile(cnpj: Cnpj, ports: PeoplePorts, row: Row) -> PersonProfile:
    phone = _e164(row["phone"])
    record = ports.ledger.opt_out(cnpj, phone) if phone else None
    return PersonProfile(
        **_summary(row, record is not None).model_dump(),
        email=row["email"],
        birth_date=row["birth_date"],
        signed_up_at=row["signed_up_at"],
        timezone=row["timezone"],
        groups=list(row["groups"] or ()),
        custom_fields={str(f["key"]): str(f["value"]) for f in row["custom_fields"] or ()},
        is_opted_out=bool(row["is_opted_out"]),
        is_blacklisted=bool(row["is_blacklisted"]),
        opt_out=opt_out_record(record) if record is not None else None,
    )


def _messages(
    cnpj: Cnpj, ports: PeoplePorts, customer_id: str, phone: str | None, now: datetime
) -> MessagesReceived:
    """What campaigns meant for the person (their targets' history, or their phone's) in the
    last :data:`MESSAGE_WINDOW`, each message as it stands now."""
    since = now - MESSAGE_WINDOW
    history = ports.directory.history(cnpj, customer_id, phone or "", since)
    latest = _latest_per_target(history)
    names = ports.campaigns.get_many(cnpj, sorted({item["campaign"] for item in latest}))
    items = [
        MessageReceived(
            campaign_id=item["campaign"],
            campaign_name=found.name if (found := names.get(item["campaign"])) else None,
            target_id=item["target_id"],
            status=item["status"],
            first_at=item["first_at"],
            last_at=item["sent_at"],
            error_code=item["error_code"],
            error_reason=item["error_reason"] or None,
        )
        for item in latest
    ]
    return MessagesReceived(items=items, since=since)


def _customer_record_id(row: Mapping[str, Any]) -> str | None:
    """The clientes id of a profile row (None for a contact who is no customer)."""
    customer_id: str = row["customer_id"]
    return None if customer_id == row["contact_id"] else customer_id


def _e164(phone: str | None) -> str | None:
    return normalize_br_mobile(phone).e164


def _trimmed(text: str | None) -> str | None:
    """``NULLIF(TRIM(text), '')``, as the profile view cleans names and phones."""
    return (text or "").strip() or None


def _summary(row: Mapping[str, Any], in_ledger: bool) -> PersonSummary:
    phone = row["phone"]
    return PersonSummary(
        id=row["customer_id"],
        contact_id=row["contact_id"],
        name=row["name"],
        phone_masked=mask_phone(phone) if phone else None,
        tags=list(row["tags"] or ()),
        visit_count=int(row["visit_count"] or 0),
        last_purchase=row["last_purchase"],
        total_spent=float(row["total_spent"] or 0),
        opted_out=in_ledger or bool(row["is_opted_out"]) or bool(row.get("is_blacklisted")),
    )


def _latest_per_target(history: Sequence[Mapping[str, Any]]) -> list[Row]:
    """Each target's latest history row (and when it began), newest first; clicks left out."""
    latest: dict[tuple[str, str], Row] = {}
    for row in history:
        if not row["target_id"] or row["status"] == "CLICKED":
            continue
        campaign = str(row["campaign_id"] or row["campaign_type"])
        key = (campaign, str(row["target_id"]))
        current = latest.get(key)
        first_at = min(row["sent_at"], current["first_at"]) if current else row["sent_at"]
        if current is None or _version(row) >= _version(current):
            current = {**row, "campaign": campaign}
        latest[key] = {**current, "first_at": first_at}
    return sorted(latest.values(), key=lambda item: item["sent_at"], reverse=True)


def _version(row: Mapping[str, Any]) -> tuple[datetime, int]:
    """A change's place in its target's life: its time, then its version (event id suffix)."""
    suffix = str(row["event_id"]).rpartition("#")[2]
    return row["sent_at"], int(suffix) if suffix.isdigit() else 0
