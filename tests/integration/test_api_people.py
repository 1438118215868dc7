"""People through the HTTP API: search, one person, tags, the LGPD export and erasure, opt-outs.

Every request goes through the real functions host; the erasure is then checked where it
matters: search, the opt-out ledger, a segment's estimate and started campaign, and a target
created for the erased phone afterwards, which the sender must skip.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.contacts import contact_id_for
from shared.domain.delivery_status import Status
from shared.logs import mask_phone
from shared.ports import HistoryRow
from tests.integration import api_fixtures, delivery_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE, approved, targets_of
from tests.integration.delivery_fixtures import (
    ALWAYS_OPEN,
    DeliveryTenant,
    SandboxClient,
    new_phone,
)

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
sandbox = delivery_fixtures.sandbox

Client = Callable[..., ApiClient]
NAME = "Zuleica Conceição Teste"


@pytest.fixture
def tenant(sample_tenant: Callable[..., Cnpj]) -> Cnpj:
    return sample_tenant(customers=8)


def ok(answer: Any, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json()


def import_person(client: ApiClient, phone: str, name: str = NAME, **row: Any) -> str:
    """An imported contact of our own (the sample's names are random); their id."""
    body = {"source": "json", "data": [{"phone_number": phone, "name": name, **row}]}
    assert ok(client.post("/api/v1/contacts/import", json=body))["created"] == 1
    return contact_id_for(phone)


def search(client: ApiClient, **params: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.get("/api/v1/contacts", params=params))
    return result


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


def customer_with_phone(client: ApiClient) -> dict[str, Any]:
    """A sample customer whose phone is a valid mobile (their export has it in clear)."""
    for item in search(client, page_size=100)["items"]:
        if item["contact_id"] is None and (item["phone_masked"] or "").startswith("+55"):
            found: dict[str, Any] = item
            return found
    raise AssertionError("the sample has no customer with a mobile phone")


def estimate(client: ApiClient, segmentation: dict[str, Any]) -> int:
    body = {"segmentation": segmentation}
    return int(ok(client.post("/api/v1/segments/estimate", json=body))["estimated_recipients"])


def test_search_by_name_phone_and_tag_with_phones_masked(api_as: Client, tenant: Cnpj) -> None:
    client = api_as(tenant, Role.VIEWER)
    editor = api_as(tenant, Role.EDITOR)
    phone = new_phone()
    person_id = import_person(editor, phone, tags=["VIP Ouro"])

    everyone = search(client, page_size=100)
    assert everyone["total"] == 9 == len(everyone["items"])  # 8 customers + 1 contact
    for item in everyone["items"]:
        assert item["phone_masked"] is None or "*" in item["phone_masked"]
    assert phone not in str(everyone)

    assert ids(search(client, q="zuleica conceicao")) == [person_id]  # case and accents
    assert ids(search(client, q="ZULEICA CONCEIÇÃO")) == [person_id]
    national = f"({phone[3:5]}) {phone[5:10]}-{phone[10:]}"
    assert ids(search(client, q=national)) == [person_id]
    assert ids(search(client, q=phone[-6:])) == [person_id]
    assert ids(search(client, tag="vip ouro")) == [person_id]
    assert ids(search(client, tag="VIP  Ouro")) == [person_id]
    assert search(client, q="ninguém-com-este-nome")["total"] == 0

    paged = [search(client, page=n, page_size=4) for n in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in paged] == [4, 4, 1, 0]
    assert {p["total"] for p in paged} == {9}
    assert sorted(i for p in paged for i in ids(p)) == sorted(ids(everyone))


def test_one_person_with_messages_and_opt_out_evidence(
    api_as: Client, tenant: Cnpj, sample_tenant: Callable[..., Cnpj], deps: Container
) -> None:
    client = api_as(tenant, Role.VIEWER)
    phone = new_phone()
    person_id = import_person(api_as(tenant, Role.EDITOR), phone, email="z@example.com")
    campaign = ok(api_as(tenant).post("/api/v1/campaigns", json=approved(SIMPLE)), 201)
    now = datetime.now(UTC)
    path = f"users/{tenant.value}/campaigns/{campaign['id']}/targets/{person_id}_0"

    def row(target: str, version: int, status: str, minutes: int, **extra: Any) -> HistoryRow:
        return HistoryRow(
            event_id=f"{path.replace(person_id + '_0', target)}#{version}",
            user_id=person_id,
            campaign_kind=campaign["kind"],
            campaign_id=campaign["id"],
            target_id=target,
            sent_at=now - timedelta(minutes=minutes),
            status=status,
            phone=phone,
            **extra,
        )

    deps.history.append(
        tenant,
        [
            row(f"{person_id}_0", 1, "QUEUED", 30),
            row(f"{person_id}_0", 2, "SENT", 20),
            row(f"{person_id}_0", 3, "DELIVERED", 10),
            row(f"{person_id}_1", 1, "FAILED", 5, error_code=131026, error_reason="undeliverable"),
        ],
    )
    deps.delivery_store.record_opt_out(tenant, phone, now, "inbound_keyword", "wamid.TESTE")

    person = ok(client.get(f"/api/v1/contacts/{person_id}"))
    assert (person["id"], person["name"], person["email"]) == (person_id, NAME, "z@example.com")
    assert person["phone_masked"] == mask_phone(phone)
    assert phone not in str(person)
    statuses = [(m["target_id"], m["status"], m["error_reason"]) for m in person["messages"]]
    assert statuses == [
        (f"{person_id}_1", "FAILED", "undeliverable"),
        (f"{person_id}_0", "DELIVERED", None),
    ]
    assert person["messages"][1]["campaign_name"] == SIMPLE["name"]
    assert person["opted_out"] is True
    assert person["opt_out"]["source"] == "inbound_keyword"
    assert person["opt_out"]["evidence"] == "wamid.TESTE"

    opt_outs = ok(client.get("/api/v1/opt-outs"))
    assert opt_outs["total"] == 1
    assert opt_outs["items"][0]["phone_masked"] == mask_phone(phone)
    assert opt_outs["items"][0]["source"] == "inbound_keyword"
    assert phone not in str(opt_outs)

    other = api_as(sample_tenant(customers=3))
    assert other.get(f"/api/v1/contacts/{person_id}").status_code == 404
    assert other.get(f"/api/v1/contacts/{person_id}/export").status_code == 404
    assert other.delete(f"/api/v1/contacts/{person_id}").status_code == 404
    assert client.get("/api/v1/contacts/C999999").status_code == 404
    assert ok(other.get("/api/v1/opt-outs"))["total"] == 0


def test_tagging_a_customer_without_a_contact_row(api_as: Client, tenant: Cnpj) -> None:
    editor = api_as(tenant, Role.EDITOR)
    customer = customer_with_phone(editor)
    tagged = ok(editor.post(f"/api/v1/contacts/{customer['id']}/tags", json={"add": ["Gold"]}))
    assert (tagged["id"], tagged["tags"], tagged["changed"]) == (customer["id"], ["gold"], True)
    assert ids(search(editor, tag="gold")) == [customer["id"]]
    assert estimate(editor, {"included_tags": ["gold"]}) == 1
    removed = ok(editor.post(f"/api/v1/contacts/{customer['id']}/tags", json={"remove": ["gold"]}))
    assert removed["tags"] == [] and removed["changed"] is True
    assert search(editor, tag="gold")["total"] == 0
    viewer = api_as(tenant, Role.VIEWER)
    refused = viewer.post(f"/api/v1/contacts/{customer['id']}/tags", json={"add": ["x"]})
    assert refused.status_code == 403


def test_the_export_holds_everything_and_is_audited(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    viewer = api_as(tenant, Role.VIEWER)
    customer = customer_with_phone(viewer)
    export = ok(viewer.get(f"/api/v1/contacts/{customer['id']}/export"))
    [record] = export["customer_records"]
    assert record["id"] == customer["id"] and record["nome"] == customer["name"]
    phone = export["profile"]["phone"]
    assert phone.startswith("+55") and mask_phone(phone) == customer["phone_masked"]
    assert len(export["sales"]) >= customer["visit_count"]
    assert export["contact"] is None and export["opt_out"] is None

    trail = ok(api_as(tenant).get("/api/v1/audit", params={"action": "contacts.export"}))
    [entry] = trail["items"]
    assert entry["resource"] == f"contacts/{customer['id']}"
    assert entry["after"]["customer_records"] == 1
    assert phone not in str(entry) and customer["name"] not in str(entry)


def test_the_export_holds_the_consent_evidence_in_clear(api_as: Client, tenant: Cnpj) -> None:
    editor = api_as(tenant, Role.EDITOR)
    customer = customer_with_phone(editor)
    path = f"/api/v1/contacts/{customer['id']}"
    stop = {"kind": "opt_out", "evidence": "formulario-assinado-0042"}
    ok(editor.post(f"{path}/consent", json=stop))

    export = ok(editor.get(f"{path}/export"))

    [event] = export["consent_events"]
    assert event["messageId"] == "formulario-assinado-0042"
    assert export["profile"]["phone"] in str(event)  # in clear: the access right itself


def test_erasure_removes_the_person_and_nobody_messages_them_again(
    api_as: Client, tenant: Cnpj, deps: Container, sandbox: SandboxClient
) -> None:
    editor = api_as(tenant, Role.EDITOR)
    customer = customer_with_phone(editor)
    person_id = customer["id"]
    phone = ok(editor.get(f"/api/v1/contacts/{person_id}/export"))["profile"]["phone"]
    ok(editor.post(f"/api/v1/contacts/{person_id}/tags", json={"add": ["vip"]}))
    assert estimate(editor, {"included_tags": ["vip"]}) == 1
    everyone = estimate(editor, {"include_all": True})

    assert api_as(tenant, Role.VIEWER).delete(f"/api/v1/contacts/{person_id}").status_code == 403
    assert ok(editor.get(f"/api/v1/contacts/{person_id}"))["name"] == customer["name"]

    first = ok(editor.delete(f"/api/v1/contacts/{person_id}"))
    assert first["already_erased"] is False and first["suppressed"] is True
    assert (first["contact_rows_deleted"], first["customer_rows_cleared"]) == (1, 1)
    assert set(first["erased_ids"]) == {person_id, contact_id_for(phone)}
    again = ok(editor.delete(f"/api/v1/contacts/{person_id}"))
    assert again["already_erased"] is True and again["erased_at"] == first["erased_at"]
    assert ok(editor.delete(f"/api/v1/contacts/{contact_id_for(phone)}"))["already_erased"]

    assert editor.get(f"/api/v1/contacts/{person_id}").status_code == 404
    assert editor.get(f"/api/v1/contacts/{person_id}/export").status_code == 404
    assert person_id not in ids(search(editor, page_size=100))
    assert search(editor, q=customer["name"])["total"] == 0
    assert search(editor, q=phone)["total"] == 0
    [suppression] = ok(editor.get("/api/v1/opt-outs"))["items"]
    assert suppression["source"] == "erasure" and suppression["by"] == "tester"
    assert suppression["phone_masked"] == mask_phone(phone)
    [clientes] = deps.warehouse.query(
        f"SELECT * FROM `{tenant.raw_dataset}.clientes` WHERE id = @id",  # noqa: S608
        {"id": person_id},
    )
    assert [clientes[c] for c in ("nome", "email", "dataNascimento", "telefone")] == [None] * 4
    assert clientes["cpf"]  # sales are fiscal records: the CPF that links them stays
    trail = ok(api_as(tenant).get("/api/v1/audit", params={"action": "contacts.erase"}))
    assert len(trail["items"]) == 3 and phone not in str(trail)

    # No audience holds them: the tag went with their contact, the customer row has no phone.
    assert estimate(editor, {"included_tags": ["vip"]}) == 0
    assert estimate(editor, {"include_all": True}) == everyone  # the anonymous row remains
    body = approved(SIMPLE) | {"segmentation": {"include_all": True}}
    campaign = ok(editor.post("/api/v1/campaigns", json=body), 201)
    ok(editor.post(f"/api/v1/campaigns/{campaign['id']}/start"))
    targets = targets_of(deps, tenant, campaign["id"])
    assert targets, "the campaign reached the others"
    assert [t for t in targets if t["phone"] == phone or t["customerId"] == person_id] == []

    # Whatever creates a target for the phone later (a nightly load that brings the customer
    # back to a built-in campaign), the sender skips it: the suppression is in its claim.
    delivery = DeliveryTenant(deps, tenant)
    delivery.set_campaigns(ALWAYS_OPEN)
    (ref,) = delivery.create(delivery.target("BIRTHDAY", phone=phone))
    skipped = delivery.wait_status(ref, {Status.SKIPPED, Status.SENT, Status.DELIVERED}, 120)
    assert skipped.status is Status.SKIPPED and skipped.error_reason == "opted_out"
    assert sandbox.messages([phone]) == []


def test_erasing_an_unknown_person_is_404_and_viewers_see_opt_outs(
    api_as: Client, tenant: Cnpj
) -> None:
    assert api_as(tenant, Role.EDITOR).delete("/api/v1/contacts/C999999").status_code == 404
    assert ok(api_as(tenant, Role.VIEWER).get("/api/v1/opt-outs"))["items"] == []
