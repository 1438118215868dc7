"""The tenant's own delivery settings: its time zone, WhatsApp number, pace and caps.

What an owner may set is a part of the tenant document ``users/{cnpj}``; the number's ceiling,
the pacing shard count and the tenant-wide pause stay the operator's (changing the shard count
mid-day would split the day's cap differently). Every field keeps the rules of the model the
pipeline reads it with (:class:`~shared.domain.pacing.Throttle`,
:class:`~shared.domain.tenant.DeliverySettings`); a change is the stored settings with the
change applied, validated whole and written in one transaction, so a bad value changes nothing.

The descriptions are in Portuguese because they are what the console shows an owner as "what
it means"; the API's documentation shows the same text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from shared.domain.calendar import zone
from shared.domain.cnpj import Cnpj
from shared.domain.errors import NotFoundError
from shared.domain.pacing import Throttle
from shared.domain.sending_number import NumberLimits
from shared.domain.tenant import DeliverySettings, Tenant
from shared.services.consent import ConsentPorts, adopt_quarantined
from shared.services.number_shares import NumberShares

_THROTTLE = Throttle.model_fields
_DELIVERY = DeliverySettings.model_fields

MEANINGS = {
    "timezone": "Fuso horário da empresa (nome IANA, como America/Sao_Paulo). Define o que é "
    "“hoje” para as campanhas automáticas, a hora em que elas rodam e quando o limite diário "
    "recomeça.",
    "phone_number_id": "Identificador do número de WhatsApp que envia as mensagens (o “Phone "
    "number ID” do painel da Meta). Vazio: o número padrão desta instalação.",
    "business_account_id": "Identificador da conta do WhatsApp Business (o “WhatsApp Business "
    "Account ID” do painel da Meta), de onde vêm os modelos de mensagem aprovados. Vazio: a "
    "conta padrão desta instalação.",
    "messages_per_day": "Limite diário: no máximo estas mensagens por dia, somando todas as "
    "campanhas. Não pode passar do limite diário do seu número de WhatsApp (250, 2.000, 10.000 "
    "ou 100.000 por dia); se o número é dividido com outras empresas, cada uma usa uma parte "
    "justa dele.",
    "messages_per_minute": "Ritmo: no máximo estas mensagens por minuto, espaçadas por igual.",
    "messages_per_hour": "Ritmo: no máximo estas mensagens por hora.",
    "delay_between_messages_seconds": "Intervalo mínimo, em segundos, entre duas mensagens "
    "(0: só os limites por minuto e por hora valem).",
    "frequency_cap_hours": "Limite de frequência: cada cliente recebe no máximo uma mensagem de "
    "marketing neste intervalo de horas, somando todas as campanhas (0: sem limite).",
}
"""What each setting means, for a person (the API's descriptions and the console's help)."""

STORED_AT = {
    "timezone": "timezone",
    "phone_number_id": "delivery.phone_number_id",
    "business_account_id": "delivery.business_account_id",
    "messages_per_day": "delivery.throttle.messages_per_day",
    "messages_per_minute": "delivery.throttle.messages_per_minute",
    "messages_per_hour": "delivery.throttle.messages_per_hour",
    "delay_between_messages_seconds": "delivery.throttle.delay_between_messages_seconds",
    "frequency_cap_hours": "delivery.frequency_cap_hours",
}
"""Each setting's field in the tenant document (what the pipeline reads)."""


def _known_zone(value: str | None) -> str | None:
    if value is not None:
        zone(value)  # a ValueError naming the zone: pydantic reports it at ``timezone``
    return value


def _within_number_ceiling(value: int, info: ValidationInfo) -> int:
    """A pace the sending number cannot carry would be planned and then refused by WhatsApp
    (130429): refuse it here, saying why. Checked on a change, where the number's limits are
    known (``context["number"]``, :class:`NumberLimits`)."""
    limits = (info.context or {}).get("number")
    if isinstance(limits, NumberLimits) and value > 60 * limits.ceiling_per_second:
        raise PydanticCustomError(
            "above_number_ceiling",
            "above the WhatsApp number's ceiling of {ceiling} messages/s ({per_minute} a minute)",
            {"ceiling": limits.ceiling_per_second, "per_minute": 60 * limits.ceiling_per_second},
        )
    return value


def _within_number_tier(value: int, info: ValidationInfo) -> int:
    """A daily cap above the number's messaging tier would plan messages WhatsApp refuses (and
    lower the number's quality rating): refuse it here, saying why."""
    limits = (info.context or {}).get("number")
    tier = limits.daily_limit if isinstance(limits, NumberLimits) else None
    if tier is not None and value > tier:
        raise PydanticCustomError(
            "above_number_tier",
            "above the WhatsApp number's daily messaging limit of {limit} messages",
            {"limit": tier},
        )
    return value


class TenantSettings(BaseModel):
    """The settings an owner sees and sets (``GET``/``PATCH /api/v1/settings``)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(
        min_length=1, max_length=64, description=MEANINGS["timezone"], examples=["America/Manaus"]
    )
    phone_number_id: Annotated[str, _DELIVERY["phone_number_id"]] = Field(
        description=MEANINGS["phone_number_id"]
    )
    business_account_id: Annotated[str, _DELIVERY["business_account_id"]] = Field(
        description=MEANINGS["business_account_id"]
    )
    messages_per_day: Annotated[int, _THROTTLE["messages_per_day"]] = Field(
        description=MEANINGS["messages_per_day"]
    )
    messages_per_minute: Annotated[int, _THROTTLE["messages_per_minute"]] = Field(
        description=MEANINGS["messages_per_minute"]
    )
    messages_per_hour: Annotated[int, _THROTTLE["messages_per_hour"]] = Field(
        description=MEANINGS["messages_per_hour"]
    )
    delay_between_messages_seconds: Annotated[
        float, _THROTTLE["delay_between_messages_seconds"]
    ] = Field(description=MEANINGS["delay_between_messages_seconds"])
    frequency_cap_hours: Annotated[int, _DELIVERY["frequency_cap_hours"]] = Field(
        description=MEANINGS["frequency_cap_hours"]
    )

    _zone = field_validator("timezone")(_known_zone)
    _ceiling = field_validator("messages_per_minute")(_within_number_ceiling)
    _tier = field_validator("messages_per_day")(_within_number_tier)

    @classmethod
    def of(cls, tenant: Tenant) -> TenantSettings:
        throttle = tenant.delivery.throttle
        return cls(
            timezone=tenant.timezone,
            phone_number_id=tenant.delivery.phone_number_id,
            business_account_id=tenant.delivery.business_account_id,
            messages_per_day=throttle.messages_per_day,
            messages_per_minute=throttle.messages_per_minute,
            messages_per_hour=throttle.messages_per_hour,
            delay_between_messages_seconds=throttle.delay_between_messages_seconds,
            frequency_cap_hours=tenant.delivery.frequency_cap_hours,
        )


class TenantSettingsPatch(BaseModel):
    """Any subset of the settings; the ones left out keep their value."""

    model_config = ConfigDict(extra="forbid")

    timezone: str | None = Field(
        default=None, min_length=1, max_length=64, description=MEANINGS["timezone"]
    )
    phone_number_id: Annotated[str | None, _DELIVERY["phone_number_id"]] = Field(
        default=None, description=MEANINGS["phone_number_id"]
    )
    business_account_id: Annotated[str | None, _DELIVERY["business_account_id"]] = Field(
        default=None, description=MEANINGS["business_account_id"]
    )
    messages_per_day: Annotated[int | None, _THROTTLE["messages_per_day"]] = Field(
        default=None, description=MEANINGS["messages_per_day"]
    )
    messages_per_minute: Annotated[int | None, _THROTTLE["messages_per_minute"]] = Field(
        default=None, description=MEANINGS["messages_per_minute"]
    )
    messages_per_hour: Annotated[int | None, _THROTTLE["messages_per_hour"]] = Field(
        default=None, description=MEANINGS["messages_per_hour"]
    )
    delay_between_messages_seconds: Annotated[
        float | None, _THROTTLE["delay_between_messages_seconds"]
    ] = Field(default=None, description=MEANINGS["delay_between_messages_seconds"])
    frequency_cap_hours: Annotated[int | None, _DELIVERY["frequency_cap_hours"]] = Field(
        default=None, description=MEANINGS["frequency_cap_hours"]
    )

    _zone = field_validator("timezone")(_known_zone)


class SettingsStore(Protocol):
    """Where tenant documents live (the Firestore tenant repository)."""

    def get(self, cnpj: Cnpj) -> Tenant | None: ...

    def edit(
        self, cnpj: Cnpj, change: Callable[[Tenant], Mapping[str, Any]]
    ) -> tuple[Tenant, Tenant]: ...


def read_settings(store: SettingsStore, cnpj: Cnpj) -> TenantSettings:
    tenant = store.get(cnpj)
    if tenant is None:
        raise NotFoundError("this tenant is not registered")
    return TenantSettings.of(tenant)


def change_settings(
    store: SettingsStore,
    cnpj: Cnpj,
    patch: TenantSettingsPatch,
    numbers: NumberShares,
    consent: ConsentPorts | None = None,
) -> tuple[TenantSettings, TenantSettings]:
    """(before, after). A field set to ``null`` is refused at its name like any bad value; a
    pace above the sending number's ceiling or a daily cap above its messaging limit too (the
    limits of the number the change leaves the tenant on).

    With ``consent``, a tenant that moves to another WhatsApp number takes the opt-outs kept
    for that number while no tenant sent from it (:func:`adopt_quarantined`).
    """
    changes = patch.model_dump(exclude_unset=True)

    def change(tenant: Tenant) -> dict[str, Any]:
        current = TenantSettings.of(tenant)
        number = changes.get("phone_number_id", current.phone_number_id)
        limits = numbers.limits(number if isinstance(number, str) else "")
        wanted = TenantSettings.model_validate(
            {**current.model_dump(), **changes}, context={"number": limits}
        )
        return {
            STORED_AT[name]: value
            for name, value in wanted.model_dump().items()
            if value != getattr(current, name)
        }

    before, after = store.edit(cnpj, change)
    if consent is not None and before.delivery.phone_number_id != after.delivery.phone_number_id:
        adopt_quarantined(consent, after)
    return TenantSettings.of(before), TenantSettings.of(after)
