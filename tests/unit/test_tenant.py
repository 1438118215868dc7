"""Tenant documents: the tenant's own settings, validated (its campaigns are records)."""

from __future__ import annotations

import pydantic
import pytest

from shared.domain.cnpj import Cnpj
from shared.domain.tenant import Tenant

CNPJ = "11.222.333/0001-81"


def _error_locations(error: pydantic.ValidationError) -> list[tuple[int | str, ...]]:
    return [tuple(item["loc"]) for item in error.errors()]


def test_defaults() -> None:
    tenant = Tenant(cnpj=CNPJ)
    assert tenant.cnpj == "11222333000181"
    assert tenant.name == ""
    assert tenant.active is True
    assert tenant.timezone == "America/Sao_Paulo"
    assert "campaigns" not in tenant.model_dump()
    assert tenant.id == Cnpj("11222333000181")


def test_alphanumeric_cnpj_is_canonicalised() -> None:
    tenant = Tenant(cnpj="12.abc.345/01de-35")
    assert tenant.cnpj == "12ABC34501DE35"
    assert tenant.id.raw_dataset == "12ABC34501DE35_RAW"


def test_firestore_document_with_unknown_fields_is_accepted() -> None:
    tenant = Tenant.model_validate(
        {
            "cnpj": "11222333000181",
            "name": "Lavanderia Bolha",
            "active": False,
            "timezone": "America/Manaus",
            "createdAt": "2026-01-01",
            "campaigns": {"BIRTHDAY": {"paused": True}},  # before campaigns were records
        }
    )
    assert "campaigns" not in tenant.model_dump()
    assert tenant.name == "Lavanderia Bolha"
    assert tenant.active is False
    assert tenant.timezone == "America/Manaus"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "", "America/sao_paulo", "GMT-3 "])
def test_invalid_timezone_names_the_field(timezone: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Tenant(cnpj=CNPJ, timezone=timezone)
    assert _error_locations(caught.value) == [("timezone",)]


@pytest.mark.parametrize(
    "cnpj", ["11.222.333/0001-82", "", "00000000000000", "12345678000199_RAW`; DROP"]
)
def test_invalid_cnpj_names_the_field(cnpj: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Tenant(cnpj=cnpj)
    assert _error_locations(caught.value) == [("cnpj",)]
