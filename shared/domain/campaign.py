"""One campaign model for every kind: the four automatic campaigns and API-created segments.

A campaign is the PyTake payload (name, objective, schedule, recurrence, throttle,
segmentation, templates, A/B test) plus its lifecycle. What targeting and delivery read of it
is derived from those fields by one function (:func:`pipeline_settings`, the campaign's
:attr:`~Campaign.pipeline`) and stored with them in the campaign's one document, so an API
campaign and a birthday campaign go through the same targeting and delivery code and nothing
about a campaign is kept anywhere else.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from shared.domain.abtest import ABTestConfig
from shared.domain.campaign_ids import SEGMENT
from shared.domain.campaign_settings import (
    BASE_SETTINGS,
    CampaignSettings,
    CampaignThrottle,
    TemplateRef,
    settings_model,
)
from shared.domain.errors import ConflictError, FieldError
from shared.domain.message_parts import ButtonValue, MessageHeader, indexed
from shared.domain.pacing import SendWindow
from shared.domain.segmentation import Segmentation
from shared.domain.send_by import Priority
from shared.domain.vouchers import VoucherConfig

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}")

TARGET_FIELDS = ("name", "first_name")
"""Template variables every target can fill."""
VOUCHER_FIELDS = ("voucherCode", "voucherValue", "voucherExpiresAt")
"""Template variables a campaign with a voucher fills (see Voucher.template_fields)."""


Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
"""A template variable or a threshold: also a Firestore field name, so nothing exotic."""
Scalar = int | float | bool | str | None
Threshold = Scalar | Annotated[list[dict[Name, Scalar]], Field(max_length=20)]
"""A built-in kind's setting: a number, a text, or a short list of records (loyalty tiers)."""
_LOCAL_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"


class LocalWindow(BaseModel):
    """An exact local send window, ``HH:MM`` to ``HH:MM`` (the same day); seconds may follow
    (``23:59:59.999999`` ends with the day: a window ending at ``23:59`` leaves a minute out)."""

    model_config = ConfigDict(extra="forbid")

    start: str = Field(pattern=_LOCAL_TIME, examples=["09:30"])
    end: str = Field(pattern=_LOCAL_TIME, examples=["18:00"])

    @model_validator(mode="after")
    def _ordered(self) -> LocalWindow:
        if time.fromisoformat(self.end) <= time.fromisoformat(self.start):
            raise ValueError("end must be after start (a window within one day)")
        return self


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_LEGAL: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset(
        {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.SCHEDULED: frozenset(
        {CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.RUNNING: frozenset(
        {CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.PAUSED: frozenset(
        {CampaignStatus.RUNNING, CampaignStatus.SCHEDULED, CampaignStatus.CANCELLED}
    ),
    CampaignStatus.COMPLETED: frozenset(),
    CampaignStatus.CANCELLED: frozenset(),
}


def check_transition(current: CampaignStatus, new: CampaignStatus) -> None:
    if new not in _LEGAL[current]:
        allowed = ", ".join(sorted(s.value for s in _LEGAL[current])) or "none (final)"
        raise ConflictError(
            f"a {current.value} campaign cannot become {new.value}; allowed: {allowed}"
        )


class Objective(StrEnum):
    PROMOTIONAL = "promotional"
    ENGAGEMENT = "engagement"
    CONVERSIONS = "conversions"
    RETENTION = "retention"


class Recurrence(BaseModel):
    """Repeat the campaign; each occurrence targets its audience again (in the tenant's zone)."""

    model_config = ConfigDict(extra="forbid")

    frequency: Literal["daily", "weekly", "monthly"]
    interval: int = Field(default=1, ge=1, le=365, description="every N days/weeks/months")
    end_type: Literal["never", "after", "on_date"] = "never"
    max_occurrences: int | None = Field(default=None, ge=1, le=10_000)
    end_date: date | None = None
    hour: int = Field(default=9, ge=0, le=23, description="local hour of each occurrence")
    minute: int = Field(default=0, ge=0, le=59)

    @model_validator(mode="after")
    def _end_is_complete(self) -> Recurrence:
        if self.end_type == "after" and self.max_occurrences is None:
            raise ValueError("end_type 'after' needs max_occurrences")
        if self.end_type == "on_date" and self.end_date is None:
            raise ValueError("end_type 'on_date' needs end_date")
        return self

    def occurrence(self, first_day: date, n: int) -> date:
        """The local day of the n-th occurrence (0-based) counted from ``first_day``."""
        if self.frequency == "daily":
            return first_day + timedelta(days=n * self.interval)
        if self.frequency == "weekly":
            return first_day + timedelta(weeks=n * self.interval)
        months = first_day.month - 1 + n * self.interval
        year, month = first_day.year + months // 12, months % 12 + 1
        for day in (first_day.day, 30, 29, 28):  # the 31st of a short month: its last day
            try:
                return date(year, month, day)
            except ValueError:
                continue
        raise AssertionError("unreachable")

    def is_over(self, n: int, day: date) -> bool:
        """Whether occurrence ``n`` (0-based) on ``day`` lies beyond the recurrence's end."""
        if self.end_type == "after" and self.max_occurrences is not None:
            return n >= self.max_occurrences
        if self.end_type == "on_date" and self.end_date is not None:
            return day > self.end_date
        return False


class ThrottleConfig(BaseModel):
    """PyTake's throttle_config: the campaign's own pace, never faster than the tenant's."""

    model_config = ConfigDict(extra="forbid")

    messages_per_minute: int = Field(default=60, ge=1, le=4200)
    messages_per_hour: int = Field(default=1000, ge=1, le=252_000)
    messages_per_day: int = Field(default=1000, ge=1, le=1_000_000)
    delay_between_messages_ms: int = Field(default=0, ge=0, le=3_600_000)
    respect_business_hours: bool = True
    business_hours_start: int = Field(default=9, ge=0, le=23)
    business_hours_end: int = Field(default=18, ge=1, le=24)
    timezone_per_contact: bool = Field(
        default=True, description="business hours in each contact's zone (else the tenant's)"
    )

    @model_validator(mode="after")
    def _hours_ordered(self) -> ThrottleConfig:
        if self.business_hours_end <= self.business_hours_start:
            raise ValueError("business_hours_end must be after business_hours_start")
        return self


class WhatsAppTemplate(BaseModel):
    """The approved WhatsApp template a message template is sent as."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]{1,512}$")
    language: str = Field(default="pt_BR", pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")


class MessageTemplate(BaseModel):
    """The seed's template: readable ``content`` with ``{{variables}}``, sent as an approved one.

    Named variables map, in order, to the approved template's body parameters. A variable is
    filled from the target (``name``, ``first_name``, campaign data such as ``voucherCode``)
    or, failing that, from ``variable_values`` (the same text for every contact).

    Rich parts: ``header`` (a media by https link or uploaded id, or a text header's variable)
    and ``buttons`` (quick-reply payloads, URL suffixes or tracked destinations, copy-code
    coupons), see :mod:`shared.domain.message_parts`. The seed's ``template_type``,
    ``media_url`` and ``media_type`` are read as a header: ``{"template_type": "image",
    "media_url": "https://..."}`` is ``{"header": {"type": "image", "link": "https://..."}}``.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Semana da roupa limpa",
                    "content": "{{first_name}}, chegou a semana da roupa limpa: lavagem com "
                    "desconto até domingo!",
                    "template_type": "image",
                    "media_url": "https://cdn.example.com/semana.jpg",
                    "buttons": [{"type": "URL", "suffix": "semana"}],
                },
                {
                    "name": "Cupom",
                    "content": "{{first_name}}, este cupom é seu: {{voucherCode}}. Ele vale "
                    "{{voucherValue}} de desconto até {{voucherExpiresAt}}.",
                    "buttons": [{"type": "COPY_CODE"}],
                    "whatsapp_template": {"name": "cupom_desconto", "language": "pt_BR"},
                },
            ]
        },
    )

    id: str | None = Field(
        default=None, max_length=100, description="referenced by ab_test_config variants"
    )
    name: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=1024)
    template_type: Literal["text", "image", "video", "document"] = Field(
        default="text", description="the seed's: text, or the kind of its media header"
    )
    media_url: str | None = Field(
        default=None, max_length=2000, description="the seed's: the header media's https link"
    )
    media_type: str | None = Field(
        default=None,
        max_length=100,
        description="the seed's: image, video, document, or the media's MIME type",
    )
    header: MessageHeader | None = None
    buttons: list[ButtonValue] = Field(default_factory=list, max_length=10)
    variables: list[str] | None = Field(
        default=None, max_length=20, description="default: the {{variables}} of content, in order"
    )
    variable_values: dict[Name, Annotated[str, Field(max_length=1024)]] = Field(
        default_factory=dict, max_length=20
    )
    ab_variant: str | None = Field(default=None, max_length=20)
    whatsapp_template: WhatsAppTemplate | None = Field(
        default=None, description="required to start: marketing messages must be approved"
    )

    @model_validator(mode="after")
    def _seed_media_is_a_header(self) -> MessageTemplate:
        """The seed's media fields and ``header`` say one thing, or a 422 names the field."""
        if self.media_url is not None:
            kind = self.template_type
            mime = self.media_type if self.media_type and "/" in self.media_type else None
            if self.media_type and mime is None:
                if self.media_type not in ("image", "video", "document"):
                    raise ValueError("media_type must be image, video, document or a MIME type")
                kind = self.media_type  # type: ignore[assignment]
            if kind == "text" and mime is not None:
                kind = mime.split("/", 1)[0]  # type: ignore[assignment]
            if kind not in ("image", "video", "document"):
                raise ValueError("template_type (or media_type) must say the media's kind")
            try:
                header = MessageHeader(type=kind, link=self.media_url, mime_type=mime)
            except pydantic.ValidationError as error:
                raise ValueError(f"media_url: {error.errors()[0]['msg']}") from None
            if self.header is not None and self.header != header:
                raise ValueError("give the media as header or as media_url, not both")
            self.header, self.template_type = header, kind
        elif self.template_type != "text" and (
            self.header is None or self.header.type != self.template_type
        ):
            raise ValueError(f"a {self.template_type} template needs media_url (or header)")
        indexes = [index for index, _ in indexed(self.buttons)]
        if len(indexes) != len(set(indexes)):
            raise ValueError("each button index once")
        return self

    @property
    def parameters(self) -> list[str]:
        if self.variables is not None:
            return list(self.variables)
        return list(dict.fromkeys(_VARIABLE.findall(self.content)))

    def render(self, values: dict[str, str]) -> str:
        """The message as a contact would read it (previews and the sandbox)."""
        merged = {**self.variable_values, **values}
        return _VARIABLE.sub(lambda m: merged.get(m.group(1), m.group(0)), self.content)


class AnalyticsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribution_window_days: int = Field(default=7, ge=1, le=90)
    cost_per_message: float = Field(default=0.35, ge=0, le=100, description="BRL per message")


class CampaignFields(BaseModel):
    """What a client may set: the seed's payload fields, plus vouchers and analytics."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    objective: Objective = Objective.PROMOTIONAL
    scheduled_at: datetime | None = Field(default=None, description="first run (UTC if naive)")
    recurrence: Recurrence | None = None
    throttle_config: ThrottleConfig = Field(default_factory=ThrottleConfig)
    send_window: LocalWindow | None = Field(
        default=None,
        description="an exact local window (minutes too); overrides the business hours",
    )
    segmentation: Segmentation | None = Field(
        default=None, description="the audience (SEGMENT campaigns); built-in kinds have none"
    )
    templates: list[MessageTemplate] = Field(default_factory=list, max_length=10)
    ab_test_config: ABTestConfig | None = None
    voucher: VoucherConfig | None = None
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    priority: Priority | None = Field(
        default=None,
        description="who goes first when the day's capacity is short: time_critical, normal or "
        "bulk (default: the kind's; API campaigns normal)",
    )
    validity_days: int | None = Field(
        default=None,
        ge=1,
        le=31,
        description="days after an occurrence starts during which its messages may still go; "
        "later they expire, never sent late (default: the kind's rule; API campaigns 3)",
    )
    thresholds: dict[Name, Threshold] = Field(
        default_factory=dict,
        max_length=50,
        description="built-in kinds only: their own settings (e.g. inactive_days)",
    )

    @field_validator("scheduled_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value

    def check_consistent(self) -> None:
        """Cross-field rules, raised with the exact field so a client can fix its payload."""
        ids = [t.id for t in self.templates if t.id]
        if len(ids) != len(set(ids)):
            raise FieldError("templates", "template ids must be unique")
        config = self.ab_test_config
        if config is not None and config.enabled:
            for index, variant in enumerate(config.variants):
                if self.variant_template(variant.name, variant.template_id) is None:
                    wanted = variant.template_id or variant.name
                    raise FieldError(
                        f"ab_test_config.variants[{index}].template_id",
                        f"variant {variant.name!r} points to template {wanted!r}, which is not "
                        f"in templates (give a template that id, or ab_variant {variant.name!r})",
                    )
        if self.thresholds and self.segmentation is not None:
            raise FieldError("thresholds", "only built-in campaigns have thresholds")

    def variant_template(self, variant: str, template_id: str | None) -> MessageTemplate | None:
        """The template with the variant's ``template_id``, else the one marked ``ab_variant``."""
        by_id = [t for t in self.templates if template_id is not None and t.id == template_id]
        by_variant = [t for t in self.templates if t.ab_variant == variant]
        found = by_id or by_variant
        return found[0] if found else None


class CampaignCreate(CampaignFields):
    """``POST /api/v1/campaigns``: creates a draft (or a scheduled campaign, once started)."""


class CampaignPatch(BaseModel):
    """``PATCH``: any subset of the fields; allowed while the campaign is draft or paused, and
    for the built-in kinds (standing daily settings, read at each run) while running too."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    objective: Objective | None = None
    scheduled_at: datetime | None = None
    recurrence: Recurrence | None = None
    throttle_config: ThrottleConfig | None = None
    send_window: LocalWindow | None = None
    segmentation: Segmentation | None = None
    templates: list[MessageTemplate] | None = Field(default=None, max_length=10)
    ab_test_config: ABTestConfig | None = None
    voucher: VoucherConfig | None = None
    analytics: AnalyticsSettings | None = None
    priority: Priority | None = None
    validity_days: int | None = Field(default=None, ge=1, le=31)
    thresholds: dict[Name, Threshold] | None = Field(default=None, max_length=50)
    enabled: bool | None = Field(
        default=None,
        description="built-in kinds only: true runs it every day (running), false pauses it",
    )


class ABState(BaseModel):
    """Where a campaign's A/B test stands: decided once, then the rest of the audience goes."""

    status: Literal["collecting", "winner", "no_winner"] = "collecting"
    rollout_variant: str | None = None
    p_value: float | None = None
    confidence_level: float | None = None
    decided_at: datetime | None = None
    rolled_out_period: str | None = Field(
        default=None, description="the occurrence whose remaining audience has been created"
    )


class Campaign(CampaignFields):
    id: str
    kind: str = SEGMENT
    status: CampaignStatus = CampaignStatus.DRAFT
    status_reason: str = ""
    created_at: datetime
    updated_at: datetime
    created_by: str = ""
    started_at: datetime | None = None
    paused_at: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    occurrences_run: int = Field(default=0, description="occurrences materialised so far")
    last_occurrence: str | None = Field(default=None, description="period key of the last one")
    ab_state: ABState | None = None

    @property
    def ab_undecided(self) -> bool:
        config = self.ab_test_config
        return (
            config is not None
            and config.enabled
            and (self.ab_state is None or self.ab_state.status == "collecting")
        )

    @property
    def ab_pending(self) -> bool:
        """Undecided, or decided but the rest of the latest occurrence is not created yet."""
        if self.ab_undecided:
            return True
        state = self.ab_state
        config = self.ab_test_config
        return (
            config is not None
            and config.enabled
            and state is not None
            and state.rolled_out_period != self.last_occurrence
        )

    @property
    def editable(self) -> bool:
        return self.status in (CampaignStatus.DRAFT, CampaignStatus.PAUSED)

    def approved_template(self) -> MessageTemplate:
        """The template sent when there is no A/B test (or the variant has none)."""
        for template in self.templates:
            if template.whatsapp_template is not None:
                return template
        raise FieldError(
            "templates",
            "no template maps to an approved WhatsApp template (whatsapp_template {name, "
            "language}); marketing messages outside the 24-hour window must be approved "
            "templates",
        )

    def check_startable(self) -> None:
        if self.kind == SEGMENT and self.segmentation is None:
            raise FieldError("segmentation", "a segment campaign needs a segmentation")
        self.approved_template()
        if self.kind == SEGMENT:
            self._check_variables_fillable()
        config = self.ab_test_config
        if config is not None and config.enabled:
            for index, variant in enumerate(config.variants):
                template = self.variant_template(variant.name, variant.template_id)
                if template is None or template.whatsapp_template is None:
                    raise FieldError(
                        f"ab_test_config.variants[{index}]",
                        f"variant {variant.name!r} has no approved WhatsApp template",
                    )

    def fillable(self, template: MessageTemplate) -> frozenset[str] | None:
        """The names a send of ``template`` can fill (target fields, the voucher's, its
        values); None for a built-in kind, whose targets carry their kind's own fields."""
        if self.kind != SEGMENT:
            return None
        known = set(TARGET_FIELDS) | (set(VOUCHER_FIELDS) if self.voucher else set())
        return frozenset(known | set(template.variable_values))

    def _check_variables_fillable(self) -> None:
        """Every variable of a sent template has a value, or every message would fail."""
        for index, template in enumerate(self.templates):
            known = self.fillable(template)
            if template.whatsapp_template is None or known is None:
                continue
            for name in template.parameters:
                if name not in known:
                    raise FieldError(
                        f"templates[{index}].variable_values",
                        f"nothing fills {{{{{name}}}}}: give it in variable_values, or use "
                        f"{', '.join(sorted(known - set(template.variable_values)))}",
                    )
            variable = template.header.text_variable if template.header else None
            if variable is not None and variable not in known:
                raise FieldError(
                    f"templates[{index}].header.text_variable", f"nothing fills {variable!r}"
                )
            for position, button in enumerate(template.buttons):
                needed = button.variable
                if needed is not None and needed not in known:
                    where = "code_field" if button.type == "copy_code" else "suffix_field"
                    raise FieldError(
                        f"templates[{index}].buttons[{position}].{where}",
                        f"nothing fills {needed!r}"
                        + (" (the campaign issues no vouchers)" if needed == "voucherCode" else ""),
                    )

    # -- what targeting and delivery read -------------------------------------------------

    @property
    def pipeline(self) -> CampaignSettings:
        """The campaign's pipeline settings (see :func:`pipeline_settings`)."""
        return pipeline_settings(self)


def pipeline_settings(campaign: Campaign) -> CampaignSettings:
    """What targeting and delivery read of ``campaign``, as its kind's settings model.

    The one derivation of the pipeline's settings from the campaign's fields: the status says
    whether the processor runs (scheduled, running) and whether queued messages wait (paused)
    or are skipped (cancelled); the send window is the exact ``send_window``, else the
    business hours, else the whole day; the sent template is the first one mapped to an
    approved WhatsApp template, and each A/B variant's; an API campaign's throttle slows the
    tenant's (built-in kinds keep the tenant's pace); a built-in kind's ``thresholds`` are
    validated by its model here, so an error names ``thresholds.<name>``.
    """
    model = settings_model(campaign.kind)
    clash = sorted(set(campaign.thresholds) & BASE_SETTINGS)
    if clash:
        raise FieldError(f"thresholds.{clash[0]}", "a setting every campaign has, not a threshold")
    throttle = campaign.throttle_config
    settings: dict[str, Any] = {
        "enabled": campaign.status in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED),
        "paused": campaign.status == CampaignStatus.PAUSED,
        "cancelled": campaign.status == CampaignStatus.CANCELLED,
        "paused_reason": campaign.status_reason[:500],
        "send_window": _send_window(campaign),
        "timezone_per_contact": throttle.timezone_per_contact,
        "variant_templates": _variant_templates(campaign),
        "template_values": {
            **{
                name: value
                for template in campaign.templates
                for name, value in template.variable_values.items()
            },
            **{
                tracked_button_name(index): button.url
                for template in campaign.templates
                for index, button in indexed(template.buttons)
                if button.url is not None
            },
        },
        "voucher": campaign.voucher,
        "priority": campaign.priority,
        "validity_days": campaign.validity_days,
    }
    if campaign.kind == SEGMENT:
        settings["campaign_throttle"] = CampaignThrottle(
            messages_per_minute=throttle.messages_per_minute,
            messages_per_hour=throttle.messages_per_hour,
            messages_per_day=throttle.messages_per_day,
            delay_between_messages_seconds=throttle.delay_between_messages_ms / 1000,
        )
    if campaign.recurrence is not None:
        settings["run_hour"] = campaign.recurrence.hour
    approved = [t for t in campaign.templates if t.whatsapp_template is not None]
    if approved:
        settings["template"] = _template_ref(approved[0])
    try:
        return model.model_validate({**campaign.thresholds, **settings})
    except pydantic.ValidationError as error:
        raise _under_thresholds(error, set(campaign.thresholds)) from error


def _send_window(campaign: Campaign) -> SendWindow:
    window = campaign.send_window
    if window is not None:
        start, end = time.fromisoformat(window.start), time.fromisoformat(window.end)
        return SendWindow(start=start, end=end)
    throttle = campaign.throttle_config
    if not throttle.respect_business_hours:
        return SendWindow(start=time(0, 0), end=time(23, 59))
    end = time(23, 59) if throttle.business_hours_end == 24 else time(throttle.business_hours_end)
    return SendWindow(start=time(throttle.business_hours_start), end=end)


def _variant_templates(campaign: Campaign) -> dict[str, TemplateRef]:
    config = campaign.ab_test_config
    if config is None or not config.enabled:
        return {}
    variants = {}
    for variant in config.variants:
        chosen = campaign.variant_template(variant.name, variant.template_id)
        if chosen is not None and chosen.whatsapp_template is not None:
            variants[variant.name] = _template_ref(chosen)
    return variants


def _template_ref(template: MessageTemplate) -> TemplateRef:
    assert template.whatsapp_template is not None
    return TemplateRef(
        name=template.whatsapp_template.name,
        language=template.whatsapp_template.language,
        parameters=template.parameters,
        header=template.header,
        buttons=template.buttons,
    )


def tracked_button_name(index: int) -> str:
    """The name a tracked URL button's destination has among the template values: the link's
    parameter, so the redirect finds it as it finds a body link's. Like ``variable_values``,
    the values are one map per campaign: two A/B variants with a tracked button at the same
    index share one destination (the last template's)."""
    return f"button_{index}"


def _under_thresholds(error: pydantic.ValidationError, names: set[str]) -> pydantic.ValidationError:
    """The same errors, located at ``thresholds.<name>`` as a client sent them."""
    details: list[InitErrorDetails] = []
    for item in error.errors():
        loc = item["loc"]
        if loc and loc[0] in names:
            loc = ("thresholds", *loc)
        detail: InitErrorDetails = {"type": item["type"], "loc": loc, "input": item["input"]}
        if "ctx" in item:
            detail["ctx"] = item["ctx"]
        try:  # a standard error type keeps its context (a page words it from ``ge``, ``le``)
            pydantic.ValidationError.from_exception_data(error.title, [detail])
        except KeyError:  # a validator's own type: kept with its message
            detail = {"type": PydanticCustomError(item["type"], item["msg"]), "loc": loc,
                      "input": item["input"]}  # fmt: skip
        details.append(detail)
    return pydantic.ValidationError.from_exception_data(error.title, details)


# -- the built-in kinds -----------------------------------------------------------------------

BUILT_IN_OBJECTIVES = {
    "BIRTHDAY": Objective.ENGAGEMENT,
    "WELCOME": Objective.ENGAGEMENT,
    "REACTIVATION": Objective.RETENTION,
    "LOYALTY": Objective.RETENTION,
}


def built_in_campaign(kind: str, *, now: datetime) -> Campaign:
    """A built-in kind's campaign with its kind's defaults, stored at ``now``: running daily
    at the default hour, sending the kind's default template within the default window."""
    defaults = settings_model(kind)()
    window = defaults.send_window
    return Campaign(
        id=kind,
        kind=kind,
        name=kind.capitalize(),
        description=f"built-in {kind.lower()} campaign",
        objective=BUILT_IN_OBJECTIVES[kind],
        status=CampaignStatus.RUNNING,
        created_at=now,
        updated_at=now,
        throttle_config=ThrottleConfig(
            business_hours_start=window.start.hour, business_hours_end=window.end.hour
        ),
        send_window=LocalWindow(
            start=window.start.strftime("%H:%M"), end=window.end.strftime("%H:%M")
        ),
        recurrence=Recurrence(frequency="daily", hour=defaults.run_hour),
        templates=[message_template(defaults.sent_template)],
        thresholds=defaults.model_dump(mode="json", exclude=set(BASE_SETTINGS)),
    )


def message_template(template: TemplateRef) -> MessageTemplate:
    """An approved template as a campaign's message template (its variables, in order)."""
    return MessageTemplate(
        name=template.name,
        content=" ".join(f"{{{{{p}}}}}" for p in template.parameters) or template.name,
        variables=template.parameters,
        whatsapp_template=WhatsAppTemplate(name=template.name, language=template.language),
    )
