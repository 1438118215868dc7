"""Each campaign kind's settings model: defaults, thresholds and their rules, read from a record.

A campaign's settings are derived from its record (:attr:`Campaign.pipeline`); a built-in kind's
model gives the defaults a kind runs with, and validates the thresholds a person sets.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pydantic
import pytest

from shared.domain.campaign import CampaignStatus, LocalWindow, Recurrence, built_in_campaign
from shared.domain.campaign_settings import (
    BirthdaySettings,
    CampaignSettings,
    LoyaltySettings,
    ReactivationSettings,
    Tier,
    WelcomeSettings,
)
from shared.domain.pacing import SendWindow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _error_locations(error: pydantic.ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(item["loc"]) for item in error.errors()]


def _loyalty(settings: dict[str, Any]) -> LoyaltySettings:
    return LoyaltySettings.model_validate(settings)


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
    settings = model()
    assert isinstance(settings, model)
    assert settings.enabled is True
    assert settings.run_hour == 8
    assert settings.send_window == SendWindow(start=time(9, 0), end=time(18, 0))


def test_campaign_specific_defaults() -> None:
    welcome = WelcomeSettings()
    assert (welcome.days_after_signup, welcome.voucher_code) == (1, None)
    reactivation = ReactivationSettings()
    assert (reactivation.min_day_of_month, reactivation.inactive_days) == (20, 30)
    assert reactivation.voucher_code is None
    loyalty = LoyaltySettings()
    assert (loyalty.min_visits, loyalty.window_months) == (10, 3)
    assert [(t.name, t.min_visits) for t in loyalty.tiers] == [
        ("BRONZE", 10),
        ("PRATA", 15),
        ("OURO", 20),
    ]
    assert BirthdaySettings().voucher_code is None


def test_a_record_s_settings_apply_only_to_its_campaign() -> None:
    edited = built_in_campaign("REACTIVATION", now=NOW).model_copy(
        update={
            "status": CampaignStatus.DRAFT,
            "recurrence": Recurrence(frequency="daily", hour=6),
            "thresholds": {"min_day_of_month": 15, "voucher_code": "VOLTA10"},
            "send_window": LocalWindow(start="10:30", end="20:00"),
        }
    )
    reactivation = edited.pipeline
    assert isinstance(reactivation, ReactivationSettings)
    assert reactivation.enabled is False
    assert reactivation.run_hour == 6
    assert reactivation.min_day_of_month == 15
    assert reactivation.inactive_days == 30
    assert reactivation.voucher_code == "VOLTA10"
    assert reactivation.send_window == SendWindow(start=time(10, 30), end=time(20, 0))
    welcome = built_in_campaign("WELCOME", now=NOW).pipeline
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
    with pytest.raises(pydantic.ValidationError) as caught:
        model.model_validate(settings)
    assert _error_locations(caught.value) == [(field,)]
