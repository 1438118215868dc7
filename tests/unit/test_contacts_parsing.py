"""Contact imports without I/O: JSON, CSV and Excel parsing with line numbers, the merge rule of
each strategy, the request models, and the import/tag services over an in-memory store."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pydantic
import pytest

from shared.domain import contacts
from shared.domain.cnpj import Cnpj
from shared.domain.contacts import (
    ContactRow,
    ImportOptions,
    ImportTooLarge,
    JsonImportRequest,
    MergeStrategy,
    RowOutcome,
    StoredContact,
    TagUpdateRequest,
    contact_id_for,
    merge_row,
    parse_csv,
    parse_csv_text,
    parse_json,
    parse_upload,
    parse_xlsx,
    plan_import,
    retagged,
)
from shared.domain.errors import FieldError
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


def csv_bytes(
    rows: Sequence[Sequence[str]], delimiter: str = ",", encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(cells: Mapping[tuple[int, int], object]) -> bytes:
    """A one-sheet workbook with the given (row, column) -> value cells."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for (row, column), value in cells.items():
        sheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def lines_and_reasons(parsed: contacts.ParsedImport) -> list[tuple[int, str, str]]:
    return [(r.line, r.field, r.reason) for r in parsed.rejections]


# -- JSON --------------------------------------------------------------------------------------


def test_json_row_of_the_spec() -> None:
    parsed = parse_json(
        [
            {
                "phone_number": "+5561999999999",
                "name": "João  Silva ",
                "email": "joao@example.com",
                "custom_fields": {"cidade": "Brasília", "Idade": 35, "vip": True, "vazio": ""},
                "timezone": "america/sao_paulo",
                "tags": ["Black  Friday", "black friday", "VIP"],
                "groups": ["Clientes Gold"],
            }
        ]
    )
    assert parsed.format == "json"
    assert parsed.line_numbering == "data_index"
    assert parsed.rejections == ()
    assert parsed.rows == (
        ContactRow(
            line=0,
            phone="+5561999999999",
            name="João Silva",
            email="joao@example.com",
            timezone="America/Sao_Paulo",
            tags=("black friday", "vip"),
            groups=("Clientes Gold",),
            custom_fields=(("cidade", "Brasília"), ("idade", "35"), ("vip", "true")),
        ),
    )


def test_json_rejections_name_the_index_field_and_reason() -> None:
    parsed = parse_json(
        [
            {"phone_number": "(11) 98765-4321"},  # 0: fine
            {"phone_number": "1234"},  # 1
            "not an object",  # 2
            {"telefone": "11987650000", "emial": "x@y.com"},  # 3: typo of a field
            {"phone": "11 3333-4444"},  # 4: landline
            {"phone_number": "+1 415 555 0100"},  # 5: foreign
            {"name": "no phone"},  # 6
            {"phone_number": "11987650001", "email": "nope"},  # 7
            {"phone_number": "11987650002", "timezone": "Mars/Olympus"},  # 8
            {"phone_number": "+55 11 98765-4321"},  # 9: same as 0
            {"phone_number": "11987650003", "custom_fields": {"a": {"b": 1}}},  # 10
            {"phone_number": "11987650004", "tags": "a,b"},  # 11: a string is split
            {"phone_number": "11987650005", "phone": "11987650006"},  # 12: two phones
        ]
    )
    assert lines_and_reasons(parsed) == [
        (1, "phone_number", "invalid_phone"),
        (2, "data[2]", "not_an_object"),
        (3, "emial", "unknown_field"),
        (4, "phone", "not_mobile"),
        (5, "phone_number", "foreign_phone"),
        (6, "phone_number", "missing_phone"),
        (7, "email", "invalid_email"),
        (8, "timezone", "unknown_timezone"),
        (9, "phone_number", "duplicate_phone"),
        (10, "custom_fields.a", "invalid_value"),
        (12, "phone", "invalid_value"),
    ]
    assert "data index 0" in parsed.rejections[8].detail
    assert [row.line for row in parsed.rows] == [0, 11]
    assert parsed.rows[1].tags == ("a", "b")
    assert parsed.received == 13


def test_json_over_the_row_limit_is_refused_whole() -> None:
    with pytest.raises(ImportTooLarge) as error:
        parse_json([{"phone_number": "11987654321"}] * (contacts.MAX_ROWS + 1))
    assert error.value.field == "data"


def test_json_request_source_and_data_must_agree() -> None:
    with pytest.raises(pydantic.ValidationError):
        JsonImportRequest.model_validate({"source": "json", "data": "phone\n1"})
    with pytest.raises(pydantic.ValidationError):
        JsonImportRequest.model_validate({"source": "csv", "data": [{}]})
    request = JsonImportRequest.model_validate(
        {"source": "csv", "data": "phone;nome\n11987654321;Ana\n", "tags": ["x"]}
    )
    parsed = contacts.parse_json_request(request)
    assert parsed.format == "csv"
    assert parsed.rows[0].name == "Ana"


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_aliases_custom_fields_and_ignored_columns() -> None:
    content = csv_bytes(
        [
            ["Telefone", "Nome", "E-mail", "Fuso Horário", "Etiquetas", "Grupo",
             "Data de Nascimento", "Opt-out", ""],
            ["(61) 9999-9999", "Ana", "ana@x.com", "America/Manaus", "vip; novo", "Gold",
             "1990-01-02", "true", ""],
        ]
    )  # fmt: skip
    parsed = parse_csv(content)
    assert parsed.rejections == ()
    assert parsed.ignored_columns == ("Opt-out",)
    assert parsed.rows == (
        ContactRow(
            line=2,
            phone="+5561999999999",  # the ninth digit added
            name="Ana",
            email="ana@x.com",
            timezone="America/Manaus",
            tags=("vip", "novo"),
            groups=("Gold",),
            custom_fields=(("data_de_nascimento", "1990-01-02"),),
        ),
    )


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"), ("latin-1", "cp1252")],
)
def test_csv_encodings(encoding: str, expected: str) -> None:
    content = csv_bytes([["nome", "celular"], ["Conceição", "11987654321"]], encoding=encoding)
    parsed = parse_csv(content)
    assert parsed.encoding == expected
    assert parsed.rows[0].name == "Conceição"


def test_csv_bytes_only_latin1_can_decode() -> None:
    content = "phone,nome\n11987654321,Jos\x81\n".encode("latin-1")  # 0x81: undefined in cp1252
    parsed = parse_csv(content)
    assert parsed.encoding == "latin-1"
    assert parsed.rows[0].name == "Jos\x81"


def test_csv_windows_quotes_decode_as_cp1252() -> None:
    content = "phone;apelido\n11987654321;“Zé”\n".encode("cp1252")
    parsed = parse_csv(content)
    assert parsed.encoding == "cp1252"
    assert parsed.rows[0].custom_fields == (("apelido", "“Zé”"),)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiters_are_sniffed(delimiter: str) -> None:
    content = csv_bytes(
        [["name", "phone", "cidade"], ["Silva, Ana", "11987654321", "São Paulo; SP"]], delimiter
    )
    parsed = parse_csv(content)
    assert parsed.delimiter == delimiter
    assert parsed.rows[0].name == "Silva, Ana"
    assert parsed.rows[0].custom_fields == (("cidade", "São Paulo; SP"),)


def test_csv_line_numbers_count_the_header_blank_and_multiline_rows() -> None:
    text = (
        "phone,name,notes\r\n"  # 1
        "11987654321,Ana,ok\r\n"  # 2
        "\r\n"  # 3 (blank: not a row)
        '11 8765-4322,Bruno,"two\r\nlines"\r\n'  # 4-5
        "banana,Carla,\r\n"  # 6
        "11987654321,Ana again,\r\n"  # 7: same phone as line 2
        "11987654323,Dora,x,surplus\r\n"  # 8
        "11987654324,Eva,,\r\n"  # 9: an empty surplus cell is fine
        ",,\r\n"  # 10 (blank)
        "11987654325\r\n"  # 11: short rows are fine
    )
    parsed = parse_csv_text(text)
    assert lines_and_reasons(parsed) == [
        (6, "phone", "invalid_phone"),
        (7, "phone", "duplicate_phone"),
        (8, "column 4", "extra_cells"),
    ]
    assert "line 2" in parsed.rejections[1].detail
    assert [(row.line, row.phone) for row in parsed.rows] == [
        (2, "+5511987654321"),
        (4, "+5511987654322"),
        (9, "+5511987654324"),
        (11, "+5511987654325"),
    ]
    assert parsed.rows[1].custom_fields == (("notes", "two\r\nlines"),)
    assert parsed.received == 7


def test_a_phone_with_letters_is_a_rejected_line_and_the_good_rows_still_land() -> None:
    parsed = parse_csv_text("phone,name\n(61) 9abc-1234,Typo\n(61) 99222-1234,Real\n")
    assert lines_and_reasons(parsed) == [(2, "phone", "invalid_phone")]
    assert [(row.line, row.phone) for row in parsed.rows] == [(3, "+5561992221234")]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (["nome", "email"], "no phone column"),
        (["phone", "Telefone"], "both give phone_number"),
        (["phone", "Cidade", "cidade "], "both give cidade"),
    ],
)
def test_csv_headers_that_refuse_the_file(header: list[str], message: str) -> None:
    with pytest.raises(FieldError, match=message) as error:
        parse_csv(csv_bytes([header, ["1"] * len(header)]))
    assert error.value.field == "file"


def test_csv_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FieldError, match="no header"):
        parse_csv(b"\r\n\r\n")
    with pytest.raises(FieldError, match="NUL"):
        parse_csv(b"phone\n\x00\x01")
    monkeypatch.setattr(contacts, "MAX_ROWS", 3)
    rows = [["phone"], ["11987654321"], ["bad"], [""], ["11987654322"]]  # the blank not counted
    assert parse_csv(csv_bytes(rows)).received == 3
    with pytest.raises(ImportTooLarge, match="more than 3 rows"):
        parse_csv(csv_bytes([*rows, ["x"]]))
    workbook = xlsx_bytes({(1, 1): "phone"} | {(row, 1): "x" for row in range(2, 6)})
    with pytest.raises(ImportTooLarge):
        parse_xlsx(workbook)
    with pytest.raises(ImportTooLarge, match="larger than"):
        parse_upload(b"phone\n" + b" " * contacts.MAX_FILE_BYTES, "big.csv")


def test_header_only_csv_has_no_rows() -> None:
    parsed = parse_csv(b"phone,name\n")
    assert (parsed.rows, parsed.rejections, parsed.received) == ((), (), 0)


# -- Excel -------------------------------------------------------------------------------------


def test_xlsx_rows_are_sheet_rows_and_cells_become_text() -> None:
    content = xlsx_bytes(
        {
            (2, 1): "Celular", (2, 2): "Nome", (2, 3): "Aniversário", (2, 4): "Pontos",
            (3, 1): 5561999999999, (3, 2): "Ana", (3, 3): datetime(1990, 5, 17), (3, 4): 12.5,
            (6, 1): 11987654321.0, (6, 2): "Bruno", (6, 4): 3,
            (8, 1): "abc", (8, 2): "Carla",
            (9, 1): "+55 61 99999-9999", (9, 2): "Ana de novo",
        }
    )  # fmt: skip
    parsed = parse_xlsx(content)
    assert parsed.format == "xlsx"
    assert parsed.line_numbering == "sheet_row"
    assert [(row.line, row.phone, row.name) for row in parsed.rows] == [
        (3, "+5561999999999", "Ana"),
        (6, "+5511987654321", "Bruno"),
    ]
    assert parsed.rows[0].custom_fields == (("aniversario", "1990-05-17"), ("pontos", "12.5"))
    assert parsed.rows[1].custom_fields == (("pontos", "3"),)
    assert lines_and_reasons(parsed) == [
        (8, "Celular", "invalid_phone"),
        (9, "Celular", "duplicate_phone"),
    ]
    assert "row 3" in parsed.rejections[1].detail


def test_xlsx_dates_with_time_and_booleans() -> None:
    content = xlsx_bytes(
        {
            (1, 1): "phone", (1, 2): "visto", (1, 3): "ativo", (1, 4): "dia",
            (2, 1): "11987654321", (2, 2): datetime(2026, 1, 2, 13, 45), (2, 3): True,
            (2, 4): date(2026, 3, 4),
        }
    )  # fmt: skip
    parsed = parse_xlsx(content)
    assert dict(parsed.rows[0].custom_fields) == {
        "visto": "2026-01-02 13:45:00",
        "ativo": "true",
        "dia": "2026-03-04",
    }


def test_upload_dispatch_by_name_and_content() -> None:
    workbook = xlsx_bytes({(1, 1): "phone", (2, 1): "11987654321"})
    assert parse_upload(workbook, "contatos.xlsx").format == "xlsx"
    assert parse_upload(workbook, "upload").format == "xlsx"  # sniffed: a zip
    assert parse_upload(b"phone\n11987654321\n", "contatos.CSV").format == "csv"
    assert parse_upload(b"phone\n11987654321\n", "blob").format == "csv"
    with pytest.raises(FieldError, match="xls workbooks"):
        parse_upload(b"\xd0\xcf\x11\xe0", "old.xls")
    with pytest.raises(FieldError, match="not CSV"):
        parse_upload(workbook, "contatos.csv")
    with pytest.raises(FieldError, match=r"not a readable \.xlsx"):
        parse_upload(b"phone\n1\n", "contatos.xlsx")


# -- merging -----------------------------------------------------------------------------------


def stored(phone: str = "+5561999999999", **fields: Any) -> StoredContact:
    values: dict[str, Any] = {
        "contact_id": contact_id_for(phone),
        "phone": phone,
        "name": "Ana",
        "email": "ana@x.com",
        "groups": ("Gold",),
        "tags": ("old", "vip"),
        "custom_fields": (("bairro", "Asa Sul"), ("cidade", "Brasília")),
        "timezone": "America/Sao_Paulo",
        "is_opted_out": True,
        "is_blacklisted": True,
        "created_at": NOW,
        "updated_at": NOW,
        "last_interaction": NOW,
    }
    return StoredContact(**{**values, **fields})


ROW = ContactRow(
    line=2,
    phone="+5561999999999",
    name="Ana Souza",
    email=None,
    timezone=None,
    tags=("new",),
    groups=(),
    custom_fields=(("cidade", "Goiânia"), ("idade", "35")),
)
OPTIONS = ImportOptions(group_name="Black Friday", tags=["promo"])


def test_contact_id_is_stable_and_phone_derived() -> None:
    assert contact_id_for("+5561999999999") == contact_id_for("+5561999999999")
    assert contact_id_for("+5561999999999") != contact_id_for("+5561999999998")
    assert contacts.is_contact_id(contact_id_for("+5561999999999"))
    assert ROW.contact_id == contact_id_for(ROW.phone)


def test_new_contact_whatever_the_strategy() -> None:
    for strategy in MergeStrategy:
        outcome, contact = merge_row(None, ROW, strategy, OPTIONS, LATER)
        assert outcome is RowOutcome.CREATED
        assert contact == StoredContact(
            contact_id=ROW.contact_id,
            phone=ROW.phone,
            name="Ana Souza",
            email=None,
            groups=("Black Friday",),
            tags=("new", "promo"),
            custom_fields=ROW.custom_fields,
            timezone=None,
            is_opted_out=False,
            is_blacklisted=False,
            created_at=LATER,
            updated_at=LATER,
        )


def test_skip_keeps_the_stored_contact() -> None:
    assert merge_row(stored(), ROW, MergeStrategy.SKIP, OPTIONS, LATER) == (RowOutcome.EXISTS, None)


def test_update_merges_fields_tags_groups_and_custom_fields() -> None:
    outcome, contact = merge_row(stored(), ROW, MergeStrategy.UPDATE, OPTIONS, LATER)
    assert outcome is RowOutcome.UPDATED
    assert contact == stored(
        name="Ana Souza",  # given: overwritten
        email="ana@x.com",  # not given: kept
        timezone="America/Sao_Paulo",
        groups=("Black Friday", "Gold"),
        tags=("new", "old", "promo", "vip"),
        custom_fields=(("bairro", "Asa Sul"), ("cidade", "Goiânia"), ("idade", "35")),
        updated_at=LATER,
    )


def test_replace_replaces_but_keeps_flags_and_dates() -> None:
    outcome, contact = merge_row(stored(), ROW, MergeStrategy.REPLACE, OPTIONS, LATER)
    assert outcome is RowOutcome.UPDATED
    assert contact == stored(
        name="Ana Souza",
        email=None,
        timezone=None,
        groups=("Black Friday",),
        tags=("new", "promo"),
        custom_fields=ROW.custom_fields,
        updated_at=LATER,
    )
    assert contact.is_opted_out and contact.is_blacklisted
    assert contact.created_at == NOW and contact.last_interaction == NOW


@pytest.mark.parametrize("strategy", [MergeStrategy.UPDATE, MergeStrategy.REPLACE])
def test_a_merge_that_changes_nothing_writes_nothing(strategy: MergeStrategy) -> None:
    _, first = merge_row(None, ROW, strategy, OPTIONS, NOW)
    assert first is not None
    assert merge_row(first, ROW, strategy, OPTIONS, LATER) == (RowOutcome.UNCHANGED, None)


def test_update_with_less_information_is_unchanged() -> None:
    bare = ContactRow(line=1, phone="+5561999999999")
    assert merge_row(stored(), bare, MergeStrategy.UPDATE, ImportOptions(), LATER) == (
        RowOutcome.UNCHANGED,
        None,
    )
    outcome, contact = merge_row(stored(), bare, MergeStrategy.REPLACE, ImportOptions(), LATER)
    assert outcome is RowOutcome.UPDATED
    assert contact is not None
    assert (contact.name, contact.tags, contact.custom_fields) == (None, (), ())


def test_plan_counts_each_outcome() -> None:
    rows = [ROW, replace(ROW, phone="+5561988887777", line=3)]
    existing = {ROW.contact_id: stored()}
    for strategy, expected in [
        (MergeStrategy.SKIP, {RowOutcome.CREATED: 1, RowOutcome.EXISTS: 1}),
        (MergeStrategy.UPDATE, {RowOutcome.CREATED: 1, RowOutcome.UPDATED: 1}),
    ]:
        options = ImportOptions(merge_strategy=strategy)
        plan = plan_import(rows, existing, options, LATER)
        assert dict(plan.outcomes) == expected
        assert len(plan.writes) == sum(
            n for o, n in expected.items() if o in (RowOutcome.CREATED, RowOutcome.UPDATED)
        )


def test_retagged_is_sorted_distinct() -> None:
    assert retagged(("b", "a"), ["c", "a", "ção"], ["b"]) == ("a", "c", "ção")


# -- requests ----------------------------------------------------------------------------------


def test_import_options() -> None:
    options = ImportOptions.from_form(
        "  Clientes   Black Friday ", "Black-Friday, PROMOCAO", "skip"
    )
    assert options == ImportOptions(
        group_name="Clientes Black Friday",
        tags=["black-friday", "promocao"],
        merge_strategy=MergeStrategy.SKIP,
    )
    assert ImportOptions.from_form(None, ["a", "b;c"], None).tags == ["a", "b", "c"]
    assert ImportOptions.from_form("", None, None).group_name is None
    with pytest.raises(pydantic.ValidationError):
        ImportOptions.from_form(None, None, "merge")
    with pytest.raises(pydantic.ValidationError):
        ImportOptions(tags=["x" * 65])
    with pytest.raises(pydantic.ValidationError):
        ImportOptions(group_name="a|b")


def test_tag_request_validation() -> None:
    request = TagUpdateRequest(phone_numbers=["1"], add=[" VIP "], remove=["Old"])
    assert (request.add, request.remove) == (["vip"], ["old"])
    for body in [
        {"add": ["x"]},
        {"contact_ids": ["ct_1"]},
        {"contact_ids": ["ct_1"], "add": ["x"], "remove": ["X"]},
        {"contact_ids": ["a"] * 6_000, "phone_numbers": ["b"] * 5_000, "add": ["x"]},
    ]:
        with pytest.raises(pydantic.ValidationError):
            TagUpdateRequest.model_validate(body)


# -- the services over an in-memory store ------------------------------------------------------


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
    content = csv_bytes(
        [["phone", "name"], ["11987654321", "Ana"], ["x", "B"], ["11987654322", ""]]
    )
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
        "skipped": 0,
        "skipped_by_reason": {"unchanged": 0, "exists": 0},
        "rejected": 1,
        "rejections_truncated": False,
        "ignored_columns": [],
        "encoding": "utf-8",
        "delimiter": ",",
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
