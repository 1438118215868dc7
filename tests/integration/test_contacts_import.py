"""Contacts import and tag changes against bqemulator and the Firestore emulator.

Every test works on a tenant of its own whose contacts table comes from the same DDL that
``register_tenant`` runs (one test registers a tenant in full). The concurrency tests wrap
the real store in a watcher that holds each write open until a second write starts (or 4 s
pass): writers the lease does not serialise overlap for certain, which the control test
proves by running without the lease.
"""

from __future__ import annotations

import contextlib
import csv
import io
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import openpyxl
import pytest

from shared import sqlfiles
from shared.adapters.bigquery_contacts import BigQueryContactStore
from shared.adapters.firestore_locks import LEASE_TTL, FirestoreContactsLock
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.contact_merge import StoredContact
from shared.domain.contacts import (
    ContactsBusy,
    ImportOptions,
    JsonImportRequest,
    MergeStrategy,
    TagUpdateRequest,
    contact_id_for,
)
from shared.domain.errors import TransientError
from shared.services.contacts import (
    ContactPorts,
    ContactsLock,
    ContactStore,
    ImportReport,
    import_file,
    import_json,
    update_tags,
)
from shared.services.tenants import register_tenant

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
T2 = T0 + timedelta(hours=2)


@pytest.fixture
def tenant(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    """A tenant with just its contacts table (the DDL ``register_tenant`` runs; it is slow)."""
    deps.warehouse.ensure_dataset(new_cnpj.campaign_dataset)
    deps.warehouse.run_ddl(sqlfiles.render("ddl/campaign_contacts.sql", new_cnpj))
    return new_cnpj


@pytest.fixture
def registered(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    """A tenant registered the way production registers one."""
    register_tenant(
        new_cnpj,
        name="Contacts test",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,
    )
    return new_cnpj


@pytest.fixture
def store(deps: Container) -> BigQueryContactStore:
    return BigQueryContactStore(deps.bigquery_client, deps.clock, chunk=3)  # every read chunked


@pytest.fixture
def lock(deps: Container) -> FirestoreContactsLock:
    return FirestoreContactsLock(deps.firestore_client, deps.clock)


@pytest.fixture
def ports(store: BigQueryContactStore, lock: FirestoreContactsLock) -> ContactPorts:
    return ContactPorts(store=store, lock=lock)


def table(deps: Container, cnpj: Cnpj) -> dict[str, dict[str, Any]]:
    """The tenant's contacts by phone, as BigQuery returns them."""
    sql = f"SELECT * FROM `{cnpj.campaign_dataset}.contacts`"  # noqa: S608 (a Cnpj's dataset)
    rows = deps.warehouse.query(sql, {})
    return {row["phone"]: dict(row) for row in rows}


def csv_bytes(
    rows: Sequence[Sequence[str]], delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def counts(report: ImportReport) -> tuple[int, int, int, int]:
    return report.created, report.updated, report.skipped, report.rejected


# -- each format end to end --------------------------------------------------------------------


def test_json_import_lands_every_field(
    deps: Container, registered: Cnpj, ports: ContactPorts
) -> None:
    request = JsonImportRequest.model_validate(
        {
            "source": "json",
            "data": [
                {
                    "phone_number": "+5561999999999",
                    "name": "João Silva",
                    "email": "joao@example.com",
                    "custom_fields": {"cidade": "Brasília", "idade": "35"},
                    "timezone": "America/Sao_Paulo",
                    "tags": ["vip"],
                }
            ],
            "group_name": "Clientes Black Friday",
            "tags": ["black-friday", "promocao"],
            "merge_strategy": "update",
        }
    )
    report = import_json(registered, request, ports, now=T0)
    assert counts(report) == (1, 0, 0, 0)
    assert table(deps, registered) == {
        "+5561999999999": {
            "contact_id": contact_id_for("+5561999999999"),
            "phone": "+5561999999999",
            "name": "João Silva",
            "email": "joao@example.com",
            "groups": ["Clientes Black Friday"],
            "tags": ["black-friday", "promocao", "vip"],
            "custom_fields": [
                {"key": "cidade", "value": "Brasília"},
                {"key": "idade", "value": "35"},
            ],
            "timezone": "America/Sao_Paulo",
            "is_opted_out": False,
            "is_blacklisted": False,
            "created_at": T0,
            "updated_at": T0,
            "last_interaction": None,
            "bsuid": None,
        }
    }


def test_csv_upload_latin1_semicolons(deps: Container, tenant: Cnpj, ports: ContactPorts) -> None:
    content = csv_bytes(
        [
            ["Celular", "Nome", "Bairro"],
            ["(11) 8765-4321", "Conceição", "Sé"],
            ["11987650001", "", ""],
        ],
        delimiter=";",
        encoding="latin-1",
    )
    report = import_file(tenant, content, "clientes.csv", ImportOptions(), ports, now=T0)
    assert counts(report) == (2, 0, 0, 0)
    assert (report.encoding, report.delimiter) == ("cp1252", ";")
    rows = table(deps, tenant)
    assert rows["+5511987654321"]["name"] == "Conceição"
    assert rows["+5511987654321"]["custom_fields"] == [{"key": "bairro", "value": "Sé"}]
    assert rows["+5511987650001"]["name"] is None
    assert rows["+5511987650001"]["custom_fields"] == []


def test_xlsx_upload(deps: Container, tenant: Cnpj, ports: ContactPorts) -> None:
    content = xlsx_bytes(
        [["Telefone", "Nome", "Tags", "Pontos"], [5561999999999, "Ana", "vip, novo", 12]]
    )
    options = ImportOptions(group_name="Planilha")
    report = import_file(tenant, content, "clientes.xlsx", options, ports, now=T0)
    assert counts(report) == (1, 0, 0, 0)
    row = table(deps, tenant)["+5561999999999"]
    assert (row["name"], row["tags"], row["groups"]) == ("Ana", ["novo", "vip"], ["Planilha"])
    assert row["custom_fields"] == [{"key": "pontos", "value": "12"}]


def test_csv_text_in_a_json_body(deps: Container, tenant: Cnpj, ports: ContactPorts) -> None:
    request = JsonImportRequest(source="csv", data="phone,name\n11987654321,Ana\n")
    assert counts(import_json(tenant, request, ports, now=T0)) == (1, 0, 0, 0)
    assert table(deps, tenant)["+5511987654321"]["name"] == "Ana"


def test_no_staging_table_is_left_behind(
    deps: Container, tenant: Cnpj, ports: ContactPorts
) -> None:
    import_json(tenant, JsonImportRequest(data=[{"phone": "11987654321"}]), ports, now=T0)
    client = deps.bigquery_client
    names = {t.table_id for t in client.list_tables(f"{client.project}.{tenant.campaign_dataset}")}
    assert not [name for name in names if name.startswith("contacts_staging")]


# -- bad rows, idempotence -------------------------------------------------------------------


def test_bad_rows_are_reported_and_good_rows_land(
    deps: Container, tenant: Cnpj, ports: ContactPorts
) -> None:
    content = csv_bytes(
        [
            ["phone", "name", "email", "timezone"],
            ["11987650001", "Ana", "", ""],  # line 2
            ["11 3333-4444", "Fixo", "", ""],  # line 3: a landline
            ["11987650002", "Bia", "bia@", ""],  # line 4
            ["11987650003", "Caio", "", "Europe/Nowhere"],  # line 5
            ["11987650004", "Duda", "duda@x.com", "America/Recife"],  # line 6
            ["(11) 98765-0001", "Ana 2", "", ""],  # line 7: same phone as line 2
        ]
    )
    report = import_file(tenant, content, "c.csv", ImportOptions(), ports, now=T0)
    assert counts(report) == (2, 0, 0, 4)
    assert [(r.line, r.field, r.reason) for r in report.rejections] == [
        (3, "phone", "not_mobile"),
        (4, "email", "invalid_email"),
        (5, "timezone", "unknown_timezone"),
        (7, "phone", "duplicate_phone"),
    ]
    rows = table(deps, tenant)
    assert set(rows) == {"+5511987650001", "+5511987650004"}
    assert rows["+5511987650001"]["name"] == "Ana"  # the first occurrence won


@pytest.mark.parametrize("strategy", list(MergeStrategy))
def test_importing_the_same_file_twice_changes_nothing(
    deps: Container, tenant: Cnpj, ports: ContactPorts, strategy: MergeStrategy
) -> None:
    content = xlsx_bytes(
        [["phone", "name", "tags", "cidade"]]
        + [[f"1198765{index:04d}", f"Cliente {index}", "a, b", "Natal"] for index in range(7)]
    )
    options = ImportOptions(group_name="G", tags=["t"], merge_strategy=strategy)
    first = import_file(tenant, content, "c.xlsx", options, ports, now=T0)
    assert counts(first) == (7, 0, 0, 0)
    before = table(deps, tenant)
    second = import_file(tenant, content, "c.xlsx", options, ports, now=T1)
    assert (second.created, second.updated, second.skipped) == (0, 0, 7)
    reason = "exists" if strategy is MergeStrategy.SKIP else "unchanged"
    assert second.skipped_by_reason[reason] == 7
    assert table(deps, tenant) == before  # updated_at not bumped either


# -- strategies --------------------------------------------------------------------------------


def seed(deps: Container, cnpj: Cnpj, ports: ContactPorts) -> None:
    """One contact with everything set, then opted out and blacklisted (as another path would)."""
    request = JsonImportRequest(
        data=[
            {
                "phone": "11987654321",
                "name": "Ana",
                "email": "ana@x.com",
                "timezone": "America/Manaus",
                "tags": ["old"],
                "groups": ["Gold"],
                "custom_fields": {"bairro": "Centro", "cidade": "Manaus"},
            }
        ]
    )
    import_json(cnpj, request, ports, now=T0)
    list(
        deps.warehouse.query(
            f"UPDATE `{cnpj.campaign_dataset}.contacts` SET is_opted_out = TRUE, "  # noqa: S608
            "is_blacklisted = TRUE, last_interaction = @at WHERE phone = @phone",
            {"at": T1, "phone": "+5511987654321"},
        )
    )


INCOMING = [
    ["phone", "name", "email", "tags", "cidade", "idade"],
    ["11987654321", "Ana Souza", "", "new", "Belém", "35"],
    ["11987650009", "Nova", "", "", "", ""],
]


def test_skip_keeps_existing_contacts(deps: Container, tenant: Cnpj, ports: ContactPorts) -> None:
    seed(deps, tenant, ports)
    before = table(deps, tenant)["+5511987654321"]
    options = ImportOptions(merge_strategy="skip", tags=["t"])
    report = import_file(tenant, csv_bytes(INCOMING), "c.csv", options, ports, now=T2)
    assert counts(report) == (1, 0, 1, 0)
    assert report.skipped_by_reason == {"unchanged": 0, "exists": 1}
    rows = table(deps, tenant)
    assert rows["+5511987654321"] == before
    assert rows["+5511987650009"]["tags"] == ["t"]


def test_update_merges_fields_tags_and_custom_fields(
    deps: Container, tenant: Cnpj, ports: ContactPorts
) -> None:
    seed(deps, tenant, ports)
    options = ImportOptions(merge_strategy="update", group_name="BF")
    report = import_file(tenant, csv_bytes(INCOMING), "c.csv", options, ports, now=T2)
    assert counts(report) == (1, 1, 0, 0)
    row = table(deps, tenant)["+5511987654321"]
    assert row == {
        **row,
        "name": "Ana Souza",
        "email": "ana@x.com",  # empty cell: kept
        "timezone": "America/Manaus",
        "groups": ["BF", "Gold"],
        "tags": ["new", "old"],
        "custom_fields": [
            {"key": "bairro", "value": "Centro"},
            {"key": "cidade", "value": "Belém"},
            {"key": "idade", "value": "35"},
        ],
        "is_opted_out": True,
        "is_blacklisted": True,
        "created_at": T0,
        "updated_at": T2,
        "last_interaction": T1,
        "bsuid": None,
    }


def test_replace_replaces_but_keeps_opt_out_and_created_at(
    deps: Container, tenant: Cnpj, ports: ContactPorts
) -> None:
    seed(deps, tenant, ports)
    options = ImportOptions(merge_strategy="replace")
    report = import_file(tenant, csv_bytes(INCOMING), "c.csv", options, ports, now=T2)
    assert counts(report) == (1, 0, 0, 0)
    assert report.replaced == 1  # counted apart from updated: the replace strategy's
    row = table(deps, tenant)["+5511987654321"]
    assert row == {
        "contact_id": contact_id_for("+5511987654321"),
        "phone": "+5511987654321",
        "name": "Ana Souza",
        "email": None,
        "groups": [],
        "tags": ["new"],
        "custom_fields": [{"key": "cidade", "value": "Belém"}, {"key": "idade", "value": "35"}],
        "timezone": None,
        "is_opted_out": True,
        "is_blacklisted": True,
        "created_at": T0,
        "updated_at": T2,
        "last_interaction": T1,
        "bsuid": None,
    }


# -- tags --------------------------------------------------------------------------------------


def test_tags_added_and_removed_by_id_and_by_phone(
    deps: Container, tenant: Cnpj, ports: ContactPorts
) -> None:
    data = [{"phone": f"1198765000{i}", "tags": ["a", "ção"]} for i in range(5)]
    import_json(tenant, JsonImportRequest(data=data), ports, now=T0)
    request = TagUpdateRequest(
        contact_ids=[contact_id_for("+5511987650000"), contact_id_for("+5511987650001"),
                     contact_id_for("+5511900000000")],
        phone_numbers=["(11) 98765-0002", "11 98765 0003", "11987659999", "12"],
        add=["Zebra", "Ávila", "b"],
        remove=["a"],
    )  # fmt: skip
    report = update_tags(tenant, request, ports, now=T1)
    assert (report.matched, report.changed, report.unchanged) == (4, 4, 0)
    assert report.unknown_ids == [contact_id_for("+5511900000000")]
    assert report.unknown_phones == ["11987659999"]
    assert [(r.line, r.reason) for r in report.invalid_phones] == [(3, "invalid_phone")]
    rows = table(deps, tenant)
    for index in range(4):
        row = rows[f"+551198765000{index}"]
        assert (row["tags"], row["updated_at"]) == (["b", "zebra", "ávila", "ção"], T1)
    untouched = rows["+5511987650004"]
    assert (untouched["tags"], untouched["updated_at"]) == (["a", "ção"], T0)

    again = update_tags(tenant, request, ports, now=T2)  # SQL and Python agree on the order
    assert (again.matched, again.changed, again.unchanged) == (4, 0, 4)
    assert table(deps, tenant) == rows

    removal = TagUpdateRequest(phone_numbers=["11987650004"], remove=["ção", "missing"])
    assert update_tags(tenant, removal, ports, now=T2).changed == 1
    assert table(deps, tenant)["+5511987650004"]["tags"] == ["a"]


# -- the lease ---------------------------------------------------------------------------------


class WatchedStore:
    """The real store, counting mutating statements in flight.

    Each write waits at a two-party barrier (4 s at most) before running, so a second write
    that is not serialised behind the first is in flight at the same time, every time.
    """

    def __init__(self, inner: ContactStore) -> None:
        self._inner = inner
        self._guard = threading.Lock()
        self._barrier = threading.Barrier(2, timeout=4)
        self.in_flight = 0
        self.max_in_flight = 0
        self.writes = 0

    def find(self, cnpj: Cnpj, contact_ids: Sequence[str]) -> list[StoredContact]:
        return self._inner.find(cnpj, contact_ids)

    def upsert(self, cnpj: Cnpj, contacts: Sequence[StoredContact]) -> None:
        with self._writing():
            self._inner.upsert(cnpj, contacts)

    def retag(
        self,
        cnpj: Cnpj,
        contact_ids: Sequence[str],
        add: Sequence[str],
        remove: Sequence[str],
        now: datetime,
    ) -> int:
        with self._writing():
            return self._inner.retag(cnpj, contact_ids, add, remove, now)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        with self._guard:
            self.in_flight += 1
            self.writes += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            with contextlib.suppress(threading.BrokenBarrierError):
                self._barrier.wait()  # broken: no second writer came (serialised), go on alone
            yield
        finally:
            with self._guard:
                self.in_flight -= 1


class NoLock:
    """What the service would do without the lease (the control experiment)."""

    @contextmanager
    def hold(self, cnpj: Cnpj) -> Iterator[NoLock]:
        yield self

    def renew(self) -> None:
        pass


def run_two_imports(tenant: Cnpj, store: WatchedStore, lock: ContactsLock) -> list[ImportReport]:
    """Two imports of the same phones with different tags, started together."""
    ports = ContactPorts(store=store, lock=lock)
    start = threading.Barrier(2)

    def run(tag: str) -> ImportReport:
        data = [{"phone": f"1198765000{i}", "tags": [tag]} for i in range(4)]
        start.wait()
        return import_json(tenant, JsonImportRequest(data=data), ports, now=T0)

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(run, ["first", "second"]))


def test_the_lease_serialises_two_concurrent_imports(
    deps: Container, tenant: Cnpj, store: BigQueryContactStore, lock: FirestoreContactsLock
) -> None:
    watched = WatchedStore(store)
    reports = run_two_imports(tenant, watched, lock)
    assert (watched.writes, watched.max_in_flight) == (2, 1)
    assert sorted((r.created, r.updated) for r in reports) == [(0, 4), (4, 0)]
    rows = table(deps, tenant)
    assert len(rows) == 4
    assert all(row["tags"] == ["first", "second"] for row in rows.values())  # no lost update
    assert not lock.document(tenant).get().exists  # released


def test_without_the_lease_the_writes_overlap(tenant: Cnpj, store: BigQueryContactStore) -> None:
    """The control: proves the watcher sees overlapping writes when nothing serialises them."""
    watched = WatchedStore(store)
    reports = run_two_imports(tenant, watched, NoLock())
    assert (watched.writes, watched.max_in_flight) == (2, 2)
    assert [(r.created, r.updated) for r in reports] == [(4, 0), (4, 0)]  # both planned blind


def test_a_tag_change_waits_for_a_running_import(
    tenant: Cnpj, store: BigQueryContactStore, lock: FirestoreContactsLock, ports: ContactPorts
) -> None:
    import_json(tenant, JsonImportRequest(data=[{"phone": "11987650000"}]), ports, now=T0)
    watched = WatchedStore(store)
    watched_ports = ContactPorts(store=watched, lock=lock)
    start = threading.Barrier(2)

    def importing() -> object:
        start.wait()
        request = JsonImportRequest(data=[{"phone": "11987650000", "name": "X"}])
        return import_json(tenant, request, watched_ports, now=T1)

    def tagging() -> object:
        start.wait()
        request = TagUpdateRequest(phone_numbers=["11987650000"], add=["t"])
        return update_tags(tenant, request, watched_ports, now=T1)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(importing), pool.submit(tagging)]:
            future.result()
    assert (watched.writes, watched.max_in_flight) == (2, 1)


def test_a_stale_lease_is_taken_over_and_a_live_one_waited_for(
    new_cnpj: Cnpj, deps: Container
) -> None:
    # Stale or live by the lock's own clock, stopped at T0 (years from the wall clock's now).
    lock = FirestoreContactsLock(deps.firestore_client, lambda: T0, max_wait_seconds=0.5)
    document = lock.document(new_cnpj)
    document.set({"holder": "crashed", "expiresAt": T0 - timedelta(seconds=1)})
    with lock.hold(new_cnpj):
        taken = document.get().to_dict() or {}
        assert taken.get("holder") not in (None, "crashed")
        assert (taken["acquiredAt"], taken["expiresAt"]) == (T0, T0 + LEASE_TTL)
    assert not document.get().exists

    document.set({"holder": "busy", "expiresAt": T0 + timedelta(minutes=5)})
    with pytest.raises(ContactsBusy), lock.hold(new_cnpj):
        pytest.fail("entered a lease someone else holds")
    assert document.get().get("holder") == "busy"


def test_a_lost_lease_is_neither_renewed_nor_released(new_cnpj: Cnpj, deps: Container) -> None:
    lock = FirestoreContactsLock(deps.firestore_client, deps.clock)
    document = lock.document(new_cnpj)
    with lock.hold(new_cnpj) as lease:
        lease.renew()  # still ours
        document.set({"holder": "next", "expiresAt": deps.clock() + timedelta(minutes=5)})
        with pytest.raises(TransientError, match="lost the lease"):
            lease.renew()
    assert document.get().get("holder") == "next"


def test_the_lease_is_released_when_the_import_fails(new_cnpj: Cnpj, deps: Container) -> None:
    lock = FirestoreContactsLock(deps.firestore_client, deps.clock)
    with pytest.raises(RuntimeError), lock.hold(new_cnpj):
        raise RuntimeError("the import failed")
    assert not lock.document(new_cnpj).get().exists
