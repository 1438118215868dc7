"""The tenant tables of ``sql/ddl`` as Terraform reads them: ``infra/modules/tenant/tables.json``.

The local stack creates a tenant's tables by running the DDL files; production creates them
with Terraform. Generating Terraform's input from the same files keeps the two identical
(columns, types, partitioning, clustering and the view's query), and a test fails when the
generated file is older than the DDL. Run ``python -m shared.deploy.bigquery_schema`` after
changing a DDL file.
"""

from __future__ import annotations

import json
import re
from typing import Any

from shared.sqlfiles import SQL_DIR

OUTPUT = SQL_DIR.parent / "infra" / "modules" / "tenant" / "tables.json"
TABLE_FILES = (
    "ddl/raw_clientes.sql",
    "ddl/raw_vendas.sql",
    "ddl/campaign_contacts.sql",
    "ddl/campaign_message_history.sql",
)
VIEW_FILES = ("ddl/customer_profile_view.sql",)

_TABLE = re.compile(
    r"CREATE TABLE IF NOT EXISTS `\{(?P<dataset>raw|campaign)_dataset\}\.(?P<name>\w+)` \("
    r"(?P<columns>.*)\n\)"
    r"(?:\s*PARTITION BY DATE\((?P<partition>\w+)\))?"
    r"(?:\s*CLUSTER BY (?P<cluster>[\w, ]+))?\s*$",
    re.DOTALL,
)
_VIEW = re.compile(
    r"CREATE OR REPLACE VIEW `\{(?P<dataset>raw|campaign)_dataset\}\.(?P<name>\w+)` AS\n"
    r"(?P<query>.*)$",
    re.DOTALL,
)
# Standard SQL names -> the names BigQuery's API reports (anything else would show as a diff).
_API_TYPES = {"INT64": "INTEGER", "FLOAT64": "FLOAT", "BOOL": "BOOLEAN", "STRUCT": "RECORD"}


def _without_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside ``<...>`` (STRUCT fields are separated by commas too)."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += {"<": 1, ">": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def _field(definition: str) -> dict[str, Any]:
    name, sql_type = definition.split(None, 1)
    field: dict[str, Any] = {"name": name, "mode": "NULLABLE"}
    sql_type = sql_type.strip()
    if sql_type.startswith("ARRAY<") and sql_type.endswith(">"):
        field["mode"] = "REPEATED"
        sql_type = sql_type[len("ARRAY<") : -1]
    if sql_type.startswith("STRUCT<") and sql_type.endswith(">"):
        field["type"] = "RECORD"
        field["fields"] = [_field(part) for part in _split_top_level(sql_type[7:-1])]
    else:
        field["type"] = _API_TYPES.get(sql_type, sql_type)
    return field


def table_definition(relative_path: str) -> dict[str, Any]:
    """One CREATE TABLE file as {name, dataset, schema, partition_field, clustering}."""
    sql = _without_comments((SQL_DIR / relative_path).read_text(encoding="utf-8")).strip()
    match = _TABLE.match(sql)
    if match is None:
        raise ValueError(f"{relative_path}: not a CREATE TABLE this generator understands")
    cluster = match["cluster"]
    return {
        "name": match["name"],
        "dataset": match["dataset"],
        "schema": [_field(column) for column in _split_top_level(match["columns"])],
        "partition_field": match["partition"],
        "clustering": [name.strip() for name in cluster.split(",")] if cluster else [],
    }


def view_definition(relative_path: str) -> dict[str, Any]:
    """One CREATE VIEW file as {name, dataset, query}; the query keeps its dataset placeholders."""
    sql = _without_comments((SQL_DIR / relative_path).read_text(encoding="utf-8")).strip()
    match = _VIEW.match(sql)
    if match is None:
        raise ValueError(f"{relative_path}: not a CREATE VIEW this generator understands")
    return {"name": match["name"], "dataset": match["dataset"], "query": match["query"] + "\n"}


def render() -> str:
    document = {
        "_generated_by": "python -m shared.deploy.bigquery_schema (from sql/ddl; do not edit)",
        "tables": [table_definition(path) for path in TABLE_FILES],
        "views": [view_definition(path) for path in VIEW_FILES],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
