"""A tenant (one laundromat business, one CNPJ) and its campaign settings.

Stored as the Firestore document ``users/{cnpj}``. Per-campaign settings are kept as plain
maps keyed by campaign type; each campaign processor validates its own map with its own
settings model, so adding a campaign type never touches this module.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.calendar import DEFAULT_TIMEZONE, zone
from shared.domain.cnpj import Cnpj
from shared.domain.pacing import SendWindow, Throttle
from shared.domain.vouchers import VoucherConfig

MAX_FREQUENCY_CAP = timedelta(days=30)
"""The longest frequency cap a tenant may set (and how long a send is remembered for it)."""


class TemplateRef(BaseModel):
    """An approved WhatsApp template and which target fields fill its body parameters.

    Marketing messages outside the 24-hour service window must be approved templates, so a
    campaign names one; ``parameters`` lists, in body order, the fields that fill it:
    ``first_name``, ``name`` or any key of the target's data (``voucherCode``, ``visit_count``).
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(default="pt_BR", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")
    parameters: list[str] = Field(default_factory=lambda: ["first_name"], max_length=20)


class CampaignThrottle(BaseModel):
    """A campaign's own pace (PyTake's throttle_config); the tenant's throttle still caps it."""

    model_config = ConfigDict(extra="forbid")

    messages_per_minute: int = Field(default=4200, ge=1)
    messages_per_hour: int = Field(default=252_000, ge=1)
    messages_per_day: int = Field(default=1_000_000, ge=1)
    delay_between_messages_seconds: float = Field(default=0.0, ge=0, le=3600)

    def within(self, tenant: Throttle) -> Throttle:
        """The tenant's throttle, slowed to the campaign's. Never below the tenant's shard
        count: the pacing shards are shared by the tenant's campaigns, and a different count
        would split the tenant's minute, hour and day between them differently."""
        floor = tenant.effective_shards
        return tenant.model_copy(
            update={
                "messages_per_minute": max(
                    floor, min(tenant.messages_per_minute, self.messages_per_minute)
                ),
                "messages_per_hour": max(
                    floor, min(tenant.messages_per_hour, self.messages_per_hour)
                ),
                "messages_per_day": max(floor, min(tenant.messages_per_day, self.messages_per_day)),
                "delay_between_messages_seconds": min(
                    max(tenant.delay_between_messages_seconds, self.delay_between_messages_seconds),
                    max(tenant.delay_between_messages_seconds, 60 / floor),
                ),
            }
        )


class CampaignSettings(BaseModel):
    """Settings every campaign kind has; kinds extend it with their thresholds.

    Written by the campaign API as the projection of a campaign (see
    :meth:`shared.domain.campaign.Campaign.settings_map`); older tenants may still hold
    hand-edited maps, which validate the same way.
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
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


class DeliverySettings(BaseModel):
    """How a tenant's messages leave: its WhatsApp number, its pace, and its safety nets."""

    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = Field(
        default="", pattern=r"^[0-9]{0,32}$", description="empty: the deployment's default number"
    )
    throttle: Throttle = Field(default_factory=Throttle)
    frequency_cap_hours: int = Field(
        default=24,
        ge=0,
        le=MAX_FREQUENCY_CAP // timedelta(hours=1),
        description="at most one marketing message per customer",
    )
    paused: bool = Field(default=False, description="pauses every campaign of the tenant")


SettingsT = TypeVar("SettingsT", bound=CampaignSettings)


class Tenant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cnpj: str
    name: str = ""
    active: bool = True
    timezone: str = DEFAULT_TIMEZONE
    campaigns: dict[str, dict[str, Any]] = Field(default_factory=dict)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)

    @field_validator("cnpj")
    @classmethod
    def _valid_cnpj(cls, value: str) -> str:
        return Cnpj.parse(value).value

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        zone(value)
        return value

    @property
    def id(self) -> Cnpj:
        return Cnpj(self.cnpj)

    def campaign_settings(self, campaign_type: str, model: type[SettingsT]) -> SettingsT:
        """Validated settings of one campaign; defaults for everything the tenant left unset."""
        return model.model_validate(self.campaigns.get(campaign_type, {}))
