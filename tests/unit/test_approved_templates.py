"""The template catalogue: a body and its parameters, the campaign template made from it."""

from __future__ import annotations

import pydantic
import pytest

from shared.campaigns import registered_processors
from shared.domain.approved_templates import DEFAULT_TEMPLATES, ApprovedTemplate
from shared.domain.campaign import CampaignCreate


def test_every_built_in_campaigns_default_template_is_in_the_defaults() -> None:
    defaults = {(t.name, t.language): t.parameters for t in DEFAULT_TEMPLATES}
    for processor in registered_processors():
        template = processor.settings_model.default_template
        assert defaults[(template.name, template.language)] == template.parameters


def test_positional_parameters_become_named_variables_in_order() -> None:
    loyalty = ApprovedTemplate(
        name="programa_fidelidade",
        body="{{1}}, {{2}} visitas! Obrigado, {{1}}.",
        parameters=["first_name", "visit_count"],
    )
    assert loyalty.content == "{{first_name}}, {{visit_count}} visitas! Obrigado, {{first_name}}."
    message = loyalty.message_template(variable_values={"visit_count": "12", "other": "x"})
    assert message.parameters == ["first_name", "visit_count"]
    assert message.variable_values == {"visit_count": "12"}
    assert message.render({"first_name": "Ana"}) == "Ana, 12 visitas! Obrigado, Ana."


def test_a_body_and_its_parameters_must_agree() -> None:
    with pytest.raises(pydantic.ValidationError):
        ApprovedTemplate(name="a", body="Oi {{1}} e {{3}}", parameters=["name", "first_name"])
    with pytest.raises(pydantic.ValidationError):
        ApprovedTemplate(name="a", body="Oi {{1}}", parameters=[])
    with pytest.raises(pydantic.ValidationError):
        ApprovedTemplate(name="a", body="Oi {{nome}}", parameters=["first_name"])
    named = ApprovedTemplate(name="a", body="Oi {{first_name}}", parameters=["first_name"])
    assert named.content == named.body


def test_a_default_template_makes_a_campaign_the_api_accepts_and_can_start() -> None:
    for template in DEFAULT_TEMPLATES:
        fields = template.message_fields(variable_values={"visit_count": "10"})
        body = CampaignCreate.model_validate(
            {"name": "x", "segmentation": {"include_all": True}, "templates": [fields]}
        )
        assert body.templates[0].whatsapp_template is not None
        assert body.templates[0].whatsapp_template.name == template.name
