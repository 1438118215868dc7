"""Identities through webhooks on the local stack: pairs recorded, re-linked, a BSUID alone.

The sandbox posts what Meta posts since 2026: ``contacts[]`` with ``wa_id`` and ``user_id``,
messages with ``from_user_id`` (and no ``from`` for a username user), statuses of a message
sent to a BSUID with ``recipient_user_id`` only, and the ``system`` messages of a new number or
a new BSUID. Each test has a WhatsApp number of its own, so no test reads another's pairs.
"""

from __future__ import annotations

from typing import Any

import requests

from shared.bootstrap import Container
from shared.domain.delivery_status import Status
from shared.services.send import send_message
from tests.conftest import new_tenant_id
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import (
    SandboxClient,
    new_delivery_tenant,
    new_phone,
    wait_until,
)

sandbox = delivery_fixtures.sandbox


def new_number() -> str:
    return "8" + new_tenant_id().value


def inbound(sandbox: SandboxClient, **body: Any) -> dict[str, Any]:
    answer = requests.post(f"{sandbox.base_url}/_sandbox/inbound", json=body, timeout=10)
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()
    return result


def greet(sandbox: SandboxClient, phone: str, number: str) -> str:
    """The person writes "oi" showing both ids; the BSUID the sandbox gave them."""
    return str(
        inbound(sandbox, phone_number_id=number, text="oi", **{"from": phone[1:]})["user_id"]
    )


def test_an_inbound_with_both_ids_records_the_pair_and_a_new_number_relinks_it(
    deps: Container, sandbox: SandboxClient
) -> None:
    number, phone, new = new_number(), new_phone(), new_phone()
    links = deps.identities

    user_id = str(
        inbound(sandbox, **{"from": phone[1:]}, phone_number_id=number, text="oi")["user_id"]
    )
    wait_until(lambda: links.bsuid_of(number, phone), "the pair of the inbound")
    assert links.phone_of(number, user_id) == phone

    inbound(
        sandbox,
        **{"from": phone[1:]},
        phone_number_id=number,
        system="user_changed_number",
        new_phone=new[1:],
    )

    wait_until(lambda: links.phone_of(number, user_id) == new or None, "the new number")
    assert links.bsuid_of(number, new) == user_id
    assert links.bsuid_of(number, phone) is None, "the old number is no longer the person"


def test_a_new_user_id_relinks_the_phone(deps: Container, sandbox: SandboxClient) -> None:
    number, phone = new_number(), new_phone()
    links = deps.identities
    before = str(
        inbound(sandbox, **{"from": phone[1:]}, phone_number_id=number, text="oi")["user_id"]
    )
    wait_until(lambda: links.bsuid_of(number, phone), "the first pair")

    after = str(
        inbound(
            sandbox,
            **{"from": phone[1:]},
            phone_number_id=number,
            system="user_changed_user_id",
        )["user_id"]
    )

    wait_until(lambda: links.bsuid_of(number, phone) == after or None, "the new BSUID")
    assert links.phone_of(number, after) == phone and links.phone_of(number, before) is None


def test_a_button_pressed_by_a_bsuid_alone_is_a_click_of_the_paired_phone(
    deps: Container, sandbox: SandboxClient
) -> None:
    tenant = new_delivery_tenant(deps)
    stored = deps.tenants.get(tenant.cnpj)
    assert stored is not None
    number = new_number()
    delivery = stored.delivery.model_copy(update={"phone_number_id": number})
    deps.tenants.save(stored.model_copy(update={"delivery": delivery}))
    phone = new_phone()
    user_id = str(
        inbound(sandbox, **{"from": phone[1:]}, phone_number_id=number, text="oi")["user_id"]
    )
    wait_until(lambda: deps.identities.bsuid_of(number, phone), "the pair")

    click_id = str(
        inbound(sandbox, user_id=user_id, phone_number_id=number, button_payload="QUERO_O_CUPOM")[
            "id"
        ]
    )

    path = f"users/{tenant.cnpj.value}/clicks/{click_id}"
    click = wait_until(lambda: tenant.document(path) or None, "the click")
    assert (click["phone"], click["payload"]) == (phone, "QUERO_O_CUPOM")


def test_a_failure_reported_by_bsuid_alone_settles_its_target(
    deps: Container, sandbox: SandboxClient
) -> None:
    tenant = new_delivery_tenant(deps, open=False)  # this test dispatches the task itself
    user_id = "BR.66" + tenant.cnpj.value
    sandbox.fault("async_failed", user_id, times=1, code=131026)
    (ref,) = tenant.create(tenant.target())
    tenant.wait_queued(ref)
    tenant.update(ref, {"phone": "", "bsuid": user_id})

    assert send_message(ref, 1, tenant.ports).status is Status.SENT

    record = tenant.wait_status(ref, {Status.FAILED})  # no recipient_id, no contacts
    assert (record.error_code, record.attempts) == (131026, 1)
    assert set(record.receipts) == {"sent", "failed"}


def test_an_opt_out_follows_the_person_to_their_new_number(
    deps: Container, sandbox: SandboxClient
) -> None:
    tenant = new_delivery_tenant(deps)
    stored = deps.tenants.get(tenant.cnpj)
    assert stored is not None
    number = new_number()
    delivery = stored.delivery.model_copy(update={"phone_number_id": number})
    deps.tenants.save(stored.model_copy(update={"delivery": delivery}))
    phone, new = new_phone(), new_phone()
    user_id = greet(sandbox, phone, number)
    sandbox.inbound(phone, number, text="SAIR")
    wait_until(lambda: deps.delivery_store.is_opted_out(tenant.cnpj, user_id) or None, "opt-out")

    inbound(
        sandbox,
        phone_number_id=number,
        system="user_changed_number",
        new_phone=new[1:],
        **{"from": phone[1:]},
    )
    wait_until(lambda: deps.identities.bsuid_of(number, new), "the new number's pair")

    (ref,) = tenant.create(tenant.target(phone=new))
    record = tenant.wait_status(ref, {Status.SKIPPED, Status.DELIVERED, Status.READ})
    assert (record.status, record.error_reason) == (Status.SKIPPED, "opted_out")
    assert sandbox.requests_for(new) == 0
