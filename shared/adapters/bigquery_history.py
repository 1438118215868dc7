"""BigQuery as the HistoryLog: streaming inserts into ``{CNPJ}_CAMPAIGN.message_history``.

Streaming (not DML) because production forbids UPDATE/DELETE/MERGE on rows still in the
streaming buffer and charges DML per statement; a history is append-only anyway. Each row's
``insertId`` is its event id, so BigQuery drops a retried insert on a best-effort basis and
readers deduplicate on ``event_id`` for the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from google.cloud import bigquery

from shared.adapters.errors import translated
from shared.domain.cnpj import Cnpj
from shared.domain.errors import PermanentError
from shared.ports import HistoryRow

TABLE = "message_history"


class BigQueryHistoryLog:
    def __init__(self, client: bigquery.Client) -> None:
        self._client = client

    def append(self, cnpj: Cnpj, rows: Sequence[HistoryRow]) -> None:
        if not rows:
            return
        table = f"{self._client.project}.{cnpj.campaign_dataset}.{TABLE}"
        payload = [_columns(row) for row in rows]
        with translated("BigQuery"):
            errors = self._client.insert_rows_json(
                table, payload, row_ids=[row.event_id for row in rows]
            )
        if errors:
            raise PermanentError(f"history rows refused by {table}: {errors[:3]}")


def _columns(row: HistoryRow) -> dict[str, object]:
    """The row under the table's column names: the kind keeps the seed's ``campaign_type``."""
    columns: dict[str, object] = asdict(row)
    columns["campaign_type"] = columns.pop("campaign_kind")
    columns["sent_at"] = row.sent_at.isoformat()
    return columns
