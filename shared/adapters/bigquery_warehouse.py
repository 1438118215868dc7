"""BigQuery as the Warehouse port: parameterised queries, DDL and file loads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from google.cloud import bigquery

from shared.adapters.errors import translated
from shared.ports import QueryValue

_PARAMETER_NAME = re.compile(r"@(\w+)")
_FORMATS = {
    "csv": bigquery.SourceFormat.CSV,
    "ndjson": bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
}


def _parameter(
    name: str, value: QueryValue
) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    if isinstance(value, list):
        numbers = bool(value) and all(
            isinstance(item, int | float) and not isinstance(item, bool) for item in value
        )
        return bigquery.ArrayQueryParameter(name, "FLOAT64" if numbers else "STRING", value)
    # Order matters: bool is an int, datetime is a date.
    for python_type, bigquery_type in (
        (bool, "BOOL"),
        (int, "INT64"),
        (float, "FLOAT64"),
        (datetime, "TIMESTAMP"),
        (date, "DATE"),
        (str, "STRING"),
    ):
        if isinstance(value, python_type):
            return bigquery.ScalarQueryParameter(name, bigquery_type, value)
    raise TypeError(f"unsupported query parameter {name}={value!r}")


class BigQueryWarehouse:
    def __init__(self, client: bigquery.Client) -> None:
        self._client = client

    def query(self, sql: str, params: Mapping[str, QueryValue]) -> Iterable[Mapping[str, Any]]:
        # Send only the parameters the SQL names: bqemulator rejects unused ones.
        named = set(_PARAMETER_NAME.findall(sql))
        config = bigquery.QueryJobConfig(
            query_parameters=[
                _parameter(name, value) for name, value in params.items() if name in named
            ]
        )
        with translated("BigQuery"):
            rows = self._client.query(sql, job_config=config).result(page_size=10_000)
        return _translating(rows)

    def run_ddl(self, sql: str) -> None:
        with translated("BigQuery"):
            self._client.query(sql).result()

    def ensure_dataset(self, name: str) -> None:
        with translated("BigQuery"):
            self._client.create_dataset(name, exists_ok=True)

    def replace_table(self, dataset: str, table: str, path: str, file_format: str) -> int:
        destination = f"{self._client.project}.{dataset}.{table}"
        with translated("BigQuery"):
            schema = self._client.get_table(destination).schema
            config = bigquery.LoadJobConfig(
                source_format=_FORMATS[file_format],
                schema=schema,
                write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
                skip_leading_rows=1 if file_format == "csv" else None,
                allow_quoted_newlines=True if file_format == "csv" else None,
            )
            with open(path, "rb") as source:
                job = self._client.load_table_from_file(source, destination, job_config=config)
            job.result()
            return int(job.output_rows or 0)

    def column_types(self, dataset: str, table: str) -> dict[str, str]:
        with translated("BigQuery"):
            table_ref = self._client.get_table(f"{self._client.project}.{dataset}.{table}")
        return {field.name: field.field_type for field in table_ref.schema}


def _translating(rows: Iterable[Any]) -> Iterator[Mapping[str, Any]]:
    """Rows arrive page by page, so errors can surface while iterating too."""
    with translated("BigQuery"):
        yield from rows
