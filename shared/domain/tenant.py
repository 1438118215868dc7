"""A tenant (one laundromat business, one CNPJ) and its campaign settings.

Stored as the Firestore document ``users/{cnpj}``. Per-campaign settings are kept as plain
maps keyed by campaign type; each campaign processor validates its own map with its own
settings model, so adding a campaign type never touches this module.
"""

from __future__ import annotations

from datetime import time
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.domain.calendar import DEFAULT_TIMEZONE, zone
from shared.domain.cnpj import Cnpj


class SendWindow(BaseModel):
    """Local hours in which messages of a campaign may be sent (the delivery planner uses it)."""

    model_config = ConfigDict(extra="forbid")

    start: time = time(9, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.end <= self.start:
            raise ValueError("send_window.end must be after send_window.start")
        return self


class CampaignSettings(BaseModel):
    """Settings every campaign kind has; kinds extend it with their thresholds."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    run_hour: int = Field(default=8, ge=0, le=23, description="local hour of the daily run")
    send_window: SendWindow = Field(default_factory=SendWindow)


SettingsT = TypeVar("SettingsT", bound=CampaignSettings)


class Tenant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cnpj: str
    name: str = ""
    active: bool = True
    timezone: str = DEFAULT_TIMEZONE
    campaigns: dict[str, dict[str, Any]] = Field(default_factory=dict)

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
