"""Reading a contact import — JSON rows, CSV text or file, an Excel sheet — into validated
rows that remember where they came from.

Imports are spreadsheets typed by hand, so one bad row must not sink the other 9,999: every
row is validated on its own and a bad one becomes a :class:`Rejection` naming its place in
the source (CSV file line counting the header as line 1, Excel sheet row, or index in the
JSON ``data`` array) and the reason. Only problems with the whole input (no phone column, too
many rows, an unreadable file) raise.

Choices (documented for the API):

* Known CSV/Excel columns, matched after folding case, accents and punctuation
  (``E-mail`` = ``email``, ``Telefone`` = ``telefone``): see :data:`COLUMN_ALIASES`. Every
  other titled column becomes a custom field whose key is the folded title
  (``Data de Nascimento`` -> ``data_de_nascimento``); columns named like a field an import may
  not set (:data:`RESERVED_COLUMNS`: opt-out flags, ids, timestamps) are ignored and listed.
* JSON rows are typed: the known keys (the same aliases) plus ``custom_fields`` (an object);
  an unknown key rejects the row, so a typo such as ``emial`` is reported, not stored.
* A phone that appears twice in one import (after normalisation, so ``(11) 8765-4321`` and
  ``+5511987654321`` are the same) is kept at its first occurrence; later ones are rejected
  as ``duplicate_phone`` naming the first line, so the caller sees the conflict. The same
  for a BSUID (``duplicate_bsuid``).
* A row may give a phone, a WhatsApp user id (``bsuid``, validated like a webhook's:
  :func:`~shared.domain.identity.parse_bsuid`) or both; neither is ``missing_phone``. A bad
  phone rejects the row even beside a good BSUID: a typo is never half-imported.
* An empty cell (or a missing/null JSON key) is "not given" (``None``); what that means for a
  stored value is the merge's to decide (:mod:`shared.domain.contact_merge`).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from functools import cache
from typing import Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict

from shared.domain.calendar import zone
from shared.domain.contacts import (
    LABEL_SEPARATORS,
    MAX_CUSTOM_FIELDS,
    MAX_CUSTOM_KEY,
    MAX_CUSTOM_VALUE,
    MAX_EMAIL,
    MAX_FILE_BYTES,
    MAX_LABELS,
    MAX_NAME,
    MAX_ROWS,
    ImportTooLarge,
    JsonImportRequest,
    contact_id_of,
    distinct_labels,
    normalize_group,
    normalize_tag,
)
from shared.domain.errors import FieldError
from shared.domain.identity import parse_bsuid
from shared.domain.phones import PhoneProblem, normalize_br_mobile

LineNumbering = Literal["data_index", "file_line", "sheet_row"]
"""``data_index``: 0-based index in the JSON ``data`` array; ``file_line``: CSV line, the
header is line 1 (a quoted value spanning lines counts them all); ``sheet_row``: Excel row."""
SourceFormat = Literal["json", "csv", "xlsx"]


class ContactField(StrEnum):
    PHONE = "phone_number"
    BSUID = "bsuid"
    NAME = "name"
    EMAIL = "email"
    TIMEZONE = "timezone"
    TAGS = "tags"
    GROUPS = "groups"


COLUMN_ALIASES: Mapping[str, ContactField] = {
    **dict.fromkeys(
        ("phone", "phone_number", "telefone", "celular", "whatsapp", "fone", "mobile"),
        ContactField.PHONE,
    ),
    **dict.fromkeys(
        ("bsuid", "user_id", "whatsapp_user_id", "wa_user_id"),
        ContactField.BSUID,
    ),
    **dict.fromkeys(("name", "nome", "nome_completo", "full_name"), ContactField.NAME),
    **dict.fromkeys(("email", "e_mail", "mail"), ContactField.EMAIL),
    **dict.fromkeys(("timezone", "time_zone", "tz", "fuso", "fuso_horario"), ContactField.TIMEZONE),
    **dict.fromkeys(("tags", "tag", "etiquetas"), ContactField.TAGS),
    **dict.fromkeys(("groups", "group", "grupo", "grupos"), ContactField.GROUPS),
}
"""Folded column title (or JSON key) -> field. Everything else in a file is a custom field."""

RESERVED_COLUMNS = frozenset(
    {
        "contact_id",
        "id",
        "is_opted_out",
        "opted_out",
        "opt_out",
        "optout",
        "is_blacklisted",
        "blacklisted",
        "created_at",
        "updated_at",
        "last_interaction",
    }
)
"""Columns an import may not set; ignored (and listed in the report), never custom fields."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def fold(text: str) -> str:
    """A column title or custom-field key as a key: lower case, no accents, ``_`` separated."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return re.sub(r"[^0-9a-z]+", "_", bare).strip("_")


# -- parsed rows -----------------------------------------------------------------------------


class Rejection(BaseModel):
    """A row that was not imported: where it is, which field, and why."""

    model_config = ConfigDict(frozen=True)

    line: int
    field: str
    reason: str
    """A stable code: ``missing_phone``, ``invalid_phone``, ``not_mobile``, ``foreign_phone``,
    ``duplicate_phone``, ``invalid_bsuid``, ``duplicate_bsuid``, ``invalid_email``,
    ``unknown_timezone``, ``invalid_value``, ``too_long``, ``too_many``, ``unknown_field``,
    ``extra_cells``, ``not_an_object``."""
    detail: str


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One valid row; ``None`` means the source did not give the value."""

    line: int
    phone: str | None
    """E.164; None when the row gives only a BSUID."""
    name: str | None = None
    email: str | None = None
    timezone: str | None = None
    tags: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    custom_fields: tuple[tuple[str, str], ...] = ()
    """Sorted by key."""
    bsuid: str | None = None
    """The person's WhatsApp user id, when the row gives one."""

    @property
    def contact_id(self) -> str:
        return contact_id_of(self.phone, self.bsuid)


@dataclass(frozen=True, slots=True)
class ParsedImport:
    format: SourceFormat
    line_numbering: LineNumbering
    rows: tuple[ContactRow, ...]
    rejections: tuple[Rejection, ...]
    received: int
    """Data rows read (blank CSV/Excel rows are not counted)."""
    ignored_columns: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None


class _RowProblem(Exception):
    def __init__(self, field: str, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.reason = reason
        self.detail = detail


_PHONE_DETAIL = {
    PhoneProblem.MISSING: "no phone number",
    PhoneProblem.INVALID: "not a valid Brazilian phone number",
    PhoneProblem.NOT_MOBILE: "a landline: WhatsApp needs a mobile number",
    PhoneProblem.FOREIGN: "not a Brazilian (+55) number",
}


@cache
def _zone_names() -> Mapping[str, str]:
    """Lower-cased IANA name -> its canonical spelling (``america/sao_paulo`` is accepted)."""
    return {name.lower(): name for name in available_timezones()}


def _text(name: str, value: object, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _RowProblem(name, "invalid_value", "must be text")
    text = " ".join(value.split())
    if len(text) > limit:
        raise _RowProblem(name, "too_long", f"longer than {limit} characters")
    return text or None


def _phone(name: str, value: object, *, required: bool) -> str | None:
    """The E.164 phone; None when none is given and ``required`` is False (a BSUID is)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value is not None and not isinstance(value, str):
        raise _RowProblem(name, "invalid_value", "must be text")
    check = normalize_br_mobile(value)
    if check.e164 is None:
        problem = check.problem or PhoneProblem.INVALID
        if problem is PhoneProblem.MISSING and not required:
            return None
        detail = _PHONE_DETAIL[problem]
        if problem is PhoneProblem.MISSING:
            detail = "no phone number and no WhatsApp user id (bsuid)"
        raise _RowProblem(name, problem.value, detail)
    return check.e164


def _bsuid(name: str, value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _RowProblem(name, "invalid_value", "must be text")
    try:
        return parse_bsuid(value, name)
    except FieldError as error:
        raise _RowProblem(name, "invalid_bsuid", error.reason) from error


def _email(name: str, value: object) -> str | None:
    email = _text(name, value, MAX_EMAIL)
    if email is not None and not _EMAIL.fullmatch(email):
        raise _RowProblem(name, "invalid_email", "not an e-mail address")
    return email


def _timezone(name: str, value: object) -> str | None:
    text = _text(name, value, 64)
    if text is None:
        return None
    canonical = _zone_names().get(text.lower(), text)
    try:
        zone(canonical)
    except FieldError as error:
        raise _RowProblem(name, "unknown_timezone", error.reason) from error
    return canonical


def _label_list(name: str, value: object, normalize: Callable[[str], str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        items = [part for part in LABEL_SEPARATORS.split(value) if part.strip()]
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = [item for item in value if item.strip()]
    else:
        raise _RowProblem(name, "invalid_value", "must be a list of text")
    try:
        labels = distinct_labels(items, normalize)
    except ValueError as error:
        raise _RowProblem(name, "invalid_value", str(error)) from error
    if len(labels) > MAX_LABELS:
        raise _RowProblem(name, "too_many", f"more than {MAX_LABELS}")
    return tuple(labels)


def _custom_value(name: str, value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        value = str(value)
    if value is not None and not isinstance(value, str):
        raise _RowProblem(name, "invalid_value", "must be text, a number or a boolean")
    if value is None or not value.strip():
        return None
    text = value.strip()
    if len(text) > MAX_CUSTOM_VALUE:
        raise _RowProblem(name, "too_long", f"longer than {MAX_CUSTOM_VALUE} characters")
    return text


def _custom_fields(values: Iterable[tuple[str, str, object]]) -> tuple[tuple[str, str], ...]:
    """(name in the source, key, raw value) -> sorted (key, value) pairs with a value."""
    fields: dict[str, str] = {}
    for name, key, raw in values:
        value = _custom_value(name, raw)
        if value is not None:
            fields[key] = value
    if len(fields) > MAX_CUSTOM_FIELDS:
        raise _RowProblem("custom_fields", "too_many", f"more than {MAX_CUSTOM_FIELDS} fields")
    return tuple(sorted(fields.items()))


def _row(
    line: int,
    known: Mapping[ContactField, tuple[str, object]],
    custom: Iterable[tuple[str, str, object]],
) -> ContactRow:
    """Validate one row: ``known`` maps a field to (its name in the source, its raw value)."""

    def given(which: ContactField) -> tuple[str, object]:
        return known.get(which, (which.value, None))

    bsuid = _bsuid(*given(ContactField.BSUID))
    phone = _phone(*given(ContactField.PHONE), required=bsuid is None)
    return ContactRow(
        line=line,
        phone=phone,
        bsuid=bsuid,
        name=_text(*given(ContactField.NAME), MAX_NAME),
        email=_email(*given(ContactField.EMAIL)),
        timezone=_timezone(*given(ContactField.TIMEZONE)),
        tags=_label_list(*given(ContactField.TAGS), normalize_tag),
        groups=_label_list(*given(ContactField.GROUPS), normalize_group),
        custom_fields=_custom_fields(custom),
    )


def _collect(
    numbered: Iterable[tuple[int, ContactRow | _RowProblem]],
    what: str,
    fields: tuple[str, str],
    place: str,
) -> tuple[tuple[ContactRow, ...], tuple[Rejection, ...], int]:
    """Rows, rejections (duplicates included) and the count read; enforces :data:`MAX_ROWS`.

    ``fields`` names the phone and the BSUID in the source, ``place`` what a line number
    counts.
    """
    rows: list[ContactRow] = []
    rejections: list[Rejection] = []
    first_line: dict[tuple[str, str], int] = {}
    received = 0
    for line, result in numbered:
        received += 1
        if received > MAX_ROWS:
            raise ImportTooLarge(what, f"more than {MAX_ROWS} rows; split the import")
        if isinstance(result, _RowProblem):
            rejections.append(Rejection(**_problem_fields(line, result)))
            continue
        ids = (("phone", result.phone), ("bsuid", result.bsuid))
        given = [(kind, key) for kind, key in ids if key]
        seen = [pair for pair in given if pair in first_line]
        if seen:
            kind, key = seen[0]
            rejections.append(
                Rejection(
                    line=line,
                    field=fields[0] if kind == "phone" else fields[1],
                    reason=f"duplicate_{kind}",
                    detail=f"same {'number' if kind == 'phone' else 'WhatsApp user id'} as "
                    f"{place} {first_line[kind, key]}, which was imported",
                )
            )
            continue
        for pair in given:
            first_line[pair] = line
        rows.append(result)
    return tuple(rows), tuple(rejections), received


def _problem_fields(line: int, problem: _RowProblem) -> dict[str, Any]:
    return {
        "line": line,
        "field": problem.field,
        "reason": problem.reason,
        "detail": problem.detail,
    }


# -- JSON --------------------------------------------------------------------------------------


def parse_json(data: Sequence[object]) -> ParsedImport:
    """Rows of a JSON import; a rejection's ``line`` is the 0-based index in ``data``."""
    if len(data) > MAX_ROWS:
        raise ImportTooLarge("data", f"more than {MAX_ROWS} rows; split the import")
    rows, rejections, received = _collect(
        ((index, _json_row(index, item)) for index, item in enumerate(data)),
        "data",
        (ContactField.PHONE.value, ContactField.BSUID.value),
        "data index",
    )
    return ParsedImport("json", "data_index", rows, rejections, received)


def _json_row(index: int, item: object) -> ContactRow | _RowProblem:
    try:
        if not isinstance(item, dict):
            raise _RowProblem(f"data[{index}]", "not_an_object", "each row must be an object")
        known: dict[ContactField, tuple[str, object]] = {}
        custom: list[tuple[str, str, object]] = []
        for name, value in item.items():
            if name == "custom_fields":
                custom = _json_custom(value)
                continue
            which = COLUMN_ALIASES.get(fold(str(name)))
            if which is None:
                raise _RowProblem(
                    str(name), "unknown_field", "not a contact field; put it in custom_fields"
                )
            if which in known:
                raise _RowProblem(
                    str(name), "invalid_value", f"{known[which][0]!r} gives {which.value} too"
                )
            known[which] = (str(name), value)
        return _row(index, known, custom)
    except _RowProblem as problem:
        return problem


def _json_custom(value: object) -> list[tuple[str, str, object]]:
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _RowProblem("custom_fields", "invalid_value", "must be an object")
    custom: list[tuple[str, str, object]] = []
    keys: dict[str, str] = {}
    for raw_key, raw_value in value.items():
        name = f"custom_fields.{raw_key}"
        key = fold(str(raw_key))
        if not key or len(key) > MAX_CUSTOM_KEY:
            raise _RowProblem(name, "invalid_value", f"a key needs 1-{MAX_CUSTOM_KEY} letters")
        if key in keys:
            raise _RowProblem(name, "invalid_value", f"same key as {keys[key]!r}")
        keys[key] = str(raw_key)
        custom.append((name, key, raw_value))
    return custom


# -- CSV and Excel -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Columns:
    """What each column of a file's header means."""

    known: dict[int, tuple[ContactField, str]] = field(default_factory=dict)
    custom: dict[int, tuple[str, str]] = field(default_factory=dict)
    """index -> (title, key)."""
    ignored: tuple[str, ...] = ()
    width: int = 0

    def title(self, field: ContactField) -> str:
        titles = (title for which, title in self.known.values() if which is field)
        return next(titles, field.value)

    @property
    def identity_titles(self) -> tuple[str, str]:
        """The phone's and the BSUID's column titles, as a rejection names them."""
        return self.title(ContactField.PHONE), self.title(ContactField.BSUID)


def _columns(header: Sequence[str]) -> _Columns:
    columns = _Columns(width=len(header))
    ignored: list[str] = []
    seen: dict[str, str] = {}
    for index, raw_title in enumerate(header):
        title = raw_title.strip()
        key = fold(title)
        if not key:
            if title:
                ignored.append(title)
            continue
        which = COLUMN_ALIASES.get(key)
        meaning = which.value if which else key
        if key in RESERVED_COLUMNS:
            ignored.append(title)
            continue
        if meaning in seen:
            raise FieldError("file", f"columns {seen[meaning]!r} and {title!r} both give {meaning}")
        seen[meaning] = title
        if which is not None:
            columns.known[index] = (which, title)
        elif len(key) > MAX_CUSTOM_KEY:
            raise FieldError("file", f"column title {title[:20]!r}... is too long")
        else:
            columns.custom[index] = (title, key)
    if ContactField.PHONE.value not in seen and ContactField.BSUID.value not in seen:
        aliases = ", ".join(k for k, v in COLUMN_ALIASES.items() if v is ContactField.PHONE)
        raise FieldError(
            "file",
            f"no phone column in the header; name one of: {aliases} (or bsuid, for contacts "
            "known by their WhatsApp user id)",
        )
    return _Columns(columns.known, columns.custom, tuple(ignored), columns.width)


def _cells_row(line: int, cells: Sequence[str], columns: _Columns) -> ContactRow | _RowProblem:
    try:
        extra = [cell for cell in cells[columns.width :] if cell.strip()]
        if extra:
            raise _RowProblem(
                f"column {columns.width + 1}", "extra_cells", "more cells than header columns"
            )
        known = {
            which: (title, cells[index] if index < len(cells) else None)
            for index, (which, title) in columns.known.items()
        }
        custom = (
            (title, key, cells[index] if index < len(cells) else None)
            for index, (title, key) in columns.custom.items()
        )
        return _row(line, known, custom)
    except _RowProblem as problem:
        return problem


def _table(
    records: Iterator[tuple[int, list[str]]], what: str
) -> tuple[_Columns, Iterator[tuple[int, ContactRow | _RowProblem]]]:
    """The header (first non-blank record) and the validated data records after it."""
    for _, header in records:
        if any(cell.strip() for cell in header):
            columns = _columns(header)
            break
    else:
        raise FieldError(what, "the file has no header row")

    def rows() -> Iterator[tuple[int, ContactRow | _RowProblem]]:
        for line, cells in records:
            if any(cell.strip() for cell in cells):
                yield line, _cells_row(line, cells, columns)

    return columns, rows()


_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
"""In order: UTF-8 (with or without BOM); Windows-1252, what Excel in Brazil saves as "CSV";
Latin-1, which decodes anything."""
_DELIMITERS = (",", ";", "\t")


def _decode(content: bytes) -> tuple[str, str]:
    for encoding in _ENCODINGS:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not content.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _delimiter(text: str) -> str:
    """The delimiter whose reading of the header finds a phone (or BSUID) column, then the
    most columns."""
    first = next((line for line in text.splitlines() if line.strip()), "")

    def score(delimiter: str) -> tuple[bool, int]:
        try:
            titles = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:  # e.g. a header cell over the csv module's field limit
            return False, 0
        has_phone = any(
            COLUMN_ALIASES.get(fold(t)) in (ContactField.PHONE, ContactField.BSUID) for t in titles
        )
        return has_phone, len(titles)

    return max(_DELIMITERS, key=score)


def parse_csv_text(text: str, what: str = "file", encoding: str | None = None) -> ParsedImport:
    """Rows of CSV text; a rejection's ``line`` is the line in the file (header = line 1)."""
    if "\0" in text:
        raise FieldError(what, "not a text CSV file (it contains NUL bytes)")
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def records() -> Iterator[tuple[int, list[str]]]:
        start = 1
        try:
            for cells in reader:
                yield start, cells
                start = reader.line_num + 1
        except csv.Error as error:
            raise FieldError(what, f"line {start}: unreadable CSV ({error})") from error

    stream = records()
    columns, rows = _table(stream, what)
    kept, rejections, received = _collect(rows, what, columns.identity_titles, "line")
    return ParsedImport(
        "csv", "file_line", kept, rejections, received, columns.ignored, encoding, delimiter
    )


def parse_csv(content: bytes) -> ParsedImport:
    """An uploaded CSV file: encoding detected (UTF-8, Windows-1252, Latin-1), `,`/`;`/tab."""
    _check_size(content, "file")
    text, encoding = _decode(content)
    return parse_csv_text(text, "file", encoding)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed into a number cell: 5561999999999.0
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def parse_xlsx(content: bytes) -> ParsedImport:
    """The first sheet of an .xlsx workbook; a rejection's ``line`` is the sheet's row number."""
    import openpyxl  # only Excel imports pay for the import

    _check_size(content, "file")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise FieldError("file", "not a readable .xlsx workbook") from error
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record a wrong used range; read every row

        def records() -> Iterator[tuple[int, list[str]]]:
            for number, cells in enumerate(sheet.iter_rows(), start=1):
                rows = [getattr(cell, "row", None) for cell in cells]
                line = next((row for row in rows if row is not None), number)
                yield line, [_cell_text(cell.value) for cell in cells]

        columns, rows = _table(records(), "file")
        kept, rejections, received = _collect(rows, "file", columns.identity_titles, "row")
    finally:
        workbook.close()
    return ParsedImport("xlsx", "sheet_row", kept, rejections, received, columns.ignored)


def _check_size(content: bytes | str, what: str) -> None:
    if len(content) > MAX_FILE_BYTES:
        raise ImportTooLarge(what, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")


def parse_upload(content: bytes, filename: str) -> ParsedImport:
    """A multipart upload: ``.xlsx`` is Excel, ``.csv``/``.txt`` CSV (else sniffed from content)."""
    _check_size(content, "file")
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "xls":
        raise FieldError("file", "old .xls workbooks are not supported; save as .xlsx")
    is_zip = content.startswith(b"PK\x03\x04")
    if suffix == "xlsx" or (suffix not in ("csv", "txt") and is_zip):
        return parse_xlsx(content)
    if is_zip:
        raise FieldError("file", f"{filename!r} is a zip/Excel file, not CSV")
    return parse_csv(content)


def parse_json_request(request: JsonImportRequest) -> ParsedImport:
    if isinstance(request.data, str):
        _check_size(request.data, "data")
        return parse_csv_text(request.data, "data")
    return parse_json(request.data)
