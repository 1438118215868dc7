"""The loader's value checks accept exactly what BigQuery's CSV/NDJSON loader accepts."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.services.loading import SourceFile, problems_in

TYPES = {"data": "TIMESTAMP", "valor": "FLOAT", "n": "INTEGER"}


def _problems(tmp_path: Path, data: str, valor: str, n: str) -> list[str]:
    path = tmp_path / "vendas.csv"
    path.write_text(f"data,valor,n\n{data},{valor},{n}\n", encoding="utf-8")
    return problems_in(SourceFile("vendas", "X_RAW", path, "csv"), TYPES)


@pytest.mark.parametrize(
    ("data", "valor", "n"),
    [
        ("2026-11-20 14:03:00 UTC", "18.50", "3"),
        ("2026-11-20T14:03:00Z", "-1e3", "+7"),
        ("2026-11-20 14:03:00.123456+03:00", ".5", "-0"),
        ("2026-11-20", "12", "0"),
    ],
)
def test_values_bigquery_reads_pass(tmp_path: Path, data: str, valor: str, n: str) -> None:
    assert _problems(tmp_path, data, valor, n) == []


@pytest.mark.parametrize(
    ("data", "valor", "n", "column"),
    [
        ("2026-11-20 14:03:00", "١٢", "1", "valor"),  # Arabic-Indic digits: float() takes them
        ("2026-11-20 14:03:00", "1_000", "1", "valor"),  # so does the underscore
        ("2026-11-20 14:03:00", " 12 ", "1", "valor"),  # and surrounding blanks
        ("2026-11-20 14:03:00", "12", "1.0", "n"),
        ("2026-11-20 14:03:00+25:00", "12", "1", "data"),  # no such offset
        ("2026-13-20 14:03:00", "12", "1", "data"),
        ("20/11/2026", "12", "1", "data"),
    ],
)
def test_values_bigquery_rejects_are_reported_with_line_and_column(
    tmp_path: Path, data: str, valor: str, n: str, column: str
) -> None:
    problems = _problems(tmp_path, data, valor, n)
    assert len(problems) == 1
    assert problems[0].startswith(f"vendas.csv:2: column '{column}'")
