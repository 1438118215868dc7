"""The campaign model: legal transitions, recurrence, template variables, pipeline settings."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import pydantic
import pytest

from shared.campaigns import RunContext, SegmentProcessor, processor_for
from shared.domain.calendar import zone
from shared.domain.campaign import (
    Campaign,
    CampaignStatus,
    LocalWindow,
    MessageTemplate,
    Recurrence,
    built_in_campaign,
    check_transition,
)
from shared.domain.campaign_ids import BUILT_IN_KINDS, is_campaign_id, kind_of, new_segment_id
from shared.domain.campaign_settings import (
    CampaignThrottle,
    ReactivationSettings,
    settings_model,
)
from shared.domain.errors import ConflictError, FieldError
from shared.domain.pacing import SendWindow
from shared.domain.periods import Period
from shared.domain.segmentation import Segmentation
from shared.domain.tenant import Tenant
from shared.segment_sql import audience_query

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


def test_pipeline_settings_are_what_the_segment_processor_and_delivery_read() -> None:
    running = campaign(status="running")
    assert processor_for(running.id) is SegmentProcessor
    parsed = running.pipeline
    assert isinstance(parsed, SegmentProcessor.settings_model)
    assert parsed.enabled and not parsed.paused and not parsed.cancelled
    assert parsed.template is not None
    assert parsed.template.name == "oferta"
    assert parsed.template.parameters == ["first_name", "voucherCode", "date"]
    assert parsed.template_values == {"date": "30/11"}
    assert parsed.send_window.start.hour == 9 and parsed.send_window.end.hour == 18
    # The processor targets the campaign's own segmentation.
    tenant = Tenant(cnpj="11222333000181")
    ctx = RunContext(
        tenant=tenant, zone=zone(tenant.timezone), instant=NOW, today=NOW.date(), run_id="r"
    )
    processor = SegmentProcessor(None, None, campaign=running)  # type: ignore[arg-type]
    query = processor.targeting_query(ctx, parsed, Period("once", NOW))
    expected = audience_query(
        tenant.id, Segmentation(include_all=True), as_of=NOW, opted_out_phones=[], zone=ctx.zone
    )
    assert query == expected


def test_paused_and_cancelled_reach_the_pipeline() -> None:
    paused = campaign(status="paused", status_reason="WhatsApp error 131048").pipeline
    assert paused.paused and not paused.enabled
    assert paused.paused_reason == "WhatsApp error 131048"
    cancelled = campaign(status="cancelled").pipeline
    assert cancelled.cancelled and not cancelled.enabled and not cancelled.paused


def test_built_in_thresholds_are_read_by_their_kind_s_model() -> None:
    reactivation = campaign(
        id="REACTIVATION", kind="REACTIVATION", segmentation=None, thresholds={"inactive_days": 45}
    )
    settings = reactivation.pipeline
    assert isinstance(settings, ReactivationSettings)
    assert settings.inactive_days == 45
    assert settings.min_day_of_month == 20  # unset thresholds keep the kind's defaults


def test_a_threshold_its_kind_refuses_is_an_error_at_its_name() -> None:
    refused = campaign(
        id="REACTIVATION", kind="REACTIVATION", segmentation=None, thresholds={"inactive_days": -3}
    )
    with pytest.raises(pydantic.ValidationError) as error:
        refused.pipeline  # noqa: B018
    assert [e["loc"] for e in error.value.errors()] == [("thresholds", "inactive_days")]
    unknown = refused.model_copy(update={"thresholds": {"inactive_dayz": 3}})
    with pytest.raises(pydantic.ValidationError) as error:
        unknown.pipeline  # noqa: B018
    assert [e["loc"] for e in error.value.errors()] == [("thresholds", "inactive_dayz")]
    clash = refused.model_copy(update={"thresholds": {"enabled": False}})
    with pytest.raises(FieldError) as clashed:
        clash.pipeline  # noqa: B018
    assert clashed.value.field == "thresholds.enabled"


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
    assert set(fixed.pipeline.variant_templates) == {"A", "B"}


def test_recurrence_needs_its_end() -> None:
    with pytest.raises(pydantic.ValidationError):
        Recurrence(frequency="daily", end_type="after")
    with pytest.raises(pydantic.ValidationError):
        Recurrence(frequency="daily", end_type="on_date")


def test_campaign_ids() -> None:
    generated = new_segment_id()
    assert is_campaign_id(generated) and kind_of(generated) == "SEGMENT"
    assert is_campaign_id("BIRTHDAY") and kind_of("BIRTHDAY") == "BIRTHDAY"
    for bad in ("SEG_short", "seg_0123456789ABCDEF", "USERS", "../x", ""):
        assert not is_campaign_id(bad)


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


def test_a_built_in_keeps_its_exact_window_and_the_tenant_s_pace() -> None:
    birthday = campaign(
        id="BIRTHDAY",
        kind="BIRTHDAY",
        segmentation=None,
        send_window={"start": "10:30", "end": "23:59"},
    )
    settings = birthday.pipeline
    assert settings.send_window == SendWindow(start=time(10, 30), end=time(23, 59))
    assert settings.campaign_throttle is None
    assert campaign().pipeline.campaign_throttle == CampaignThrottle(
        messages_per_minute=60, messages_per_hour=1000, messages_per_day=1000
    )


def test_a_window_may_end_with_the_day() -> None:
    whole_day = campaign(send_window={"start": "00:00:00", "end": "23:59:59.999999"})
    assert whole_day.pipeline.send_window == SendWindow(
        start=time(0, 0), end=time(23, 59, 59, 999999)
    )
    with pytest.raises(pydantic.ValidationError):  # the same instant, written two ways
        LocalWindow(start="09:00", end="09:00:00")
    with pytest.raises(pydantic.ValidationError):
        LocalWindow(start="09:00", end="9:30")


def test_without_an_exact_window_the_business_hours_or_the_whole_day() -> None:
    hours = {"business_hours_start": 8, "business_hours_end": 24}
    assert campaign(throttle_config=hours).pipeline.send_window == SendWindow(
        start=time(8, 0), end=time(23, 59)
    )
    anytime = {"respect_business_hours": False, "timezone_per_contact": False}
    settings = campaign(throttle_config=anytime).pipeline
    assert settings.send_window == SendWindow(start=time(0, 0), end=time(23, 59))
    assert settings.timezone_per_contact is False


@pytest.mark.parametrize("kind", BUILT_IN_KINDS)
def test_a_built_in_kind_is_stored_with_its_defaults(kind: str) -> None:
    stored = built_in_campaign(kind, now=NOW)
    assert (stored.id, stored.kind, stored.status) == (kind, kind, CampaignStatus.RUNNING)
    assert stored.created_at == stored.updated_at == NOW
    model = settings_model(kind)
    defaults = model()
    assert stored.pipeline == defaults.model_copy(update={"template": model.default_template})
    assert stored.pipeline.sent_template == defaults.sent_template
    stored.check_startable()
