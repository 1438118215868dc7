"""The template library's scheduled sync on the real Firestore and the WhatsApp sandbox, with
the hours replayed on the job's instant: at most every six hours, an hour after a failure, once
per claim, and never at the cost of a tenant's campaigns or of another tenant."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.errors import TransientError
from shared.domain.runs import OutcomeStatus
from shared.messages import TenantJob
from shared.ports import TemplateSource
from shared.services.process_tenant import process_tenant
from shared.services.template_schedule import (
    RETRY_AFTER,
    SYNC_EVERY,
    Scheduled,
    ScheduledSyncPorts,
    sync_if_due,
)
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import SandboxClient

sandbox = delivery_fixtures.sandbox
T0 = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)  # 08:00 in São Paulo: the campaigns' run hour


class Unreachable:
    """Meta's list failing for the accounts in ``down`` (a fault injected on the real source)."""

    def __init__(self, source: TemplateSource, down: set[str]) -> None:
        self.source, self.down = source, down

    def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        if waba_id in self.down:
            raise TransientError("graph.facebook.com unreachable")
        return self.source.list_templates(waba_id)


def _own_account(deps: Container, cnpj: Cnpj, sandbox: SandboxClient, extra: str) -> str:
    """The tenant on an account of its own, which also holds the template ``extra``."""
    tenant = deps.tenants.get(cnpj)
    assert tenant is not None
    waba_id = str(random.SystemRandom().randrange(10**14, 10**15))
    delivery = tenant.delivery.model_copy(update={"business_account_id": waba_id})
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    template: dict[str, Any] = {
        "name": extra,
        "components": [{"type": "BODY", "text": "Oi {{1}}"}],
    }
    answer = requests.post(
        f"{sandbox.base_url}/_sandbox/templates",
        json={"waba_id": waba_id, "template": template},
        timeout=10,
    )
    answer.raise_for_status()
    return waba_id


def _ports(deps: Container, down: set[str]) -> ScheduledSyncPorts:
    base = deps.tenant_ports().template_sync
    assert base is not None, "the hourly job syncs templates"
    source = Unreachable(deps.template_source, down)
    return dataclasses.replace(base, sync=dataclasses.replace(base.sync, source=source))


def _names(deps: Container, cnpj: Cnpj) -> set[str]:
    return {t.name for t in deps.templates.list(cnpj)}


def test_the_library_is_synced_every_six_hours_and_an_hour_after_a_failure(
    deps: Container, sample_tenant: Any, sandbox: SandboxClient
) -> None:
    cnpj = sample_tenant(customers=5)
    waba_id = _own_account(deps, cnpj, sandbox, "promo_agendada")
    healthy, failing = _ports(deps, set()), _ports(deps, {waba_id})

    assert sync_if_due(failing, cnpj, T0) is Scheduled.FAILED
    assert "promo_agendada" not in _names(deps, cnpj)
    assert sync_if_due(healthy, cnpj, T0 + RETRY_AFTER - timedelta(minutes=1)) is Scheduled.NOT_DUE
    at = T0 + RETRY_AFTER
    assert sync_if_due(healthy, cnpj, at) is Scheduled.SYNCED
    assert "promo_agendada" in _names(deps, cnpj)
    assert sync_if_due(healthy, cnpj, at + SYNC_EVERY - timedelta(minutes=1)) is Scheduled.NOT_DUE
    assert sync_if_due(healthy, cnpj, at + SYNC_EVERY) is Scheduled.SYNCED


def test_two_jobs_of_the_same_hour_sync_once(deps: Container, sample_tenant: Any) -> None:
    cnpj = sample_tenant(customers=5)
    schedule = _ports(deps, set()).schedule
    seen = schedule.read(cnpj)
    assert schedule.claim(cnpj, seen, T0)
    assert not schedule.claim(cnpj, seen, T0)  # the redelivered job read the same state


def test_a_failing_sync_stops_neither_the_tenants_campaigns_nor_another_tenants_sync(
    deps: Container, sample_tenant: Any, sandbox: SandboxClient
) -> None:
    broken, fine = sample_tenant(customers=20), sample_tenant(customers=20)
    down = _own_account(deps, broken, sandbox, "nunca_chega")
    _own_account(deps, fine, sandbox, "chega_sim")
    ports = dataclasses.replace(deps.tenant_ports(), template_sync=_ports(deps, {down}))

    outcomes = {
        cnpj: process_tenant(TenantJob(cnpj=cnpj.value, instant=T0, tick_id="t1"), ports)
        for cnpj in (broken, fine)
    }

    for cnpj, ran in outcomes.items():
        assert {o.campaign_id for o in ran} >= {"BIRTHDAY", "WELCOME", "REACTIVATION", "LOYALTY"}
        assert all(o.status is not OutcomeStatus.RETRY for o in ran), cnpj
    schedule = ports.template_sync.schedule if ports.template_sync else None
    assert schedule is not None
    tried = schedule.read(broken)
    assert tried is not None and not tried.succeeded  # attempted, failed, retried in an hour
    assert "nunca_chega" not in _names(deps, broken)
    assert "chega_sim" in _names(deps, fine)
