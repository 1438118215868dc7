"""Shared fixtures. Tests that need Google Cloud get a private local stack on free ports.

The stack starts once per test session (about 5 s) and stops at its end; tests stay
independent by each working on tenants of their own (``new_cnpj``), never by resetting.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import PortNumbers, Stack
from shared.sample_data import SampleSpec, write_tenant_files
from shared.services.loading import load_tenant_files
from shared.services.tenants import register_tenant


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    local = Stack(tmp_path_factory.mktemp("stack"), ports=PortNumbers.free())
    local.up(say=lambda _: None)
    saved = dict(os.environ)
    os.environ.update(local.environment())
    try:
        yield local
    finally:
        os.environ.clear()
        os.environ.update(saved)
        local.down(say=lambda _: None)


@pytest.fixture(scope="session")
def deps(stack: Stack) -> Container:
    """Adapters wired to the test stack, exactly as the functions host wires them."""
    return Container(Settings())


_cnpj_random = random.Random()


@pytest.fixture
def new_cnpj() -> Cnpj:
    """A CNPJ no other test uses (numeric, valid check digits)."""
    return Cnpj.from_base(f"{_cnpj_random.randrange(10**11, 10**12):012d}")


@pytest.fixture
def sample_tenant(deps: Container, tmp_path: Path) -> Callable[..., Cnpj]:
    """Register a fresh tenant and load generated sample data into it."""

    def create(
        customers: int = 300, as_of: date = date(2026, 11, 20), seed: int = 11, **fields: Any
    ) -> Cnpj:
        cnpj = Cnpj.from_base(f"{_cnpj_random.randrange(10**11, 10**12):012d}")
        register_tenant(
            cnpj,
            name=f"Test {cnpj}",
            timezone=fields.pop("timezone", None),
            tenants=deps.tenants,
            warehouse=deps.warehouse,
            queues=deps.task_queue,
            templates=deps.templates,
        )
        if fields:
            tenant = deps.tenants.get(cnpj)
            assert tenant is not None
            deps.tenants.save(tenant.model_copy(update=fields))
        directory = tmp_path / cnpj.value
        write_tenant_files(SampleSpec(as_of=as_of, customers=customers, seed=seed), directory)
        load_tenant_files(cnpj, directory, deps.warehouse)
        return cnpj

    return create
