"""``PATCH /api/v1/campaigns/{KIND}`` on the four built-in campaigns, as Automáticas edits them.

A built-in kind is a standing daily setting: it is edited while running, switched on and off
with ``enabled`` in the same transaction, its run hour is its daily ``recurrence.hour``, and a
threshold its kind refuses is a 422 at ``thresholds.<name>`` that saves nothing.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from shared.api.auth import Role
from shared.bootstrap import Container
from shared.domain.campaign_settings import CampaignSettings, ReactivationSettings
from shared.domain.cnpj import Cnpj
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as

Client = Callable[..., ApiClient]


@pytest.fixture
def tenant(sample_tenant: Callable[..., Cnpj]) -> Cnpj:
    return sample_tenant(customers=5)


def _pipeline(deps: Container, cnpj: Cnpj, kind: str) -> CampaignSettings:
    """What the kind's processor and delivery read: the stored record's pipeline settings."""
    stored = deps.campaigns.get(cnpj, kind)
    assert stored is not None
    return stored.pipeline


def test_a_running_built_in_takes_a_new_run_hour_and_stays_on(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    editor = api_as(tenant, Role.EDITOR)
    answer = editor.patch(
        "/api/v1/campaigns/BIRTHDAY",
        json={"recurrence": {"frequency": "daily", "hour": 15}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "running"
    assert answer.json()["recurrence"]["hour"] == 15
    pipeline = _pipeline(deps, tenant, "BIRTHDAY")
    assert (pipeline.run_hour, pipeline.enabled) == (15, True)


def test_enabled_switches_a_built_in_off_and_on(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    editor = api_as(tenant, Role.EDITOR)
    off = editor.patch("/api/v1/campaigns/WELCOME", json={"enabled": False})
    assert off.json()["status"] == "paused", off.text
    assert _pipeline(deps, tenant, "WELCOME").enabled is False
    on = editor.patch("/api/v1/campaigns/WELCOME", json={"enabled": True})
    assert on.json()["status"] == "running", on.text
    assert _pipeline(deps, tenant, "WELCOME").enabled is True
    segment = editor.post("/api/v1/campaigns", json=SIMPLE).json()
    refused = editor.patch(f"/api/v1/campaigns/{segment['id']}", json={"enabled": True})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "enabled"


def test_thresholds_are_stored_as_the_kind_reads_them_or_refused_by_name(
    api_as: Client, tenant: Cnpj, deps: Container
) -> None:
    editor = api_as(tenant, Role.EDITOR)
    path = "/api/v1/campaigns/REACTIVATION"
    good = editor.patch(path, json={"thresholds": {"inactive_days": "45"}})
    assert good.json()["thresholds"] == {"inactive_days": 45}, good.text
    bad = editor.patch(
        path, json={"enabled": False, "thresholds": {"inactive_days": 45, "min_day_of_month": 31}}
    )
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["thresholds.min_day_of_month"]
    after = editor.get(path).json()
    assert (after["status"], after["thresholds"]) == ("running", {"inactive_days": 45})
    reactivation = _pipeline(deps, tenant, "REACTIVATION")
    assert isinstance(reactivation, ReactivationSettings)
    assert reactivation.inactive_days == 45


def test_a_built_in_runs_daily(api_as: Client, tenant: Cnpj) -> None:
    weekly = {"frequency": "weekly", "hour": 9}
    answer = api_as(tenant).patch("/api/v1/campaigns/LOYALTY", json={"recurrence": weekly})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "recurrence"
