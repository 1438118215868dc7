"""Segment audiences on BigQuery: how many a segmentation selects now, and a sample of them.

Both run over exactly the compiled audience query (:func:`shared.segment_sql.audience_query`),
so an estimate cannot disagree with the targets a run builds from the same segmentation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared import sqlfiles
from shared.domain.calendar import DEFAULT_TIMEZONE
from shared.domain.cnpj import Cnpj
from shared.domain.segmentation import Segmentation
from shared.ports import Warehouse
from shared.segment_sql import audience_query

ESTIMATE_SQL = "segments/estimate.sql"
SAMPLE_SQL = "segments/sample.sql"


def estimate(
    warehouse: Warehouse,
    cnpj: Cnpj,
    segmentation: Segmentation,
    *,
    as_of: datetime,
    opted_out_phones: Sequence[str],
    zone: ZoneInfo | str = DEFAULT_TIMEZONE,
) -> int:
    """How many rows :func:`audience_query` selects now (members, before phone checks)."""
    audience, params = audience_query(
        cnpj, segmentation, as_of=as_of, opted_out_phones=opted_out_phones, zone=zone
    )
    sql = sqlfiles.render(ESTIMATE_SQL, cnpj).replace("{audience}", audience)
    rows = list(warehouse.query(sql, params))
    return int(rows[0]["audience"])


def sample(
    warehouse: Warehouse,
    cnpj: Cnpj,
    segmentation: Segmentation,
    *,
    as_of: datetime,
    opted_out_phones: Sequence[str],
    zone: ZoneInfo | str = DEFAULT_TIMEZONE,
    limit: int,
) -> list[Mapping[str, Any]]:
    """Up to ``limit`` rows of :func:`audience_query` (customer_id, name, phone), by name."""
    audience, params = audience_query(
        cnpj, segmentation, as_of=as_of, opted_out_phones=opted_out_phones, zone=zone
    )
    sql = sqlfiles.render(SAMPLE_SQL, cnpj).replace("{audience}", audience)
    return list(warehouse.query(sql, {**params, "sample_size": limit}))
