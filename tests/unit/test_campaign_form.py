"""Nova campanha's form: inputs to the API's payload, and each error back beside its input."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from shared.console import campaign_form as form
from shared.domain.approved_templates import DEFAULT_TEMPLATES

ZONE = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CATALOGUE = {t.key: t for t in DEFAULT_TEMPLATES}
VALID = {
    "name": "Promo",
    "template": "boas_vindas@pt_BR",
    "filter_rows": "3",
    "filter-1-field": "visit_count",
    "filter-1-operator": "between",
    "filter-1-value": "2",
    "filter-1-value_to": "5",
}


def test_the_form_becomes_the_apis_payload_in_the_tenants_zone() -> None:
    values = VALID | {
        "publico": "escolhidos",
        "included_tags": "vip, , Black-Friday",
        "quando": "agendar",
        "data": "2026-12-01",
        "hora": "09:30",
        "janela": "livre",
        "cost_per_message": "0,42",
    }
    checked = form.check(values, CATALOGUE, ZONE, NOW, upto=form.REVIEW)
    assert checked.errors == {}
    body = checked.body
    assert body is not None and body.segmentation is not None
    assert body.segmentation.included_tags == ["vip", "Black-Friday"]
    assert [f.value for f in body.segmentation.custom_filters] == [["2", "5"]]
    assert body.scheduled_at == datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
    assert body.throttle_config.respect_business_hours is False and body.send_window is None
    assert body.analytics.cost_per_message == 0.42


def test_an_error_is_put_beside_the_input_of_the_row_it_came_from() -> None:
    values = VALID | {"filter-1-operator": "greater_than", "filter-1-value": "muitas"}
    checked = form.check(values, CATALOGUE, ZONE, NOW, upto=form.AUDIENCE)
    assert checked.errors == {"filter-1-value": "Digite um número (use ponto para decimais)."}
    assert checked.first_step() == form.AUDIENCE


def test_later_steps_are_checked_only_once_reached() -> None:
    values = VALID | {"template": "", "messages_per_minute": "0"}
    assert form.check(values, CATALOGUE, ZONE, NOW, upto=form.AUDIENCE).errors == {}
    message = form.check(values, CATALOGUE, ZONE, NOW, upto=form.MESSAGE).errors
    assert message == {"template": "Escolha um modelo aprovado da lista."}
    when = form.check(values | VALID, CATALOGUE, ZONE, NOW, upto=form.WHEN).errors
    assert when == {"messages_per_minute": "Deve ser no mínimo 1."}


def test_a_template_variable_nobody_fills_is_asked_for_by_name() -> None:
    values = VALID | {"template": "programa_fidelidade@pt_BR"}
    errors = form.check(values, CATALOGUE, ZONE, NOW, upto=form.MESSAGE).errors
    assert errors == {"var-a-visit_count": "Preencha este valor: ele vai na mensagem."}
    voucher = VALID | {"template": "cupom_desconto@pt_BR"}
    errors = form.check(voucher, CATALOGUE, ZONE, NOW, upto=form.MESSAGE).errors
    assert errors == {"cupom": "Este modelo usa o cupom: ative o cupom de desconto."}
    assert form.check(voucher | {"cupom": "on"}, CATALOGUE, ZONE, NOW, form.MESSAGE).errors == {}


def test_ab_errors_land_on_the_variant_inputs() -> None:
    values = VALID | {"ab": "on", "percent_a": "60", "percent_b": "60"}
    errors = form.check(values, CATALOGUE, ZONE, NOW, upto=form.AB).errors
    assert errors == {"percent_a": "As porcentagens de A e B devem somar 100."}
    errors = form.check(VALID | {"ab": "on"}, CATALOGUE, ZONE, NOW, upto=form.AB).errors
    assert errors == {"template_b": "Escolha o modelo da variante B."}


def test_an_empty_audience_is_named_at_who_receives_it() -> None:
    values = {"name": "Promo", "publico": "escolhidos"}
    errors = form.check(values, CATALOGUE, ZONE, NOW, upto=form.AUDIENCE).errors
    assert errors["publico"].startswith("Escolha quem recebe: todos os clientes")
    assert list(errors) == ["publico"]
    segmentation, audience_errors = form.audience(values, ZONE)
    assert segmentation is None and audience_errors == errors
