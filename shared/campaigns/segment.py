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

from pydantic import BaseModel, ConfigDict, Field

from shared.campaigns.base import CampaignProcessor, RunContext
from shared.domain import abtest
from shared.domain.abtest import ABTestConfig
from shared.domain.periods import Period
from shared.domain.segmentation import Segmentation
from shared.domain.tenant import CampaignSettings, TemplateRef
from shared.domain.vouchers import VoucherConfig
from shared.ports import QueryValue, TargetStore, VoucherIssuer, Warehouse
from shared.services.segments import audience_query


class SegmentState(BaseModel):
    """The part of the campaign a run needs (projected by the campaign API)."""

    model_config = ConfigDict(extra="ignore")

    segmentation: Segmentation
    ab_test_config: ABTestConfig | None = None
    voucher: VoucherConfig | None = None
    rollout_variant: str | None = Field(
        default=None, description="set once the A/B test is decided: the rest of the audience"
    )


class SegmentSettings(CampaignSettings):
    segment: dict[str, Any] = Field(default_factory=dict)


class SegmentProcessor(CampaignProcessor[SegmentSettings]):
    campaign_type = "SEGMENT"
    settings_model = SegmentSettings
    default_template = TemplateRef(name="oferta", parameters=[])
    scheduled_daily: ClassVar[bool] = False

    def __init__(
        self,
        warehouse: Warehouse,
        store: TargetStore,
        vouchers: VoucherIssuer | None = None,
        *,
        campaign_id: str = "SEGMENT",
        period_key: str = "once",
        opted_out_phones: list[str] | None = None,
    ) -> None:
        super().__init__(warehouse, store, vouchers)
        self.campaign_type = campaign_id  # type: ignore[misc]  # one processor per campaign
        self._period_key = period_key
        self._opted_out = opted_out_phones or []
        self._state: tuple[SegmentSettings, SegmentState] | None = None

    def state(self, settings: SegmentSettings) -> SegmentState:
        """Validated once per run: ``include`` and ``target_data`` ask for it on every row."""
        if self._state is None or self._state[0] is not settings:
            self._state = (settings, SegmentState.model_validate(settings.segment))
        return self._state[1]

    def period(self, ctx: RunContext, settings: SegmentSettings) -> Period:
        return Period(key=self._period_key, history_since=ctx.instant)

    def parameters(self, ctx: RunContext, settings: SegmentSettings) -> dict[str, QueryValue]:
        return {}

    def targeting_query(
        self, ctx: RunContext, settings: SegmentSettings, period: Period
    ) -> tuple[str, dict[str, QueryValue]]:
        return audience_query(
            ctx.tenant.id,
            self.state(settings).segmentation,
            as_of=ctx.instant,
            opted_out_phones=self._opted_out,
            zone=ctx.zone,
        )

    def include(self, row: Mapping[str, Any], settings: SegmentSettings) -> bool:
        config = self.state(settings).ab_test_config
        if config is None or not config.enabled:
            return True
        assignment = abtest.assign(self.campaign_type, str(row["customer_id"]), config)
        return assignment.variant is not None or self.state(settings).rollout_variant is not None

    def target_data(self, row: Mapping[str, Any], settings: SegmentSettings) -> dict[str, Any]:
        state = self.state(settings)
        data: dict[str, Any] = {}
        config = state.ab_test_config
        if config is not None and config.enabled:
            assignment = abtest.assign(self.campaign_type, str(row["customer_id"]), config)
            data["variant"] = assignment.variant or state.rollout_variant
            data["abGroup"] = "test" if assignment.variant else "rollout"
        return data
