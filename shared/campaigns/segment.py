"""SEGMENT: a campaign created through the API, whose audience is its segmentation.

It runs on its own schedule (a start, ``scheduled_at``, a recurrence) rather than once a day,
and each occurrence is a period of its own, so a recurrent campaign reaches its audience
again at every occurrence and never twice within one. Everything else — phone rules, the
500-write batches, vouchers, delivery — is the shared processor path.

With an A/B test, an occurrence first materialises only the test group (each member with
its variant); the rest of the audience is materialised once the test is decided, with the
winning (or fallback) variant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from shared.campaigns.base import CampaignProcessor, RunContext
from shared.domain import abtest
from shared.domain.campaign import Campaign
from shared.domain.campaign_settings import CampaignSettings
from shared.domain.errors import CampaignError
from shared.domain.periods import Period
from shared.ports import QueryValue, TargetStore, VoucherIssuer, Warehouse
from shared.segment_sql import audience_query


class SegmentProcessor(CampaignProcessor[CampaignSettings]):
    kind = "SEGMENT"
    settings_model = CampaignSettings
    scheduled_daily: ClassVar[bool] = False
    names_from_contacts: ClassVar[bool] = False  # the profile view is contact-first already

    def __init__(
        self,
        warehouse: Warehouse,
        store: TargetStore,
        vouchers: VoucherIssuer | None = None,
        *,
        campaign: Campaign,
        period_key: str = "once",
        opted_out_phones: list[str] | None = None,
    ) -> None:
        super().__init__(warehouse, store, vouchers)
        self._campaign = campaign
        self._period_key = period_key
        self._opted_out = opted_out_phones or []

    @property
    def campaign_id(self) -> str:
        """One processor per API campaign: its own id, not its kind."""
        return self._campaign.id

    def period(self, ctx: RunContext, settings: CampaignSettings) -> Period:
        return Period(key=self._period_key, history_since=ctx.instant)

    def parameters(self, ctx: RunContext, settings: CampaignSettings) -> dict[str, QueryValue]:
        return {}

    def targeting_query(
        self, ctx: RunContext, settings: CampaignSettings, period: Period
    ) -> tuple[str, dict[str, QueryValue]]:
        if self._campaign.segmentation is None:
            raise CampaignError(f"{self.campaign_id} has no segmentation")
        return audience_query(
            ctx.tenant.id,
            self._campaign.segmentation,
            as_of=ctx.instant,
            opted_out_phones=self._opted_out,
            zone=ctx.zone,
        )

    @property
    def _rollout_variant(self) -> str | None:
        """Set once the A/B test is decided: the variant the rest of the audience gets."""
        state = self._campaign.ab_state
        return state.rollout_variant if state is not None else None

    def include(self, row: Mapping[str, Any], settings: CampaignSettings) -> bool:
        config = self._campaign.ab_test_config
        if config is None or not config.enabled:
            return True
        assignment = abtest.assign(self.campaign_id, str(row["customer_id"]), config)
        return assignment.variant is not None or self._rollout_variant is not None

    def target_data(self, row: Mapping[str, Any], settings: CampaignSettings) -> dict[str, Any]:
        data: dict[str, Any] = {}
        config = self._campaign.ab_test_config
        if config is not None and config.enabled:
            assignment = abtest.assign(self.campaign_id, str(row["customer_id"]), config)
            data["variant"] = assignment.variant or self._rollout_variant
            data["abGroup"] = "test" if assignment.variant else "rollout"
        return data
