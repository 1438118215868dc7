"""BigQuery as the ContactStore: ``{CNPJ}_CAMPAIGN.contacts`` read by id, written by MERGE.

An import's contacts go in as one load job into a staging table of their own and one MERGE,
never as per-row DML: production allows only a few mutating statements per table at a time
(callers serialise them with the tenant's contacts lease) and a load job is free. Each
upsert gets a freshly named staging table that expires after an hour, so a crashed import
leaves nothing behind for long and two imports can never read each other's staging rows.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.cloud import bigquery

from shared import sqlfiles
from shared.adapters.errors import translated
from shared.clock import Clock
from shared.domain.cnpj import Cnpj
from shared.domain.contact_merge import StoredContact
from shared.domain.errors import PermanentError

TABLE = "contacts"
CHUNK = 10_000
"""Ids per read or tag statement: keeps each request's parameters far below BigQuery's limits."""
STAGING_EXPIRY = timedelta(hours=1)
_STAGING_NAME = re.compile(r"^contacts_staging_[0-9a-f]{16}$")


class BigQueryContactStore:
    def __init__(self, client: bigquery.Client, clock: Clock, chunk: int = CHUNK) -> None:
        self._client = client
        self._clock = clock  # for the staging table's expiry alone
        self._chunk = chunk

    def find(self, cnpj: Cnpj, contact_ids: Sequence[str]) -> list[StoredContact]:
        sql = sqlfiles.render("contacts/find.sql", cnpj)
        found: list[StoredContact] = []
        for chunk in _chunks(list(dict.fromkeys(contact_ids)), self._chunk):
            config = bigquery.QueryJobConfig(
                query_parameters=[bigquery.ArrayQueryParameter("contact_ids", "STRING", chunk)]
            )
            with translated("BigQuery"):
                rows = self._client.query(sql, job_config=config).result(page_size=CHUNK)
                found.extend(_contact(row) for row in rows)
        return found

    def upsert(self, cnpj: Cnpj, contacts: Sequence[StoredContact]) -> None:
        if not contacts:
            return
        staging_name = f"contacts_staging_{uuid.uuid4().hex[:16]}"
        project = self._client.project
        staging_id = f"{project}.{cnpj.campaign_dataset}.{staging_name}"
        with translated("BigQuery"):
            schema = self._client.get_table(f"{project}.{cnpj.campaign_dataset}.{TABLE}").schema
            staging = bigquery.Table(staging_id, schema=schema)
            staging.expires = self._clock() + STAGING_EXPIRY
            self._client.create_table(staging)
        try:
            self._load(staging_id, schema, contacts)
            sql = _with_staging(sqlfiles.render("contacts/merge.sql", cnpj), staging_name)
            with translated("BigQuery"):
                self._client.query(sql).result()
        finally:
            with translated("BigQuery"):
                self._client.delete_table(staging_id, not_found_ok=True)

    def retag(
        self,
        cnpj: Cnpj,
        contact_ids: Sequence[str],
        add: Sequence[str],
        remove: Sequence[str],
        now: datetime,
    ) -> int:
        sql = sqlfiles.render("contacts/retag.sql", cnpj)
        changed = 0
        for chunk in _chunks(list(contact_ids), self._chunk):
            config = bigquery.QueryJobConfig(
                query_parameters=[
                    bigquery.ArrayQueryParameter("contact_ids", "STRING", chunk),
                    bigquery.ArrayQueryParameter("add", "STRING", list(add)),
                    bigquery.ArrayQueryParameter("remove", "STRING", list(remove)),
                    bigquery.ScalarQueryParameter("now", "TIMESTAMP", now),
                ]
            )
            with translated("BigQuery"):
                job = self._client.query(sql, job_config=config)
                job.result()
            changed += int(job.num_dml_affected_rows or 0)
        return changed

    def _load(
        self,
        staging_id: str,
        schema: Sequence[bigquery.SchemaField],
        contacts: Sequence[StoredContact],
    ) -> None:
        payload = "\n".join(json.dumps(_row(contact), ensure_ascii=False) for contact in contacts)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            schema=schema,
            write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        )
        with translated("BigQuery"):
            job = self._client.load_table_from_file(
                io.BytesIO(payload.encode("utf-8")), staging_id, job_config=config
            )
            job.result()
        if int(job.output_rows or 0) != len(contacts):
            raise PermanentError(f"staging load wrote {job.output_rows} of {len(contacts)} rows")


def _with_staging(sql: str, staging_name: str) -> str:
    """The MERGE naming its staging table; the name is ours (never input), checked anyway."""
    if not _STAGING_NAME.fullmatch(staging_name):
        raise ValueError(f"bad staging table name {staging_name!r}")
    return sql.replace("{staging_table}", staging_name)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _timestamp(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _row(contact: StoredContact) -> dict[str, Any]:
    return {
        "contact_id": contact.contact_id,
        "phone": contact.phone,
        "name": contact.name,
        "email": contact.email,
        "groups": list(contact.groups),
        "tags": list(contact.tags),
        "custom_fields": [{"key": key, "value": value} for key, value in contact.custom_fields],
        "timezone": contact.timezone,
        "is_opted_out": contact.is_opted_out,
        "is_blacklisted": contact.is_blacklisted,
        "created_at": _timestamp(contact.created_at),
        "updated_at": _timestamp(contact.updated_at),
        "last_interaction": _timestamp(contact.last_interaction),
        "bsuid": contact.bsuid,
    }


def _contact(row: Mapping[str, Any]) -> StoredContact:
    return StoredContact(
        contact_id=row["contact_id"],
        phone=row["phone"],
        name=row["name"],
        email=row["email"],
        groups=tuple(row["groups"] or ()),
        tags=tuple(row["tags"] or ()),
        custom_fields=tuple(
            (str(pair["key"]), str(pair["value"])) for pair in row["custom_fields"] or ()
        ),
        timezone=row["timezone"],
        is_opted_out=bool(row["is_opted_out"]),
        is_blacklisted=bool(row["is_blacklisted"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_interaction=row["last_interaction"],
        bsuid=row.get("bsuid"),
    )
