"""Consent events reach every tenant that should hear them, or wait until one exists.

A customer writes to a WhatsApp *number*; every tenant sending from it (its own
``delivery.phone_number_id``, or the installation's default number when it sets none) heard
the opt-out, whether the tenant is active, paused or inactive today: a tenant that is
reactivated later must not message someone who said stop while it was paused. An opt-out for
a number no tenant sends from is never dropped: it is quarantined with its payload, logged at
WARNING, and applied when a tenant with that number is registered or switches to it
(:func:`adopt_quarantined`). Every step is idempotent (event ids are deterministic), so
Meta's redeliveries and a repeated adoption change nothing.

The person's other id is looked up in the phone<->BSUID links of the number
(:class:`~shared.ports.IdentityLinks`), so an opt-out that came with only a BSUID also stops
sends addressed to the phone WhatsApp paired with it, and the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared import logs
from shared.domain.cnpj import Cnpj
from shared.domain.consent import ConsentEvent, ConsentSource, keys_of
from shared.domain.errors import FieldError, NotFoundError
from shared.domain.identity import Identity, mask_bsuid
from shared.domain.tenant import Tenant
from shared.logs import mask_phone
from shared.ports import IdentityLinks, TenantRepository
from shared.services import people
from shared.services.people import PeoplePorts

_log = logging.getLogger(__name__)


class ConsentLedger(Protocol):
    """The ledger (``shared/adapters/firestore_consent.py``)."""

    def record(self, cnpj: Cnpj, event: ConsentEvent) -> bool: ...

    def opted_out(self, cnpj: Cnpj, keys: Sequence[str]) -> bool: ...

    def history(self, cnpj: Cnpj, keys: Sequence[str]) -> list[ConsentEvent]: ...

    def quarantine(self, event: ConsentEvent, payload: Any) -> bool: ...

    def quarantined(self, number: str) -> list[ConsentEvent]: ...

    def mark_applied(self, event: ConsentEvent, cnpj: Cnpj) -> None: ...


class TenantsByNumber(Protocol):
    def of_number(self, phone_number_id: str, *, include_unset: bool) -> list[Tenant]: ...


@dataclass(frozen=True, slots=True)
class ConsentPorts:
    ledger: ConsentLedger
    tenants: TenantsByNumber
    identities: IdentityLinks
    default_phone_number_id: str = ""


def tenants_of_number(ports: ConsentPorts, number: str) -> list[Tenant]:
    """Every tenant sending from ``number``, active or not."""
    if not number:
        return []
    return ports.tenants.of_number(number, include_unset=number == ports.default_phone_number_id)


def number_of(ports: ConsentPorts, tenant: Tenant) -> str:
    """The number a tenant sends from (its own, else the installation's default)."""
    return tenant.delivery.phone_number_id or ports.default_phone_number_id


def completed(ports: ConsentPorts, event: ConsentEvent) -> ConsentEvent:
    """``event`` with the person's other id, when the number's links know it."""
    identity, number = event.identity, event.number
    if not number or identity.paired:
        return event
    if identity.phone is not None:
        identity = Identity(identity.phone, ports.identities.bsuid_of(number, identity.phone))
    elif identity.bsuid is not None:
        identity = Identity(ports.identities.phone_of(number, identity.bsuid), identity.bsuid)
    return event if identity == event.identity else replace(event, identity=identity)


def record_for_number(ports: ConsentPorts, event: ConsentEvent, payload: Any) -> int:
    """Record ``event`` for every tenant of its number (how many); none: quarantine it."""
    event = completed(ports, event)
    tenants = tenants_of_number(ports, event.number)
    for tenant in tenants:
        ports.ledger.record(tenant.id, event)
    if tenants:
        logs.log(
            _log, logging.INFO, "consent recorded", source=event.source, event=event.id,
            tenants=len(tenants), **_who(event.identity),
        )  # fmt: skip
    else:
        ports.ledger.quarantine(event, payload)
        logs.log(
            _log, logging.WARNING, "consent event for a number no tenant sends from: quarantined",
            source=event.source, event=event.id, number=event.number, **_who(event.identity),
        )  # fmt: skip
    return len(tenants)


def adopt_quarantined(ports: ConsentPorts, tenant: Tenant) -> int:
    """Apply the events quarantined for the tenant's number to it (registration, or a change
    of its number); how many it had not seen. Idempotent."""
    number = number_of(ports, tenant)
    if not number:
        return 0
    applied = 0
    for event in ports.ledger.quarantined(number):
        applied += ports.ledger.record(tenant.id, completed(ports, event))
        ports.ledger.mark_applied(event, tenant.id)
    if applied:
        logs.log(
            _log, logging.INFO, "quarantined consent events applied", tenant=tenant.cnpj,
            events=applied,
        )  # fmt: skip
    return applied


def _who(identity: Identity) -> dict[str, str]:
    """The person, masked (logs never carry a full phone or BSUID)."""
    found = {}
    if identity.phone:
        found["phone"] = identity.phone  # the log formatter masks phone numbers
    if identity.bsuid:
        found["bsuid"] = mask_bsuid(identity.bsuid)
    return found


# -- the consent history (LGPD) --------------------------------------------------------------


SOURCE_MEANINGS = {
    ConsentSource.INBOUND_KEYWORD: "they wrote an opt-out keyword (SAIR, PARAR, STOP...)",
    ConsentSource.QUICK_REPLY_STOP: "they pressed the template's stop-promotions button",
    ConsentSource.USER_PREFERENCES_STOP: "they stopped marketing messages in WhatsApp",
    ConsentSource.USER_PREFERENCES_RESUME: "they resumed marketing messages in WhatsApp",
    ConsentSource.WHATSAPP_131050: "WhatsApp refused a send: they stopped marketing (131050)",
    ConsentSource.CONSOLE: "recorded by a user in the console",
    ConsentSource.API: "an opt-out the person asked the business for, recorded through the API",
    ConsentSource.API_OPT_IN: "an explicit opt-in the business collected, recorded through the API",
    ConsentSource.ERASURE: "their data was erased (LGPD): never messaged again",
    ConsentSource.IMPORT_OPT_IN: "an explicit opt-in the business collected and imported",
}
"""Each source in words (the API's documentation; the console has them in Portuguese)."""


class ConsentEventView(BaseModel):
    """One consent event: the evidence of an opt-out or of a renewed consent."""

    kind: Literal["opt_out", "opt_in"] = Field(
        description="opt_out stops marketing messages; only an opt_in lifts it"
    )
    source: str = Field(
        description="how it reached us: "
        + "; ".join(f"{source.value} ({meaning})" for source, meaning in SOURCE_MEANINGS.items())
    )
    at: datetime = Field(description="when it happened (the webhook's own timestamp)")
    message_id: str = Field(
        description="the inbound message's id (wamid), the target whose send WhatsApp refused, "
        "or the preference change's own key"
    )
    number: str = Field(description="the WhatsApp number (phone_number_id) it reached")
    phone_masked: str | None
    bsuid_masked: str | None = Field(description="the person's WhatsApp user id, masked")
    by: str | None = Field(description="who recorded it (console, API, erasure)")


class ConsentHistory(BaseModel):
    """LGPD Art. 8 § 2: the proof of a person's consent and of its revocation."""

    id: str
    opted_out: bool = Field(description="whether marketing messages to them are stopped now")
    events: list[ConsentEventView] = Field(description="newest first")


def person_consent(
    ports: ConsentPorts, tenants: TenantRepository, people_ports: PeoplePorts, cnpj: Cnpj,
    person_id: str,
) -> ConsentHistory:  # fmt: skip
    """One of the tenant's people's consent history (the API's and the console's): a
    :class:`~shared.domain.errors.NotFoundError` when they are not the tenant's."""
    phone = people.person_phone(cnpj, people_ports, person_id)
    tenant = tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    return consent_history(ports, tenant, person_id, phone)


class ConsentChange(BaseModel):
    """A consent the person gave the business itself: a request to stop, or a new explicit
    opt-in (the only way besides a resume in WhatsApp to lift an opt-out)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["opt_out", "opt_in"]
    evidence: str = Field(
        min_length=3,
        max_length=200,
        description="where the proof is kept (a signed form's number, a recorded call's id): "
        "it is the event's message id, so the same proof recorded twice is one event",
    )
    at: datetime | None = Field(
        default=None,
        description="when the person gave it (ISO 8601 with a zone; default: now); the latest "
        "event by this time decides, so a consent dated before a later opt-out lifts nothing",
    )

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-11-20T14:30:00-03:00)")
        return value


def record_consent(
    ports: ConsentPorts, tenants: TenantRepository, people_ports: PeoplePorts, cnpj: Cnpj,
    person_id: str, change: ConsentChange, by: str, now: datetime,
) -> ConsentHistory:  # fmt: skip
    """Record ``change`` for one of the tenant's people (keyed by their phone, and the BSUID
    their number pairs with it); their history afterwards. Idempotent per evidence."""
    phone = people.person_phone(cnpj, people_ports, person_id)
    if phone is None:
        raise FieldError("person_id", "this person has no valid phone to key their consent by")
    at = change.at or now
    if at > now:
        raise FieldError("at", "is in the future")
    tenant = tenants.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    source = ConsentSource.API_OPT_IN if change.kind == "opt_in" else ConsentSource.API
    number = number_of(ports, tenant)
    event = ConsentEvent(Identity(phone), source, at, change.evidence, number, by=by)
    ports.ledger.record(tenant.id, completed(ports, event))
    return consent_history(ports, tenant, person_id, phone)


def consent_history(
    ports: ConsentPorts, tenant: Tenant, person_id: str, phone: str | None
) -> ConsentHistory:
    """One person's consent events (by their phone and the BSUID their tenant's number paired
    with it), newest first, and whether they are opted out now."""
    keys: tuple[str, ...] = ()
    if phone is not None:
        bsuid = ports.identities.bsuid_of(number_of(ports, tenant), phone)
        keys = keys_of(Identity(phone, bsuid))
    return ConsentHistory(
        id=person_id,
        opted_out=ports.ledger.opted_out(tenant.id, keys),
        events=[view(event) for event in ports.ledger.history(tenant.id, keys)],
    )


def view(event: ConsentEvent) -> ConsentEventView:
    identity = event.identity
    return ConsentEventView(
        kind=event.kind.value,
        source=event.source,
        at=event.at,
        message_id=event.message_id,
        number=event.number,
        phone_masked=mask_phone(identity.phone) if identity.phone else None,
        bsuid_masked=mask_bsuid(identity.bsuid) if identity.bsuid else None,
        by=event.by or None,
    )
