"""Contacts through the HTTP API: each format and strategy, tags, isolation, segmentation."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from shared.api.auth import Role
from shared.domain.cnpj import Cnpj
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

Client = Callable[..., ApiClient]

SEED_IMPORT = {  # the seed's "Importar Contatos" example
    "source": "json",
    "data": [
        {
            "phone_number": "+5561999999999",
            "name": "Cliente Teste",
            "custom_fields": {"cidade": "Brasília"},
        }
    ],
    "tags": ["teste"],
    "merge_strategy": "update",
}

CSV = (
    "telefone;nome;email;cidade\n"
    "(11) 98765-4321;Ana Souza;ana@example.com;São Paulo\n"
    "12345;Número Ruim;;Recife\n"
    "+55 21 99876-5432;Bruno Lima;;Rio de Janeiro\n"
)


@pytest.fixture
def tenant(sample_tenant: Callable[..., Cnpj]) -> Cnpj:
    return sample_tenant(customers=5)


def upload(client: ApiClient, name: str, content: bytes, **form: str) -> dict[str, Any]:
    answer = client.post("/api/v1/contacts/import", files={"file": (name, content)}, data=form)
    assert answer.status_code == 200, answer.text
    report: dict[str, Any] = answer.json()
    return report


def estimate_tagged(client: ApiClient, tag: str) -> int:
    answer = client.post(
        "/api/v1/segments/estimate", json={"segmentation": {"included_tags": [tag]}}
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["estimated_recipients"])


def test_the_seed_s_json_import_and_its_repeat(api_as: Client, tenant: Cnpj) -> None:
    client = api_as(tenant)
    first = client.post("/api/v1/contacts/import", json=SEED_IMPORT)
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["rejected"]) == (1, 0)
    again = client.post("/api/v1/contacts/import", json=SEED_IMPORT).json()
    assert (again["created"], again["updated"], again["skipped"]) == (0, 0, 1)
    assert estimate_tagged(client, "teste") == 1


def test_a_csv_upload_reports_bad_lines_and_keeps_the_good(api_as: Client, tenant: Cnpj) -> None:
    client = api_as(tenant)
    report = upload(client, "clientes.csv", CSV.encode("utf-8"), tags="csv-lote, vip")
    assert report["created"] == 2
    assert report["rejected"] == 1
    assert report["rejections"] == [
        {
            "line": 3,
            "field": "telefone",
            "reason": "invalid_phone",
            "detail": report["rejections"][0]["detail"],
        }
    ]
    assert estimate_tagged(client, "csv-lote") == 2


def test_an_excel_upload(api_as: Client, tenant: Cnpj) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["phone_number", "name", "categoria"])
    sheet.append(["+5561988887777", "Carla", "vip"])
    sheet.append(["", "Sem Telefone", "x"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = upload(api_as(tenant), "lista.xlsx", buffer.getvalue(), group_name="Excel")
    assert (report["created"], report["rejected"]) == (1, 1)
    assert report["line_numbering"] == "sheet_row"
    assert report["rejections"][0]["line"] == 3


@pytest.mark.parametrize(
    ("strategy", "expected_tags_for_first_tag"), [("skip", 1), ("update", 1), ("replace", 0)]
)
def test_merge_strategies(
    api_as: Client, tenant: Cnpj, strategy: str, expected_tags_for_first_tag: int
) -> None:
    client = api_as(tenant)
    row = {"phone_number": "+5511977776666", "name": "Dora"}
    client.post(
        "/api/v1/contacts/import",
        json={"source": "json", "data": [{**row, "tags": ["first"]}]},
    )
    second = client.post(
        "/api/v1/contacts/import",
        json={
            "source": "json",
            "data": [{**row, "name": "Dora Maria", "tags": ["second"]}],
            "merge_strategy": strategy,
        },
    ).json()
    if strategy == "skip":
        assert (second["updated"], second["skipped_by_reason"]["exists"]) == (0, 1)
        assert estimate_tagged(client, "second") == 0
    else:  # one stored contact changed, counted by how
        assert (second["updated"], second["replaced"]) == (
            (1, 0) if strategy == "update" else (0, 1)
        )
        assert estimate_tagged(client, "second") == 1
    assert estimate_tagged(client, "first") == expected_tags_for_first_tag


def test_tags_by_phone_and_by_id_stay_in_the_tenant(
    api_as: Client, tenant: Cnpj, sample_tenant: Callable[..., Cnpj]
) -> None:
    client = api_as(tenant)
    client.post("/api/v1/contacts/import", json=SEED_IMPORT)
    added = client.post(
        "/api/v1/contacts/tags", json={"phone_numbers": ["(61) 99999-9999"], "add": ["gold"]}
    )
    assert added.status_code == 200, added.text
    assert (added.json()["matched"], added.json()["changed"]) == (1, 1)
    assert estimate_tagged(client, "gold") == 1

    other = api_as(sample_tenant(customers=5))
    foreign = other.post(
        "/api/v1/contacts/tags", json={"phone_numbers": ["+5561999999999"], "remove": ["gold"]}
    ).json()
    assert foreign["matched"] == 0 and foreign["unknown_phones"] == ["+5561999999999"]
    assert estimate_tagged(client, "gold") == 1


def test_viewers_cannot_import(api_as: Client, tenant: Cnpj) -> None:
    answer = api_as(tenant, Role.VIEWER).post("/api/v1/contacts/import", json=SEED_IMPORT)
    assert answer.status_code == 403


def test_a_malformed_body_is_a_422(api_as: Client, tenant: Cnpj) -> None:
    answer = api_as(tenant).post(
        "/api/v1/contacts/import", json={"source": "json", "data": [], "merge_strategy": "merge"}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "merge_strategy"
