"""Terraform's tenant tables (tables.json) are the tables the local DDL really creates.

``infra/modules/tenant/tables.json`` is generated from ``sql/ddl`` by a small parser; this
runs the same DDL on the BigQuery emulator (as ``tenant add`` does) and compares the schema
the engine reports, column by column, nested fields included, with what Terraform will
create. (The emulator reports no partitioning or clustering; tests/infra checks those from
the DDL text.)
"""

from __future__ import annotations

import json
from typing import Any

from google.cloud import bigquery

from shared.bootstrap import Container
from shared.deploy.bigquery_schema import OUTPUT, TABLE_FILES, VIEW_FILES
from shared.domain.cnpj import Cnpj
from shared.services.tenants import TABLE_DDL, register_tenant


def as_terraform(field: bigquery.SchemaField) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": field.name, "mode": field.mode, "type": field.field_type}
    if field.fields:
        entry["fields"] = [as_terraform(inner) for inner in field.fields]
    return entry


def test_terraform_creates_every_table_the_local_stack_creates() -> None:
    assert sorted(TABLE_DDL) == sorted(TABLE_FILES + VIEW_FILES)


def test_ddl_tables_have_the_terraform_schema(deps: Container, new_cnpj: Cnpj) -> None:
    register_tenant(
        new_cnpj,
        name=None,
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,
    )
    datasets = {"raw": new_cnpj.raw_dataset, "campaign": new_cnpj.campaign_dataset}
    project = deps.settings.google_cloud_project
    declared = json.loads(OUTPUT.read_text(encoding="utf-8"))

    for table in declared["tables"]:
        created = deps.bigquery_client.get_table(
            f"{project}.{datasets[table['dataset']]}.{table['name']}"
        )
        assert [as_terraform(field) for field in created.schema] == table["schema"], table["name"]
    for view in declared["views"]:
        created = deps.bigquery_client.get_table(
            f"{project}.{datasets[view['dataset']]}.{view['name']}"
        )
        assert created.table_type == "VIEW"
