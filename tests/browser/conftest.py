"""A real browser for the console's tests: Debian's Chromium driven by Playwright for Python.

Playwright never downloads a browser here: it launches the system ``/usr/bin/chromium`` that
``make setup`` installs. axe-core comes from the npm registry (``package.json``) and runs inside
the page under test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from shared.api.auth import Role
from shared.console.signin import signin_link_token
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import LOCAL_WHATSAPP, Stack
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient
from tests.integration.campaign_payloads import SIMPLE, approved

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
"""Where ``UPDATE_SCREENSHOTS=1`` writes the README's pictures of the sample data."""
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
_ARGS = [
    "--no-sandbox",  # root in a container has no user namespace for Chromium's sandbox
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests, stopped when they end: Playwright's sync API keeps an
    event loop running in this thread, which later tests' ``asyncio.run()`` must not meet."""
    if not CHROMIUM.exists() or not AXE.exists():
        raise RuntimeError("the browser tests need `make setup` (Chromium and axe-core)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="pt-BR")
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@cache
def _axe_source() -> str:
    return AXE.read_text()


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's critical and serious violations on the page as it is now."""
    # Evaluated through the DevTools protocol, which the page's CSP (no inline script) allows.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;undefined")
    result: dict[str, Any] = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v.get("impact") in ("critical", "serious")]


def keep_screenshot(page: Page, name: str) -> None:
    """With ``UPDATE_SCREENSHOTS=1``, the page as it is now is kept as docs/screenshots/NAME.png."""
    if os.environ.get("UPDATE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than its viewport (0: no sideways scrolling)."""
    overflow: int = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    return overflow


api_url = api_fixtures.api_url
api_as = api_fixtures.api_as
"""The API's fixtures, for every browser test (a campaign made through the API, then seen)."""


@pytest.fixture
def console_url(stack: Stack) -> str:
    return f"{stack.environment()['CAMPAIGNS_FUNCTIONS_URL']}/api/app"


def sign_in(page: Page, console_url: str, cnpj: Cnpj, role: Role = Role.ADMIN) -> None:
    token = signin_link_token(LOCAL_WHATSAPP["API_JWT_SECRET"], cnpj, role, "owner@example.com")
    page.goto(f"{console_url}/signin?token={token}")
    expect(page.get_by_role("heading", name="Início")).to_be_visible()


def fast_campaign(api_as: Callable[..., ApiClient], cnpj: Cnpj, name: str) -> str:
    body = approved(SIMPLE) | {"name": name}
    body["throttle_config"] = {
        "messages_per_minute": 4200,
        "messages_per_hour": 250_000,
        "messages_per_day": 1_000_000,
        "respect_business_hours": False,
    }
    answer = api_as(cnpj, Role.EDITOR).post("/api/v1/campaigns", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="pt-BR")
    try:
        yield context.new_page()
    finally:
        context.close()
