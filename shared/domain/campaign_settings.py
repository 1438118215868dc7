"""What targeting and delivery read of a campaign: its pipeline settings, typed per kind.

A campaign's settings are derived from the campaign's own fields by
:func:`shared.domain.campaign.pipeline_settings` and stored in its document beside them. Every
kind reads the settings every campaign has (:class:`CampaignSettings`); a built-in kind adds its
thresholds with their defaults and rules, so one model per kind says what the kind accepts, and
the API, the console and the processors all validate a threshold by it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.domain.campaign_ids import SEGMENT
from shared.domain.errors import NotFoundError
from shared.domain.message_parts import ButtonValue, MessageHeader
from shared.domain.pacing import SendWindow
from shared.domain.send_by import Priority
from shared.domain.vouchers import VoucherConfig


class TemplateRef(BaseModel):
    """An approved WhatsApp template and which target fields fill its body parameters.

    Marketing messages outside the 24-hour service window must be approved templates, so a
    campaign names one; ``parameters`` lists, in body order, the fields that fill it:
    ``first_name``, ``name`` or any key of the target's data (``voucherCode``, ``visit_count``).
    ``header`` and ``buttons`` fill the template's media or text header and its buttons
    (:mod:`shared.domain.message_parts`), checked against the approved template before start.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(default="pt_BR", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    parameters: list[str] = Field(default_factory=lambda: ["first_name"], max_length=20)
    header: MessageHeader | None = None
    buttons: list[ButtonValue] = Field(default_factory=list, max_length=10)


class CampaignThrottle(BaseModel):
    """A campaign's own pace (PyTake's throttle_config); the tenant's throttle still caps it
    (:mod:`shared.domain.campaign_pace` plans it, exactly)."""

    model_config = ConfigDict(extra="forbid")

    messages_per_minute: int = Field(default=4200, ge=1)
    messages_per_hour: int = Field(default=252_000, ge=1)
    messages_per_day: int = Field(default=1_000_000, ge=1)
    delay_between_messages_seconds: float = Field(default=0.0, ge=0, le=3600)


class CampaignSettings(BaseModel):
    """Settings every campaign kind has; built-in kinds extend it with their thresholds.

    Its defaults are what a built-in kind does before its campaign is stored (a tenant
    registered before campaigns were records, until ``campaigns migrate-campaigns``).
    """

    model_config = ConfigDict(extra="forbid")

    default_template: ClassVar[TemplateRef] = TemplateRef(name="oferta", parameters=[])
    """The approved template sent when the campaign names none."""

    enabled: bool = Field(default=True, description="the processor creates targets")
    paused: bool = Field(default=False, description="queued messages wait; nothing is dropped")
    paused_reason: str = Field(default="", max_length=500)
    cancelled: bool = Field(default=False, description="queued messages are skipped, not sent")
    run_hour: int = Field(default=8, ge=0, le=23, description="local hour of the daily run")
    send_window: SendWindow = Field(default_factory=SendWindow)
    template: TemplateRef | None = Field(
        default=None, description="None: the campaign kind's default template"
    )
    variant_templates: dict[str, TemplateRef] = Field(
        default_factory=dict, description="A/B test: the template of each variant"
    )
    template_values: dict[str, str] = Field(
        default_factory=dict, description="values of template variables no target field fills"
    )
    campaign_throttle: CampaignThrottle | None = None
    timezone_per_contact: bool = True
    voucher: VoucherConfig | None = None
    priority: Priority | None = Field(
        default=None, description="None: the kind's default (shared.domain.send_by)"
    )
    validity_days: int | None = Field(
        default=None, ge=1, le=31, description="None: the kind's send-by rule"
    )

    @property
    def sent_template(self) -> TemplateRef:
        """The campaign's approved template, else its kind's default."""
        return self.template or self.default_template


class BirthdaySettings(CampaignSettings):
    default_template = TemplateRef(name="feliz_aniversario", parameters=["first_name"])

    voucher_code: str | None = None


class WelcomeSettings(CampaignSettings):
    default_template = TemplateRef(name="boas_vindas", parameters=["first_name"])

    days_after_signup: int = Field(default=1, ge=1, le=30)
    voucher_code: str | None = None


class ReactivationSettings(CampaignSettings):
    """Only sales of the last ``lookback_days`` are read (by default a year more than
    ``inactive_days``): see :mod:`shared.campaigns.reactivation`."""

    default_template = TemplateRef(name="sentimos_sua_falta", parameters=["first_name"])

    min_day_of_month: int = Field(default=20, ge=1, le=28)
    inactive_days: int = Field(default=30, ge=1, le=365)
    lookback_days: int | None = Field(default=None, ge=2, le=3650)
    """None: inactive_days + 365."""
    voucher_code: str | None = None

    @model_validator(mode="after")
    def _lookback_covers_inactivity(self) -> ReactivationSettings:
        if self.lookback_days is not None and self.lookback_days <= self.inactive_days:
            raise ValueError("lookback_days must be greater than inactive_days")
        return self

    @property
    def lookback(self) -> timedelta:
        return timedelta(days=self.lookback_days or self.inactive_days + 365)


class Tier(BaseModel):
    name: str = Field(min_length=1)
    min_visits: int = Field(ge=1)


class LoyaltySettings(CampaignSettings):
    default_template = TemplateRef(
        name="programa_fidelidade", parameters=["first_name", "visit_count"]
    )

    min_visits: int = Field(default=10, ge=1)
    window_months: int = Field(default=3, ge=1, le=12)
    tiers: list[Tier] = Field(
        default_factory=lambda: [
            Tier(name="BRONZE", min_visits=10),
            Tier(name="PRATA", min_visits=15),
            Tier(name="OURO", min_visits=20),
        ]
    )

    @field_validator("tiers")
    @classmethod
    def _sorted(cls, tiers: list[Tier]) -> list[Tier]:
        return sorted(tiers, key=lambda tier: tier.min_visits)

    def tier_for(self, visits: int) -> str:
        """The highest tier the visit count reaches; the lowest tier if none is reached."""
        reached = [tier.name for tier in self.tiers if visits >= tier.min_visits]
        if reached:
            return reached[-1]
        return self.tiers[0].name if self.tiers else ""


SETTINGS_MODELS: dict[str, type[CampaignSettings]] = {
    "BIRTHDAY": BirthdaySettings,
    "WELCOME": WelcomeSettings,
    "REACTIVATION": ReactivationSettings,
    "LOYALTY": LoyaltySettings,
    SEGMENT: CampaignSettings,
}
"""Each kind's settings model: a built-in kind's thresholds are its fields beyond the base."""

BASE_SETTINGS = frozenset(CampaignSettings.model_fields)
"""The settings every kind has (a threshold may not take one of these names)."""


def settings_model(kind: str) -> type[CampaignSettings]:
    model = SETTINGS_MODELS.get(kind)
    if model is None:
        raise NotFoundError(f"no campaign kind {kind[:40]!r}")
    return model
