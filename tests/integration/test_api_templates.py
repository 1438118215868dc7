"""What the Nova campanha form needs from the API, through the real functions host: the approved
templates a campaign can use (per tenant), a sample of an audience, and a draft's forecast."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.approved_templates import DEFAULT_TEMPLATES, ApprovedTemplate
from shared.domain.cnpj import Cnpj
from shared.services.tenants import register_tenant
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE, approved

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

Client = Callable[..., ApiClient]
IN_CLEAR = re.compile(r"\d{5}")
"""Five digits in a row would be more than a masked phone shows (``+5511*****21``)."""
ZONE = ZoneInfo("America/Sao_Paulo")


def _names(client: ApiClient) -> list[str]:
    answer = client.get("/api/v1/templates")
    assert answer.status_code == 200, answer.text
    return [item["name"] for item in answer.json()["items"]]


def test_a_registered_tenant_lists_the_defaults_stored_in_its_catalogue(
    api_as: Client, sample_tenant: Callable[..., Cnpj], deps: Container
) -> None:
    cnpj = sample_tenant(customers=5)
    answer = api_as(cnpj, Role.VIEWER).get("/api/v1/templates")
    assert answer.status_code == 200, answer.text
    items = {item["name"]: item for item in answer.json()["items"]}
    used = {"feliz_aniversario", "boas_vindas", "sentimos_sua_falta", "programa_fidelidade"}
    assert used | {approved(SIMPLE)["templates"][0]["whatsapp_template"]["name"]} <= set(items)
    loyalty = items["programa_fidelidade"]
    assert loyalty["language"] == "pt_BR" and loyalty["category"] == "MARKETING"
    assert loyalty["parameters"] == ["first_name", "visit_count"]
    assert "{{1}}" in loyalty["body"] and "{{2}}" in loyalty["body"]
    assert "{{first_name}}" in loyalty["content"] and "{{visit_count}}" in loyalty["content"]
    assert [t.name for t in deps.templates.list(cnpj)] == sorted(items)  # seeded, not computed


def test_each_tenant_sees_only_its_own_templates(
    api_as: Client, sample_tenant: Callable[..., Cnpj], deps: Container
) -> None:
    mine, theirs = sample_tenant(customers=3), sample_tenant(customers=3)
    own = ApprovedTemplate(
        name="promo_lavanderia_centro", body="Oi {{1}}, lavagem em dobro hoje!", parameters=["name"]
    )
    assert deps.templates.add_missing(mine, [own]) == 1
    assert deps.templates.add_missing(mine, [own]) == 0  # never twice, never overwritten
    assert "promo_lavanderia_centro" in _names(api_as(mine))
    assert "promo_lavanderia_centro" not in _names(api_as(theirs))


def test_a_tenant_without_a_catalogue_is_offered_the_defaults(
    api_as: Client, new_cnpj: Cnpj, deps: Container
) -> None:
    register_tenant(
        new_cnpj,
        name="Sem catálogo",
        timezone=None,
        tenants=deps.tenants,
        warehouse=None,
        queues=None,
    )
    assert deps.templates.list(new_cnpj) == []
    assert _names(api_as(new_cnpj)) == sorted(t.name for t in DEFAULT_TEMPLATES)


def test_a_listed_template_as_the_docs_say_makes_a_campaign_that_starts(
    api_as: Client, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=4)
    client = api_as(cnpj, Role.EDITOR)
    items = client.get("/api/v1/templates").json()["items"]
    loyalty = next(item for item in items if item["name"] == "programa_fidelidade")
    body = SIMPLE | {
        "templates": [
            {
                "name": "Fidelidade",
                "content": loyalty["content"],
                "variables": loyalty["parameters"],
                "variable_values": {"visit_count": "10"},
                "whatsapp_template": {"name": loyalty["name"], "language": loyalty["language"]},
            }
        ]
    }
    created = client.post("/api/v1/campaigns", json=body)
    assert created.status_code == 201, created.text
    started = client.post(f"/api/v1/campaigns/{created.json()['id']}/start")
    assert started.status_code == 200, started.text
    assert started.json()["campaign"]["status"] in ("running", "completed")


def test_the_sample_is_the_estimates_audience_by_name_with_masked_phones(
    api_as: Client, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=30)
    client = api_as(cnpj, Role.VIEWER)
    segmentation = {
        "custom_filters": [{"field": "visit_count", "operator": "greater_or_equal", "value": 2}]
    }
    size = client.post("/api/v1/segments/estimate", json={"segmentation": segmentation})
    assert size.status_code == 200, size.text
    expected = size.json()["estimated_recipients"]
    assert 0 < expected < 30  # the filter really narrows the audience
    answer = client.post(
        "/api/v1/segments/sample", json={"segmentation": segmentation, "limit": 20}
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert len(items) == min(expected, 20)
    assert [i["name"] for i in items] == sorted(i["name"] for i in items)
    assert all("*" in i["phone_masked"] and not IN_CLEAR.search(i["phone_masked"]) for i in items)
    assert all(item["first_name"] == item["name"].split()[0].capitalize() for item in items)
    everyone = client.post(
        "/api/v1/segments/sample", json={"segmentation": {"include_all": True}, "limit": 3}
    )
    assert len(everyone.json()["items"]) == 3


def test_a_sample_names_the_bad_filter_like_the_estimate(
    api_as: Client, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=3)
    bad = {"custom_filters": [{"field": "visit_count", "operator": "contains", "value": "x"}]}
    answer = api_as(cnpj).post("/api/v1/segments/sample", json={"segmentation": bad})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "segmentation.custom_filters[0].operator"
    too_many = api_as(cnpj).post(
        "/api/v1/segments/sample", json={"segmentation": {"include_all": True}, "limit": 21}
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "limit"


def _tomorrow_at(hour: int, minute: int) -> datetime:
    day = datetime.now(ZONE).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), ZONE)


def _draft(**changes: Any) -> dict[str, Any]:
    return approved(SIMPLE) | changes


def test_the_forecast_prices_the_audience_and_paces_it(
    api_as: Client, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=20)
    client = api_as(cnpj, Role.VIEWER)
    starts = _tomorrow_at(10, 0)
    draft = _draft(
        scheduled_at=starts.isoformat(),
        throttle_config={"messages_per_minute": 12, "respect_business_hours": False},
        analytics={"cost_per_message": 0.5},
    )
    answer = client.post("/api/v1/segments/forecast", json=draft)
    assert answer.status_code == 200, answer.text
    figures = answer.json()
    size = client.post("/api/v1/segments/estimate", json={"segmentation": SIMPLE["segmentation"]})
    recipients = size.json()["estimated_recipients"]
    assert figures["estimated_recipients"] == recipients > 1
    assert figures["estimated_cost"] == round(recipients * 0.5, 2)
    assert figures["messages_per_minute"] == 12
    first = datetime.fromisoformat(figures["first_send_at"])
    last = datetime.fromisoformat(figures["last_send_at"])
    assert first == starts  # the first slot of the minute it was scheduled for
    assert last - first == timedelta(seconds=5) * (recipients - 1)  # 12 a minute: every 5 s


def test_the_forecast_keeps_the_send_window_and_the_daily_cap(
    api_as: Client, sample_tenant: Callable[..., Cnpj]
) -> None:
    """A campaign's pace is exactly its own, however low: 1 a minute, 8 a day."""
    cnpj = sample_tenant(customers=20)
    client = api_as(cnpj)
    windowed = _draft(
        scheduled_at=_tomorrow_at(17, 59).isoformat(),
        throttle_config={"messages_per_minute": 1},
        send_window={"start": "09:00", "end": "18:00"},
    )
    figures = client.post("/api/v1/segments/forecast", json=windowed).json()
    recipients = figures["estimated_recipients"]
    assert figures["messages_per_minute"] == 1 and recipients > 2
    last = datetime.fromisoformat(figures["last_send_at"]).astimezone(ZONE)
    next_opening = _tomorrow_at(9, 0) + timedelta(days=1)  # 1 slot at 17:59, then 09:00
    assert last == next_opening + timedelta(minutes=1) * (recipients - 2)
    capped = _draft(
        scheduled_at=_tomorrow_at(10, 0).isoformat(),
        throttle_config={"messages_per_day": 8, "respect_business_hours": False},
    )
    figures = client.post("/api/v1/segments/forecast", json=capped).json()
    last = datetime.fromisoformat(figures["last_send_at"]).astimezone(ZONE)
    days_needed = (recipients - 1) // 8
    assert last.date() == _tomorrow_at(0, 0).date() + timedelta(days=days_needed)


def test_a_forecast_of_a_bad_draft_names_the_field(
    api_as: Client, sample_tenant: Callable[..., Cnpj]
) -> None:
    cnpj = sample_tenant(customers=3)
    answer = api_as(cnpj).post(
        "/api/v1/segments/forecast", json={"name": "Sem público", "templates": []}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "segmentation"
