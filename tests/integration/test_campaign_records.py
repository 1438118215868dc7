"""The campaign repository on the emulator: one typed record per campaign, nothing in the tenant.

Every write stores the campaign's pipeline settings beside its fields; the tick lists only the
live API campaigns; WhatsApp's pause sticks to the record; a record that does not validate is
a CorruptDocument naming the field, never its value; and the tenant document never grows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.bootstrap import Container
from shared.domain.campaign import Campaign, CampaignStatus, built_in_campaign
from shared.domain.campaign_ids import BUILT_IN_KINDS, new_segment_id
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CorruptDocument
from shared.ports import CampaignMarker
from shared.services.tenants import register_tenant

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def tenant(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    register_tenant(
        new_cnpj,
        name="Registros",
        timezone=None,
        tenants=deps.tenants,
        warehouse=None,
        queues=None,
        campaigns=deps.campaigns,
        now=NOW,
    )
    return new_cnpj


def segment(status: CampaignStatus, **fields: object) -> Campaign:
    return Campaign.model_validate(
        {
            "id": new_segment_id(),
            "name": f"Oferta {status.value}",
            "segmentation": {"include_all": True},
            "templates": [
                {
                    "name": "Oferta",
                    "content": "Oi {{first_name}}",
                    "whatsapp_template": {"name": "oferta"},
                }
            ],
            "status": status,
            "created_at": NOW,
            "updated_at": NOW,
            **fields,
        }
    )


def store(deps: Container, cnpj: Cnpj, campaign: Campaign) -> Campaign:
    _, after = deps.campaigns.mutate(cnpj, campaign.id, lambda _: campaign)
    return after


def document(deps: Container, cnpj: Cnpj, campaign_id: str) -> dict[str, Any]:
    snapshot = deps.firestore_client.document("users", cnpj.value, "campaigns", campaign_id).get()
    return snapshot.to_dict() or {}


def test_registering_stores_the_built_in_kinds_with_their_defaults(
    deps: Container, tenant: Cnpj
) -> None:
    stored = deps.campaigns.get_many(tenant, list(BUILT_IN_KINDS))
    assert stored == {kind: built_in_campaign(kind, now=NOW) for kind in BUILT_IN_KINDS}
    assert all(campaign.created_at == NOW for campaign in stored.values())


def test_every_write_stores_the_pipeline_settings_with_the_fields(
    deps: Container, tenant: Cnpj
) -> None:
    campaign = store(deps, tenant, segment(CampaignStatus.PAUSED, status_reason="pausa"))
    raw = document(deps, tenant, campaign.id)
    assert raw["pipeline"] == campaign.pipeline.model_dump(mode="json")
    assert raw["pipeline"]["paused"] is True
    assert raw["created_at"] == NOW  # a timestamp: ranges and sorts
    assert deps.campaigns.get(tenant, campaign.id) == campaign
    resumed = campaign.model_copy(update={"status": CampaignStatus.RUNNING})
    store(deps, tenant, resumed)
    assert document(deps, tenant, campaign.id)["pipeline"]["paused"] is False


def test_the_run_ledger_s_marker_survives_a_write(deps: Container, tenant: Cnpj) -> None:
    marker = CampaignMarker("2026-11-20", "t1")
    deps.runs.mark_done(tenant, "BIRTHDAY", marker)
    birthday = deps.campaigns.get(tenant, "BIRTHDAY")
    assert birthday is not None
    store(deps, tenant, birthday.model_copy(update={"name": "Aniversário"}))
    assert deps.runs.marker(tenant, "BIRTHDAY") == marker
    renamed = deps.campaigns.get(tenant, "BIRTHDAY")
    assert renamed is not None and renamed.name == "Aniversário"


def test_the_tick_lists_only_live_api_campaigns(deps: Container, tenant: Cnpj) -> None:
    by_status = {status: store(deps, tenant, segment(status)) for status in CampaignStatus}
    live = {by_status[CampaignStatus.SCHEDULED].id, by_status[CampaignStatus.RUNNING].id}
    assert deps.campaigns.live(tenant) == sorted(live)  # the running built-in kinds are not


def test_a_whatsapp_pause_sticks_to_the_record(deps: Container, tenant: Cnpj) -> None:
    running = store(deps, tenant, segment(CampaignStatus.RUNNING))
    deps.campaigns.pause(tenant, running.id, "WhatsApp error 131048: spam")
    paused = deps.campaigns.get(tenant, running.id)
    assert paused is not None and paused.status == CampaignStatus.PAUSED
    assert paused.status_reason == "WhatsApp error 131048: spam"
    assert paused.paused_at is not None and paused.pipeline.paused
    # A cancelled campaign sends nothing: there is nothing to pause.
    cancelled = store(deps, tenant, segment(CampaignStatus.CANCELLED))
    deps.campaigns.pause(tenant, cancelled.id, "WhatsApp error 132001: template")
    assert deps.campaigns.get(tenant, cancelled.id) == cancelled
    # A built-in kind the tenant has no record of gets one, paused.
    deps.firestore_client.document("users", tenant.value, "campaigns", "WELCOME").delete()
    deps.campaigns.pause(tenant, "WELCOME", "WhatsApp error 132001: template")
    welcome = deps.campaigns.get(tenant, "WELCOME")
    assert welcome is not None and welcome.status == CampaignStatus.PAUSED
    # An API campaign that does not exist stays so.
    missing = new_segment_id()
    deps.campaigns.pause(tenant, missing, "WhatsApp error 132001: template")
    assert deps.campaigns.get(tenant, missing) is None


def test_a_record_that_does_not_validate_names_the_field_not_the_value(
    deps: Container, tenant: Cnpj
) -> None:
    reference = deps.firestore_client.document("users", tenant.value, "campaigns", "LOYALTY")
    reference.update({"thresholds.min_visits": "Mariazinha"})
    with pytest.raises(CorruptDocument) as corrupt:
        deps.campaigns.get(tenant, "LOYALTY")
    assert corrupt.value.path == f"users/{tenant.value}/campaigns/LOYALTY"
    assert corrupt.value.fields == ("thresholds.min_visits",)
    assert "Mariazinha" not in str(corrupt.value)
    reference.update({"thresholds.min_visits": 10, "status": "sleeping"})
    with pytest.raises(CorruptDocument) as corrupt:
        deps.campaigns.get_many(tenant, ["LOYALTY"])
    assert corrupt.value.fields == ("status",)


def test_the_tenant_document_never_grows_with_its_campaigns(deps: Container, tenant: Cnpj) -> None:
    before = deps.firestore_client.document("users", tenant.value).get().to_dict()
    for index in range(5):
        campaign = store(
            deps, tenant, segment(CampaignStatus.DRAFT, scheduled_at=NOW + timedelta(days=index))
        )
        deps.campaigns.pause(tenant, campaign.id, "x")
    after = deps.firestore_client.document("users", tenant.value).get().to_dict()
    assert after == before
    assert after is not None and "campaigns" not in after
