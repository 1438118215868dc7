"""Built-in campaigns read the imported contact first, on bqemulator.

Where a customer of ``clientes`` is also an imported contact (the same mobile, however each
spells it), the contact's name is the one the message uses — the contact-first rule of the
``customer_profile`` view that segment campaigns read — so an ``update`` import changes the
name the next birthday message greets. A contact with a blank name leaves the customer's.
"""

from __future__ import annotations

from datetime import date

from shared.bootstrap import Container
from shared.campaigns import BirthdayProcessor, RunContext
from shared.domain.calendar import local_date
from shared.domain.cnpj import Cnpj
from shared.domain.contacts import JsonImportRequest
from shared.domain.tenant import Tenant
from shared.services.contacts import import_json
from tests.fakes import FakeTargetStore
from tests.sql.test_targeting_sql import SAO_PAULO, TICK, customer, insert, new_tenant


def birthday_names(deps: Container, tenant: Tenant) -> dict[str, str]:
    """Run the birthday campaign as the tick does; the names its targets carry, by customer."""
    store = FakeTargetStore()
    processor = BirthdayProcessor(deps.warehouse, store)
    ctx = RunContext(tenant, SAO_PAULO, TICK, local_date(TICK, SAO_PAULO), "t")
    processor.run(ctx, processor.settings(deps.campaigns.get(tenant.id, processor.kind)))
    return {doc["customerId"]: doc["name"] for doc in store.list(tenant.id, "BIRTHDAY")}


def imported(deps: Container, cnpj: Cnpj, *rows: dict[str, str]) -> None:
    body = {"source": "json", "merge_strategy": "update", "data": list(rows)}
    report = import_json(
        cnpj, JsonImportRequest.model_validate(body), deps.contact_ports(), now=TICK
    )
    assert report.rejected == 0, report.rejections


def test_an_update_import_changes_the_name_the_birthday_message_uses(
    deps: Container, new_cnpj: Cnpj
) -> None:
    tenant = new_tenant(deps, new_cnpj)
    born = date(1990, 11, 20)  # today, locally, at TICK
    rows = [
        {
            **customer("contact", born=born),
            "nome": "ANA MARIA SILVA",
            "telefone": "(11) 98765-0001",
        },
        {**customer("blank", born=born), "nome": "Bruno Souza", "telefone": "11987650002"},
        {**customer("alone", born=born), "nome": "Carla Dias", "telefone": "11987650003"},
    ]
    insert(deps, tenant, clientes=rows)
    imported(
        deps,
        new_cnpj,
        {"phone_number": "+5511987650001", "name": "Aninha"},
        {"phone_number": "11 98765-0002", "email": "bruno@example.com"},  # no name given
        {"phone_number": "11987650009", "name": "Only a contact"},  # no customer: not here
    )
    assert birthday_names(deps, tenant) == {
        "contact": "Aninha",
        "blank": "Bruno Souza",
        "alone": "Carla Dias",
    }

    imported(deps, new_cnpj, {"phone_number": "11987650001", "name": "Ana Maria"})

    assert birthday_names(deps, tenant)["contact"] == "Ana Maria"
