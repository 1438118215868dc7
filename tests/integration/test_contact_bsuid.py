"""Contacts that carry a WhatsApp user id (BSUID), end to end on the local stack.

An older tenant's contacts table gets the ``bsuid`` column in place with its rows kept; an
import through the API stores a contact's BSUID (and rejects a bad one with its line while
the good rows land), records the phone <-> BSUID pair of a row that gives both, and a contact
known only by its BSUID is a member of a segment campaign, sent the template with
``recipient`` through the sandbox and settled by its status webhook (by wamid: the webhook
names no phone).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests

from shared import sqlfiles
from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.contacts import contact_id_for_bsuid
from shared.domain.delivery import TargetRef
from shared.services.contacts import IMPORT_PAIR_SOURCE
from shared.services.tenants import register_tenant
from tests.conftest import new_tenant_id
from tests.integration import api_fixtures, console_fixtures, delivery_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE, approved, targets_of
from tests.integration.console_fixtures import csrf_of, sign_in
from tests.integration.delivery_fixtures import (
    DONE,
    DeliveryTenant,
    SandboxClient,
    new_delivery_tenant,
    new_phone,
)

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
sandbox = delivery_fixtures.sandbox
console_url = console_fixtures.console_url

Client = Callable[..., ApiClient]


def test_an_older_contacts_table_gets_the_bsuid_column_and_keeps_its_rows(
    deps: Container, new_cnpj: Cnpj
) -> None:
    deps.warehouse.ensure_dataset(new_cnpj.campaign_dataset)
    current = sqlfiles.render("ddl/campaign_contacts.sql", new_cnpj)
    older = current.replace(",\n  bsuid STRING\n)", "\n)")
    assert older != current, "the DDL's last column is bsuid"
    deps.warehouse.run_ddl(older)
    table = f"`{new_cnpj.campaign_dataset}.contacts`"  # a validated CNPJ
    deps.warehouse.run_ddl(
        f"INSERT INTO {table} (contact_id, phone, name, created_at, updated_at) "  # noqa: S608
        "VALUES ('ct_000000000000000000000001', '+5511987650001', 'Antiga', "
        "TIMESTAMP '2026-01-01 00:00:00 UTC', TIMESTAMP '2026-01-01 00:00:00 UTC')"
    )

    for _ in range(2):  # registering again is harmless
        register_tenant(
            new_cnpj,
            name=None,
            timezone=None,
            tenants=deps.tenants,
            warehouse=deps.warehouse,
            queues=None,
        )

    project = deps.settings.google_cloud_project
    contacts = f"{project}.{new_cnpj.campaign_dataset}.contacts"
    schema = deps.bigquery_client.get_table(contacts).schema
    assert [field.name for field in schema][-1] == "bsuid"
    rows = list(deps.warehouse.query(f"SELECT name, bsuid FROM {table}", {}))  # noqa: S608
    assert [(row["name"], row["bsuid"]) for row in rows] == [("Antiga", None)]


def _tenant_on_new_number(deps: Container) -> tuple[DeliveryTenant, str]:
    tenant = new_delivery_tenant(deps)
    number = "7" + new_tenant_id().value
    stored = deps.tenants.get(tenant.cnpj)
    assert stored is not None
    delivery = stored.delivery.model_copy(update={"phone_number_id": number})
    deps.tenants.save(stored.model_copy(update={"delivery": delivery}))
    return tenant, number


def test_a_bsuid_only_contact_is_sent_with_recipient_and_settled_by_its_wamid(
    deps: Container, sandbox: SandboxClient, api_as: Client
) -> None:
    tenant, number = _tenant_on_new_number(deps)
    only = "BR.41" + tenant.cnpj.value
    paired, phone = "BR.42" + tenant.cnpj.value, new_phone()
    editor = api_as(tenant.cnpj, Role.EDITOR)
    rows: list[dict[str, Any]] = [
        {"bsuid": only, "name": "Beatriz Só Id"},
        {"phone_number": phone, "bsuid": paired, "name": "Paula Par"},
        {"bsuid": "BR.12-34", "name": "Erro de digitação"},
        {"name": "Ninguém"},
    ]

    answer = editor.post("/api/v1/contacts/import", json={"source": "json", "data": rows})

    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["created"], report["rejected"], report["pairs_linked"]) == (2, 2, 1)
    assert [(r["line"], r["field"], r["reason"]) for r in report["rejections"]] == [
        (2, "bsuid", "invalid_bsuid"),
        (3, "phone_number", "missing_phone"),
    ]
    assert deps.identities.bsuid_of(number, phone) == paired
    assert deps.identities.phone_of(number, paired) == phone
    link = deps.firestore_client.document("identityLinks", number, "phones", phone).get()
    assert (link.to_dict() or {}).get("source") == IMPORT_PAIR_SOURCE
    person = f"/api/v1/contacts/{contact_id_for_bsuid(only)}"
    assert editor.get(person).json()["name"] == "Beatriz Só Id"
    assert api_as(tenant.cnpj).get(f"{person}/export").json()["contact"]["bsuid"] == only
    again = editor.post("/api/v1/contacts/import", json={"source": "json", "data": rows[:2]})
    assert (again.json()["skipped"], again.json()["pairs_linked"]) == (2, 0), again.text

    body = approved(SIMPLE)
    body["throttle_config"] = {"messages_per_minute": 60, "respect_business_hours": False}
    campaign = api_as(tenant.cnpj).post("/api/v1/campaigns", json=body).json()
    started = api_as(tenant.cnpj).post(f"/api/v1/campaigns/{campaign['id']}/start")
    assert started.status_code == 200, started.text
    assert started.json()["targets"]["created"] == 2

    by_bsuid = {doc.get("bsuid"): doc for doc in targets_of(deps, tenant.cnpj, campaign["id"])}
    assert by_bsuid[only]["phone"] == "" and by_bsuid[paired]["phone"] == phone
    target_id = f"{contact_id_for_bsuid(only)}_{by_bsuid[only]['period']}"
    record = tenant.wait_status(TargetRef(tenant.cnpj, campaign["id"], target_id), DONE)
    assert record.wamid.startswith("wamid.") and record.bsuid == only
    accepted = requests.get(f"{sandbox.base_url}/_sandbox/messages", timeout=10).json()
    [message] = [m for m in accepted if m.get("user_id") == only]
    assert message["to"] == "" and message["wamid"] == record.wamid

    # A later file pairing a phone with another id does not undo the pair already known.
    third = new_phone()
    first = {"phone_number": third, "bsuid": "BR.43" + tenant.cnpj.value}
    later = {"phone_number": third, "bsuid": "BR.44" + tenant.cnpj.value}
    editor.post("/api/v1/contacts/import", json={"source": "json", "data": [first]})
    changed = editor.post("/api/v1/contacts/import", json={"source": "json", "data": [later]})
    assert (changed.json()["updated"], changed.json()["pairs_conflicting"]) == (1, 1)
    assert deps.identities.bsuid_of(number, third) == first["bsuid"]


def test_the_console_imports_a_bsuid_column_and_names_a_bad_one_by_line(
    deps: Container, console_url: str
) -> None:
    tenant, number = _tenant_on_new_number(deps)
    editor = sign_in(console_url, tenant.cnpj, Role.EDITOR)
    form = editor.get(f"{console_url}/contatos/importar", timeout=60)
    phone = new_phone()
    csv = f"nome;celular;bsuid\nAna;{phone};BR.51{tenant.cnpj.value}\nBia;;BR.5x-1\nCris;;BR.52\n"
    result = editor.post(
        f"{console_url}/contatos/importar",
        data={"csrf_token": csrf_of(form.text), "merge_strategy": "update"},
        files={"file": ("clientes.csv", csv.encode(), "text/csv")},
        timeout=60,
    )
    assert result.status_code == 200, result.text
    assert re.search(r'data-figure="created">2<', result.text)
    bad_line = r"<td>3</td>\s*<td>bsuid</td>\s*<td[^>]*>ID de usuário do WhatsApp inválido"
    assert re.search(bad_line, result.text)
    assert 'data-figure="pairs_linked"' in result.text
    assert deps.identities.bsuid_of(number, phone) == f"BR.51{tenant.cnpj.value}"
