"""Every read of a partitioned table by a targeting query is bounded by its partition column.

BigQuery bills (and waits for) every partition a query cannot rule out, and it rules one out
only from a filter on the partitioning column itself. The hourly targeting runs for every
tenant, so each of its reads of ``vendas`` (partitioned by day of ``data``) and
``message_history`` (by day of ``sent_at``) must carry a lower bound given as a parameter.
The partitioning comes from the DDL itself, so a new partitioned table is covered too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.deploy.bigquery_schema import TABLE_FILES, table_definition
from shared.sqlfiles import SQL_DIR

PARTITIONED = {
    table["name"]: table["partition_field"]
    for table in map(table_definition, TABLE_FILES)
    if table["partition_field"]
}
TARGETING = sorted((SQL_DIR / "targeting").glob("*.sql"))
_READ = re.compile(r"\b(?:FROM|JOIN)\s+`\{\w+_dataset\}\.(\w+)`")


def reads(sql: str) -> list[tuple[str, str]]:
    """(table, the text up to the next read) for each table the query reads (FROM or JOIN)."""
    code = "\n".join(line.split("--")[0] for line in sql.splitlines())
    matches = list(_READ.finditer(code))
    return [
        (match[1], code[match.end() : matches[i + 1].start() if i + 1 < len(matches) else None])
        for i, match in enumerate(matches)
    ]


def test_the_ddl_partitions_sales_and_history() -> None:
    assert PARTITIONED == {"vendas": "data", "message_history": "sent_at"}


@pytest.mark.parametrize("path", TARGETING, ids=lambda path: path.stem)
def test_targeting_reads_are_pruned(path: Path) -> None:
    sql = path.read_text(encoding="utf-8")
    partitioned_reads = [(table, rest) for table, rest in reads(sql) if table in PARTITIONED]
    assert partitioned_reads, "every targeting query reads at least the history"
    for table, rest in partitioned_reads:
        bound = re.compile(rf"\b{PARTITIONED[table]}\s*>=\s*@\w+")
        assert bound.search(rest), f"{table} is read without a lower bound on its partition column"


def test_an_unbounded_read_is_caught() -> None:
    sql = "SELECT 1 FROM `{raw_dataset}.vendas` WHERE status = 'COMPLETED' AND data < @as_of"
    [(table, rest)] = reads(sql)
    assert table == "vendas"
    assert not re.search(r"\bdata\s*>=\s*@\w+", rest)
