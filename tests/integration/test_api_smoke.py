"""The API answers through the real functions host, and knows the caller only from its token."""

from __future__ import annotations

from collections.abc import Callable

from shared.api.auth import Role
from shared.domain.cnpj import Cnpj
from tests.integration import api_fixtures
from tests.integration.api_fixtures import ApiClient

api_url = api_fixtures.api_url
api_as = api_fixtures.api_as


def test_whoami_is_the_token_s_tenant(api_as: Callable[..., ApiClient], new_cnpj: Cnpj) -> None:
    answer = api_as(new_cnpj, Role.VIEWER, "ana").get("/api/v1/whoami")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"cnpj": new_cnpj.value, "subject": "ana", "role": "viewer"}


def test_no_token_is_a_401_problem(api_url: str) -> None:
    answer = ApiClient(api_url, None).get("/api/v1/whoami")
    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
