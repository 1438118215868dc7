"""The tenant job on the emulators: scheduling, isolation of failures, retries, batching."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest

from shared.bootstrap import Container
from shared.domain.campaign import CampaignStatus
from shared.domain.cnpj import Cnpj
from shared.domain.errors import PermanentError, TransientError
from shared.domain.runs import CampaignOutcome, OutcomeStatus, RunStatus
from shared.messages import TenantJob
from shared.services.process_tenant import process_tenant
from tests.campaign_records import edit_built_in
from tests.fakes import FakeTargetStore, FlakyWarehouse

SampleTenant = Callable[..., Cnpj]
MORNING = datetime.fromisoformat("2026-11-20T11:30:00+00:00")  # 08:30 in São Paulo
LOYALTY_SQL_MARKER = "HAVING COUNT(*) >= @min_visits"


def _job(cnpj: Cnpj, tick: str, instant: datetime = MORNING, force: bool = False) -> TenantJob:
    return TenantJob(cnpj=cnpj.value, instant=instant, tick_id=tick, force=force)


def _by_type(outcomes: list[CampaignOutcome]) -> dict[str, CampaignOutcome]:
    return {outcome.campaign_id: outcome for outcome in outcomes}


def test_each_campaign_runs_once_per_local_day(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    cnpj = sample_tenant()
    first = _by_type(process_tenant(_job(cnpj, "t1"), deps.tenant_ports()))
    assert {o.status for o in first.values()} == {OutcomeStatus.DONE}
    assert all(o.created > 0 for o in first.values()), first

    later = process_tenant(_job(cnpj, "t2", MORNING.replace(hour=17)), deps.tenant_ports())
    assert {o.status for o in later} == {OutcomeStatus.ALREADY_DONE}

    forced = _by_type(process_tenant(_job(cnpj, "t3", force=True), deps.tenant_ports()))
    for kind in ("BIRTHDAY", "WELCOME", "REACTIVATION"):  # fixed periods: same ids, none new
        # The trigger may have queued them already; then message_history excludes them in
        # the query itself, else the create-only write finds them present.
        assert forced[kind].created == 0
    # LOYALTY's period is rolling: its earlier targets (or their history rows) block the
    # customers before any write.
    assert forced["LOYALTY"].created == 0
    assert forced["LOYALTY"].already_present == 0


def test_targets_carry_what_delivery_needs(deps: Container, sample_tenant: SampleTenant) -> None:
    cnpj = sample_tenant(customers=100)
    process_tenant(_job(cnpj, "t1"), deps.tenant_ports())
    loyalty = deps.targets.list(cnpj, "LOYALTY")
    assert loyalty
    for target in loyalty:
        # The Firestore trigger may already have planned it (QUEUED); nothing was sent yet.
        assert target["status"] in {"PENDING", "QUEUED"} and target["attempts"] == 0
        assert target["phone"].startswith("+55") and len(target["phone"]) == 14
        assert target["period"] == "2026-11-20"
        assert target["campaignId"] == target["campaignKind"] == "LOYALTY"
        assert target["createdAt"] is not None
        assert target["data"]["visit_count"] >= 10
        assert target["data"]["tier"] in {"BRONZE", "PRATA", "OURO"}
    assert {t["period"] for t in deps.targets.list(cnpj, "BIRTHDAY")} == {"2026"}


def test_not_due_before_the_local_run_hour(deps: Container, sample_tenant: SampleTenant) -> None:
    sao_paulo = sample_tenant(customers=50)
    manaus = sample_tenant(customers=50, timezone="America/Manaus")  # one hour behind
    at = MORNING.replace(hour=11, minute=30)  # 08:30 in São Paulo, 07:30 in Manaus
    assert {o.status for o in process_tenant(_job(sao_paulo, "t1", at), deps.tenant_ports())} == {
        OutcomeStatus.DONE
    }
    manaus_outcomes = process_tenant(_job(manaus, "t1", at), deps.tenant_ports())
    assert {o.status for o in manaus_outcomes} == {OutcomeStatus.NOT_DUE}
    assert all(o.detail == "runs at 08:00 local" for o in manaus_outcomes)


def test_a_finished_run_redelivered_does_nothing(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    cnpj = sample_tenant(customers=50)
    assert process_tenant(_job(cnpj, "t1"), deps.tenant_ports())
    assert process_tenant(_job(cnpj, "t1"), deps.tenant_ports()) == []


def test_transient_failure_retries_only_what_failed(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    cnpj = sample_tenant(customers=100)
    flaky = FlakyWarehouse(deps.warehouse, LOYALTY_SQL_MARKER, TransientError("BigQuery 503"))
    with pytest.raises(TransientError):
        process_tenant(_job(cnpj, "t1"), replace(deps.tenant_ports(), warehouse=flaky))
    run = deps.runs.document(cnpj, "t1")
    assert run is not None and run["status"] == RunStatus.RETRYING.value
    assert run["campaigns"]["LOYALTY"]["status"] == "retry"
    assert run["campaigns"]["BIRTHDAY"]["status"] == "done"
    first_birthdays = run["campaigns"]["BIRTHDAY"]["created"]

    retried = _by_type(process_tenant(_job(cnpj, "t1"), deps.tenant_ports()))  # Pub/Sub redelivers
    assert retried["LOYALTY"].status is OutcomeStatus.DONE and retried["LOYALTY"].created > 0
    # Campaigns this run already completed keep their recorded outcome; nothing is redone.
    assert retried["BIRTHDAY"].status is OutcomeStatus.DONE
    assert retried["BIRTHDAY"].created == first_birthdays
    final = deps.runs.document(cnpj, "t1")
    assert final is not None and final["status"] == RunStatus.FINISHED.value


def test_permanent_failure_is_recorded_and_others_go_on(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    cnpj = sample_tenant(customers=50)
    broken = FlakyWarehouse(deps.warehouse, LOYALTY_SQL_MARKER, PermanentError("bad query"))
    outcomes = _by_type(
        process_tenant(_job(cnpj, "t1"), replace(deps.tenant_ports(), warehouse=broken))
    )
    assert outcomes["LOYALTY"].status is OutcomeStatus.FAILED
    assert outcomes["LOYALTY"].detail == "bad query"
    assert outcomes["WELCOME"].status is OutcomeStatus.DONE
    run = deps.runs.document(cnpj, "t1")
    assert run is not None and run["status"] == RunStatus.FINISHED.value


def test_bad_settings_fail_one_campaign_with_the_field_named(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    cnpj = sample_tenant(customers=50)
    edit_built_in(deps.campaigns, cnpj, "BIRTHDAY", status=CampaignStatus.DRAFT)
    # A person edits the stored record by hand; the API would have refused the value.
    loyalty = deps.firestore_client.document("users", cnpj.value, "campaigns", "LOYALTY")
    loyalty.update({"thresholds.min_visits": "many"})
    outcomes = _by_type(process_tenant(_job(cnpj, "t1"), deps.tenant_ports()))
    assert outcomes["BIRTHDAY"].status is OutcomeStatus.DISABLED
    assert outcomes["LOYALTY"].status is OutcomeStatus.FAILED
    assert "thresholds.min_visits" in outcomes["LOYALTY"].detail
    assert "many" not in outcomes["LOYALTY"].detail  # the document's data stays out of logs
    assert outcomes["REACTIVATION"].status is OutcomeStatus.DONE


def test_a_tenant_registered_before_campaign_records_runs_the_kinds_defaults(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    cnpj = sample_tenant(customers=50)
    for kind in ("BIRTHDAY", "WELCOME", "REACTIVATION", "LOYALTY"):
        deps.firestore_client.document("users", cnpj.value, "campaigns", kind).delete()
    outcomes = _by_type(process_tenant(_job(cnpj, "t1"), deps.tenant_ports()))
    assert {o.status for o in outcomes.values()} == {OutcomeStatus.DONE}
    assert all(o.created > 0 for o in outcomes.values()), outcomes
    assert deps.campaigns.get(cnpj, "BIRTHDAY") is None  # a run stores nothing of its own


def test_writes_are_chunked_to_the_production_batch_limit(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    cnpj = sample_tenant(customers=2000)
    fake = FakeTargetStore()  # raises on a batch of more than 500, as production does
    ports = replace(deps.tenant_ports(), targets=fake)
    outcomes = _by_type(process_tenant(_job(cnpj, "t1"), ports))
    assert outcomes["REACTIVATION"].created > 500
    assert max(fake.batch_sizes) == 500
    assert sum(fake.batch_sizes) == sum(o.created for o in outcomes.values())
