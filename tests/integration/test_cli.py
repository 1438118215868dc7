"""The ``campaigns`` command as a person uses it: clear errors, tenants, targets."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from shared.bootstrap import Container
from shared.cli.main import main as cli
from shared.domain.cnpj import Cnpj


def test_an_invalid_cnpj_is_refused_naming_the_field(
    deps: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["tenant", "add", "11.222.333/0001-82"]) == 2
    assert "cnpj: check digits do not match" in capsys.readouterr().err


def test_tenant_add_accepts_the_alphanumeric_format_and_creates_its_tables(
    deps: Container, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli(
            [
                "tenant",
                "add",
                "12.abc.345/01de-35",
                "--name",
                "Lava Já",
                "--timezone",
                "America/Manaus",
            ]
        )
        == 0
    )
    assert "12ABC34501DE35" in capsys.readouterr().out
    tenant = deps.tenants.get(Cnpj("12ABC34501DE35"))
    assert tenant is not None and (tenant.name, tenant.timezone) == ("Lava Já", "America/Manaus")
    tables = {t.table_id for t in deps.bigquery_client.list_tables("12ABC34501DE35_RAW")}
    assert {"clientes", "vendas"} <= tables
    assert cli(["tenant", "add", "12ABC34501DE35", "--timezone", "Mars/Olympus"]) == 2
    assert "timezone" in capsys.readouterr().err


def test_tenant_add_document_only_leaves_datasets_to_terraform(
    deps: Container, new_cnpj: Cnpj, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["tenant", "add", new_cnpj.value, "--name", "Lava Prod", "--document-only"]) == 0
    assert "Terraform" in capsys.readouterr().out
    tenant = deps.tenants.get(new_cnpj)
    assert tenant is not None and tenant.name == "Lava Prod"
    datasets = {dataset.dataset_id for dataset in deps.bigquery_client.list_datasets()}
    assert new_cnpj.raw_dataset not in datasets
    assert new_cnpj.campaign_dataset not in datasets


def test_targets_lists_what_a_tick_created(
    deps: Container, sample_tenant: Callable[..., Cnpj], capsys: pytest.CaptureFixture[str]
) -> None:
    cnpj = sample_tenant(customers=80)
    assert cli(["tick", "--now", "2026-11-20T11:30:00Z", "--cnpj", cnpj.value]) == 0
    capsys.readouterr()
    assert cli(["targets", cnpj.value, "--campaign", "WELCOME", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {t["id"] for t in listed} == {t["id"] for t in deps.targets.list(cnpj, "WELCOME")}
    assert listed and all(t["phone"].startswith("+55") for t in listed)
    assert cli(["targets", cnpj.value, "--campaign", "WELCOME"]) == 0
    table = capsys.readouterr().out
    assert f"{len(listed)} targets" in table
    assert all(t["phone"] not in table for t in listed)  # masked for the screen


def test_number_records_what_meta_granted_and_shows_each_tenants_share(
    deps: Container, capsys: pytest.CaptureFixture[str], sample_tenant: Callable[..., Cnpj]
) -> None:
    first, second = sample_tenant(customers=2), sample_tenant(customers=2)
    number = f"5{first.value}"
    for cnpj in (first, second):
        tenant = deps.tenants.get(cnpj)
        assert tenant is not None
        delivery = tenant.delivery.model_copy(update={"phone_number_id": number})
        deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))

    assert cli(["number", number, "--ceiling", "1", "--daily-limit", "300"]) == 0
    table = capsys.readouterr().out
    assert f"number {number}: 1/s, 300/day, 2 active tenant(s)" in table
    assert "OVERSUBSCRIBED" in table  # two tenants, one message a second
    shares = {line.split()[0]: line.split()[1:] for line in table.splitlines()[3:]}
    assert shares == {first.value: ["1", "1", "250", "150"], second.value: ["1", "1", "250", "150"]}

    assert cli(["number", number, "--ceiling", "2", "--daily-limit", "none"]) == 0
    table = capsys.readouterr().out
    assert f"number {number}: 2/s, no daily limit" in table and "OVERSUBSCRIBED" not in table
    assert cli(["number", number, "--ceiling", "0"]) == 2
    assert "ceiling_per_second" in capsys.readouterr().err
