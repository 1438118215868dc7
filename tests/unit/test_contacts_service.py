"""The contact import and tag services over an in-memory store that refuses writes outside
the tenant's lease: the report, an idempotent second import, and tags by id and phone."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from shared.domain.cnpj import Cnpj
from shared.domain.contact_merge import StoredContact, retagged
from shared.domain.contact_parsing import parse_json
from shared.domain.contacts import (
    ImportOptions,
    JsonImportRequest,
    MergeStrategy,
    TagUpdateRequest,
    contact_id_for,
)
from shared.services.contacts import (
    ContactPorts,
    import_contacts,
    import_file,
    import_json,
    update_tags,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
CNPJ = Cnpj.from_base("112223330001")


class MemoryStore:
    """The ContactStore contract in memory, refusing writes outside the lease."""

    def __init__(self) -> None:
        self.rows: dict[str, StoredContact] = {}
        self.writes = 0
        self.locked = False

    def find(self, cnpj: Cnpj, contact_ids: Sequence[str]) -> list[StoredContact]:
        assert self.locked
        return [self.rows[i] for i in dict.fromkeys(contact_ids) if i in self.rows]

    def upsert(self, cnpj: Cnpj, contacts_: Sequence[StoredContact]) -> None:
        assert self.locked
        self.writes += 1
        for contact in contacts_:
            old = self.rows.get(contact.contact_id)
            if old is not None:
                contact = replace(
                    contact,
                    is_opted_out=old.is_opted_out,
                    is_blacklisted=old.is_blacklisted,
                    created_at=old.created_at,
                    last_interaction=old.last_interaction,
                )
            self.rows[contact.contact_id] = contact

    def retag(
        self,
        cnpj: Cnpj,
        contact_ids: Sequence[str],
        add: Sequence[str],
        remove: Sequence[str],
        now: datetime,
    ) -> int:
        assert self.locked
        self.writes += 1
        for contact_id in contact_ids:
            old = self.rows[contact_id]
            self.rows[contact_id] = replace(
                old, tags=retagged(old.tags, add, remove), updated_at=now
            )
        return len(contact_ids)


class MemoryLock:
    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    @contextmanager
    def hold(self, cnpj: Cnpj) -> Iterator[MemoryLock]:
        assert not self.store.locked
        self.store.locked = True
        try:
            yield self
        finally:
            self.store.locked = False

    def renew(self) -> None:
        assert self.store.locked


@pytest.fixture
def ports() -> ContactPorts:
    store = MemoryStore()
    return ContactPorts(store=store, lock=MemoryLock(store))


def test_import_report_and_idempotent_second_import(ports: ContactPorts) -> None:
    content = b"phone,name\r\n11987654321,Ana\r\nx,B\r\n11987654322,\r\n"
    options = ImportOptions(group_name="G", tags=["t"])
    first = import_file(CNPJ, content, "c.csv", options, ports, now=NOW)
    assert first.model_dump(exclude={"duration_ms", "rejections"}) == {
        "format": "csv",
        "line_numbering": "file_line",
        "merge_strategy": MergeStrategy.UPDATE,
        "group_name": "G",
        "received": 3,
        "created": 2,
        "updated": 0,
        "replaced": 0,
        "skipped": 0,
        "skipped_by_reason": {"unchanged": 0, "exists": 0},
        "rejected": 1,
        "rejections_truncated": False,
        "ignored_columns": [],
        "encoding": "utf-8",
        "delimiter": ",",
        "pairs_linked": 0,
        "pairs_conflicting": 0,
    }
    assert [(r.line, r.reason) for r in first.rejections] == [(3, "invalid_phone")]
    store = ports.store
    assert isinstance(store, MemoryStore)
    before = dict(store.rows)
    second = import_file(CNPJ, content, "c.csv", options, ports, now=LATER)
    assert (second.created, second.updated, second.skipped) == (0, 0, 2)
    assert second.skipped_by_reason == {"unchanged": 2, "exists": 0}
    assert store.rows == before
    assert store.writes == 1  # the second import wrote nothing at all


def test_import_lists_at_most_a_thousand_rejections(ports: ContactPorts) -> None:
    request = JsonImportRequest(data=[{"phone_number": "bad"}] * 1_500)
    report = import_json(CNPJ, request, ports, now=NOW)
    assert report.rejected == 1_500
    assert len(report.rejections) == 1_000
    assert report.rejections_truncated
    assert report.rejections[-1].line == 999


def test_import_without_valid_rows_takes_no_lock(ports: ContactPorts) -> None:
    parsed = parse_json([{"phone_number": "bad"}])
    store = ports.store
    assert isinstance(store, MemoryStore)
    store.locked = True  # would fail the lock's assertion if it were taken
    report = import_contacts(CNPJ, parsed, ImportOptions(), ports, now=NOW)
    assert (report.created, report.rejected) == (0, 1)


def test_tags_by_id_and_phone(ports: ContactPorts) -> None:
    import_json(
        CNPJ,
        JsonImportRequest(data=[{"phone": "11987654321", "tags": ["a"]}, {"phone": "11987654322"}]),
        ports,
        now=NOW,
    )
    known = contact_id_for("+5511987654321")
    request = TagUpdateRequest(
        contact_ids=[known, "ct_" + "0" * 24, "nonsense"],
        phone_numbers=["(11) 98765-4322", "11987650000", "123"],
        add=["b"],
        remove=["a"],
    )
    report = update_tags(CNPJ, request, ports, now=LATER)
    assert report.model_dump(exclude={"invalid_phones"}) == {
        "add": ["b"],
        "remove": ["a"],
        "matched": 2,
        "changed": 2,
        "unchanged": 0,
        "unknown_ids": ["nonsense", "ct_" + "0" * 24],
        "unknown_phones": ["11987650000"],
    }
    assert [(r.line, r.reason) for r in report.invalid_phones] == [(2, "invalid_phone")]
    again = update_tags(CNPJ, request, ports, now=LATER)
    assert (again.matched, again.changed, again.unchanged) == (2, 0, 2)
