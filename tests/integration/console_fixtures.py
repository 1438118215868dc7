"""The console over plain HTTP, as a browser without JavaScript meets it: a signed-in session
and the CSRF token its pages carry. Shared by the ``test_console_*`` files."""

from __future__ import annotations

import re

import pytest
import requests

from shared.api.auth import Role
from shared.console.signin import signin_link_token
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import LOCAL_WHATSAPP
from tests.integration import api_fixtures

SECRET = LOCAL_WHATSAPP["API_JWT_SECRET"]
api_url = api_fixtures.api_url


@pytest.fixture
def console_url(api_url: str) -> str:
    return f"{api_url}/app"


def sign_in(
    console_url: str, cnpj: Cnpj, role: Role = Role.ADMIN, next_path: str | None = None
) -> requests.Session:
    """A session signed in through a one-time link, as a person would be."""
    browser = requests.Session()
    token = signin_link_token(SECRET, cnpj, role, "owner@example.com", next_path)
    answer = browser.get(f"{console_url}/signin", params={"token": token}, timeout=60)
    assert answer.status_code == 200, answer.text
    return browser


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert found, "the page carries no CSRF token"
    return found.group(1)
