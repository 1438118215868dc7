"""The campaign endpoints through the real functions host: payloads, lifecycle, isolation."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.messages import TenantJob
from shared.services.process_tenant import process_tenant
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import BLACK_FRIDAY, SIMPLE, approved, targets_of

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

Client = Callable[..., ApiClient]


@pytest.fixture
def tenant(sample_tenant: Callable[..., Cnpj]) -> Cnpj:
    return sample_tenant(customers=30)


def test_the_seed_s_simple_campaign_is_created_as_a_draft(api_as: Client, tenant: Cnpj) -> None:
    answer = api_as(tenant).post("/api/v1/campaigns", json=SIMPLE)
    assert answer.status_code == 201, answer.text
    campaign = answer.json()
    assert campaign["status"] == "draft"
    assert campaign["kind"] == "SEGMENT"
    assert campaign["id"].startswith("SEG_")
    assert campaign["throttle_config"]["messages_per_minute"] == 5


def test_starting_without_an_approved_template_is_a_422_that_says_which_is_missing(
    api_as: Client, tenant: Cnpj
) -> None:
    client = api_as(tenant)
    unknown = {"name": "Oferta", "content": "Um texto que ninguém aprovou"}
    campaign = client.post("/api/v1/campaigns", json={**SIMPLE, "templates": [unknown]}).json()
    answer = client.post(f"/api/v1/campaigns/{campaign['id']}/start")
    assert answer.status_code == 422
    assert answer.headers["Content-Type"] == "application/problem+json"
    (error,) = answer.json()["errors"]
    assert error["field"] == "templates[0]"
    assert "nenhum template aprovado com corpo 'Um texto que ninguém aprovou'" in error["reason"]


def test_the_seeds_template_is_mapped_onto_the_approved_one_with_its_body(
    api_as: Client, tenant: Cnpj
) -> None:
    """The seed's example names no WhatsApp template; its content is ``oferta_fim_de_ano``'s."""
    created = api_as(tenant).post("/api/v1/campaigns", json=SIMPLE)
    assert created.status_code == 201, created.text
    (template,) = created.json()["templates"]
    assert template["whatsapp_template"] == {"name": "oferta_fim_de_ano", "language": "pt_BR"}


def test_a_seed_template_with_media_and_buttons_maps_or_names_what_is_missing(
    api_as: Client, tenant: Cnpj
) -> None:
    client = api_as(tenant)
    rich = {
        "name": "Semana",
        "content": "{{first_name}}, chegou a semana da roupa limpa: lavagem com desconto até "
        "domingo!",
        "template_type": "image",
        "media_url": "https://cdn.lavo.example/semana.jpg",
        "buttons": [{"type": "URL", "suffix": "semana"}],
    }
    created = client.post("/api/v1/campaigns", json={**SIMPLE, "templates": [rich]})
    assert created.status_code == 201, created.text
    (template,) = created.json()["templates"]
    assert template["whatsapp_template"]["name"] == "oferta_com_imagem"
    assert template["header"]["type"] == "image"

    video = {**rich, "template_type": "video", "media_url": "https://cdn.lavo.example/s.mp4"}
    refused = client.post("/api/v1/campaigns", json={**SIMPLE, "templates": [video]})
    assert refused.status_code == 422, refused.text
    (error,) = refused.json()["errors"]
    assert error["field"] == "templates[0]"
    assert "nenhum template aprovado com cabeçalho VIDEO e botões URL e corpo" in error["reason"]


def test_the_black_friday_payload_is_refused_naming_variant_b(api_as: Client, tenant: Cnpj) -> None:
    answer = api_as(tenant).post("/api/v1/campaigns", json=BLACK_FRIDAY)
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert errors == [
        {
            "field": "ab_test_config.variants[1].template_id",
            "reason": errors[0]["reason"],
        }
    ]
    assert "'B'" in errors[0]["reason"] and "uuid-template-b" in errors[0]["reason"]


def test_black_friday_with_both_templates_is_created(api_as: Client, tenant: Cnpj) -> None:
    body: dict[str, Any] = copy.deepcopy(BLACK_FRIDAY)
    body["templates"].append(
        {
            "id": "uuid-template-b",
            "name": "Black Friday B",
            "content": "{{name}}, só hoje: 50% OFF!",
            "ab_variant": "B",
        }
    )
    answer = api_as(tenant).post("/api/v1/campaigns", json=body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["recurrence"]["max_occurrences"] == 5


def test_lifecycle_start_pause_resume_cancel_without_resending(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    client = api_as(tenant)
    campaign = client.post("/api/v1/campaigns", json=approved(SIMPLE)).json()
    path = f"/api/v1/campaigns/{campaign['id']}"

    started = client.post(f"{path}/start")
    assert started.status_code == 200, started.text
    assert started.json()["campaign"]["status"] == "running"
    created = started.json()["targets"]["created"]
    assert created > 0
    assert len(targets_of(deps, tenant, campaign["id"])) == created

    assert client.post(f"{path}/pause").json()["campaign"]["status"] == "paused"
    assert client.post(f"{path}/pause").status_code == 409
    stored = deps.campaigns.get(tenant, campaign["id"])
    assert stored is not None and stored.pipeline.paused is True

    resumed = client.post(f"{path}/resume")
    assert resumed.json()["campaign"]["status"] == "running"
    assert (resumed.json()["targets"] or {"created": 0})["created"] == 0
    assert len(targets_of(deps, tenant, campaign["id"])) == created

    assert client.post(f"{path}/cancel").json()["campaign"]["status"] == "cancelled"
    for action in ("start", "pause", "resume", "cancel"):
        assert client.post(f"{path}/{action}").status_code == 409, action
    assert client.get(path).json()["status"] == "cancelled"


def test_patch_only_while_draft_or_paused(api_as: Client, tenant: Cnpj) -> None:
    client = api_as(tenant)
    campaign = client.post("/api/v1/campaigns", json=approved(SIMPLE)).json()
    path = f"/api/v1/campaigns/{campaign['id']}"
    assert client.patch(path, json={"name": "Renamed"}).json()["name"] == "Renamed"
    client.post(f"{path}/start")
    assert client.patch(path, json={"name": "Again"}).status_code == 409
    client.post(f"{path}/pause")
    assert client.patch(path, json={"description": "paused edit"}).status_code == 200
    invalid = client.patch(path, json={"throttle_config": {"messages_per_minute": 0}})
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "throttle_config.messages_per_minute"


def test_a_future_start_is_scheduled_and_the_tick_runs_it_when_due(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    client = api_as(tenant)
    at = datetime.now(UTC) + timedelta(hours=2)
    body = {**approved(SIMPLE), "scheduled_at": at.isoformat()}
    campaign = client.post("/api/v1/campaigns", json=body).json()
    started = client.post(f"/api/v1/campaigns/{campaign['id']}/start").json()
    assert started["campaign"]["status"] == "scheduled"
    assert started["targets"] is None
    early = TenantJob(cnpj=tenant.value, instant=at - timedelta(minutes=5), tick_id="t-early")
    process_tenant(early, deps.tenant_ports())
    assert targets_of(deps, tenant, campaign["id"]) == []
    due = TenantJob(cnpj=tenant.value, instant=at + timedelta(minutes=5), tick_id="t-due")
    process_tenant(due, deps.tenant_ports())
    assert len(targets_of(deps, tenant, campaign["id"])) > 0
    after = client.get(f"/api/v1/campaigns/{campaign['id']}").json()
    assert after["status"] == "running"  # complete only once its messages settled
    assert after["occurrences_run"] == 1

    later = TenantJob(cnpj=tenant.value, instant=at + timedelta(hours=1), tick_id="t-later")
    process_tenant(later, deps.tenant_ports())
    assert client.get(f"/api/v1/campaigns/{campaign['id']}").json()["status"] == "running"
    targets = deps.firestore_client.collection(
        "users", tenant.value, "campaigns", campaign["id"], "targets"
    )
    for doc in targets.list_documents():  # settle them (a transaction-safe final state)
        doc.update({"status": "SKIPPED"})
    last = TenantJob(cnpj=tenant.value, instant=at + timedelta(hours=2), tick_id="t-last")
    process_tenant(last, deps.tenant_ports())
    assert client.get(f"/api/v1/campaigns/{campaign['id']}").json()["status"] == "completed"


def test_lists_filter_sort_and_page(api_as: Client, tenant: Cnpj) -> None:
    client = api_as(tenant)
    for name in ("Bravo", "Alfa", "Charlie"):
        client.post("/api/v1/campaigns", json={**SIMPLE, "name": name})
    drafts = client.get(
        "/api/v1/campaigns", params={"status": "draft", "sort": "name", "order": "asc"}
    )
    assert drafts.status_code == 200, drafts.text
    assert [c["name"] for c in drafts.json()["items"]] == ["Alfa", "Bravo", "Charlie"]
    page = client.get(
        "/api/v1/campaigns", params={"sort": "name", "order": "asc", "page_size": 2, "page": 2}
    )
    assert len(page.json()["items"]) == 2
    everything = client.get("/api/v1/campaigns", params={"page_size": 100}).json()["items"]
    assert {c["kind"] for c in everything} == {
        "SEGMENT",
        "BIRTHDAY",
        "WELCOME",
        "REACTIVATION",
        "LOYALTY",
    }
    assert client.get("/api/v1/campaigns", params={"sort": "phone"}).status_code == 422
    retention = client.get("/api/v1/campaigns", params={"objective": "retention"}).json()["items"]
    assert {c["id"] for c in retention} == {"REACTIVATION", "LOYALTY"}


def test_built_in_campaigns_are_campaigns_too(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    client = api_as(tenant)
    birthday = client.get("/api/v1/campaigns/BIRTHDAY")
    assert birthday.status_code == 200, birthday.text
    assert birthday.json()["kind"] == "BIRTHDAY"
    assert client.post("/api/v1/campaigns/BIRTHDAY/pause").json()["campaign"]["status"] == "paused"
    edited = client.patch("/api/v1/campaigns/REACTIVATION", json={"name": "x"})
    assert edited.status_code == 200, edited.text  # a standing daily setting: edited running
    bad = client.patch("/api/v1/campaigns/REACTIVATION", json={"thresholds": {"inactive_days": -3}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "thresholds.inactive_days"
    assert client.post("/api/v1/campaigns/BIRTHDAY/cancel").status_code == 409
    stored = deps.campaigns.get(tenant, "BIRTHDAY")
    assert stored is not None and stored.pipeline.paused is True


def test_another_tenant_s_campaign_is_not_found(
    api_as: Client, tenant: Cnpj, sample_tenant: Callable[..., Cnpj]
) -> None:
    other = sample_tenant(customers=5)
    campaign = api_as(tenant).post("/api/v1/campaigns", json=approved(SIMPLE)).json()
    intruder = api_as(other)
    path = f"/api/v1/campaigns/{campaign['id']}"
    assert intruder.get(path).status_code == 404
    assert intruder.patch(path, json={"name": "mine"}).status_code == 404
    assert intruder.post(f"{path}/start").status_code == 404
    assert campaign["id"] not in {
        c["id"] for c in intruder.get("/api/v1/campaigns").json()["items"]
    }
    assert api_as(tenant).get(path).json()["name"] == SIMPLE["name"]


def test_viewers_read_but_do_not_write(api_as: Client, tenant: Cnpj) -> None:
    viewer = api_as(tenant, Role.VIEWER)
    assert viewer.get("/api/v1/campaigns").status_code == 200
    assert viewer.post("/api/v1/campaigns", json=SIMPLE).status_code == 403


def test_missed_occurrences_lapse_instead_of_piling_up(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    client = api_as(tenant)
    body = {
        **approved(SIMPLE),
        "scheduled_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        "recurrence": {
            "frequency": "daily",
            "end_type": "after",
            "max_occurrences": 10,
            "hour": 0,
            "minute": 0,
        },
    }
    campaign = client.post("/api/v1/campaigns", json=body).json()
    started = client.post(f"/api/v1/campaigns/{campaign['id']}/start").json()
    assert started["campaign"]["status"] == "running"
    after_start = client.get(f"/api/v1/campaigns/{campaign['id']}").json()
    assert after_start["occurrences_run"] == 4  # three missed days lapsed; today's went
    periods = {t["period"] for t in targets_of(deps, tenant, campaign["id"])}
    assert periods == {after_start["last_occurrence"]}
    again = TenantJob(
        cnpj=tenant.value, instant=datetime.now(UTC) + timedelta(minutes=1), tick_id="t-again"
    )
    process_tenant(again, deps.tenant_ports())
    assert {t["period"] for t in targets_of(deps, tenant, campaign["id"])} == periods


def test_a_pause_by_whatsapp_sticks_to_the_campaign(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    client = api_as(tenant)
    campaign = client.post("/api/v1/campaigns", json=approved(SIMPLE)).json()
    client.post(f"/api/v1/campaigns/{campaign['id']}/start")
    deps.campaigns.pause(tenant, campaign["id"], "WhatsApp error 131048: spam")
    paused = client.get(f"/api/v1/campaigns/{campaign['id']}").json()
    assert (paused["status"], paused["status_reason"]) == (
        "paused",
        "WhatsApp error 131048: spam",
    )
    assert client.patch(f"/api/v1/campaigns/{campaign['id']}", json={"name": "x"}).ok
    stored = deps.campaigns.get(tenant, campaign["id"])
    assert stored is not None and stored.pipeline.paused is True  # the edit did not unpause it


def test_the_preview_shows_header_body_footer_and_buttons_as_the_customer_sees_them(
    api_as: Client, tenant: Cnpj
) -> None:
    client = api_as(tenant)
    rich = {
        "name": "Semana",
        "content": "{{first_name}}, chegou a semana da roupa limpa: lavagem com desconto até "
        "domingo!",
        "header": {"type": "image", "link": "https://cdn.lavo.example/semana.jpg"},
        "buttons": [{"type": "url", "suffix": "semana"}],
        "whatsapp_template": {"name": "oferta_com_imagem"},
    }
    created = client.post("/api/v1/campaigns", json={**SIMPLE, "templates": [rich]}).json()
    answer = client.get(f"/api/v1/campaigns/{created['id']}/preview")
    assert answer.status_code == 200, answer.text
    assert answer.json() == [
        {
            "template": "oferta_com_imagem@pt_BR",
            "ab_variant": None,
            "header": {
                "type": "image",
                "link": "https://cdn.lavo.example/semana.jpg",
                "media_id": None,
                "filename": None,
                "text": None,
            },
            "body": "Maria, chegou a semana da roupa limpa: lavagem com desconto até domingo!",
            "footer": "Responda SAIR para não receber ofertas",
            "buttons": [
                {
                    "kind": "url",
                    "label": "Ver oferta",
                    "tracked": False,
                    "code": None,
                    "url": "https://lavanderia.example/oferta/semana",
                    "payload": None,
                },
                {
                    "kind": "quick_reply",
                    "label": "Parar promoções",
                    "tracked": False,
                    "code": None,
                    "url": None,
                    "payload": "Parar promoções",
                },
            ],
        }
    ]

    coupon = {
        "name": "Cupom",
        "content": "{{first_name}}, este cupom é seu: {{voucherCode}}. Ele vale {{voucherValue}} "
        "de desconto até {{voucherExpiresAt}}.",
        "buttons": [{"type": "copy_code"}],
    }
    no_voucher = client.post("/api/v1/campaigns/preview", json={**SIMPLE, "templates": [coupon]})
    assert no_voucher.status_code == 422
    assert no_voucher.json()["errors"][0]["field"] == "templates[0].buttons[0].code_field"
    voucher = {"kind": "percentage", "value": 10}
    unsaved = client.post(
        "/api/v1/campaigns/preview", json={**SIMPLE, "templates": [coupon], "voucher": voucher}
    )
    assert unsaved.status_code == 200, unsaved.text
    (message,) = unsaved.json()
    assert message["template"] == "cupom_desconto@pt_BR"
    assert message["body"].startswith("Maria, este cupom é seu: EXEMPLO10.")
    assert message["buttons"][0] == {
        "kind": "copy_code",
        "label": "Copiar código",
        "code": "EXEMPLO10",
        "url": None,
        "tracked": False,
        "payload": None,
    }


def test_a_header_media_is_uploaded_to_whatsapp_checked_first(api_as: Client, tenant: Cnpj) -> None:
    def upload(role: Role, mime: str, size: int) -> Any:
        files = {"file": ("promo.jpg", b"\xff" * size, mime)}
        return api_as(tenant, role).post("/api/v1/media", files=files)

    answer = upload(Role.EDITOR, "image/jpeg", 1024)
    assert answer.status_code == 201, answer.text
    media = answer.json()
    assert (media["type"], media["mime_type"], media["size_bytes"]) == ("image", "image/jpeg", 1024)
    assert media["id"].isdigit()

    assert upload(Role.VIEWER, "image/jpeg", 10).status_code == 403
    gif = upload(Role.EDITOR, "image/gif", 10)
    assert (gif.status_code, gif.json()["errors"][0]["field"]) == (422, "type")
    big = upload(Role.EDITOR, "image/png", 5 * 1024 * 1024 + 1)
    assert (big.status_code, big.json()["errors"][0]["field"]) == (422, "file")

    client = api_as(tenant)
    for media_id, status in (("987654321", 422), (media["id"], 200)):
        template = {
            "name": "Semana",
            "content": IMAGE_BODY,
            "header": {"type": "image", "media_id": media_id},
            "buttons": [{"type": "url", "suffix": "semana"}],
        }
        created = client.post("/api/v1/campaigns", json={**SIMPLE, "templates": [template]})
        assert created.status_code == 201, created.text
        started = client.post(f"/api/v1/campaigns/{created.json()['id']}/start")
        assert started.status_code == status, started.text
        if status == 422:  # not one this tenant uploaded: Meta would refuse every send
            assert started.json()["errors"][0]["field"] == "templates[0].header.media_id"


IMAGE_BODY = "{{first_name}}, chegou a semana da roupa limpa: lavagem com desconto até domingo!"


@pytest.mark.parametrize(
    ("template", "field"),
    [
        (
            {
                "content": IMAGE_BODY,
                "buttons": [{"type": "url", "suffix": "s"}],
            },
            "templates[0].header",
        ),
        (
            {
                "content": IMAGE_BODY,
                "header": {"type": "image", "link": "https://cdn.lavo.example/s.png"},
            },
            "templates[0].buttons",
        ),
        (
            {
                "content": "{{first_name}} {{name}}",
                "header": {"type": "image", "link": "https://cdn.lavo.example/s.png"},
            },
            "templates[0].variables",
        ),
    ],
    ids=["media_header_missing", "url_suffix_missing", "wrong_parameter_count"],
)
def test_a_start_meta_would_refuse_at_every_send_is_a_422_naming_the_part(
    api_as: Client, tenant: Cnpj, template: dict[str, Any], field: str
) -> None:
    client = api_as(tenant)
    wanted = {"name": "Rica", "whatsapp_template": {"name": "oferta_com_imagem"}, **template}
    created = client.post("/api/v1/campaigns", json={**SIMPLE, "templates": [wanted]})
    assert created.status_code == 201, created.text
    answer = client.post(f"/api/v1/campaigns/{created.json()['id']}/start")
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    assert client.get(f"/api/v1/campaigns/{created.json()['id']}").json()["status"] == "draft"
