"""The campaign model: legal transitions, recurrence, template variables, the projection."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pydantic
import pytest

from shared.campaigns import SegmentProcessor, processor_for
from shared.campaigns.reactivation import ReactivationProcessor
from shared.domain.campaign import (
    Campaign,
    CampaignStatus,
    MessageTemplate,
    Recurrence,
    check_transition,
    occurrence_due,
)
from shared.domain.campaign_ids import is_campaign_id, kind_of, new_segment_id
from shared.domain.errors import ConflictError, FieldError
from shared.domain.pacing import Throttle
from shared.domain.tenant import CampaignSettings, CampaignThrottle

SP = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

LEGAL = {
    ("draft", "scheduled"),
    ("draft", "running"),
    ("draft", "cancelled"),
    ("scheduled", "running"),
    ("scheduled", "paused"),
    ("scheduled", "cancelled"),
    ("running", "paused"),
    ("running", "completed"),
    ("running", "cancelled"),
    ("paused", "running"),
    ("paused", "scheduled"),
    ("paused", "cancelled"),
}


@pytest.mark.parametrize("current", list(CampaignStatus))
@pytest.mark.parametrize("new", list(CampaignStatus))
def test_only_legal_transitions(current: CampaignStatus, new: CampaignStatus) -> None:
    if (current.value, new.value) in LEGAL:
        check_transition(current, new)
    else:
        with pytest.raises(ConflictError):
            check_transition(current, new)


def campaign(**fields: Any) -> Campaign:
    base: dict[str, Any] = {
        "id": "SEG_0123456789ABCDEF",
        "name": "Oferta",
        "segmentation": {"include_all": True},
        "templates": [
            {
                "name": "Oferta",
                "content": "Olá {{first_name}}, use {{voucherCode}} até {{date}}",
                "variable_values": {"date": "30/11"},
                "whatsapp_template": {"name": "oferta", "language": "pt_BR"},
            }
        ],
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Campaign.model_validate({**base, **fields})


def test_template_variables_are_the_content_s_in_order_once() -> None:
    template = MessageTemplate(name="t", content="{{name}} {{ date }} {{name}} {{x}}")
    assert template.parameters == ["name", "date", "x"]
    assert template.render({"name": "Ana", "date": "hoje"}) == "Ana hoje Ana {{x}}"
    explicit = MessageTemplate(name="t", content="{{a}}", variables=["b", "a"])
    assert explicit.parameters == ["b", "a"]


def test_projection_is_what_the_segment_processor_and_delivery_read() -> None:
    running = campaign(status="running")
    settings = running.settings_map()
    model = processor_for(running.id)
    assert model is SegmentProcessor
    parsed = SegmentProcessor.settings_model.model_validate(settings)
    assert parsed.enabled and not parsed.paused and not parsed.cancelled
    assert parsed.template is not None
    assert parsed.template.name == "oferta"
    assert parsed.template.parameters == ["first_name", "voucherCode", "date"]
    assert parsed.template_values == {"date": "30/11"}
    assert parsed.send_window.start.hour == 9 and parsed.send_window.end.hour == 18
    assert parsed.segment["segmentation"]["include_all"] is True


def test_paused_and_cancelled_reach_the_projection() -> None:
    assert campaign(status="paused").settings_map()["paused"] is True
    cancelled = CampaignSettings.model_validate(
        {k: v for k, v in campaign(status="cancelled").settings_map().items() if k != "segment"}
    )
    assert cancelled.cancelled and not cancelled.enabled


def test_built_in_thresholds_are_projected_for_their_processor() -> None:
    reactivation = campaign(
        id="REACTIVATION", kind="REACTIVATION", segmentation=None, thresholds={"inactive_days": 45}
    )
    settings = ReactivationProcessor.settings_model.model_validate(reactivation.settings_map())
    assert settings.inactive_days == 45
    assert "segment" not in reactivation.settings_map()


def test_start_needs_an_approved_template() -> None:
    draft = campaign(templates=[{"name": "Oferta", "content": "30% OFF"}])
    with pytest.raises(FieldError) as error:
        draft.check_startable()
    assert error.value.field == "templates"
    assert "approved" in error.value.reason


def test_ab_variants_must_name_templates_of_the_campaign() -> None:
    config = {
        "enabled": True,
        "test_percentage": 20,
        "variants": [
            {"name": "A", "percentage": 50, "template_id": "a"},
            {"name": "B", "percentage": 50, "template_id": "b"},
        ],
        "metric_to_optimize": "conversion_rate",
        "minimum_sample_size": 10,
        "significance_level": 0.95,
    }
    broken = campaign(ab_test_config=config)
    with pytest.raises(FieldError) as error:
        broken.check_consistent()
    assert error.value.field == "ab_test_config.variants[0].template_id"
    template = {"name": "x", "content": "y", "whatsapp_template": {"name": "y"}}
    fixed = campaign(
        ab_test_config=config,
        templates=[{**template, "id": "a"}, {**template, "ab_variant": "B"}],
    )
    fixed.check_consistent()
    assert set(fixed.settings_map()["variant_templates"]) == {"A", "B"}


def test_recurrence_needs_its_end() -> None:
    with pytest.raises(pydantic.ValidationError):
        Recurrence(frequency="daily", end_type="after")
    with pytest.raises(pydantic.ValidationError):
        Recurrence(frequency="daily", end_type="on_date")


def test_daily_recurrence_after_three_occurrences() -> None:
    daily = Recurrence(frequency="daily", interval=2, end_type="after", max_occurrences=3, hour=9)
    first = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    assert occurrence_due(daily, first, 0, SP) == (first, date(2026, 11, 20))
    second = occurrence_due(daily, first, 1, SP)
    assert second == (datetime(2026, 11, 22, 9, 0, tzinfo=SP), date(2026, 11, 22))
    assert occurrence_due(daily, first, 2, SP) is not None
    assert occurrence_due(daily, first, 3, SP) is None


def test_monthly_recurrence_keeps_the_day_or_the_month_s_last() -> None:
    monthly = Recurrence(frequency="monthly", end_type="on_date", end_date=date(2027, 3, 31))
    first = datetime(2027, 1, 31, 12, 0, tzinfo=UTC)
    days = [occurrence_due(monthly, first, n, SP) for n in range(4)]
    assert [d[1] if d else None for d in days] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        None,
    ]


def test_weekly_recurrence_never_ends() -> None:
    weekly = Recurrence(frequency="weekly", interval=1)
    first = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    due = occurrence_due(weekly, first, 520, SP)
    assert due is not None and due[1] == date(2026, 11, 20) + timedelta(weeks=520)


def test_one_off_campaigns_have_one_occurrence() -> None:
    assert occurrence_due(None, NOW, 0, SP) == (NOW, date(2026, 11, 20))
    assert occurrence_due(None, NOW, 1, SP) is None


def test_campaign_ids() -> None:
    generated = new_segment_id()
    assert is_campaign_id(generated) and kind_of(generated) == "SEGMENT"
    assert is_campaign_id("BIRTHDAY") and kind_of("BIRTHDAY") == "BIRTHDAY"
    for bad in ("SEG_short", "seg_0123456789ABCDEF", "USERS", "../x", ""):
        assert not is_campaign_id(bad)


@pytest.mark.parametrize(
    "campaign_pace",
    [
        {"messages_per_minute": 5},
        {"messages_per_minute": 1, "messages_per_hour": 1, "messages_per_day": 1},
        {"delay_between_messages_seconds": 3600},
    ],
)
def test_a_campaign_pace_keeps_the_tenant_s_shards(campaign_pace: dict[str, Any]) -> None:
    """The shards are shared by the tenant's campaigns: a campaign's slower pace must not
    change how many there are, or the tenant's daily cap would be split differently."""
    tenant = Throttle()
    slowed = CampaignThrottle(**campaign_pace).within(tenant)
    assert slowed.effective_shards == tenant.effective_shards
    assert slowed.per_minute <= tenant.per_minute
    assert slowed.messages_per_day <= tenant.messages_per_day


def test_start_needs_a_value_for_every_variable() -> None:
    with pytest.raises(FieldError) as error:
        campaign().check_startable()  # {{voucherCode}} without a voucher
    assert error.value.field == "templates[0].variable_values"
    assert "voucherCode" in error.value.reason
    campaign(voucher={"kind": "percentage", "value": 10}).check_startable()
    unfilled = {
        "name": "Oferta",
        "content": "Olá {{first_name}}, até {{date}}",
        "whatsapp_template": {"name": "oferta"},
    }
    with pytest.raises(FieldError):
        campaign(templates=[unfilled]).check_startable()
    campaign(templates=[{**unfilled, "variable_values": {"date": "30/11"}}]).check_startable()


def test_a_built_in_projection_keeps_its_exact_window_and_the_tenant_s_pace() -> None:
    birthday = campaign(
        id="BIRTHDAY",
        kind="BIRTHDAY",
        segmentation=None,
        send_window={"start": "10:30", "end": "23:59"},
    )
    settings = birthday.settings_map()
    assert settings["send_window"] == {"start": "10:30", "end": "23:59"}
    assert "campaign_throttle" not in settings
    assert "campaign_throttle" in campaign().settings_map()
