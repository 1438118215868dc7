"""When a campaign next creates its messages (shared/services/schedule.py), without I/O.

São Paulo is UTC-3 all year, so 08:00 local is 11:00 UTC: the tick that runs a built-in kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from shared.domain.campaign import Campaign, CampaignStatus, Recurrence, built_in_campaign
from shared.domain.tenant import Tenant
from shared.ports import TargetStore, Warehouse
from shared.services.schedule import next_run, next_tick

CNPJ = "11222333000181"
UNUSED: Any = None  # the processor is built, never queried


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def built_in(kind: str, **fields: Any) -> tuple[Campaign, Tenant]:
    stored = built_in_campaign(kind, now=at("2026-12-01T00:00:00+00:00"))
    return stored.model_copy(update=fields), Tenant(cnpj=CNPJ)


def run_at(campaign: Campaign, tenant: Tenant, now: str, done_today: bool = False) -> Any:
    return next_run(
        campaign,
        tenant,
        at(now),
        done_today=done_today,
        warehouse=cast(Warehouse, UNUSED),
        targets=cast(TargetStore, UNUSED),
    )


def test_a_built_in_kind_runs_at_its_local_hour_today_then_tomorrow() -> None:
    campaign, tenant = built_in("WELCOME")
    assert run_at(campaign, tenant, "2026-12-07T09:00:00+00:00") == at("2026-12-07T11:00:00+00:00")
    after = run_at(campaign, tenant, "2026-12-07T12:00:00+00:00", done_today=True)
    assert after == at("2026-12-08T11:00:00+00:00")
    # Its hour came and it has not run yet: the next tick runs it.
    late = run_at(campaign, tenant, "2026-12-07T12:20:00+00:00")
    assert late == at("2026-12-07T13:00:00+00:00")


def test_reactivation_waits_for_its_day_of_the_month() -> None:
    campaign, tenant = built_in("REACTIVATION", recurrence=Recurrence(frequency="daily", hour=10))
    assert run_at(campaign, tenant, "2026-12-07T12:00:00+00:00") == at("2026-12-20T13:00:00+00:00")


def test_paused_and_switched_off_kinds_have_no_next_run() -> None:
    paused, tenant = built_in(
        "BIRTHDAY", status=CampaignStatus.PAUSED, status_reason="WhatsApp error 131048"
    )
    assert paused.pipeline.paused
    assert run_at(paused, tenant, "2026-12-07T09:00:00+00:00") is None
    off, tenant = built_in("LOYALTY", status=CampaignStatus.DRAFT)
    assert not off.pipeline.enabled
    assert run_at(off, tenant, "2026-12-07T09:00:00+00:00") is None


def test_an_api_campaign_next_occurrence_follows_its_schedule() -> None:
    tenant = Tenant(cnpj=CNPJ)
    base = {"id": "SEG_0123456789ABCDEF", "name": "x", "created_at": at("2026-12-01T00:00Z")}
    base["updated_at"] = base["created_at"]
    scheduled = Campaign.model_validate(
        base | {"status": "scheduled", "scheduled_at": at("2026-12-10T12:30:00+00:00")}
    )
    assert run_at(scheduled, tenant, "2026-12-07T00:00:00+00:00") == at("2026-12-10T12:30Z")
    weekly = Campaign.model_validate(
        base
        | {
            "status": "running",
            "started_at": at("2026-12-01T12:00:00+00:00"),
            "recurrence": Recurrence(frequency="weekly", hour=9).model_dump(),
            "occurrences_run": 1,
        }
    )
    assert run_at(weekly, tenant, "2026-12-07T00:00:00+00:00") == at("2026-12-08T12:00Z")
    once = weekly.model_copy(update={"recurrence": None})
    assert run_at(once, tenant, "2026-12-07T00:00:00+00:00") is None


def test_ticks_are_at_the_top_of_each_utc_hour() -> None:
    assert next_tick(at("2026-12-07T10:59:59+00:00")) == at("2026-12-07T11:00:00+00:00")
    assert next_tick(at("2026-12-07T11:00:00+00:00")) == at("2026-12-07T12:00:00+00:00")


def test_an_api_campaign_runs_at_its_minute_not_at_the_next_tick() -> None:
    tenant = Tenant(cnpj=CNPJ)
    scheduled = Campaign.model_validate(
        {
            "id": "SEG_0123456789ABCDEF",
            "name": "x",
            "created_at": at("2026-12-01T00:00Z"),
            "updated_at": at("2026-12-01T00:00Z"),
            "status": "scheduled",
            "scheduled_at": at("2026-12-07T14:37:00+00:00"),
            "recurrence": Recurrence(frequency="daily", hour=11, minute=37).model_dump(),
        }
    )
    # Its task runs it at 14:37 (11:37 in São Paulo), not at the 15:00 tick.
    assert run_at(scheduled, tenant, "2026-12-07T14:00:00+00:00") == at("2026-12-07T14:37Z")
    running = scheduled.model_copy(update={"status": CampaignStatus.RUNNING, "occurrences_run": 1})
    assert run_at(running, tenant, "2026-12-07T14:37:01+00:00") == at("2026-12-08T14:37Z")
    # Past and still not materialised (its task was lost): the next tick, the safety net.
    assert run_at(scheduled, tenant, "2026-12-07T14:40:00+00:00") == at("2026-12-07T15:00Z")
