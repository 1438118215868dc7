"""The JSON messages that travel on the Pub/Sub topics, validated at the door."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, field_validator

from shared.domain.cnpj import Cnpj


class TickMessage(BaseModel):
    """What Cloud Scheduler (or ``campaigns tick``) publishes on the tick topic.

    Cloud Scheduler's body is fixed, so a scheduled tick carries no instant and the message's
    publish time stands in for it; ``campaigns tick --now`` sets it explicitly. Either way a
    redelivered or replayed tick is evaluated at its own instant, not at delivery time.
    """

    model_config = ConfigDict(extra="ignore")

    instant: AwareDatetime | None = None
    cnpj: str | None = None
    force: bool = False

    @field_validator("cnpj")
    @classmethod
    def _valid_cnpj(cls, value: str | None) -> str | None:
        return None if value is None else Cnpj.parse(value).value


class TenantJob(BaseModel):
    """One tenant's share of a tick, published by ``fanout`` for ``process_tenant``."""

    model_config = ConfigDict(extra="forbid")

    cnpj: str
    instant: AwareDatetime
    tick_id: str
    force: bool = False

    @field_validator("cnpj")
    @classmethod
    def _valid_cnpj(cls, value: str) -> str:
        return Cnpj.parse(value).value
