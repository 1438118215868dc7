"""SQL lives in ``sql/`` as plain files; this module is the only way code reads them.

Values always travel as BigQuery named parameters. The only text substituted into SQL is a
dataset name, and it can only come from a :class:`Cnpj`, which exists only for values whose
check digits verify (``[0-9A-Z]{12}[0-9]{2}``) — nothing else can reach a query's text.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from shared.domain.cnpj import Cnpj

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def load(relative_path: str) -> str:
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


def render(relative_path: str, cnpj: Cnpj) -> str:
    """The file's SQL with ``{raw_dataset}``/``{campaign_dataset}`` naming the tenant's datasets."""
    if not isinstance(cnpj, Cnpj):
        raise TypeError("dataset names may only come from a validated Cnpj")
    return (
        load(relative_path)
        .replace("{raw_dataset}", cnpj.raw_dataset)
        .replace("{campaign_dataset}", cnpj.campaign_dataset)
    )
