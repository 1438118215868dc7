"""BigQuery as the PeopleDirectory: who the tenant's people are, what they bought and received.

Reads go through the tenant's ``customer_profile`` view (customers and imported contacts joined
by phone, the same rows segments select), ``clientes``, ``vendas`` and ``message_history``;
the only writes are the two statements of an LGPD erasure, which the caller runs under the
tenant's contacts lease like every other change of contacts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from google.cloud import bigquery

from shared import sqlfiles
from shared.adapters.bigquery_warehouse import BigQueryWarehouse
from shared.adapters.errors import translated
from shared.domain.cnpj import Cnpj

Row = dict[str, Any]


class BigQueryPeopleDirectory:
    def __init__(self, client: bigquery.Client) -> None:
        self._client = client
        self._warehouse = BigQueryWarehouse(client)

    def search(
        self,
        cnpj: Cnpj,
        *,
        text: str,
        phone_digits: str,
        tag: str,
        excluded_ids: Sequence[str],
        offset: int,
        limit: int,
    ) -> tuple[list[Row], int]:
        rows = self._rows(
            "contacts/search.sql",
            cnpj,
            text=text,
            phone_digits=phone_digits,
            tag=tag,
            erased_ids=list(excluded_ids),
            page_size=limit,
            skip=offset,
        )
        total = int(rows[0].pop("total")) if rows else 0
        for row in rows[1:]:
            row.pop("total", None)
        return rows, total

    def profile(self, cnpj: Cnpj, person_id: str) -> Row | None:
        rows = self._rows("contacts/person.sql", cnpj, person_id=person_id)
        return rows[0] if rows else None

    def history(self, cnpj: Cnpj, customer_id: str, phone: str, since: datetime) -> list[Row]:
        return self._rows(
            "contacts/person_history.sql", cnpj, customer_id=customer_id, phone=phone, since=since
        )

    def customer_records(self, cnpj: Cnpj, customer_id: str) -> list[Row]:
        return self._rows("contacts/person_customers.sql", cnpj, customer_id=customer_id)

    def contact_record(self, cnpj: Cnpj, contact_id: str) -> Row | None:
        rows = self._rows("contacts/find.sql", cnpj, contact_ids=[contact_id])
        return rows[0] if rows else None

    def sales(self, cnpj: Cnpj, cpf: str) -> list[Row]:
        return self._rows("contacts/person_sales.sql", cnpj, cpf=cpf)

    def erase(
        self, cnpj: Cnpj, *, contact_id: str | None, customer_id: str | None
    ) -> tuple[int, int]:
        """(contact rows deleted, customer rows emptied): at most one statement each."""
        deleted = self._dml("contacts/erase_contact.sql", cnpj, "contact_id", contact_id)
        cleared = self._dml("contacts/erase_customer.sql", cnpj, "customer_id", customer_id)
        return deleted, cleared

    def _rows(self, path: str, cnpj: Cnpj, **params: Any) -> list[Row]:
        sql = sqlfiles.render(path, cnpj)
        return [dict(row.items()) for row in self._warehouse.query(sql, params)]

    def _dml(self, path: str, cnpj: Cnpj, name: str, value: str | None) -> int:
        if value is None:
            return 0
        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter(name, "STRING", value)]
        )
        with translated("BigQuery"):
            job = self._client.query(sqlfiles.render(path, cnpj), job_config=config)
            job.result()
        return int(job.num_dml_affected_rows or 0)
