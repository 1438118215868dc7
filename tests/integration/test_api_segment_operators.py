"""Every segmentation operator through the HTTP API, on contacts imported through it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.services.tenants import register_tenant
from tests.conftest import new_tenant_id
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

CONTACTS = [
    {"phone_number": "+5511910000001", "name": "Ana Souza", "email": "ana@example.com",
     "custom_fields": {"idade": "20"}},
    {"phone_number": "+5511910000002", "name": "Bruno Lima", "custom_fields": {"idade": "35"}},
    {"phone_number": "+5511910000003", "name": "Carla Dias", "custom_fields": {"idade": "50"}},
    {"phone_number": "+5511910000004", "name": "Ana Paula"},
]  # fmt: skip

CASES: list[tuple[str, str, Any, int]] = [
    ("name", "equals", "Bruno Lima", 1),
    ("name", "not_equals", "Bruno Lima", 3),
    ("name", "contains", "ana", 2),
    ("name", "not_contains", "ana", 2),
    ("name", "starts_with", "Ana", 2),
    ("custom_fields.idade", "greater_than", 35, 1),
    ("custom_fields.idade", "greater_or_equal", 35, 2),
    ("custom_fields.idade", "less_than", 35, 1),
    ("custom_fields.idade", "less_or_equal", 35, 2),
    ("custom_fields.idade", "between", [20, 35], 2),
    ("name", "in", ["Ana Souza", "Carla Dias"], 2),
    ("name", "not_in", ["Ana Souza", "Carla Dias"], 2),
    ("email", "is_set", None, 1),
    ("email", "is_not_set", None, 3),
]


@pytest.fixture(scope="module")
def tenant(deps: Container, api_url: str) -> Cnpj:
    cnpj = new_tenant_id()
    register_tenant(
        cnpj, name="Operators", timezone=None, tenants=deps.tenants, warehouse=deps.warehouse,
        queues=None,
    )  # fmt: skip
    client = ApiClient(api_url, api_fixtures.local_token(cnpj))
    report = client.post("/api/v1/contacts/import", json={"source": "json", "data": CONTACTS})
    assert report.status_code == 200 and report.json()["created"] == 4, report.text
    return cnpj


def test_every_operator_is_covered() -> None:
    from shared.domain.segmentation import Operator

    assert {case[1] for case in CASES} == {operator.value for operator in Operator}


@pytest.mark.parametrize(("field", "operator", "value", "expected"), CASES)
def test_operator(
    api_as: Callable[..., ApiClient],
    tenant: Cnpj,
    field: str,
    operator: str,
    value: Any,
    expected: int,
) -> None:
    condition: dict[str, Any] = {"field": field, "operator": operator}
    if value is not None:
        condition["value"] = value
    answer = api_as(tenant).post(
        "/api/v1/segments/estimate",
        json={"segmentation": {"include_all": True, "custom_filters": [condition]}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["estimated_recipients"] == expected


@pytest.mark.parametrize(
    ("condition", "field"),
    [
        ({"field": "shoe_size", "operator": "equals", "value": 1}, "field"),
        ({"field": "visit_count", "operator": "starts_with", "value": "1"}, "operator"),
        ({"field": "visit_count", "operator": "greater_than", "value": "abc"}, "value"),
        ({"field": "visit_count", "operator": "between", "value": [1]}, "value"),
        ({"field": "name", "operator": "between", "value": ["a", "b"]}, "operator"),
        ({"field": "email", "operator": "is_set", "value": "x"}, "value"),
    ],
)
def test_bad_filters_are_422_naming_the_part(
    api_as: Callable[..., ApiClient], tenant: Cnpj, condition: dict[str, Any], field: str
) -> None:
    answer = api_as(tenant).post(
        "/api/v1/segments/estimate",
        json={"segmentation": {"include_all": True, "custom_filters": [condition]}},
    )
    assert answer.status_code == 422, answer.text
    fields = [error["field"] for error in answer.json()["errors"]]
    assert f"segmentation.custom_filters[0].{field}" in fields
