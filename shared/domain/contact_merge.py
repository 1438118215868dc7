"""How an imported row merges into the contact the tenant already has, and what a tag
request leaves.

The merge is pure and decides everything an import writes: a contact's id is a function of
its E.164 phone, or of its BSUID when it has no phone
(:func:`~shared.domain.contacts.contact_id_of`), so a second import of the
same file finds the same contacts, computes the same values and writes nothing —
``updated_at`` moves only when a value did. Opt-out and blacklist flags, ``created_at`` and
``last_interaction`` are never an import's to change, whatever the strategy.

A value the row does not give (an empty cell, a missing or null JSON key): ``update`` keeps
the stored value, ``replace`` clears it. Tags and groups: ``update`` adds to the stored ones,
``replace`` replaces them; custom fields are merged key by key by ``update`` and replaced by
``replace``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as replaced
from datetime import datetime
from enum import StrEnum

from shared.domain.contact_parsing import ContactRow
from shared.domain.contacts import ImportOptions, MergeStrategy


@dataclass(frozen=True, slots=True)
class StoredContact:
    """A row of ``{CNPJ}_CAMPAIGN.contacts``."""

    contact_id: str
    phone: str | None
    name: str | None
    email: str | None
    groups: tuple[str, ...]
    tags: tuple[str, ...]
    custom_fields: tuple[tuple[str, str], ...]
    timezone: str | None
    is_opted_out: bool
    is_blacklisted: bool
    created_at: datetime
    updated_at: datetime
    last_interaction: datetime | None = None
    bsuid: str | None = None
    """The person's WhatsApp user id, when the business gave it (a contact has a phone, a
    BSUID or both)."""

    def content(self) -> tuple[object, ...]:
        """What an import may change: equal content means nothing to write."""
        return (
            self.phone,
            self.bsuid,
            self.name,
            self.email,
            self.groups,
            self.tags,
            self.custom_fields,
            self.timezone,
        )


class RowOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    """The ``update`` strategy changed a stored contact (merged into it)."""
    REPLACED = "replaced"
    """The ``replace`` strategy overwrote a stored contact: reported apart, because what it
    clears (a name, tags) the owner should see was cleared on purpose."""
    UNCHANGED = "unchanged"
    """The merge changed no value: nothing written, ``updated_at`` kept."""
    EXISTS = "exists"
    """The ``skip`` strategy met a stored contact."""


def merge_row(
    existing: StoredContact | None,
    row: ContactRow,
    strategy: MergeStrategy,
    options: ImportOptions,
    now: datetime,
) -> tuple[RowOutcome, StoredContact | None]:
    """What importing ``row`` does, and the contact to write (None: write nothing)."""
    tags = set(row.tags) | set(options.tags)
    groups = set(row.groups) | ({options.group_name} if options.group_name else set())
    if existing is None:
        return RowOutcome.CREATED, StoredContact(
            contact_id=row.contact_id,
            phone=row.phone,
            bsuid=row.bsuid,
            name=row.name,
            email=row.email,
            groups=tuple(sorted(groups)),
            tags=tuple(sorted(tags)),
            custom_fields=row.custom_fields,
            timezone=row.timezone,
            is_opted_out=False,
            is_blacklisted=False,
            created_at=now,
            updated_at=now,
        )
    if strategy is MergeStrategy.SKIP:
        return RowOutcome.EXISTS, None
    if strategy is MergeStrategy.UPDATE:
        custom = dict(existing.custom_fields) | dict(row.custom_fields)
        merged = replaced(
            existing,
            phone=row.phone if row.phone is not None else existing.phone,
            bsuid=row.bsuid if row.bsuid is not None else existing.bsuid,
            name=row.name if row.name is not None else existing.name,
            email=row.email if row.email is not None else existing.email,
            timezone=row.timezone if row.timezone is not None else existing.timezone,
            groups=tuple(sorted(groups | set(existing.groups))),
            tags=tuple(sorted(tags | set(existing.tags))),
            custom_fields=tuple(sorted(custom.items())),
        )
    else:
        merged = replaced(
            existing,
            phone=row.phone if row.phone is not None else existing.phone,
            bsuid=row.bsuid,
            name=row.name,
            email=row.email,
            timezone=row.timezone,
            groups=tuple(sorted(groups)),
            tags=tuple(sorted(tags)),
            custom_fields=row.custom_fields,
        )
    if merged.content() == existing.content():
        return RowOutcome.UNCHANGED, None
    outcome = RowOutcome.REPLACED if strategy is MergeStrategy.REPLACE else RowOutcome.UPDATED
    return outcome, replaced(merged, updated_at=now)


@dataclass(frozen=True, slots=True)
class ImportPlan:
    writes: tuple[StoredContact, ...]
    outcomes: Counter[RowOutcome]


def plan_import(
    rows: Sequence[ContactRow],
    existing: Mapping[str, StoredContact],
    options: ImportOptions,
    now: datetime,
) -> ImportPlan:
    """Merge every row into its stored contact (by id); rows have distinct phones."""
    writes: list[StoredContact] = []
    outcomes: Counter[RowOutcome] = Counter()
    for row in rows:
        outcome, contact = merge_row(
            existing.get(row.contact_id), row, options.merge_strategy, options, now
        )
        outcomes[outcome] += 1
        if contact is not None:
            writes.append(contact)
    return ImportPlan(tuple(writes), outcomes)


def retagged(tags: Iterable[str], add: Iterable[str], remove: Iterable[str]) -> tuple[str, ...]:
    """Tags after a tag request; sorted by code point, as ``sql/contacts/retag.sql`` sorts."""
    return tuple(sorted((set(tags) | set(add)) - set(remove)))
