"""A tenant (one laundromat business, one CNPJ) and its own settings.

Stored as the Firestore document ``users/{cnpj}``. The tenant's campaigns are documents of their
own (``users/{cnpj}/campaigns/{id}``, :mod:`shared.domain.campaign`); fields an older tenant
document still has (its campaigns' settings maps, before ``campaigns migrate-campaigns``) are
ignored when it is read.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.domain.calendar import DEFAULT_TIMEZONE, zone
from shared.domain.cnpj import Cnpj
from shared.domain.pacing import Throttle

MAX_FREQUENCY_CAP = timedelta(days=30)
"""The longest frequency cap a tenant may set (and how long a send is remembered for it)."""


class DeliverySettings(BaseModel):
    """How a tenant's messages leave: its WhatsApp number, its pace, and its safety nets."""

    model_config = ConfigDict(extra="forbid")

    phone_number_id: str = Field(
        default="", pattern=r"^[0-9]{0,32}$", description="empty: the deployment's default number"
    )
    business_account_id: str = Field(
        default="",
        pattern=r"^[0-9]{0,32}$",
        description="its WhatsApp Business account (WABA), whose templates it may send; empty: "
        "the deployment's default account",
    )
    throttle: Throttle = Field(default_factory=Throttle)
    frequency_cap_hours: int = Field(
        default=24,
        ge=0,
        le=MAX_FREQUENCY_CAP // timedelta(hours=1),
        description="at most one marketing message per customer",
    )
    paused: bool = Field(default=False, description="pauses every campaign of the tenant")


class Tenant(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cnpj: str
    name: str = ""
    active: bool = True
    timezone: str = DEFAULT_TIMEZONE
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
