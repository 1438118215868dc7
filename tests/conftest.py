"""Shared fixtures. Tests that need Google Cloud get a private local stack on free ports.

The stack starts once per test session (about 5 s) and stops at its end; tests stay
independent by each working on tenants of their own (``new_cnpj``), never by resetting.
Every tenant id a test invents comes from :func:`new_tenant_id`: the session's seed
(``TEST_SEED``, printed in the header) and the test's id determine them, so a failing test
run again with the same seed works on the same tenants (a failure report lists them).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Generator, Iterator
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


TEST_SEED = int(os.environ.get("TEST_SEED") or time.time_ns() % 10**9)


class _TenantIds:
    """The one generator of tenant ids: reseeded per test from (TEST_SEED, the test's id)."""

    def __init__(self) -> None:
        self._draw = random.Random(TEST_SEED)
        self.drawn: list[Cnpj] = []

    def start(self, test_id: str) -> None:
        self._draw = random.Random(f"{TEST_SEED}/{test_id}")
        self.drawn = []

    def new(self) -> Cnpj:
        cnpj = Cnpj.from_base(f"{self._draw.randrange(10**11, 10**12):012d}")
        self.drawn.append(cnpj)
        return cnpj


_tenant_ids = _TenantIds()


def new_tenant_id() -> Cnpj:
    """A CNPJ no other test uses (numeric, valid check digits), replayable by TEST_SEED."""
    return _tenant_ids.new()


def pytest_report_header() -> str:
    return f"tenant ids: TEST_SEED={TEST_SEED} (set it to replay a failure's tenants)"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _tenant_ids.start(item.nodeid)  # before the test's fixtures invent any tenant


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport() -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        drawn = ", ".join(cnpj.value for cnpj in _tenant_ids.drawn) or "none"
        report.sections.append(
            ("tenant ids", f"TEST_SEED={TEST_SEED} replays them; this test drew: {drawn}")
        )
    return report


@pytest.fixture
def new_cnpj() -> Cnpj:
    """A CNPJ no other test uses (see :func:`new_tenant_id`)."""
    return new_tenant_id()


@pytest.fixture
def sample_tenant(deps: Container, tmp_path: Path) -> Callable[..., Cnpj]:
    """Register a fresh tenant and load generated sample data into it."""

    def create(
        customers: int = 300, as_of: date = date(2026, 11, 20), seed: int = 11, **fields: Any
    ) -> Cnpj:
        cnpj = new_tenant_id()
        register_tenant(
            cnpj,
            name=f"Test {cnpj}",
            timezone=fields.pop("timezone", None),
            tenants=deps.tenants,
            warehouse=deps.warehouse,
            queues=deps.task_queue,
            templates=deps.templates,
            campaigns=deps.campaigns,
            now=deps.clock(),
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
