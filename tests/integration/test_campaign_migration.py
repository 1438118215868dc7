"""``campaigns migrate-campaigns`` on an old-format tenant: nothing is lost, nothing is sent twice.

Before campaigns were one record each, the tenant document held a settings map per campaign: a
hand-edited one for a built-in kind, and the API's projection beside an API campaign's
document. The tenant here is written exactly as that code left it, with queued targets of both
campaigns; the migration runs twice; then the settings processors and delivery read are the
old ones, and delivering the queued targets sends each message once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.adapters.firestore_campaign_migration import migrate_campaign
from shared.bootstrap import Container
from shared.campaigns import BirthdayProcessor
from shared.cli.main import main
from shared.domain.campaign import Campaign, CampaignPatch
from shared.domain.campaign_settings import BirthdaySettings, CampaignSettings, WelcomeSettings
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import Status
from shared.domain.targets import Target
from shared.services.campaigns import patch_campaign
from shared.services.delivery_common import campaign_delivery
from shared.services.send import send_message
from shared.services.tenants import register_tenant
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import SandboxClient, new_phone

sandbox = delivery_fixtures.sandbox

SEGMENT_ID = "SEG_0LDF0RMAT0000001"
BIRTHDAY_MAP: dict[str, Any] = {  # edited by hand in the console of Firestore
    "enabled": True,
    "paused": True,
    "paused_reason": "WhatsApp error 131048: spam rate limit hit",
    "run_hour": 10,
    "send_window": {"start": "00:00:00", "end": "23:59:59.999999"},
    "template": {"name": "aniversario_cupom", "parameters": ["first_name", "voucherCode"]},
    "voucher_code": "NIVER10",
}


def _old_api_campaign(now: datetime) -> Campaign:
    return Campaign.model_validate(
        {
            "id": SEGMENT_ID,
            "name": "Oferta de fim de ano",
            "segmentation": {"include_all": True},
            "throttle_config": {
                "messages_per_minute": 600,
                "messages_per_hour": 36_000,
                "messages_per_day": 100_000,
                "respect_business_hours": False,
            },
            "templates": [
                {
                    "name": "Oferta",
                    "content": "Oi {{first_name}}, {{oferta}}",
                    "variable_values": {"oferta": "20% OFF"},
                    "whatsapp_template": {"name": "oferta_com_nome", "language": "pt_BR"},
                }
            ],
            "status": "running",
            "created_at": now,
            "updated_at": now,
            "started_at": now,
            "occurrences_run": 1,
            "last_occurrence": "once",
        }
    )


def _old_projection(campaign: Campaign) -> dict[str, Any]:
    """What the old ``Campaign.settings_map`` wrote to the tenant document for it."""
    return {
        "enabled": True,
        "paused": False,
        "cancelled": False,
        "paused_reason": "",
        "send_window": {"start": "00:00", "end": "23:59"},
        "timezone_per_contact": True,
        "campaign_throttle": {
            "messages_per_minute": 600,
            "messages_per_hour": 36_000,
            "messages_per_day": 100_000,
            "delay_between_messages_seconds": 0.0,
        },
        "template": {
            "name": "oferta_com_nome",
            "language": "pt_BR",
            "parameters": ["first_name", "oferta"],
        },
        "variant_templates": {},
        "template_values": {"oferta": "20% OFF"},
        "segment": {
            **campaign.model_dump(
                mode="json",
                include={
                    "segmentation",
                    "scheduled_at",
                    "recurrence",
                    "ab_test_config",
                    "voucher",
                    "created_at",
                    "occurrences_run",
                    "ab_state",
                    "status",
                },
            ),
            "rollout_variant": None,
        },
    }


@pytest.fixture
def old_tenant(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    """A tenant as the code before campaign records left it (no built-in kind's record)."""
    tenant = register_tenant(
        new_cnpj,
        name="Formato antigo",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=deps.task_queue,
    )
    fast = tenant.delivery.throttle.model_copy(update={"messages_per_minute": 4200})
    delivery = tenant.delivery.model_copy(update={"throttle": fast, "frequency_cap_hours": 0})
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    now = deps.clock()
    campaign = _old_api_campaign(now)
    document = {**campaign.model_dump(mode="json"), "created_at": now, "updated_at": now}
    client = deps.firestore_client
    client.document("users", new_cnpj.value, "campaigns", SEGMENT_ID).set(document)
    maps = {"BIRTHDAY": BIRTHDAY_MAP, SEGMENT_ID: _old_projection(campaign)}
    client.document("users", new_cnpj.value).update({"campaigns": maps})
    return new_cnpj


def _queued(deps: Container, cnpj: Cnpj, campaign_id: str) -> TargetRef:
    """A target the old enqueue planned for later (its task is not due during this test)."""
    target = Target(
        customer_id=f"c{new_phone()[-8:]}",
        name="Maria da Silva",
        phone=new_phone(),
        campaign_id=campaign_id,
        period="2026",
        run_id="before-the-migration",
        local_date="2026-01-01",
        data={"voucherCode": "NIVER10"} if campaign_id == "BIRTHDAY" else {},
    )
    ref = TargetRef(cnpj, campaign_id, target.id)
    fields = {key: value for key, value in target.document().items() if "campaign" not in key}
    now = deps.clock()
    deps.firestore_client.document(ref.path).set(
        {
            **fields,
            "campaignType": campaign_id,  # the old targets' name for the id
            "status": Status.QUEUED.value,
            "plannedAt": now + timedelta(days=2),
            "taskGeneration": 1,
            "version": 1,
            "updatedAt": now,
        }
    )
    return ref


def _migrate(cnpj: Cnpj, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["migrate-campaigns", "--cnpj", cnpj.value]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_an_old_format_tenant_migrates_without_losing_or_resending_anything(
    deps: Container,
    old_tenant: Cnpj,
    sandbox: SandboxClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox.approve_template("oferta_com_nome", "Oi {{1}}, {{2}}")  # what the old campaign sends
    birthdays = [_queued(deps, old_tenant, "BIRTHDAY") for _ in range(2)]
    offers = [_queued(deps, old_tenant, SEGMENT_ID) for _ in range(2)]

    first = _migrate(old_tenant, capsys)
    assert "BIRTHDAY adopted" in first and f"{SEGMENT_ID} dropped" in first
    again = _migrate(old_tenant, capsys)
    assert "nothing to move" in again

    # The tenant document keeps tenant settings only; each record carries its pipeline settings.
    raw = deps.firestore_client.document("users", old_tenant.value).get().to_dict() or {}
    assert "campaigns" not in raw
    offer = deps.firestore_client.document("users", old_tenant.value, "campaigns", SEGMENT_ID)
    offer_fields = offer.get().to_dict() or {}
    assert offer_fields["pipeline"]["template"]["name"] == "oferta_com_nome"
    # Every built-in kind has its record now; the untouched ones have their defaults.
    records = deps.campaigns.get_many(old_tenant, ["BIRTHDAY", "WELCOME", "REACTIVATION"])
    assert set(records) == {"BIRTHDAY", "WELCOME", "REACTIVATION"}
    welcome = records["WELCOME"].pipeline
    assert welcome.model_copy(update={"template": None}) == WelcomeSettings()

    # What the processor and delivery read is what the old maps said.
    ports = deps.delivery_ports()
    tenant = deps.tenants.get(old_tenant)
    assert tenant is not None
    old_birthday = BirthdaySettings.model_validate(BIRTHDAY_MAP)
    read = BirthdayProcessor(deps.warehouse, deps.targets).settings(records["BIRTHDAY"])
    delivered = campaign_delivery(ports, tenant, "BIRTHDAY").settings
    assert read == delivered
    # Enabled and paused at once is a paused campaign now: it waits, and creates nothing.
    assert read.model_copy(update={"enabled": True}) == old_birthday
    assert read.paused and not read.enabled
    old_offer = CampaignSettings.model_validate(
        {
            k: v
            for k, v in _old_projection(_old_api_campaign(deps.clock())).items()
            if k != "segment"
        }
    )
    assert campaign_delivery(ports, tenant, SEGMENT_ID).settings == old_offer

    # Each queued message goes once: the paused campaign's wait for its resume.
    for ref in offers:
        assert send_message(ref, 1, ports).status is Status.SENT
        assert send_message(ref, 1, ports).label == "not_claimable"  # the task again
    for ref in birthdays:
        assert send_message(ref, 1, ports).label == "paused"
    patch_campaign(
        deps.campaign_ports(), old_tenant, "BIRTHDAY", CampaignPatch(enabled=True), deps.clock()
    )
    for ref in birthdays:
        assert send_message(ref, 2, ports).label == "resumed"  # a slot of the pace, then...
        assert send_message(ref, 3, ports).status is Status.SENT  # ...sent in it
        assert send_message(ref, 3, ports).label == "not_claimable"
    phones = [record.phone for ref in [*offers, *birthdays] if (record := _load(deps, ref))]
    assert sandbox.per_phone(phones) == {phone[1:]: 1 for phone in phones}
    sent = sandbox.messages(phones)
    templates = sorted(message["template"] for message in sent)
    assert templates == ["aniversario_cupom"] * 2 + ["oferta_com_nome"] * 2
    voucher = {m["template"]: m["parameters"] for m in sent}["aniversario_cupom"]
    assert voucher == ["Maria", "NIVER10"]  # the old map's template, filled as before


def test_a_migration_stopped_half_way_is_finished_by_the_next(
    deps: Container, old_tenant: Cnpj, capsys: pytest.CaptureFixture[str]
) -> None:
    # The process died after the first campaign's transaction.
    assert migrate_campaign(deps.firestore_client, old_tenant, "BIRTHDAY", now=deps.clock()) == (
        "adopted",
        "",
    )
    raw = deps.firestore_client.document("users", old_tenant.value).get().to_dict() or {}
    assert list(raw["campaigns"]) == [SEGMENT_ID]
    birthday = deps.campaigns.get(old_tenant, "BIRTHDAY")
    assert birthday is not None
    adopted = birthday.pipeline
    assert isinstance(adopted, BirthdaySettings) and adopted.voucher_code == "NIVER10"

    out = _migrate(old_tenant, capsys)
    assert out.strip() == f"{old_tenant.value}: {SEGMENT_ID} dropped"
    raw = deps.firestore_client.document("users", old_tenant.value).get().to_dict() or {}
    assert "campaigns" not in raw
    assert deps.campaigns.get(old_tenant, "BIRTHDAY") == birthday


def _load(deps: Container, ref: TargetRef) -> Any:
    record = deps.delivery_store.load(ref)
    assert record is not None
    return record


def test_a_map_that_does_not_validate_stays_where_it_is(
    deps: Container, new_cnpj: Cnpj, capsys: pytest.CaptureFixture[str]
) -> None:
    register_tenant(
        new_cnpj, name="Mapa ruim", timezone=None, tenants=deps.tenants, warehouse=None, queues=None
    )
    broken = {"run_hour": 31, "min_visits": 4}
    deps.firestore_client.document("users", new_cnpj.value).update(
        {"campaigns": {"LOYALTY": broken}}
    )

    assert main(["migrate-campaigns", "--cnpj", new_cnpj.value]) == 1
    [line] = [line for line in capsys.readouterr().out.splitlines() if "LOYALTY" in line]
    assert line.endswith("LOYALTY kept in the tenant document: settings do not validate: run_hour")
    raw = deps.firestore_client.document("users", new_cnpj.value).get().to_dict() or {}
    assert raw["campaigns"] == {"LOYALTY": broken}
    loyalty = deps.campaigns.get(new_cnpj, "LOYALTY")  # the defaults, stored meanwhile
    assert loyalty is not None and loyalty.thresholds["min_visits"] == 10
