"""Setting up a tenant's built-in campaigns in tests: their records, as the API would store them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.domain.campaign import Campaign, built_in_campaign
from shared.domain.cnpj import Cnpj
from shared.ports import CampaignRepository

STORED_AT = datetime(2026, 1, 1, tzinfo=UTC)
"""When a record a test edits before anything stored it counts as stored."""


def edit_built_in(campaigns: CampaignRepository, cnpj: Cnpj, kind: str, **fields: Any) -> Campaign:
    """Store the built-in ``kind``'s record with ``fields`` changed (``thresholds`` are merged
    into the stored ones); a tenant without the record gets the kind's defaults first."""
    thresholds = fields.pop("thresholds", {})

    def change(current: Campaign | None) -> Campaign:
        stored = current or built_in_campaign(kind, now=STORED_AT)
        merged = {**stored.thresholds, **thresholds}
        return Campaign.model_validate({**stored.model_dump(), **fields, "thresholds": merged})

    _, after = campaigns.mutate(cnpj, kind, change)
    return after
