"""Reading contact imports without I/O: JSON, CSV and Excel rows with their line numbers and
the reasons of rejected rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import openpyxl
import pydantic
import pytest

from shared.domain import contact_parsing
from shared.domain.contact_parsing import (
    ContactRow,
    parse_csv,
    parse_csv_text,
    parse_json,
    parse_upload,
    parse_xlsx,
)
from shared.domain.contacts import MAX_FILE_BYTES, MAX_ROWS, ImportTooLarge, JsonImportRequest
from shared.domain.errors import FieldError


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


def lines_and_reasons(parsed: contact_parsing.ParsedImport) -> list[tuple[int, str, str]]:
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
        parse_json([{"phone_number": "11987654321"}] * (MAX_ROWS + 1))
    assert error.value.field == "data"


def test_json_request_source_and_data_must_agree() -> None:
    with pytest.raises(pydantic.ValidationError):
        JsonImportRequest.model_validate({"source": "json", "data": "phone\n1"})
    with pytest.raises(pydantic.ValidationError):
        JsonImportRequest.model_validate({"source": "csv", "data": [{}]})
    request = JsonImportRequest.model_validate(
        {"source": "csv", "data": "phone;nome\n11987654321;Ana\n", "tags": ["x"]}
    )
    parsed = contact_parsing.parse_json_request(request)
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
    monkeypatch.setattr(contact_parsing, "MAX_ROWS", 3)
    rows = [["phone"], ["11987654321"], ["bad"], [""], ["11987654322"]]  # the blank not counted
    assert parse_csv(csv_bytes(rows)).received == 3
    with pytest.raises(ImportTooLarge, match="more than 3 rows"):
        parse_csv(csv_bytes([*rows, ["x"]]))
    workbook = xlsx_bytes({(1, 1): "phone"} | {(row, 1): "x" for row in range(2, 6)})
    with pytest.raises(ImportTooLarge):
        parse_xlsx(workbook)
    with pytest.raises(ImportTooLarge, match="larger than"):
        parse_upload(b"phone\n" + b" " * MAX_FILE_BYTES, "big.csv")


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
