"""The Nova campanha form: what a person typed, as the API's ``CampaignCreate``, and back.

The form is one HTML form in steps; every step's inputs travel with every post (the steps not
shown are hidden, not removed), so the whole campaign is rebuilt from the post each time and
validated by the API's own models and rules — ``CampaignCreate``, ``check_consistent`` and
``check_startable`` — never by rules of this page. What this module adds is only the mapping:
input names to the payload's fields, and an error's field path back to the input beside which
its Portuguese message is shown (with the step that holds that input).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pydantic

from shared.console.forms import field_errors
from shared.domain.abtest import METRICS
from shared.domain.approved_templates import ApprovedTemplate
from shared.domain.campaign import (
    TARGET_FIELDS,
    VOUCHER_FIELDS,
    AnalyticsSettings,
    CampaignCreate,
    Objective,
    ThrottleConfig,
)
from shared.domain.errors import FieldError
from shared.domain.segmentation import FIELDS, FieldType, Operator, Segmentation
from shared.services.campaign_review import draft_campaign

STEPS = ("publico", "mensagem", "quando", "ab", "revisao")
"""Público, Mensagem e cupom, Quando, Teste A/B, Revisão."""
AUDIENCE, MESSAGE, WHEN, AB, REVIEW = range(len(STEPS))
MAX_FILTER_ROWS = 20
CUSTOM = "custom_fields."
GENERAL = "formulario"
"""The key of an error that belongs to no input (shown at the top of the step)."""

_THROTTLE = ThrottleConfig()
DEFAULTS: dict[str, str] = {
    "objective": Objective.PROMOTIONAL.value,
    "publico": "todos",
    "filter_rows": "1",
    "quando": "agora",
    "frequency": "weekly",
    "interval": "1",
    "rec_time": "09:00",
    "end_type": "never",
    "janela": "comercial",
    "window_start": f"{_THROTTLE.business_hours_start:02d}:00",
    "window_end": f"{_THROTTLE.business_hours_end:02d}:00",
    "messages_per_minute": str(_THROTTLE.messages_per_minute),
    "messages_per_hour": str(_THROTTLE.messages_per_hour),
    "messages_per_day": str(_THROTTLE.messages_per_day),
    "voucher_kind": "percentage",
    "voucher_value": "10",
    "voucher_validity_days": "30",
    "test_percentage": "20",
    "percent_a": "50",
    "percent_b": "50",
    "metric": "read_rate",
    "minimum_sample_size": "100",
    "cost_per_message": f"{AnalyticsSettings().cost_per_message:.2f}".replace(".", ","),
}
"""A fresh form: the models' own defaults where they have one."""
assert DEFAULTS["metric"] in METRICS

_NO_VALUE = frozenset({Operator.IS_SET.value, Operator.IS_NOT_SET.value})
_LISTS = frozenset({Operator.IN.value, Operator.NOT_IN.value})
_HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
_FILLS = re.compile(r"nothing fills \{\{(\w+)\}\}")


@dataclass
class FilterRow:
    index: int
    field: str
    key: str
    operator: str
    value: str
    value_to: str


@dataclass
class Built:
    """The payload a post describes, and which form row each payload filter came from."""

    payload: dict[str, Any]
    filter_rows: list[int] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)
    """Errors found while reading the post (an unknown template), by input."""


@dataclass
class Checked:
    body: CampaignCreate | None
    errors: dict[str, str]
    """Portuguese message by input name (``formulario``: the form as a whole)."""

    def first_step(self) -> int | None:
        steps = [step_of(name) for name in self.errors]
        return min(steps) if steps else None


def values_of(items: Sequence[tuple[str, Any]]) -> dict[str, str]:
    """The posted text fields (files and repeated names: the last one wins)."""
    return {name: value for name, value in items if isinstance(value, str)}


def value(values: Mapping[str, str], name: str) -> str:
    return values.get(name, DEFAULTS.get(name, "")).strip()


def filter_rows(values: Mapping[str, str]) -> list[FilterRow]:
    count = _int(value(values, "filter_rows"), 1, 1, MAX_FILTER_ROWS)
    return [
        FilterRow(
            index=i,
            field=value(values, f"filter-{i}-field"),
            key=value(values, f"filter-{i}-key"),
            operator=value(values, f"filter-{i}-operator"),
            value=value(values, f"filter-{i}-value"),
            value_to=value(values, f"filter-{i}-value_to"),
        )
        for i in range(count)
    ]


def add_filter_row(values: dict[str, str]) -> None:
    values["filter_rows"] = str(min(MAX_FILTER_ROWS, len(filter_rows(values)) + 1))


def free_parameters(template: ApprovedTemplate | None) -> list[str]:
    """The template's parameters a person fills (targets and vouchers fill the others)."""
    if template is None:
        return []
    return [p for p in template.parameters if p not in TARGET_FIELDS + VOUCHER_FIELDS]


def build(
    values: Mapping[str, str], catalogue: Mapping[str, ApprovedTemplate], zone: ZoneInfo
) -> Built:
    """The ``POST /api/v1/campaigns`` body this post describes (every step's inputs)."""
    built = Built(payload={})
    payload = built.payload
    payload["name"] = value(values, "name")
    payload["description"] = value(values, "description")
    payload["objective"] = value(values, "objective")
    payload["segmentation"] = _segmentation(values, built)
    ab = value(values, "ab") == "on"
    templates = []
    chosen = catalogue.get(value(values, "template"))
    if chosen is None:
        built.problems["template"] = "Escolha um modelo aprovado da lista."
    else:
        templates.append(
            chosen.message_fields(
                variable_values=variables(values, "a"),
                template_id="A" if ab else None,
                ab_variant="A" if ab else None,
            )
        )
    if value(values, "cupom") == "on":
        payload["voucher"] = voucher(values)
    _when(values, payload, zone)
    if ab:
        second = catalogue.get(value(values, "template_b"))
        if second is not None:
            templates.append(
                second.message_fields(
                    variable_values=variables(values, "b"), template_id="B", ab_variant="B"
                )
            )
        payload["ab_test_config"] = {
            "enabled": True,
            "test_percentage": _decimal(value(values, "test_percentage")),
            "variants": [
                {
                    "name": "A",
                    "percentage": _decimal(value(values, "percent_a")),
                    "template_id": "A",
                },
                {
                    "name": "B",
                    "percentage": _decimal(value(values, "percent_b")),
                    "template_id": "B",
                },
            ],
            "metric_to_optimize": value(values, "metric"),
            "minimum_sample_size": value(values, "minimum_sample_size"),
        }
    payload["templates"] = templates
    payload["analytics"] = {"cost_per_message": _decimal(value(values, "cost_per_message"))}
    return built


def voucher(values: Mapping[str, str]) -> dict[str, str]:
    """The ``voucher`` of the payload (when the voucher box is ticked)."""
    return {
        "kind": value(values, "voucher_kind"),
        "value": _decimal(value(values, "voucher_value")),
        "validity_days": value(values, "voucher_validity_days"),
    }


def audience(
    values: Mapping[str, str], zone: ZoneInfo
) -> tuple[Segmentation | None, dict[str, str]]:
    """The audience alone, validated (its estimate shows before the rest is filled in)."""
    built = build(values, {}, zone)
    try:
        return Segmentation.model_validate(built.payload["segmentation"]), {}
    except pydantic.ValidationError as error:
        messages = _model_errors(error, built, prefix="segmentation")
        return None, {input_for(path, built): text for path, text in messages.items()}


def check(
    values: Mapping[str, str],
    catalogue: Mapping[str, ApprovedTemplate],
    zone: ZoneInfo,
    now: datetime,
    upto: int,
) -> Checked:
    """Validate the whole campaign as the API would; keep the errors of steps ``<= upto``.

    From the message step on, the campaign must also be startable (an approved template whose
    variables are all filled), so a campaign made here can always be started.
    """
    built = build(values, catalogue, zone)
    errors: dict[str, str] = dict(built.problems)
    body: CampaignCreate | None = None
    try:
        body = CampaignCreate.model_validate(built.payload)
    except pydantic.ValidationError as error:
        for path, text in _model_errors(error, built).items():
            errors.setdefault(input_for(path, built), text)
    if body is not None and not errors:
        try:
            body.check_consistent()
            if upto >= MESSAGE:
                draft_campaign(body, now).check_startable()
        except FieldError as error:
            name, text = _rule_error(error, built)
            errors.setdefault(name, text)
    relevant = {name: text for name, text in errors.items() if step_of(name) <= upto}
    return Checked(body if not errors else None, relevant)


def step_of(name: str) -> int:
    """The step whose inputs include ``name``."""
    if name == GENERAL:
        return AUDIENCE
    if name.startswith(("filter-", "included_", "excluded_")) or name in {
        "name",
        "description",
        "objective",
        "publico",
        "filters",
    }:
        return AUDIENCE
    if name.startswith("var-a-") or name in {
        "template",
        "cupom",
        "voucher_kind",
        "voucher_value",
        "voucher_validity_days",
    }:
        return MESSAGE
    if name.startswith("var-b-") or name in {
        "ab",
        "template_b",
        "test_percentage",
        "percent_a",
        "percent_b",
        "metric",
        "minimum_sample_size",
    }:
        return AB
    if name == "cost_per_message":
        return REVIEW
    return WHEN


# -- error path -> input ---------------------------------------------------------------------

_SIMPLE_INPUTS = {
    "recurrence": {
        "frequency": "frequency",
        "interval": "interval",
        "hour": "rec_time",
        "minute": "rec_time",
        "end_type": "end_type",
        "max_occurrences": "max_occurrences",
        "end_date": "end_date",
    },
    "send_window": {"start": "window_start", "end": "window_end"},
    "throttle_config": {
        "messages_per_minute": "messages_per_minute",
        "messages_per_hour": "messages_per_hour",
        "messages_per_day": "messages_per_day",
    },
    "voucher": {
        "kind": "voucher_kind",
        "value": "voucher_value",
        "validity_days": "voucher_validity_days",
    },
    "ab_test_config": {
        "test_percentage": "test_percentage",
        "metric_to_optimize": "metric",
        "minimum_sample_size": "minimum_sample_size",
    },
}
_WHOLE = {
    "recurrence": "end_type",
    "send_window": "window_end",
    "throttle_config": "janela",
    "voucher": "cupom",
    "ab_test_config": "ab",
    "analytics": "cost_per_message",
    "scheduled_at": "scheduled_at",
    "name": "name",
    "description": "description",
    "objective": "objective",
}


def _parts(path: str) -> list[str]:
    """``segmentation.custom_filters[1].value`` and ``...custom_filters.1.value`` alike."""
    return [p for p in re.split(r"[.\[\]]+", path) if p]


def input_for(path: str, built: Built) -> str:
    """The input beside which an error at the payload's ``path`` is shown."""
    parts = _parts(path)
    if not parts:
        return GENERAL
    head, rest = parts[0], parts[1:]
    if head == "segmentation":
        return _segmentation_input(rest, built)
    if head == "templates":
        variant = "b" if rest[:1] == ["1"] else "a"
        if "variable_values" in rest:
            after = rest[rest.index("variable_values") + 1 :]
            if after and after[0] in _variable_names(built, _index(rest)):
                return f"var-{variant}-{after[0]}"
        return "template_b" if variant == "b" else "template"
    if head == "ab_test_config" and rest[:1] == ["variants"]:
        index = rest[1] if len(rest) > 1 else ""
        if rest[2:3] == ["template_id"] or (index and len(rest) == 2):
            return "template_b" if index == "1" else "template"
        if rest[2:3] == ["percentage"]:
            return "percent_b" if index == "1" else "percent_a"
        return "percent_a"
    inputs = _SIMPLE_INPUTS.get(head, {})
    if rest and rest[0] in inputs:
        return inputs[rest[0]]
    return _WHOLE.get(head, GENERAL)


def _variable_names(built: Built, index: int) -> set[str]:
    templates = built.payload.get("templates", [])
    return set(templates[index]["variable_values"]) if index < len(templates) else set()


def _index(rest: list[str]) -> int:
    return int(rest[0]) if rest and rest[0].isdigit() else 0


def _segmentation_input(rest: list[str], built: Built) -> str:
    if not rest or rest[0] == "include_all":
        return "publico"
    if rest[0] in ("included_tags", "included_groups", "excluded_tags", "excluded_groups"):
        return rest[0]
    if rest[0] == "custom_filters" and len(rest) > 1 and rest[1].isdigit():
        position = int(rest[1])
        row = built.filter_rows[position] if position < len(built.filter_rows) else 0
        part = rest[2] if len(rest) > 2 else "field"
        if part == "field":
            custom = built.payload["segmentation"]["custom_filters"][position]["field"]
            return f"filter-{row}-key" if custom.startswith(CUSTOM) else f"filter-{row}-field"
        return f"filter-{row}-{part if part in ('operator', 'value') else 'value'}"
    if rest[0] == "custom_filters":
        return "filters"
    return "publico"


# -- Portuguese messages ---------------------------------------------------------------------


def _model_errors(
    error: pydantic.ValidationError, built: Built, prefix: str = ""
) -> dict[str, str]:
    """Path -> Portuguese: the console's wording of each error type, or this form's own.

    ``prefix``: where the validated model sits in the campaign (``segmentation``)."""
    generic = field_errors(error)
    messages: dict[str, str] = {}
    for item in error.errors():
        local = ".".join(str(part) for part in item["loc"])
        path = ".".join(part for part in (prefix, local) if part) or GENERAL
        own = _own_words(path, item["type"], str(item["msg"]), built)
        text = own or generic.get(local or "formulário", "")
        if not text or text.startswith("Valor inválido:"):
            text = "Valor inválido."
        messages.setdefault(path, text)
    return messages


def _own_words(path: str, kind: str, message: str, built: Built) -> str | None:
    parts = _parts(path)
    if path == "name" and kind in ("string_too_short", "missing"):
        return "Dê um nome à campanha."
    if path == "segmentation":
        if "already selects everyone" in message:
            return "Com “todos os clientes”, deixe etiquetas e grupos em branco."
        return "Escolha quem recebe: todos os clientes, etiquetas, grupos ou ao menos um filtro."
    if parts[:2] == ["segmentation", "custom_filters"] and len(parts) >= 4:
        return _filter_words(built, int(parts[2]), parts[3])
    if path == "scheduled_at":
        return "Informe uma data e uma hora válidas."
    if path in ("recurrence.hour", "recurrence.minute"):
        return "Hora inválida: use HH:MM."
    if path == "recurrence":
        if "max_occurrences" in message:
            return "Informe depois de quantos envios a repetição termina."
        return "Informe a data em que a repetição termina."
    if path in ("send_window.start", "send_window.end") and kind == "string_pattern_mismatch":
        return "Use o formato HH:MM."
    if path == "send_window":
        return "A janela deve terminar depois de começar, no mesmo dia."
    if path == "ab_test_config.variants":
        return "As porcentagens de A e B devem somar 100."
    if path == "voucher.value" and kind == "value_error":
        if "decimals" in message:
            return "Use no máximo duas casas decimais."
        if "percentage" in message:
            return "Um desconto percentual vai até 100."
        return "O desconto em reais vai até R$ 100.000."
    return None


def _filter_words(built: Built, position: int, part: str) -> str:
    filters = built.payload["segmentation"]["custom_filters"]
    row = filters[position] if position < len(filters) else {}
    if part == "field":
        return (
            "Escolha um campo da lista. Um campo personalizado se escreve com letras "
            "minúsculas, números ou _ (ex.: bairro_favorito)."
        )
    if part == "operator":
        return "Esta comparação não serve para este campo."
    operator = str(row.get("operator", ""))
    name = str(row.get("field", ""))
    kind = FIELDS.get(name)
    if operator in _NO_VALUE:
        return "Esta comparação não usa valor: deixe em branco."
    if operator == Operator.BETWEEN.value:
        return "Informe o mínimo e o máximo (o mínimo não pode passar do máximo)."
    if operator in _LISTS:
        return "Informe um ou mais valores, separados por vírgula."
    if kind is FieldType.NUMBER or (
        name.startswith(CUSTOM) and operator.endswith(("than", "equal"))
    ):
        return "Digite um número (use ponto para decimais)."
    if kind in (FieldType.DATE, FieldType.TIMESTAMP):
        return "Digite uma data no formato AAAA-MM-DD."
    return "Digite um valor."


def _rule_error(error: FieldError, built: Built) -> tuple[str, str]:
    """The input and the Portuguese of a campaign rule's error (check_consistent/startable)."""
    fills = _FILLS.search(error.reason)
    parts = _parts(error.field)
    if fills and parts[:1] == ["templates"]:
        variant = "b" if parts[1:2] == ["1"] else "a"
        name = fills.group(1)
        if name in VOUCHER_FIELDS:
            return "cupom", "Este modelo usa o cupom: ative o cupom de desconto."
        return f"var-{variant}-{name}", "Preencha este valor: ele vai na mensagem."
    name = input_for(error.field, built)
    if name == "template":
        return name, "Escolha um modelo aprovado da lista."
    if name == "template_b":
        return name, "Escolha o modelo da variante B."
    if name == "publico":
        return name, "Escolha quem recebe a campanha."
    return name, "Valor inválido."


# -- reading the inputs ----------------------------------------------------------------------


def _segmentation(values: Mapping[str, str], built: Built) -> dict[str, Any]:
    segmentation: dict[str, Any] = {"include_all": value(values, "publico") == "todos"}
    if not segmentation["include_all"]:
        segmentation["included_tags"] = _labels(value(values, "included_tags"))
        segmentation["included_groups"] = _labels(value(values, "included_groups"))
    segmentation["excluded_tags"] = _labels(value(values, "excluded_tags"))
    segmentation["excluded_groups"] = _labels(value(values, "excluded_groups"))
    filters = []
    for row in filter_rows(values):
        if not row.field:
            continue
        built.filter_rows.append(row.index)
        name = CUSTOM + row.key if row.field == CUSTOM else row.field
        item: dict[str, Any] = {"field": name, "operator": row.operator}
        if row.operator == Operator.BETWEEN.value:
            item["value"] = [row.value, row.value_to]
        elif row.operator in _LISTS:
            item["value"] = _labels(row.value)
        elif row.operator not in _NO_VALUE:
            item["value"] = row.value or None
        filters.append(item)
    segmentation["custom_filters"] = filters
    return segmentation


def variables(values: Mapping[str, str], variant: str) -> dict[str, str]:
    prefix = f"var-{variant}-"
    return {
        name.removeprefix(prefix): text.strip()
        for name, text in values.items()
        if name.startswith(prefix) and text.strip()
    }


def _when(values: Mapping[str, str], payload: dict[str, Any], zone: ZoneInfo) -> None:
    when = value(values, "quando")
    if when == "agendar" or (when == "repetir" and value(values, "data")):
        payload["scheduled_at"] = _local_instant(value(values, "data"), value(values, "hora"), zone)
    if when == "repetir":
        recurrence: dict[str, Any] = {
            "frequency": value(values, "frequency"),
            "interval": value(values, "interval"),
            "end_type": value(values, "end_type"),
        }
        hour_minute = _HHMM.match(value(values, "rec_time"))
        recurrence["hour"] = hour_minute.group(1) if hour_minute else value(values, "rec_time")
        recurrence["minute"] = hour_minute.group(2) if hour_minute else "0"
        for name in ("max_occurrences", "end_date"):
            if value(values, name):
                recurrence[name] = value(values, name)
        payload["recurrence"] = recurrence
    business_hours = value(values, "janela") == "comercial"
    if business_hours:
        payload["send_window"] = {
            "start": value(values, "window_start"),
            "end": value(values, "window_end"),
        }
    payload["throttle_config"] = {
        "messages_per_minute": value(values, "messages_per_minute"),
        "messages_per_hour": value(values, "messages_per_hour"),
        "messages_per_day": value(values, "messages_per_day"),
        "respect_business_hours": business_hours,
    }


def _local_instant(day: str, hour: str, zone: ZoneInfo) -> str:
    """The tenant-zone instant of a date and time input; the raw text when it is not one (the
    model then reports it)."""
    try:
        parsed = datetime.combine(date.fromisoformat(day), time.fromisoformat(hour), zone)
    except ValueError:
        return f"{day}T{hour}"
    return parsed.isoformat()


def _labels(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _decimal(text: str) -> str:
    """Brazilians write 0,35: the models read 0.35."""
    return text.replace(",", ".")


def _int(text: str, default: int, low: int, high: int) -> int:
    try:
        return min(high, max(low, int(text)))
    except ValueError:
        return default
