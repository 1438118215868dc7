"""The app on a clock the test chooses: every answer that depends on "now" follows that clock.

Routes and pages read "now" only from the container the app is built on (:mod:`shared.clock`),
so an app whose clock stopped in January 2024 answers as of then: its local day, its campaign
times and which start is still in the future, its console sessions. Each answer is one that the
wall clock would give differently.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from shared.api.app import create_app
from shared.api.auth import Role
from shared.bootstrap import Container
from shared.console.session import COOKIE_NAME
from shared.console.signin import signin_link_token
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import LOCAL_WHATSAPP
from shared.services.tenants import register_tenant
from tests.integration.api_fixtures import local_token
from tests.integration.campaign_payloads import SIMPLE, approved

STOPPED_AT = datetime(2024, 1, 15, 2, 30, tzinfo=UTC)
"""23:30 on 14 January in São Paulo (the tenant's zone): its local day is not UTC's."""
BASE_URL = "http://127.0.0.1"  # loopback: the console's cookies are not Secure-only here


@pytest.fixture
def stopped(deps: Container) -> FastAPI:
    """The API and console on a clock stopped at STOPPED_AT, beside the same stack."""
    return create_app(Container(deps.settings, lambda: STOPPED_AT))


@pytest.fixture
def tenant(deps: Container, new_cnpj: Cnpj) -> Cnpj:
    register_tenant(
        new_cnpj,
        name="Relógio Parado",
        timezone="America/Sao_Paulo",
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=deps.task_queue,
        templates=deps.templates,
    )
    return new_cnpj


def _calls(
    app: FastAPI, *requests: tuple[str, str, dict[str, Any]], cookies: dict[str, str] | None = None
) -> list[httpx.Response]:
    """The requests in order, on one client (one cookie jar), through the app in process."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, cookies=cookies
        ) as client:
            return [await client.request(method, path, **kw) for method, path, kw in requests]

    return asyncio.run(run())


def _bearer(cnpj: Cnpj) -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {local_token(cnpj, Role.ADMIN)}"}}


def test_the_dashboard_s_today_is_the_clock_s_local_day(stopped: FastAPI, tenant: Cnpj) -> None:
    (answer,) = _calls(stopped, ("GET", "/api/v1/dashboard", _bearer(tenant)))

    assert answer.status_code == 200, answer.text
    assert answer.json()["local_date"] == "2024-01-14"


def test_campaign_times_and_a_due_start_follow_the_clock(stopped: FastAPI, tenant: Cnpj) -> None:
    # A day after the stopped clock, so years before the wall clock: due now for the wall
    # clock (it would run at once), still in the future for this app (scheduled).
    scheduled_at = STOPPED_AT + timedelta(days=1)
    body = {**approved(SIMPLE), "scheduled_at": scheduled_at.isoformat()}
    (created,) = _calls(stopped, ("POST", "/api/v1/campaigns", {"json": body, **_bearer(tenant)}))
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert _instant(campaign["created_at"]) == STOPPED_AT
    assert _instant(campaign["updated_at"]) == STOPPED_AT

    (started,) = _calls(
        stopped, ("POST", f"/api/v1/campaigns/{campaign['id']}/start", _bearer(tenant))
    )

    assert started.status_code == 200, started.text
    after = started.json()["campaign"]
    assert after["status"] == "scheduled"
    assert _instant(after["started_at"]) == STOPPED_AT


def test_a_console_session_lives_on_the_app_s_clock(
    deps: Container, stopped: FastAPI, tenant: Cnpj
) -> None:
    link = signin_link_token(LOCAL_WHATSAPP["API_JWT_SECRET"], tenant, Role.ADMIN, "relogio")
    signed_in, home = _calls(
        stopped,
        ("GET", "/app/signin", {"params": {"token": link}}),
        ("GET", "/app/", {}),
    )
    assert signed_in.status_code == 303, signed_in.text
    cookie = signed_in.cookies[COOKIE_NAME]
    assert home.status_code == 200, home.text  # the session is valid at STOPPED_AT

    # Issued at STOPPED_AT for eight hours, the same session expired long ago on the wall clock.
    walled = create_app(Container(deps.settings))
    (refused,) = _calls(walled, ("GET", "/app/", {}), cookies={COOKIE_NAME: cookie})
    assert refused.status_code == 303
    assert "/login" in refused.headers["location"]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
