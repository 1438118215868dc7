"""A stored document that does not validate is the server's fault, not the caller's.

Through the real functions host: the API answers 500 with a generic problem+json body (never a
422 blaming the request) and logs one ERROR line naming the document and the field at fault,
never the stored value; a client's own bad body is still a 422 naming its field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.services.tenants import register_tenant
from tests.integration import api_fixtures, delivery_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.delivery_fixtures import wait_for_log

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
functions_log = delivery_fixtures.functions_log

Client = Callable[..., ApiClient]
BAD_ZONE = "Mars/Olympus_Mons"
"""A stored value that must appear in no answer and no log line."""


@pytest.fixture
def tenant(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    """A registered tenant: its document and its template catalogue, no datasets."""
    register_tenant(
        new_cnpj,
        name="Documentos",
        timezone=None,
        tenants=deps.tenants,
        warehouse=None,
        queues=None,
        templates=deps.templates,
    )
    return new_cnpj


def _assert_internal_error(answer: requests.Response) -> None:
    assert answer.status_code == 500, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "the request could not be completed",
        "errors": [],
    }


def test_a_corrupt_tenant_document_is_a_logged_500_without_its_data(
    api_as: Client, tenant: Cnpj, deps: Container, functions_log: Path
) -> None:
    deps.firestore_client.collection("users").document(tenant.value).update({"timezone": BAD_ZONE})

    answer = api_as(tenant).get("/api/v1/settings")

    _assert_internal_error(answer)
    assert BAD_ZONE not in answer.text
    line = wait_for_log(functions_log, "stored document does not validate", f"users/{tenant.value}")
    entry = json.loads(line)
    assert entry["severity"] == "ERROR"
    assert entry["document"] == f"users/{tenant.value}"
    assert entry["fields"] == ["timezone"]
    assert BAD_ZONE not in line


def test_a_corrupt_run_document_is_a_500_not_the_callers_422(
    api_as: Client, tenant: Cnpj, deps: Container, functions_log: Path
) -> None:
    runs = deps.firestore_client.collection("users", tenant.value, "runs")
    runs.document("run-corrupt").set(
        {
            "status": "FINISHED",
            "startedAt": "not a time either",
            "durationMs": "slow",
            "campaigns": {},
        }
    )

    answer = api_as(tenant).get("/api/v1/runs")

    _assert_internal_error(answer)
    line = wait_for_log(
        functions_log, "stored document does not validate", f"users/{tenant.value}/runs/run-corrupt"
    )
    assert set(json.loads(line)["fields"]) == {"started_at", "duration_ms"}
    assert "slow" not in line


def test_a_clients_bad_body_is_still_a_422_naming_its_field(api_as: Client, tenant: Cnpj) -> None:
    answer = api_as(tenant).patch("/api/v1/settings", json={"timezone": BAD_ZONE})

    assert answer.status_code == 422, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in answer.json()["errors"]] == ["timezone"]


def test_a_corrupt_template_is_left_out_and_logged_without_its_data(
    api_as: Client, tenant: Cnpj, deps: Container, functions_log: Path
) -> None:
    templates = deps.firestore_client.collection("users", tenant.value, "templates")
    templates.document("quebrado@pt_BR").set({"name": "quebrado", "language": BAD_ZONE})

    answer = api_as(tenant).get("/api/v1/templates")

    assert answer.status_code == 200, answer.text
    names = [item["name"] for item in answer.json()["items"]]
    assert names and "quebrado" not in names
    line = wait_for_log(
        functions_log,
        "stored template ignored",
        f"users/{tenant.value}/templates/quebrado@pt_BR",
    )
    assert BAD_ZONE not in line
