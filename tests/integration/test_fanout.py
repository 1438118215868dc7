"""``fan_out`` against real tenants in Firestore: one job per ACTIVE tenant, the tick recorded."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import requests

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.domain.tenant import Tenant
from shared.localstack.stack import Stack
from shared.manifest import TENANT_TOPIC
from shared.services.fanout import fan_out

INSTANT = datetime.fromisoformat("2026-11-20T11:00:00+00:00")


class RecordingPublisher:
    def __init__(self) -> None:
        self.messages: list[tuple[str, Mapping[str, Any]]] = []

    def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        self.messages.append((topic, payload))
        return str(len(self.messages))


def _fan_out(
    deps: Container, tick: str, only: str | None, publisher: RecordingPublisher, force: bool
) -> list[str]:
    return fan_out(
        tick_id=tick,
        instant=INSTANT,
        only_cnpj=only,
        force=force,
        tenants=deps.tenants,
        ticks=deps.ticks,
        publisher=publisher,
    )


def test_fans_out_to_active_tenants_only(deps: Container, new_cnpj: Cnpj) -> None:
    inactive = Cnpj.from_base("IN" + new_cnpj.value[2:12])  # alphanumeric: never equal
    deps.tenants.save(Tenant(cnpj=new_cnpj.value, name="Ativa"))
    deps.tenants.save(Tenant(cnpj=inactive.value, name="Inativa", active=False))
    publisher = RecordingPublisher()
    cnpjs = _fan_out(deps, "tick-a", None, publisher, force=False)
    assert new_cnpj.value in cnpjs and inactive.value not in cnpjs
    jobs = {
        payload["cnpj"]: payload for topic, payload in publisher.messages if topic == TENANT_TOPIC
    }
    assert set(jobs) == set(cnpjs)
    assert jobs[new_cnpj.value] == {
        "cnpj": new_cnpj.value,
        "instant": "2026-11-20T11:00:00Z",
        "tick_id": "tick-a",
        "force": False,
    }
    tick = deps.ticks.get("tick-a")
    assert tick is not None and tick["tenants"] == cnpjs


def test_a_tick_for_one_tenant_reaches_only_that_tenant(deps: Container, new_cnpj: Cnpj) -> None:
    deps.tenants.save(Tenant(cnpj=new_cnpj.value))
    publisher = RecordingPublisher()
    assert _fan_out(deps, "tick-b", new_cnpj.value, publisher, force=True) == [new_cnpj.value]
    assert [payload["force"] for _, payload in publisher.messages] == [True]
    unknown = Cnpj.from_base("ZZZZ99990001")
    assert _fan_out(deps, "tick-c", unknown.value, RecordingPublisher(), force=False) == []


def test_an_invalid_tenant_document_does_not_stop_the_others(
    deps: Container, stack: Stack, new_cnpj: Cnpj
) -> None:
    broken = Cnpj.from_base("BR" + new_cnpj.value[2:12])
    deps.tenants.save(Tenant(cnpj=new_cnpj.value))
    deps.firestore_client.collection("users").document(broken.value).set(
        {"active": True, "timezone": "America/Sao_Paulu"}  # a typo a person could make
    )
    publisher = RecordingPublisher()
    cnpjs = _fan_out(deps, "tick-d", None, publisher, force=False)
    assert new_cnpj.value in cnpjs and broken.value not in cnpjs

    # Its own job (from an earlier fan-out) is acknowledged, not redelivered forever.
    job = {"cnpj": broken.value, "instant": "2026-11-20T11:30:00Z", "tick_id": "tick-d"}
    envelope: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(json.dumps(job).encode()).decode(),
            "messageId": "x1",
            "publishTime": "2026-11-20T11:30:00Z",
        },
        "subscription": "projects/demo-campaigns/subscriptions/process_tenant-push",
    }
    url = f"http://127.0.0.1:{stack.ports.functions}/process_tenant"
    assert requests.post(url, json=envelope, timeout=30).status_code == 200
