"""A built-in kind's legacy settings map applied to its record (the one-off migration's rule).

What the map made the processor and delivery do, the record's pipeline settings do too; the
migration's integration test runs it on the emulator (tests/integration/test_campaign_migration.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pydantic
import pytest

from shared.adapters.firestore_campaign_migration import adopted
from shared.domain.campaign import CampaignStatus, built_in_campaign
from shared.domain.campaign_settings import LoyaltySettings, ReactivationSettings
from shared.domain.pacing import SendWindow

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
STORED = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("legacy", "status"),
    [
        ({}, CampaignStatus.RUNNING),
        ({"enabled": False}, CampaignStatus.DRAFT),
        ({"paused": True}, CampaignStatus.PAUSED),  # enabled and paused: it waits, creates nothing
        ({"enabled": False, "paused": True}, CampaignStatus.PAUSED),
        ({"cancelled": True}, CampaignStatus.CANCELLED),
    ],
)
def test_the_flags_become_the_status(legacy: dict[str, Any], status: CampaignStatus) -> None:
    campaign = adopted(built_in_campaign("BIRTHDAY", now=STORED), legacy, now=NOW)
    assert campaign.status == status
    settings = campaign.pipeline
    assert settings.paused == legacy.get("paused", False)
    assert settings.cancelled == legacy.get("cancelled", False)
    if not settings.paused and not settings.cancelled:
        assert settings.enabled == legacy.get("enabled", True)


def test_every_setting_the_kind_read_is_read_the_same() -> None:
    legacy = {
        "enabled": True,
        "run_hour": 6,
        "send_window": {"start": "00:00:00", "end": "23:59:59.999999"},
        "template": {"name": "volta_cupom", "language": "en_US", "parameters": ["first_name", "x"]},
        "template_values": {"x": "10%"},
        "timezone_per_contact": False,
        "voucher": {"kind": "percentage", "value": 10},
        "inactive_days": 45,
        "voucher_code": "VOLTA10",
    }
    stored = built_in_campaign("REACTIVATION", now=STORED)
    campaign = adopted(stored, legacy, now=NOW)
    assert campaign.pipeline == ReactivationSettings.model_validate(legacy)
    assert campaign.pipeline.send_window == SendWindow(start=time(0), end=time(23, 59, 59, 999999))
    assert (campaign.created_at, campaign.updated_at) == (STORED, NOW)
    assert campaign.name == stored.name


def test_the_kind_s_default_template_when_the_map_named_none() -> None:
    campaign = adopted(built_in_campaign("LOYALTY", now=STORED), {"min_visits": 4}, now=NOW)
    assert campaign.pipeline.sent_template == LoyaltySettings.default_template
    assert campaign.pipeline.model_copy(update={"template": None}) == LoyaltySettings(min_visits=4)


@pytest.mark.parametrize(
    "legacy", [{"run_hour": 31}, {"min_visits": "many"}, {"min_visit": 4}, {"paused": "perhaps"}]
)
def test_a_map_that_does_not_validate_is_refused(legacy: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        adopted(built_in_campaign("LOYALTY", now=STORED), legacy, now=NOW)
