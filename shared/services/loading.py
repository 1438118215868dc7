"""``campaigns load``: replace a tenant's tables with files, after checking every row.

A load replaces a whole table, so a half-valid file must not land: every file is checked
first (header, column names, each value against the column's BigQuery type) and nothing is
loaded unless all of them pass. Problems are reported with file, line and column.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError
from shared.ports import Warehouse

REQUIRED_TABLES = ("clientes", "vendas")
OPTIONAL_TABLES = ("message_history",)
MAX_REPORTED_PROBLEMS = 20

# The grammars BigQuery's loader accepts (ASCII only: Python's float() and int() would also
# take "١٢", "1_000" or " 12 ", which BigQuery rejects after other tables were replaced).
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?)?"
    r"(?: ?(?:Z|UTC|[+-](?:0\d|1[0-4])(?::?[0-5]\d)?))?$",
    re.ASCII,
)
_FLOAT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$", re.ASCII)
_INTEGER = re.compile(r"^[+-]?\d+$", re.ASCII)
_BOOLEAN = {"true", "false", "1", "0"}


class LoadRejected(FieldError):
    """One or more files cannot be loaded; ``problems`` lists each one with its place."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("files", "; ".join(problems[:MAX_REPORTED_PROBLEMS]))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class SourceFile:
    table: str
    dataset: str
    path: Path
    file_format: str  # "csv" | "ndjson"


def _valid_timestamp(value: str) -> bool:
    match = _TIMESTAMP.match(value)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _valid_date(value: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, re.ASCII):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


_CHECKS: dict[str, Callable[[str], bool]] = {
    "TIMESTAMP": _valid_timestamp,
    "DATE": _valid_date,
    "FLOAT": _matches(_FLOAT),
    "FLOAT64": _matches(_FLOAT),
    "INTEGER": _matches(_INTEGER),
    "INT64": _matches(_INTEGER),
    "BOOLEAN": lambda value: value.lower() in _BOOLEAN,
    "BOOL": lambda value: value.lower() in _BOOLEAN,
}


def find_sources(cnpj: Cnpj, directory: Path) -> list[SourceFile]:
    sources = []
    for table in REQUIRED_TABLES + OPTIONAL_TABLES:
        dataset = cnpj.campaign_dataset if table in OPTIONAL_TABLES else cnpj.raw_dataset
        found = [
            SourceFile(table, dataset, directory / f"{table}.{fmt}", fmt)
            for fmt in ("csv", "ndjson")
            if (directory / f"{table}.{fmt}").exists()
        ]
        if len(found) > 1:
            raise LoadRejected([f"{table}: both {table}.csv and {table}.ndjson exist; keep one"])
        if not found and table in REQUIRED_TABLES:
            raise LoadRejected([f"{table}: {directory}/{table}.csv or .ndjson is required"])
        sources.extend(found)
    return sources


def problems_in(source: SourceFile, column_types: dict[str, str]) -> list[str]:
    reader = _csv_rows if source.file_format == "csv" else _ndjson_rows
    problems: list[str] = []
    name = source.path.name
    try:
        for line, row in reader(source.path, list(column_types)):
            if isinstance(row, str):
                problems.append(f"{name}:{line}: {row}")
                continue
            for column, value in row.items():
                if column not in column_types:
                    problems.append(f"{name}:{line}: unknown column {column!r}")
                    continue
                if value in (None, ""):
                    continue
                if isinstance(value, dict | list):
                    problems.append(
                        f"{name}:{line}: column {column!r}: nested values are not allowed"
                    )
                    continue
                check = _CHECKS.get(column_types[column])
                if check is not None and not check(str(value)):
                    problems.append(
                        f"{name}:{line}: column {column!r}: {value!r} is not a valid "
                        f"{column_types[column]}"
                    )
            if len(problems) >= MAX_REPORTED_PROBLEMS:
                break
    except _HeaderMismatch as mismatch:
        problems.append(f"{name}:1: {mismatch}")
    except (UnicodeDecodeError, csv.Error) as error:
        problems.append(f"{name}: unreadable: {error}")
    return problems


class _HeaderMismatch(Exception):
    pass


Row = dict[str, Any] | str
"""A parsed row, or the reason the line could not be parsed."""


def _csv_rows(path: Path, columns: list[str]) -> Iterator[tuple[int, Row]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != columns:
            missing = [c for c in columns if c not in (header or [])]
            extra = [c for c in (header or []) if c not in columns]
            detail = f"missing {missing}" if missing else ""
            detail += f"{'; ' if detail else ''}unexpected {extra}" if extra else ""
            raise _HeaderMismatch(
                f"header must be {','.join(columns)}" + (f" ({detail})" if detail else " (order)")
            )
        for line, values in enumerate(reader, start=2):
            if len(values) != len(columns):
                yield line, f"{len(values)} fields, expected {len(columns)}"
                continue
            yield line, dict(zip(columns, values, strict=True))


def _ndjson_rows(path: Path, _columns: list[str]) -> Iterator[tuple[int, Row]]:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as error:
                yield line, f"invalid JSON ({error.msg})"
                continue
            if not isinstance(row, dict):
                yield line, "not a JSON object"
                continue
            yield line, row


def load_tenant_files(cnpj: Cnpj, directory: Path, warehouse: Warehouse) -> dict[str, int]:
    """Check every file, then replace each table; returns rows loaded per table."""
    if not directory.is_dir():
        raise LoadRejected([f"{directory} is not a directory"])
    sources = find_sources(cnpj, directory)
    problems: list[str] = []
    for source in sources:
        problems.extend(problems_in(source, warehouse.column_types(source.dataset, source.table)))
    if problems:
        raise LoadRejected(problems)
    return {
        source.table: warehouse.replace_table(
            source.dataset, source.table, str(source.path), source.file_format
        )
        for source in sources
    }
