"""API campaigns through the pipeline: estimate = audience, A/B test decided, vouchers issued."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.messages import TenantJob
from shared.ports import HistoryRow
from shared.services.process_tenant import process_tenant
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE, approved, targets_of

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

Client = Callable[..., ApiClient]


def closed_window() -> dict[str, Any]:
    """Business hours that exclude the present, so the pipeline sends nothing during the test
    (the test writes the delivery history itself)."""
    local_hour = datetime.now(ZoneInfo("America/Sao_Paulo")).hour
    start = (local_hour + 3) % 24
    return {
        "respect_business_hours": True,
        "business_hours_start": min(start, 22),
        "business_hours_end": min(start, 22) + 1,
    }


@pytest.fixture
def tenant(sample_tenant: Callable[..., Cnpj]) -> Cnpj:
    return sample_tenant(customers=60)


def test_the_estimate_is_the_audience_a_start_materialises(api_as: Client, tenant: Cnpj) -> None:
    client = api_as(tenant)
    segmentation = {
        "include_all": True,
        "custom_filters": [{"field": "visit_count", "operator": "greater_or_equal", "value": 1}],
    }
    estimate = client.post("/api/v1/segments/estimate", json={"segmentation": segmentation})
    assert estimate.status_code == 200, estimate.text
    size = estimate.json()["estimated_recipients"]
    assert 0 < size < 60
    body = {**approved(SIMPLE), "segmentation": segmentation}
    campaign = client.post("/api/v1/campaigns", json=body).json()
    by_id = client.post("/api/v1/segments/estimate", json={"campaign_id": campaign["id"]})
    assert by_id.json()["estimated_recipients"] == size
    started = client.post(f"/api/v1/campaigns/{campaign['id']}/start").json()
    assert started["targets"]["candidates"] == size


def test_a_bad_filter_is_a_422_naming_it(api_as: Client, tenant: Cnpj) -> None:
    segmentation = {
        "include_all": True,
        "custom_filters": [
            {"field": "visit_count", "operator": "greater_than", "value": 2},
            {"field": "visit_count", "operator": "starts_with", "value": "a"},
        ],
    }
    answer = api_as(tenant).post("/api/v1/segments/estimate", json={"segmentation": segmentation})
    assert answer.status_code == 422, answer.text
    fields = [e["field"] for e in answer.json()["errors"]]
    assert any(f.startswith("segmentation.custom_filters[1]") for f in fields), fields


def ab_campaign() -> dict[str, Any]:
    body = approved(SIMPLE)
    body["throttle_config"] = {**body["throttle_config"], **closed_window()}
    body["templates"] = [
        {
            "id": "t-a",
            "name": "A",
            "content": "Olá {{first_name}}!",
            "whatsapp_template": {"name": "oferta_a"},
        },
        {
            "id": "t-b",
            "name": "B",
            "content": "{{first_name}}, oferta!",
            "whatsapp_template": {"name": "oferta_b"},
        },
    ]
    body["ab_test_config"] = {
        "enabled": True,
        "test_percentage": 50.0,
        "variants": [
            {"name": "A", "percentage": 50.0, "template_id": "t-a"},
            {"name": "B", "percentage": 50.0, "template_id": "t-b"},
        ],
        "metric_to_optimize": "delivery_rate",
        "minimum_sample_size": 5,
        "significance_level": 0.95,
    }
    return body


def history(target: dict[str, Any], campaign_id: str, status: str, at: datetime) -> HistoryRow:
    target_id = f"{target['customerId']}_{target['period']}"
    return HistoryRow(
        event_id=f"test#{campaign_id}#{target_id}#{status}",
        user_id=target["customerId"],
        campaign_kind="SEGMENT",
        campaign_id=campaign_id,
        target_id=target_id,
        sent_at=at,
        status=status,
        phone=target["phone"],
        template="oferta_" + target["data"]["variant"].lower(),
        variant=target["data"]["variant"],
        period=target["period"],
        ab_group=target["data"]["abGroup"],
    )


def test_the_ab_test_decides_and_rolls_the_winner_out(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    client = api_as(tenant)
    campaign = client.post("/api/v1/campaigns", json=ab_campaign()).json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/start").status_code == 200
    test_group = targets_of(deps, tenant, campaign["id"])
    assert test_group and {t["data"]["abGroup"] for t in test_group} == {"test"}
    by_variant = {v: [t for t in test_group if t["data"]["variant"] == v] for v in "AB"}
    assert all(len(group) >= 5 for group in by_variant.values()), by_variant

    now = datetime.now(UTC)
    rows = [history(t, campaign["id"], "SENT", now) for t in test_group]
    rows += [history(t, campaign["id"], "DELIVERED", now) for t in by_variant["A"]]
    deps.history.append(tenant, rows)

    tick = TenantJob(cnpj=tenant.value, instant=now + timedelta(minutes=5), tick_id="t-ab")
    process_tenant(tick, deps.tenant_ports())
    decided = client.get(f"/api/v1/campaigns/{campaign['id']}").json()
    assert decided["ab_state"]["status"] == "winner", decided["ab_state"]
    assert decided["ab_state"]["rollout_variant"] == "A"
    assert decided["ab_state"]["confidence_level"] > 95

    everyone = targets_of(deps, tenant, campaign["id"])
    rollout = [t for t in everyone if t["data"]["abGroup"] == "rollout"]
    assert rollout and {t["data"]["variant"] for t in rollout} == {"A"}
    assert len(everyone) == len(test_group) + len(rollout)
    stored = deps.campaigns.get(tenant, campaign["id"])
    assert stored is not None and stored.pipeline.variant_templates["A"].name == "oferta_a"

    report = client.get(f"/api/v1/campaigns/{campaign['id']}/analytics")
    assert report.status_code == 200, report.text
    metrics = report.json()["metrics"]
    assert metrics["messages_sent"] == len(test_group)
    assert metrics["messages_delivered"] == len(by_variant["A"])
    assert report.json()["ab_test_results"]["winning_variant"] == "A"
    assert report.json()["conversion_funnel"]["delivered"] == len(by_variant["A"])


def test_the_ab_test_waits_for_its_samples(api_as: Client, tenant: Cnpj, deps: Container) -> None:
    client = api_as(tenant)
    body = ab_campaign()
    body["ab_test_config"]["minimum_sample_size"] = 1000
    campaign = client.post("/api/v1/campaigns", json=body).json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/start")
    before = len(targets_of(deps, tenant, campaign["id"]))
    tick = TenantJob(
        cnpj=tenant.value, instant=datetime.now(UTC) + timedelta(minutes=5), tick_id="t-wait"
    )
    process_tenant(tick, deps.tenant_ports())
    assert len(targets_of(deps, tenant, campaign["id"])) == before
    assert client.get(f"/api/v1/campaigns/{campaign['id']}").json()["ab_state"] is None


def test_every_target_gets_its_own_voucher(api_as: Client, tenant: Cnpj, deps: Container) -> None:
    client = api_as(tenant)
    body = copy.deepcopy(approved(SIMPLE))
    body["throttle_config"] = {**body["throttle_config"], **closed_window()}
    body["voucher"] = {"kind": "percentage", "value": 10, "validity_days": 30}
    body["templates"][0] = {  # before start checked the body's count, this sent 3 of 0
        "name": "Cupom",
        "content": "{{first_name}}, este cupom é seu: {{voucherCode}}. Ele vale {{voucherValue}} "
        "de desconto até {{voucherExpiresAt}}.",
        "buttons": [{"type": "copy_code"}],
        "whatsapp_template": {"name": "cupom_desconto", "language": "pt_BR"},
    }
    campaign = client.post("/api/v1/campaigns", json=body).json()
    assert client.post(f"/api/v1/campaigns/{campaign['id']}/start").status_code == 200
    targets = targets_of(deps, tenant, campaign["id"])
    codes = [t["data"]["voucherCode"] for t in targets]
    assert len(codes) == len(set(codes)) == len(targets) > 0
    assert {t["data"]["voucherValue"] for t in targets} == {"10%"}
    voucher = deps.vouchers.lookup(tenant, codes[0])
    assert voucher is not None and voucher.campaign_id == campaign["id"]


def test_a_built_in_campaign_gets_vouchers_through_the_api(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    client = api_as(tenant)
    assert client.post("/api/v1/campaigns/REACTIVATION/pause").status_code == 200
    voucher = {"kind": "amount", "value": 15, "validity_days": 10}
    patched = client.patch("/api/v1/campaigns/REACTIVATION", json={"voucher": voucher})
    assert patched.status_code == 200, patched.text
    assert client.post("/api/v1/campaigns/REACTIVATION/resume").status_code == 200
    tick = TenantJob(
        cnpj=tenant.value, instant=datetime(2026, 11, 20, 11, 30, tzinfo=UTC), tick_id="t-bi"
    )
    process_tenant(tick, deps.tenant_ports())
    targets = targets_of(deps, tenant, "REACTIVATION")
    assert targets
    assert {t["data"]["voucherValue"] for t in targets} == {"R$ 15,00"}
    assert len({t["data"]["voucherCode"] for t in targets}) == len(targets)
