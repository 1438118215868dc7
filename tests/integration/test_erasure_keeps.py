"""LGPD erasure keeps only what honouring an opt-out needs, and says so in Portuguese.

On the local stack, through the API: the person's phone and WhatsApp user ids (BSUID) go into
the opt-out ledger and their consent evidence stays; their phone <-> BSUID pair is erased,
unless another tenant sending from the same number has an opt-out of the person (the pair is
what makes that opt-out hold for both ids). A message addressed to the erased BSUID alone is
never sent.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.contacts import contact_id_for, contact_id_for_bsuid
from shared.domain.delivery_status import Status
from shared.services.send import send_message
from tests.integration import api_fixtures, console_fixtures, delivery_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.console_fixtures import sign_in
from tests.integration.delivery_fixtures import (
    SandboxClient,
    closed_window,
    new_phone,
    wait_until,
)
from tests.integration.test_consent_ledger import new_number, tenant_on

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
sandbox = delivery_fixtures.sandbox
console_url = console_fixtures.console_url

Client = Callable[..., ApiClient]


def erase(api_as: Client, cnpj: Any, person_id: str) -> dict[str, Any]:
    answer = api_as(cnpj, Role.EDITOR).delete(f"/api/v1/contacts/{person_id}")
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def test_erasure_suppresses_the_bsuid_erases_the_pair_and_says_what_it_keeps(
    deps: Container, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone, bsuid = new_phone(), "BR.61" + tenant.cnpj.value
    row = {"phone_number": phone, "bsuid": bsuid, "name": "Olga Apagar"}
    imported = api_as(tenant.cnpj, Role.EDITOR).post(
        "/api/v1/contacts/import", json={"source": "json", "data": [row]}
    )
    assert imported.json()["pairs_linked"] == 1, imported.text

    report = erase(api_as, tenant.cnpj, contact_id_for(phone))

    assert (report["user_ids_suppressed"], report["pair_erased"]) == (1, True)
    assert deps.identities.bsuid_of(number, phone) is None
    assert deps.identities.phone_of(number, bsuid) is None
    assert deps.consent.opted_out(tenant.cnpj, [bsuid]) and deps.consent.opted_out(
        tenant.cnpj, [phone]
    )
    assert [e.source for e in deps.consent.history(tenant.cnpj, [bsuid])] == ["erasure"]
    assert "a ligação entre o telefone e o ID do WhatsApp da pessoa" in report["erased"]
    assert any(e.startswith("o contato importado") for e in report["erased"])
    kept = {item["what"]: item["why"] for item in report["kept"]}
    assert "o ID do WhatsApp da pessoa na lista de descadastrados" in kept
    assert any("prova" in why for why in kept.values()), kept
    assert not any("ligação" in what for what in kept)
    assert bsuid not in str(report) and phone not in str(report)

    # A target addressed to the erased BSUID alone is refused at its claim.
    tenant.set_campaigns(closed_window(deps.clock()))  # this test dispatches the task itself
    (ref,) = tenant.create(tenant.target())
    tenant.wait_queued(ref)
    tenant.update(ref, {"phone": "", "bsuid": bsuid})
    outcome = send_message(ref, 1, tenant.ports)
    assert outcome.status is Status.SKIPPED, outcome
    assert tenant.load(ref).error_reason == "opted_out"


def test_the_pair_stays_while_another_tenant_of_the_number_has_an_opt_out(
    deps: Container, sandbox: SandboxClient, api_as: Client, console_url: str
) -> None:
    number = new_number()
    erasing, other = tenant_on(deps, number), tenant_on(deps, number)
    phone = new_phone()
    for tenant in (erasing, other):
        body = {"source": "json", "data": [{"phone_number": phone, "name": "Rui Par"}]}
        api_as(tenant.cnpj, Role.EDITOR).post("/api/v1/contacts/import", json=body)
    sandbox.inbound(phone, number, text="SAIR")  # both tenants of the number; WhatsApp pairs
    paired = wait_until(lambda: deps.identities.bsuid_of(number, phone), "the inbound's pair")
    wait_until(lambda: deps.consent.opted_out(other.cnpj, [phone]) or None, "the opt-out")

    browser = sign_in(console_url, erasing.cnpj, Role.EDITOR)
    confirmation = browser.get(f"{console_url}/contatos/{contact_id_for(phone)}/apagar", timeout=60)
    assert confirmation.status_code == 200, confirmation.text
    page = html.unescape(confirmation.text)
    assert "O que fica guardado, e por quê" in page
    assert "outra empresa que envia pelo mesmo número do WhatsApp" in page
    assert "prova de que o pedido foi atendido" in page

    report = erase(api_as, erasing.cnpj, contact_id_for(phone))

    assert (report["user_ids_suppressed"], report["pair_erased"]) == (1, False)
    assert deps.identities.bsuid_of(number, phone) == paired
    kept = {item["what"]: item["why"] for item in report["kept"]}
    assert "outra empresa" in kept["a ligação entre o telefone e o ID do WhatsApp da pessoa"]
    assert deps.consent.opted_out(erasing.cnpj, [paired])


def test_a_person_known_by_bsuid_alone_takes_their_paired_phone_with_them(
    deps: Container, api_as: Client
) -> None:
    number = new_number()
    tenant = tenant_on(deps, number)
    phone, bsuid = new_phone(), "BR.62" + tenant.cnpj.value
    body = {"source": "json", "data": [{"bsuid": bsuid, "name": "Sônia Só Id"}]}
    api_as(tenant.cnpj, Role.EDITOR).post("/api/v1/contacts/import", json=body)
    deps.identities.link(number, phone, bsuid, deps.clock(), "test")  # as a webhook pairs them

    report = erase(api_as, tenant.cnpj, contact_id_for_bsuid(bsuid))

    assert (report["user_ids_suppressed"], report["pair_erased"]) == (1, True)
    assert deps.consent.opted_out(tenant.cnpj, [phone]), "its phone no longer reads the BSUID"
    assert deps.consent.opted_out(tenant.cnpj, [bsuid])
    assert deps.identities.phone_of(number, bsuid) is None
