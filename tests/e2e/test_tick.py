"""The whole targeting half through the real plumbing: Pub/Sub push -> functions host -> Firestore.

``campaigns tick`` publishes on the tick topic exactly as Cloud Scheduler does; the Pub/Sub
emulator pushes to ``fanout`` in the functions host, which publishes tenant jobs that are
pushed to ``process_tenant``. Nothing here calls a service directly.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from shared.bootstrap import Container
from shared.cli.main import main as cli
from shared.cli.tick import publish_tick, wait_for_runs
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import Stack
from shared.messages import TenantJob
from shared.services.process_tenant import process_tenant

SampleTenant = Callable[..., Cnpj]
INSTANT = "2026-11-20T11:30:00Z"
KINDS = ("BIRTHDAY", "LOYALTY", "REACTIVATION", "WELCOME")


def _target_ids(deps: Container, cnpj: Cnpj) -> dict[str, set[str]]:
    return {kind: {t["id"] for t in deps.targets.list(cnpj, kind)} for kind in KINDS}


def test_tick_command_runs_the_pipeline_and_prints_the_summary(
    deps: Container, sample_tenant: SampleTenant, capsys: pytest.CaptureFixture[str]
) -> None:
    cnpj = sample_tenant(customers=200)
    assert cli(["tick", "--now", INSTANT, "--cnpj", cnpj.value, "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    targets = _target_ids(deps, cnpj)
    assert all(targets[kind] for kind in KINDS)
    for kind in KINDS:  # the table reports what Firestore holds
        row = next(line for line in out.splitlines() if f" {kind} " in f" {line} ")
        assert row.split()[row.split().index(kind) + 3] == str(len(targets[kind]))

    assert cli(["tick", "--now", "2026-11-20T15:00:00Z", "--cnpj", cnpj.value]) == 0
    assert capsys.readouterr().out.count(" already_done ") == len(KINDS)  # later tick, same day
    assert _target_ids(deps, cnpj) == targets


def test_same_tick_twice_concurrently_creates_every_target_once(
    deps: Container, sample_tenant: SampleTenant
) -> None:
    """Two tick messages for one instant (a replay racing the original) against a control run."""
    control = sample_tenant(customers=400, seed=5)
    raced = sample_tenant(customers=400, seed=5)  # identical data
    instant = datetime.fromisoformat(INSTANT)
    control_tick = publish_tick(deps, instant, control.value, force=False)
    wait_for_runs(deps, control_tick, timeout=120)

    ticks: list[str] = []
    barrier = threading.Barrier(2)

    def publish() -> None:
        barrier.wait()
        ticks.append(publish_tick(deps, instant, raced.value, force=True))

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = [wait_for_runs(deps, tick, timeout=120)[raced.value] for tick in ticks]

    expected = {kind: len(ids) for kind, ids in _target_ids(deps, control).items()}
    assert {kind: len(ids) for kind, ids in _target_ids(deps, raced).items()} == expected
    for kind in KINDS:  # no run claims a target the other one created
        assert sum(run["campaigns"][kind]["created"] for run in runs) == expected[kind]


def test_duplicate_push_delivery_of_one_job_is_harmless(
    deps: Container, stack: Stack, sample_tenant: SampleTenant
) -> None:
    """Pub/Sub pushes the same message twice at once (same message id): one run, one target set."""
    control = sample_tenant(customers=300, seed=9)
    cnpj = sample_tenant(customers=300, seed=9)  # identical data
    process_tenant(
        TenantJob(cnpj=control.value, instant=INSTANT, tick_id="control"), deps.tenant_ports()
    )
    job = {"cnpj": cnpj.value, "instant": INSTANT, "tick_id": "dup-1", "force": False}
    envelope: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(json.dumps(job).encode()).decode(),
            "messageId": "dup-1",
            "publishTime": datetime.now(UTC).isoformat(),
        },
        "subscription": "projects/demo-campaigns/subscriptions/process_tenant-push",
    }
    url = f"http://127.0.0.1:{stack.ports.functions}/process_tenant"
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def push() -> None:
        barrier.wait()
        statuses.append(requests.post(url, json=envelope, timeout=120).status_code)

    threads = [threading.Thread(target=push) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    run = deps.runs.document(cnpj, "dup-1")
    assert run is not None and run["status"] == "FINISHED"
    expected = _target_ids(deps, control)  # ids are customer + period: equal across tenants
    assert all(expected[kind] for kind in KINDS)
    assert _target_ids(deps, cnpj) == expected


@pytest.mark.parametrize(
    "envelope",
    [
        {
            "message": {
                "data": "not base64!",
                "messageId": "m1",
                "publishTime": "2026-11-20T11:30:00Z",
            }
        },
        {
            "message": {
                "data": base64.b64encode(b"[1,2]").decode(),
                "messageId": "m2",
                "publishTime": "2026-11-20T11:30:00Z",
            }
        },
        {
            "message": {
                "data": base64.b64encode(b'{"cnpj": "11111111111111", "instant": "x"}').decode(),
                "messageId": "m3",
                "publishTime": "2026-11-20T11:30:00Z",
            }
        },
    ],
    ids=["bad-base64", "not-an-object", "invalid-cnpj"],
)
def test_malformed_jobs_are_acknowledged_and_logged(stack: Stack, envelope: dict[str, Any]) -> None:
    envelope["subscription"] = "projects/demo-campaigns/subscriptions/process_tenant-push"
    url = f"http://127.0.0.1:{stack.ports.functions}/process_tenant"
    log = stack.state_dir / "logs" / "functions.log"
    before = log.read_text().count("malformed tenant job acknowledged")
    response = requests.post(url, json=envelope, timeout=30)
    assert response.status_code == 200  # acknowledged: a retry would fail the same way forever
    assert log.read_text().count("malformed tenant job acknowledged") == before + 1
