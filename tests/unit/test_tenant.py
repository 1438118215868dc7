"""Tenant documents and per-campaign settings validated by each processor's settings model."""

from __future__ import annotations

from datetime import time
from typing import Any

import pydantic
import pytest

from shared.campaigns.birthday import BirthdaySettings
from shared.campaigns.loyalty import LoyaltySettings, Tier
from shared.campaigns.reactivation import ReactivationSettings
from shared.campaigns.welcome import WelcomeSettings
from shared.domain.cnpj import Cnpj
from shared.domain.pacing import SendWindow
from shared.domain.tenant import CampaignSettings, Tenant

CNPJ = "11.222.333/0001-81"


def _error_locations(error: pydantic.ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(item["loc"]) for item in error.errors()]


def _loyalty(settings: dict[str, Any]) -> LoyaltySettings:
    return Tenant(cnpj=CNPJ, campaigns={"LOYALTY": settings}).campaign_settings(
        "LOYALTY", LoyaltySettings
    )


def test_defaults() -> None:
    tenant = Tenant(cnpj=CNPJ)
    assert tenant.cnpj == "11222333000181"
    assert tenant.name == ""
    assert tenant.active is True
    assert tenant.timezone == "America/Sao_Paulo"
    assert tenant.campaigns == {}
    assert tenant.id == Cnpj("11222333000181")


def test_alphanumeric_cnpj_is_canonicalised() -> None:
    tenant = Tenant(cnpj="12.abc.345/01de-35")
    assert tenant.cnpj == "12ABC34501DE35"
    assert tenant.id.raw_dataset == "12ABC34501DE35_RAW"


def test_firestore_document_with_unknown_fields_is_accepted() -> None:
    tenant = Tenant.model_validate(
        {
            "cnpj": "11222333000181",
            "name": "Lavanderia Bolha",
            "active": False,
            "timezone": "America/Manaus",
            "createdAt": "2026-01-01",
        }
    )
    assert tenant.name == "Lavanderia Bolha"
    assert tenant.active is False
    assert tenant.timezone == "America/Manaus"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "", "America/sao_paulo", "GMT-3 "])
def test_invalid_timezone_names_the_field(timezone: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Tenant(cnpj=CNPJ, timezone=timezone)
    assert _error_locations(caught.value) == [("timezone",)]


@pytest.mark.parametrize(
    "cnpj", ["11.222.333/0001-82", "", "00000000000000", "12345678000199_RAW`; DROP"]
)
def test_invalid_cnpj_names_the_field(cnpj: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Tenant(cnpj=cnpj)
    assert _error_locations(caught.value) == [("cnpj",)]


@pytest.mark.parametrize(
    ("campaign_type", "model"),
    [
        ("WELCOME", WelcomeSettings),
        ("REACTIVATION", ReactivationSettings),
        ("LOYALTY", LoyaltySettings),
        ("BIRTHDAY", BirthdaySettings),
    ],
)
def test_common_defaults_for_every_campaign(
    campaign_type: str, model: type[CampaignSettings]
) -> None:
    settings = Tenant(cnpj=CNPJ).campaign_settings(campaign_type, model)
    assert isinstance(settings, model)
    assert settings.enabled is True
    assert settings.run_hour == 8
    assert settings.send_window == SendWindow(start=time(9, 0), end=time(18, 0))


def test_campaign_specific_defaults() -> None:
    tenant = Tenant(cnpj=CNPJ)
    welcome = tenant.campaign_settings("WELCOME", WelcomeSettings)
    assert (welcome.days_after_signup, welcome.voucher_code) == (1, None)
    reactivation = tenant.campaign_settings("REACTIVATION", ReactivationSettings)
    assert (reactivation.min_day_of_month, reactivation.inactive_days) == (20, 30)
    assert reactivation.voucher_code is None
    loyalty = tenant.campaign_settings("LOYALTY", LoyaltySettings)
    assert (loyalty.min_visits, loyalty.window_months) == (10, 3)
    assert [(t.name, t.min_visits) for t in loyalty.tiers] == [
        ("BRONZE", 10),
        ("PRATA", 15),
        ("OURO", 20),
    ]
    assert tenant.campaign_settings("BIRTHDAY", BirthdaySettings).voucher_code is None


def test_overrides_apply_only_to_their_campaign() -> None:
    tenant = Tenant(
        cnpj=CNPJ,
        campaigns={
            "REACTIVATION": {
                "enabled": False,
                "run_hour": 6,
                "min_day_of_month": 15,
                "voucher_code": "VOLTA10",
                "send_window": {"start": "10:30", "end": "20:00"},
            }
        },
    )
    reactivation = tenant.campaign_settings("REACTIVATION", ReactivationSettings)
    assert reactivation.enabled is False
    assert reactivation.run_hour == 6
    assert reactivation.min_day_of_month == 15
    assert reactivation.inactive_days == 30
    assert reactivation.voucher_code == "VOLTA10"
    assert reactivation.send_window == SendWindow(start=time(10, 30), end=time(20, 0))
    welcome = tenant.campaign_settings("WELCOME", WelcomeSettings)
    assert welcome.enabled is True
    assert welcome.run_hour == 8


def test_tiers_are_sorted_by_min_visits() -> None:
    settings = _loyalty(
        {
            "tiers": [
                {"name": "OURO", "min_visits": 30},
                {"name": "BRONZE", "min_visits": 5},
                {"name": "PRATA", "min_visits": 12},
            ]
        }
    )
    assert [t.name for t in settings.tiers] == ["BRONZE", "PRATA", "OURO"]
    assert settings.tier_for(4) == "BRONZE"
    assert settings.tier_for(12) == "PRATA"
    assert settings.tier_for(29) == "PRATA"
    assert settings.tier_for(30) == "OURO"


@pytest.mark.parametrize(
    ("visits", "tier"),
    [
        (9, "BRONZE"),  # below every tier: the lowest tier (current implementation)
        (1, "BRONZE"),
        (10, "BRONZE"),
        (14, "BRONZE"),
        (15, "PRATA"),
        (19, "PRATA"),
        (20, "OURO"),
        (25, "OURO"),
        (1000, "OURO"),
    ],
)
def test_tier_for_defaults(visits: int, tier: str) -> None:
    assert LoyaltySettings().tier_for(visits) == tier


def test_tier_for_without_tiers() -> None:
    assert _loyalty({"tiers": []}).tier_for(50) == ""


def test_tiers_from_models() -> None:
    settings = LoyaltySettings(tiers=[Tier(name="B", min_visits=8), Tier(name="A", min_visits=3)])
    assert [t.name for t in settings.tiers] == ["A", "B"]


@pytest.mark.parametrize(
    "tier", [{"name": "", "min_visits": 5}, {"name": "X", "min_visits": 0}, {"name": "X"}]
)
def test_invalid_tier_rejected(tier: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _loyalty({"tiers": [tier]})
    assert all(loc[0] == "tiers" for loc in _error_locations(caught.value))


@pytest.mark.parametrize(
    ("start", "end"), [("18:00", "09:00"), ("09:00", "09:00"), ("23:59", "00:00")]
)
def test_send_window_end_must_follow_start(start: str, end: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _loyalty({"send_window": {"start": start, "end": end}})
    assert _error_locations(caught.value) == [("send_window",)]


def test_send_window_direct() -> None:
    assert SendWindow(start=time(8, 0), end=time(8, 1)).end == time(8, 1)
    with pytest.raises(pydantic.ValidationError):
        SendWindow(start=time(9, 0), end=time(9, 0))
    with pytest.raises(pydantic.ValidationError):
        SendWindow.model_validate({"start": "09:00", "end": "18:00", "tz": "UTC"})


@pytest.mark.parametrize("run_hour", [24, -1, 100])
def test_run_hour_out_of_range_rejected(run_hour: int) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        _loyalty({"run_hour": run_hour})
    assert _error_locations(caught.value) == [("run_hour",)]


@pytest.mark.parametrize("run_hour", [0, 23])
def test_run_hour_bounds_accepted(run_hour: int) -> None:
    assert _loyalty({"run_hour": run_hour}).run_hour == run_hour


@pytest.mark.parametrize("key", ["min_visit", "minVisits", "voucher_code", "tier"])
def test_unknown_settings_key_rejected(key: str) -> None:
    # voucher_code exists for other campaigns but not for LOYALTY.
    with pytest.raises(pydantic.ValidationError) as caught:
        _loyalty({key: 1})
    assert _error_locations(caught.value) == [(key,)]


@pytest.mark.parametrize(
    ("model", "settings", "field"),
    [
        (LoyaltySettings, {"min_visits": 0}, "min_visits"),
        (LoyaltySettings, {"window_months": 0}, "window_months"),
        (LoyaltySettings, {"window_months": 13}, "window_months"),
        (ReactivationSettings, {"min_day_of_month": 29}, "min_day_of_month"),
        (ReactivationSettings, {"min_day_of_month": 0}, "min_day_of_month"),
        (ReactivationSettings, {"inactive_days": 366}, "inactive_days"),
        (WelcomeSettings, {"days_after_signup": 0}, "days_after_signup"),
        (WelcomeSettings, {"days_after_signup": 31}, "days_after_signup"),
    ],
)
def test_campaign_thresholds_out_of_range(
    model: type[CampaignSettings], settings: dict[str, Any], field: str
) -> None:
    tenant = Tenant(cnpj=CNPJ, campaigns={"X": settings})
    with pytest.raises(pydantic.ValidationError) as caught:
        tenant.campaign_settings("X", model)
    assert _error_locations(caught.value) == [(field,)]
