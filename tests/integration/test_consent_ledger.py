"""Issue 14's opt-out scenarios on the local stack: an opt-out is never lost.

Each scenario gets WhatsApp numbers and people of its own. Opt-outs arrive as Meta posts them:
through the sandbox (which signs and posts the webhook to the functions host) or as a signed
webhook posted here when the test needs the answer or a shape the sandbox does not make
(``user_preferences``). The next send to the person then goes through the real pipeline (the
target's trigger, Cloud Tasks, ``send_message``) and must end SKIPPED, and the evidence must be
readable through the API's consent history.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.contacts import contact_id_for
from shared.domain.delivery_status import Status
from shared.domain.tenant import DeliverySettings, Tenant
from shared.localstack.stack import LOCAL_WHATSAPP, Stack
from shared.logs import mask_phone
from shared.manifest import WEBHOOK_PATH
from shared.services.send import send_message
from shared.services.tenants import register_tenant
from shared.whatsapp.signature import HEADER, sign
from tests.conftest import new_tenant_id
from tests.integration import api_fixtures, delivery_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.delivery_fixtures import (
    DONE,
    DeliveryTenant,
    SandboxClient,
    new_delivery_tenant,
    new_phone,
    wait_for_log,
    wait_until,
)

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
sandbox = delivery_fixtures.sandbox
functions_log = delivery_fixtures.functions_log

Client = Callable[..., ApiClient]
SECRET = LOCAL_WHATSAPP["WHATSAPP_APP_SECRET"]


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def webhook_url(stack: Stack) -> str:
    del stack  # its variables are in the environment
    return os.environ["CAMPAIGNS_FUNCTIONS_URL"].rstrip("/") + "/api" + WEBHOOK_PATH


def new_number() -> str:
    """A WhatsApp number (``phone_number_id``) no other test sends from."""
    return "7" + new_tenant_id().value


def bsuid_for(phone: str) -> str:
    return "BR." + phone.lstrip("+")[::-1]


def inbound_as(sandbox: SandboxClient, user_id: str, number: str, **content: str) -> str:
    """A message from a person WhatsApp names by BSUID alone (no ``from``, no ``wa_id``)."""
    body = {"user_id": user_id, "phone_number_id": number, **content}
    answer = requests.post(f"{sandbox.base_url}/_sandbox/inbound", json=body, timeout=10)
    answer.raise_for_status()
    return str(answer.json()["id"])


def tenant_on(deps: Container, number: str, **changes: Any) -> DeliveryTenant:
    """A fresh tenant sending from ``number`` (``active``/``paused`` as given)."""
    tenant = new_delivery_tenant(deps)
    stored = deps.tenants.get(tenant.cnpj)
    assert stored is not None
    paused = changes.pop("paused", False)
    delivery = stored.delivery.model_copy(update={"phone_number_id": number, "paused": paused})
    deps.tenants.save(stored.model_copy(update={"delivery": delivery, **changes}))
    return tenant


def post(url: str, number: str, field: str = "messages", **value: Any) -> dict[str, Any]:
    """Post one signed webhook as Meta does; its JSON answer (the handler's counts)."""
    metadata = {"display_phone_number": "15550000000", "phone_number_id": number}
    change = {
        "field": field,
        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
    }
    body = json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    ).encode()
    headers = {"Content-Type": "application/json", HEADER: sign(body, SECRET)}
    answer = requests.post(url, data=body, headers=headers, timeout=60)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def text_message(phone: str, text: str, message_id: str, at: int | None = None) -> dict[str, Any]:
    return {
        "from": phone.lstrip("+"),
        "id": message_id,
        "timestamp": str(at if at is not None else int(time.time())),
        "type": "text",
        "text": {"body": text},
    }


def preference(phone: str, value: str, at: int) -> dict[str, Any]:
    """One ``user_preferences[]`` entry, as Meta sends it (phone and BSUID)."""
    return {
        "wa_id": phone.lstrip("+"),
        "user_id": bsuid_for(phone),
        "detail": f"User requested to {value} marketing messages",
        "category": "marketing_messages",
        "value": value,
        "timestamp": at,
    }


def opted_out(tenant: DeliveryTenant, phone: str) -> bool:
    return tenant.deps.delivery_store.is_opted_out(tenant.cnpj, phone)


def wait_opted_out(tenant: DeliveryTenant, key: str) -> None:
    wait_until(lambda: opted_out(tenant, key) or None, f"{key} opted out at {tenant.cnpj}")


def next_send(tenant: DeliveryTenant, phone: str) -> Status:
    """Create a target for ``phone`` and let the pipeline take it to its end state."""
    (ref,) = tenant.create(tenant.target(phone=phone))
    record = tenant.wait_status(ref, {Status.SKIPPED, *DONE, Status.FAILED})
    if record.status is Status.SKIPPED:
        assert (record.error_reason, record.attempts) == ("opted_out", 0), record
    return record.status


def import_person(api_as: Client, cnpj: Cnpj, phone: str) -> str:
    body = {"source": "json", "data": [{"phone_number": phone, "name": "Zuleica Teste"}]}
    answer = api_as(cnpj, Role.EDITOR).post("/api/v1/contacts/import", json=body)
    assert answer.status_code == 200 and answer.json()["created"] == 1, answer.text
    return contact_id_for(phone)


def consent_history(api_as: Client, cnpj: Cnpj, person_id: str) -> dict[str, Any]:
    answer = api_as(cnpj, Role.VIEWER).get(f"/api/v1/contacts/{person_id}/consent")
    assert answer.status_code == 200, answer.text
    history: dict[str, Any] = answer.json()
    return history


def evidence(history: dict[str, Any]) -> list[tuple[str, str]]:
    return [(event["kind"], event["source"]) for event in history["events"]]


# -- every tenant of the number, active or not -----------------------------------------------


def test_a_keyword_reaches_every_tenant_of_the_number_paused_or_inactive(
    deps: Container, sandbox: SandboxClient, api_as: Client
) -> None:
    number, elsewhere = new_number(), new_number()
    active = tenant_on(deps, number)
    paused = tenant_on(deps, number, paused=True)
    inactive = tenant_on(deps, number, active=False)
    other = tenant_on(deps, elsewhere)
    phone = new_phone()
    person_id = import_person(api_as, paused.cnpj, phone)

    message_id = sandbox.inbound(phone, number, text="SAIR")

    for tenant in (active, paused, inactive):
        wait_opted_out(tenant, phone)
    assert not opted_out(other, phone), "a tenant of another number heard nothing"
    for tenant in (paused, inactive):  # active again: they must not message the person
        stored = deps.tenants.get(tenant.cnpj)
        assert stored is not None
        delivery = stored.delivery.model_copy(update={"paused": False})
        deps.tenants.save(stored.model_copy(update={"delivery": delivery, "active": True}))
    assert [next_send(t, phone) for t in (active, paused, inactive)] == [Status.SKIPPED] * 3
    assert sandbox.requests_for(phone) == 0
    history = consent_history(api_as, paused.cnpj, person_id)
    assert history["opted_out"] is True
    [event] = history["events"]
    assert (event["kind"], event["source"], event["message_id"]) == (
        "opt_out",
        "inbound_keyword",
        message_id,
    )
    assert event["number"] == number and event["phone_masked"] == mask_phone(phone)
    assert phone not in json.dumps(history)


def test_a_duplicated_opt_out_is_one_event(
    deps: Container, webhook_url: str, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone = new_phone()
    person_id = import_person(api_as, tenant.cnpj, phone)
    message = text_message(phone, "Parar", f"wamid.DUP{tenant.cnpj.value}")

    answers = [post(webhook_url, number, messages=[message]) for _ in range(3)]

    assert [answer.get("opt_out") for answer in answers] == [1, 1, 1]
    history = consent_history(api_as, tenant.cnpj, person_id)
    assert evidence(history) == [("opt_out", "inbound_keyword")]
    assert next_send(tenant, phone) is Status.SKIPPED


# -- never into nowhere ----------------------------------------------------------------------


def test_an_opt_out_for_an_unknown_number_waits_for_its_tenant(
    deps: Container, webhook_url: str, api_as: Client, functions_log: Path
) -> None:
    number = new_number()
    phone = new_phone()
    message = text_message(phone, "SAIR", f"wamid.Q{number}")

    answers = [post(webhook_url, number, messages=[message]) for _ in range(2)]

    assert [answer.get("opt_out_quarantined") for answer in answers] == [1, 1]
    wait_for_log(functions_log, "no tenant sends from: quarantined", number)
    [kept] = deps.consent.quarantined(number)
    assert kept.identity.phone == phone and kept.message_id == message["id"]

    tenant = new_delivery_tenant(deps)  # on a number of its own, then moved
    person_id = import_person(api_as, tenant.cnpj, phone)
    assert not opted_out(tenant, phone)
    admin = api_as(tenant.cnpj, Role.ADMIN)
    answer = admin.patch("/api/v1/settings", json={"phone_number_id": number})
    assert answer.status_code == 200, answer.text

    assert opted_out(tenant, phone)
    assert next_send(tenant, phone) is Status.SKIPPED
    for move in ("", number):  # away and back: the adoption is idempotent
        assert admin.patch("/api/v1/settings", json={"phone_number_id": move}).status_code == 200
    history = consent_history(api_as, tenant.cnpj, person_id)
    assert evidence(history) == [("opt_out", "inbound_keyword")]
    assert history["events"][0]["message_id"] == message["id"]


def test_a_tenant_registered_with_the_number_takes_its_quarantined_opt_outs(
    deps: Container, webhook_url: str
) -> None:
    number, phone = new_number(), new_phone()
    message = text_message(phone, "SAIR", f"wamid.R{number}")
    assert post(webhook_url, number, messages=[message]).get("opt_out_quarantined") == 1
    cnpj = new_tenant_id()
    delivery = DeliverySettings(phone_number_id=number)
    deps.tenants.save(Tenant(cnpj=cnpj.value, delivery=delivery))  # its document, written first

    for _ in range(2):  # registration is idempotent, and so is the adoption
        register_tenant(
            cnpj, name="Lavanderia Nova", timezone=None, tenants=deps.tenants,
            warehouse=None, queues=None, consent=deps.consent_ports(),
        )  # fmt: skip

    assert deps.delivery_store.is_opted_out(cnpj, phone)
    [event] = deps.consent.history(cnpj, [phone])
    assert (event.source, event.message_id, event.number) == (
        "inbound_keyword",
        message["id"],
        number,
    )


# -- who can opt out, and how ----------------------------------------------------------------


def test_a_foreign_number_opts_out(deps: Container, webhook_url: str) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    foreign = "+14155550" + tenant.cnpj.value[-3:]

    answer = post(webhook_url, number, messages=[text_message(foreign, "STOP", f"wamid.F{number}")])

    assert answer.get("opt_out") == 1 and "inbound_foreign" not in answer
    assert opted_out(tenant, foreign)
    assert foreign in deps.campaigns.opted_out_phones(tenant.cnpj)  # the audience excludes it
    [event] = deps.consent.history(tenant.cnpj, [foreign])
    assert (event.source, event.identity.phone) == ("inbound_keyword", foreign)


def test_the_stop_promotions_quick_reply_opts_out_and_another_button_does_not(
    deps: Container, sandbox: SandboxClient, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone, clicker = new_phone(), new_phone()
    person_id = import_person(api_as, tenant.cnpj, phone)

    sandbox.inbound(phone, number, button_payload="STOP_PROMOTIONS", button_text="Parar promoções")
    click_id = sandbox.inbound(clicker, number, button_payload="QUERO_O_CUPOM")

    wait_opted_out(tenant, phone)
    wait_until(
        lambda: tenant.document(f"users/{tenant.cnpj.value}/clicks/{click_id}") or None,
        "the other button's click",
    )
    assert not opted_out(tenant, clicker)
    assert next_send(tenant, phone) is Status.SKIPPED
    history = consent_history(api_as, tenant.cnpj, person_id)
    assert evidence(history) == [("opt_out", "quick_reply_stop")]


def test_whatsapp_131050_is_evidence_and_stops_the_next_send(
    deps: Container, sandbox: SandboxClient, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone = new_phone()
    person_id = import_person(api_as, tenant.cnpj, phone)
    sandbox.fault("opted_out", phone, times=1)

    (ref,) = tenant.create(tenant.target(phone=phone))
    refused = tenant.wait_status(ref, {Status.SKIPPED})

    assert (refused.error_code, refused.attempts) == (131050, 1)
    assert next_send(tenant, phone) is Status.SKIPPED
    history = consent_history(api_as, tenant.cnpj, person_id)
    assert evidence(history) == [("opt_out", "whatsapp_131050")]
    assert history["events"][0]["message_id"] == ref.path


# -- user_preferences: stop, resume, in any order --------------------------------------------


@pytest.mark.parametrize(
    ("order", "final"),
    [
        (("stop", "resume"), "resume"),
        (("resume", "stop"), "resume"),  # delivered reversed: the later event still wins
        (("resume", "stop"), "stop"),
    ],
    ids=["stop-then-resume", "resume-delivered-before-stop", "stop-is-later"],
)
def test_user_preferences_decide_by_their_own_timestamps(
    deps: Container,
    webhook_url: str,
    api_as: Client,
    sandbox: SandboxClient,
    order: tuple[str, str],
    final: str,
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone = new_phone()
    person_id = import_person(api_as, tenant.cnpj, phone)
    now = int(time.time())
    at = {final: now, ({"stop", "resume"} - {final}).pop(): now - 60}
    contact = {"profile": {"name": "Zuleica"}, "wa_id": phone[1:], "user_id": bsuid_for(phone)}

    answers = [
        post(
            webhook_url,
            number,
            "user_preferences",
            contacts=[contact],
            user_preferences=[preference(phone, value, at[value])],
        )
        for value in order * 2  # Meta redelivers: the pair comes twice
    ]

    assert all(sum(a.get(k, 0) for k in ("opt_out", "opt_in")) == 1 for a in answers), answers
    history = consent_history(api_as, tenant.cnpj, person_id)
    sources = [source for _, source in evidence(history)]
    expected_last = f"user_preferences_{final}"
    assert sources[0] == expected_last and sorted(sources) == sorted(
        {"user_preferences_stop", "user_preferences_resume"}
    )
    assert history["opted_out"] is (final == "stop")
    listed = api_as(tenant.cnpj, Role.VIEWER).get("/api/v1/opt-outs").json()
    assert (listed["total"], len(listed["items"])) == ((1, 1) if final == "stop" else (0, 0))
    assert deps.identities.phone_of(number, bsuid_for(phone)) == phone  # the pair was linked
    if final == "stop":
        assert next_send(tenant, phone) is Status.SKIPPED
        assert sandbox.requests_for(phone) == 0
    else:
        assert next_send(tenant, phone) in DONE  # only a resume lifts an opt-out
        assert sandbox.requests_for(phone) == 1


def test_a_new_import_row_does_not_lift_an_opt_out(
    deps: Container, sandbox: SandboxClient, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone = new_phone()
    import_person(api_as, tenant.cnpj, phone)
    sandbox.inbound(phone, number, text="PARAR")
    wait_opted_out(tenant, phone)

    row = {"phone_number": phone, "name": "Zuleica Outra"}
    body = {"source": "json", "merge_strategy": "update", "data": [row]}
    answer = api_as(tenant.cnpj, Role.EDITOR).post("/api/v1/contacts/import", json=body)

    assert answer.status_code == 200, answer.text
    assert opted_out(tenant, phone)
    assert next_send(tenant, phone) is Status.SKIPPED


def test_an_explicit_opt_in_recorded_through_the_api_lifts_only_if_it_is_later(
    deps: Container, sandbox: SandboxClient, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone = new_phone()
    person_id = import_person(api_as, tenant.cnpj, phone)
    sandbox.inbound(phone, number, text="SAIR")
    wait_opted_out(tenant, phone)
    [stop] = consent_history(api_as, tenant.cnpj, person_id)["events"]
    address = f"/api/v1/contacts/{person_id}/consent"
    editor = api_as(tenant.cnpj, Role.EDITOR)
    earlier = {"kind": "opt_in", "evidence": "ficha 17", "at": "2020-01-01T10:00:00-03:00"}

    refused = [
        api_as(tenant.cnpj, Role.VIEWER).post(address, json=earlier).status_code,
        editor.post(address, json={**earlier, "at": "2999-01-01T00:00:00Z"}).status_code,
        editor.post(address, json={**earlier, "at": "2026-01-01T10:00:00"}).status_code,
        editor.post(address, json={"kind": "opt_in"}).status_code,
    ]
    older = editor.post(address, json=earlier)

    assert refused == [403, 422, 422, 422]
    assert older.status_code == 200 and older.json()["opted_out"] is True  # the stop is later
    renewed = [editor.post(address, json={"kind": "opt_in", "evidence": "ficha 18"}) for _ in "12"]
    assert [answer.status_code for answer in renewed] == [200, 200]
    history = renewed[-1].json()
    assert history["opted_out"] is False
    assert evidence(history) == [
        ("opt_in", "api_opt_in"),
        ("opt_out", "inbound_keyword"),
        ("opt_in", "api_opt_in"),
    ], "the same proof twice is one event"
    assert history["events"][0]["by"] == "tester" and history["events"][1] == stop
    assert next_send(tenant, phone) in DONE


# -- identities: a BSUID alone ---------------------------------------------------------------


def test_a_bsuid_only_opt_out_stops_the_paired_phone_and_a_bsuid_only_target(
    deps: Container, sandbox: SandboxClient, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone = new_phone()
    person_id = import_person(api_as, tenant.cnpj, phone)
    user_id = bsuid_for(phone)
    stranger = "BR.77" + tenant.cnpj.value

    sandbox.inbound(phone, number, text="oi", user_id=user_id)  # the pair, shown once
    wait_until(lambda: deps.identities.bsuid_of(number, phone), "the pair to be linked")
    inbound_as(sandbox, user_id, number, text="PARAR")  # a username hides the phone
    inbound_as(sandbox, stranger, number, text="Parar")  # never seen with a phone

    wait_opted_out(tenant, user_id)
    wait_opted_out(tenant, stranger)
    assert opted_out(tenant, phone), "the BSUID's opt-out stops the phone paired with it"
    assert next_send(tenant, phone) is Status.SKIPPED
    history = consent_history(api_as, tenant.cnpj, person_id)
    [event] = history["events"]
    assert event["source"] == "inbound_keyword" and event["bsuid_masked"].startswith("BR.")
    assert user_id not in json.dumps(history)

    closed = new_delivery_tenant(deps, open=False)  # this test dispatches the task itself
    stored = deps.tenants.get(closed.cnpj)
    assert stored is not None
    delivery = stored.delivery.model_copy(update={"phone_number_id": number})
    deps.tenants.save(stored.model_copy(update={"delivery": delivery}))
    inbound_as(sandbox, stranger, number, text="SAIR")
    wait_opted_out(closed, stranger)
    (ref,) = closed.create(closed.target())
    closed.wait_queued(ref)
    closed.update(ref, {"phone": "", "bsuid": stranger})

    outcome = send_message(ref, 1, closed.ports)

    assert outcome.status is Status.SKIPPED
    assert closed.load(ref).error_reason == "opted_out"


def test_a_target_known_only_by_its_bsuid_is_sent_with_recipient(
    deps: Container, sandbox: SandboxClient
) -> None:
    tenant = new_delivery_tenant(deps, open=False)
    user_id = "BR.55" + tenant.cnpj.value
    (ref,) = tenant.create(tenant.target())
    tenant.wait_queued(ref)
    tenant.update(ref, {"phone": "", "bsuid": user_id})

    outcome = send_message(ref, 1, tenant.ports)

    assert outcome.status is Status.SENT, outcome
    record = tenant.wait_status(ref, DONE)
    assert record.wamid.startswith("wamid.")
    answer = requests.get(f"{sandbox.base_url}/_sandbox/messages", timeout=10).json()
    [sent] = [m for m in answer if m.get("user_id") == user_id]
    assert sent["to"] == "" and sent["wamid"] == record.wamid
