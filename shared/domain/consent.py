"""Marketing consent as evidence: who said stop or resume, how, when, and what holds now.

LGPD makes consent revocable at any time and the business must prove both the revocation and
any later renewal, so the ledger keeps every consent event as immutable evidence and derives a
person's current state from them. The rules, all pure:

- A person is an :class:`~shared.domain.identity.Identity`: an E.164 phone of any country
  and/or a WhatsApp business-scoped user id (BSUID). Each key is looked up on its own, so
  an opt-out known only by BSUID still stops a send to a target that carries that BSUID.
- An event's id is a function of its message id and kind: Meta's redelivered webhook writes
  nothing new.
- The current state is the one of the latest event *by the event's own timestamp*, not by
  arrival: a stop/resume pair delivered in reverse order ends as it happened. On a tie an
  opt-out wins (when in doubt, do not message).
- Only an opt-in event (``user_preferences_resume``, an explicit opt-in) lifts an opt-out; a
  new import row or a button click is no event at all. An erasure is never lifted.
- Documents written before this ledger (``users/{cnpj}/optouts/{key}`` without ``state``) are
  opt-outs whose own fields are their one event: nothing deployed is lost, nothing migrates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.domain.errors import FieldError
from shared.domain.identity import Identity, is_bsuid


class ConsentKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class ConsentState(StrEnum):
    OPTED_OUT = "opted_out"
    OPTED_IN = "opted_in"


class ConsentSource(StrEnum):
    """How a consent event reached us (stored as ``source``)."""

    INBOUND_KEYWORD = "inbound_keyword"
    """They wrote a keyword alone (SAIR, PARAR, STOP...: :mod:`shared.domain.optout`)."""
    QUICK_REPLY_STOP = "quick_reply_stop"
    """They pressed a template's "stop promotions" quick-reply button."""
    USER_PREFERENCES_STOP = "user_preferences_stop"
    """WhatsApp's ``user_preferences`` webhook: marketing messages stopped in the app."""
    USER_PREFERENCES_RESUME = "user_preferences_resume"
    """WhatsApp's ``user_preferences`` webhook: marketing messages resumed in the app."""
    WHATSAPP_131050 = "whatsapp_131050"
    """WhatsApp refused a send: the person stopped marketing messages (error 131050)."""
    CONSOLE = "console"
    API = "api"
    ERASURE = "erasure"
    """Their data was erased (LGPD): never lifted."""
    IMPORT_OPT_IN = "import_opt_in"
    API_OPT_IN = "api_opt_in"
    """An explicit opt-in the business collected (a signed form, a recorded call), recorded
    through the API with where its proof is kept."""
    """An explicit opt-in the business collected and imported (a new, dated consent)."""


OPT_IN_SOURCES = frozenset(
    {ConsentSource.USER_PREFERENCES_RESUME, ConsentSource.IMPORT_OPT_IN, ConsentSource.API_OPT_IN}
)
"""The only sources that lift an opt-out."""


def kind_of(source: str) -> ConsentKind:
    """Every source not in :data:`OPT_IN_SOURCES` (a legacy one too) is an opt-out."""
    return ConsentKind.OPT_IN if source in OPT_IN_SOURCES else ConsentKind.OPT_OUT


# -- identities ------------------------------------------------------------------------------


def keys_of(identity: Identity) -> tuple[str, ...]:
    """The ledger's document ids for a person (phone first): each is looked up on its own."""
    return tuple(key for key in (identity.phone, identity.bsuid) if key)


# -- events ----------------------------------------------------------------------------------


def event_id(message_id: str, kind: ConsentKind) -> str:
    """Deterministic: the same message (and kind) is the same event, however often it comes."""
    digest = hashlib.sha256(f"{message_id}\n{kind.value}".encode()).hexdigest()[:32]
    return f"{kind.value}-{digest}"


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One opt-out or opt-in, as it happened (immutable once stored)."""

    identity: Identity
    source: str
    at: datetime
    """The event's own time (the webhook's timestamp), which decides the order."""
    message_id: str
    """The inbound message's wamid, the refused target's path, or the preference's own key."""
    number: str = ""
    """The WhatsApp number (``phone_number_id``) it reached."""
    by: str = ""
    """Who recorded it, for manual events (console, API, erasure)."""
    id: str = field(default="")

    def __post_init__(self) -> None:
        if not self.identity.known:
            raise FieldError("from", "a phone or a user id (BSUID) is required")
        if not self.id:
            object.__setattr__(self, "id", event_id(self.message_id, self.kind))

    @property
    def kind(self) -> ConsentKind:
        return kind_of(self.source)

    def document(self) -> dict[str, Any]:
        """Its stored form (``keys`` for "every event of this person")."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "source": self.source,
            "at": self.at,
            "messageId": self.message_id,
            "number": self.number,
            "phone": self.identity.phone,
            "bsuid": self.identity.bsuid,
            "keys": list(keys_of(self.identity)),
            "by": self.by,
        }

    @classmethod
    def from_document(cls, fields: Mapping[str, Any]) -> ConsentEvent:
        return cls(
            identity=Identity(fields.get("phone") or None, fields.get("bsuid") or None),
            source=str(fields.get("source") or "unknown"),
            at=_aware(fields.get("at")),
            message_id=str(fields.get("messageId") or ""),
            number=str(fields.get("number") or ""),
            by=str(fields.get("by") or ""),
            id=str(fields.get("id") or ""),
        )


def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime(1970, 1, 1, tzinfo=UTC)


def legacy_event(key: str, fields: Mapping[str, Any]) -> ConsentEvent:
    """The one event an opt-out document written before this ledger stands for."""
    phone, bsuid = (None, key) if is_bsuid(key) else (fields.get("phone") or key, None)
    return ConsentEvent(
        identity=Identity(phone, bsuid),
        source=str(fields.get("source") or "unknown"),
        at=_aware(fields.get("at")),
        message_id=str(fields.get("messageId") or f"legacy:{key}"),
        by=str(fields.get("by") or ""),
        id=f"legacy-{hashlib.sha256(key.encode()).hexdigest()[:32]}",
    )


def _rank(event: ConsentEvent) -> tuple[datetime, int, str]:
    """Later wins; on the same instant an opt-out wins; then the id, so any order agrees."""
    return event.at, int(event.kind is ConsentKind.OPT_OUT), event.id


def latest(events: Iterable[ConsentEvent]) -> ConsentEvent | None:
    """The event that decides the state (None: no event)."""
    return max(events, key=_rank, default=None)


def state_after(events: Iterable[ConsentEvent]) -> ConsentState | None:
    """The current state the events give (None: no event at all, so never opted out)."""
    all_events = list(events)
    decisive = latest(all_events)
    if decisive is None:
        return None
    if any(event.source == ConsentSource.ERASURE for event in all_events):
        return ConsentState.OPTED_OUT
    return ConsentState.OPTED_OUT if decisive.kind is ConsentKind.OPT_OUT else ConsentState.OPTED_IN


# -- the per-identity state document ---------------------------------------------------------


def blocks_sending(fields: Mapping[str, Any] | None) -> bool:
    """Whether ``users/{cnpj}/optouts/{key}`` (None: missing) forbids messaging that key.

    A legacy document (no ``state``) is an opt-out; an erasure is one for ever.
    """
    if fields is None:
        return False
    if fields.get("source") == ConsentSource.ERASURE or fields.get("erasedAt") is not None:
        return True
    return bool(fields.get("state", ConsentState.OPTED_OUT) == ConsentState.OPTED_OUT)


def decisive_of(key: str, fields: Mapping[str, Any] | None) -> ConsentEvent | None:
    """The event a state document says decided it (a legacy document: its own event)."""
    if fields is None:
        return None
    if "state" not in fields:
        return legacy_event(key, fields)
    return ConsentEvent.from_document({**fields, "id": fields.get("eventId", "")})


def state_document(
    key: str, current: Mapping[str, Any] | None, event: ConsentEvent
) -> dict[str, Any] | None:
    """The state document after ``event`` (None: the stored decisive event is later, so the
    document stays). It keeps the decisive event's fields under the names the opt-out list has
    always read (``phone``, ``at``, ``source``, ``messageId``), and an erasure's mark."""
    before = decisive_of(key, current)
    if before is not None and _rank(before) >= _rank(event):
        return None
    stored = current or {}
    kept = {name: stored[name] for name in ("erasedAt", "erasedBy") if name in stored}
    if stored.get("source") == ConsentSource.ERASURE and before is not None:
        kept.setdefault("erasedAt", before.at)
        kept.setdefault("erasedBy", before.by)
    lifted = event.kind is ConsentKind.OPT_IN and "erasedAt" not in kept  # erasure: for ever
    state = ConsentState.OPTED_IN if lifted else ConsentState.OPTED_OUT
    return {
        "key": key,
        "keyType": "bsuid" if is_bsuid(key) else "phone",
        "state": state.value,
        "eventId": event.id,
        "kind": event.kind.value,
        "phone": event.identity.phone or stored.get("phone"),
        "bsuid": event.identity.bsuid or stored.get("bsuid"),
        "at": event.at,
        "source": event.source,
        "messageId": event.message_id,
        "number": event.number,
        "by": event.by,
        **kept,
    }
