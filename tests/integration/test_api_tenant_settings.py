"""``/api/v1/settings``: the tenant's delivery settings as the pipeline reads them.

Through the real functions host: what a PATCH changes is what the tenant document holds (the
pipeline's input), a bad value is a 422 naming it and changes nothing, only admins write, one
tenant never sees another's, and every change is in the audit trail with before and after.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.sending_number import NumberLimits
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

Client = Callable[..., ApiClient]
PATH = "/api/v1/settings"
DEFAULTS = {
    "timezone": "America/Sao_Paulo",
    "phone_number_id": "",
    "business_account_id": "",
    "messages_per_day": 250,
    "messages_per_minute": 60,
    "messages_per_hour": 1000,
    "delay_between_messages_seconds": 0.0,
    "frequency_cap_hours": 24,
}


@pytest.fixture
def tenant(sample_tenant: Callable[..., Cnpj]) -> Cnpj:
    return sample_tenant(customers=5)


def test_every_role_reads_the_settings_with_what_each_means(
    api_as: Client, tenant: Cnpj, api_url: str
) -> None:
    for role in Role:
        answer = api_as(tenant, role).get(PATH)
        assert answer.status_code == 200, answer.text
        assert answer.json() == DEFAULTS
    document = ApiClient(api_url, None).get("/api-docs/openapi.json").json()
    fields = document["components"]["schemas"]["TenantSettings"]["properties"]
    assert set(fields) == set(DEFAULTS)
    assert all(len(field["description"]) > 30 for field in fields.values())
    assert fields["messages_per_day"]["minimum"] == 1  # the Throttle's own rule


def test_an_admin_changes_some_fields_and_the_pipeline_reads_them(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    changes = {
        "timezone": "America/Manaus",
        "messages_per_day": 1000,
        "delay_between_messages_seconds": 1.5,
        "phone_number_id": "106540352242922",
        "business_account_id": "102290129340398",
    }
    answer = api_as(tenant, Role.ADMIN).patch(PATH, json=changes)
    assert answer.status_code == 200, answer.text
    assert answer.json() == DEFAULTS | changes
    assert api_as(tenant, Role.VIEWER).get(PATH).json() == DEFAULTS | changes
    stored = deps.tenants.get(tenant)
    assert stored is not None
    assert stored.timezone == "America/Manaus"
    assert stored.delivery.phone_number_id == "106540352242922"
    assert stored.delivery.business_account_id == "102290129340398"  # what a sync reads
    assert stored.delivery.throttle.messages_per_day == 1000
    assert stored.delivery.throttle.delay_between_messages_seconds == 1.5
    assert stored.delivery.throttle.shards == 8  # the operator's knobs are left alone
    assert stored.name == f"Test {tenant}"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messages_per_day": 0}, "messages_per_day"),
        ({"messages_per_minute": "many"}, "messages_per_minute"),
        ({"messages_per_minute": 60 * 70 + 1}, "messages_per_minute"),  # above the number's 70/s
        ({"delay_between_messages_seconds": 3601}, "delay_between_messages_seconds"),
        ({"frequency_cap_hours": 24 * 31}, "frequency_cap_hours"),
        ({"timezone": "America/Atlantis"}, "timezone"),
        ({"timezone": None}, "timezone"),
        ({"phone_number_id": "+55 11 9999"}, "phone_number_id"),
        ({"shards": 2}, "shards"),
    ],
)
def test_a_bad_value_is_422_naming_it_and_nothing_changes(
    api_as: Client, tenant: Cnpj, body: dict[str, Any], field: str
) -> None:
    admin = api_as(tenant, Role.ADMIN)
    answer = admin.patch(PATH, json={"messages_per_hour": 500, **body})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in answer.json()["errors"]] == [field]
    assert admin.get(PATH).json() == DEFAULTS  # the good field beside it was not saved either


def test_only_admins_change_them(api_as: Client, tenant: Cnpj) -> None:
    for role in (Role.VIEWER, Role.EDITOR):
        answer = api_as(tenant, role).patch(PATH, json={"messages_per_day": 1000})
        assert answer.status_code == 403, answer.text
    assert api_as(tenant).get(PATH).json() == DEFAULTS


def test_another_tenant_is_untouched(
    api_as: Client, tenant: Cnpj, sample_tenant: Callable[..., Cnpj]
) -> None:
    other = sample_tenant(customers=5)
    api_as(tenant).patch(PATH, json={"messages_per_day": 10_000, "timezone": "America/Belem"})
    assert api_as(other).get(PATH).json() == DEFAULTS
    assert api_as(tenant).get(PATH).json()["messages_per_day"] == 10_000


def test_each_change_is_audited_with_before_and_after(api_as: Client, tenant: Cnpj) -> None:
    admin = api_as(tenant, Role.ADMIN, subject="dona.maria")
    admin.patch(PATH, json={"frequency_cap_hours": 48})
    admin.patch(PATH, json={"frequency_cap_hours": 48})  # no change: no entry
    admin.patch(PATH, json={"messages_per_day": 0})  # refused: no entry
    trail = admin.get("/api/v1/audit", params={"resource": "settings"}).json()["items"]
    [entry] = trail
    assert (entry["action"], entry["subject"], entry["role"]) == (
        "settings.update",
        "dona.maria",
        "admin",
    )
    assert entry["before"] == DEFAULTS
    assert entry["after"] == DEFAULTS | {"frequency_cap_hours": 48}
    by_subject = admin.get("/api/v1/audit", params={"subject": "dona.maria"}).json()["items"]
    assert [e["id"] for e in by_subject] == [entry["id"]]
    assert admin.get("/api/v1/audit", params={"subject": "someone"}).json()["items"] == []


def test_a_cap_above_the_numbers_daily_limit_is_422_and_the_limit_is_the_new_numbers(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    number = f"6{tenant.value}"
    deps.number_shares.set_limits(number, NumberLimits(ceiling_per_second=20, daily_limit=2000))
    admin = api_as(tenant, Role.ADMIN)

    moving = admin.patch(PATH, json={"phone_number_id": number, "messages_per_day": 2001})
    assert moving.status_code == 422, moving.text
    [error] = moving.json()["errors"]
    assert error["field"] == "messages_per_day" and "2000" in error["reason"]
    too_fast = admin.patch(PATH, json={"phone_number_id": number, "messages_per_minute": 1201})
    assert [error["field"] for error in too_fast.json()["errors"]] == ["messages_per_minute"]
    assert admin.get(PATH).json() == DEFAULTS

    moved = admin.patch(PATH, json={"phone_number_id": number, "messages_per_day": 2000})
    assert moved.status_code == 200, moved.text
    assert admin.patch(PATH, json={"messages_per_day": 2001}).status_code == 422
