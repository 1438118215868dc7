"""An HTTP client for the campaign API as served by the local functions host.

Requests go through the real functions-framework server (the ``api`` function), exactly the
path a client's request takes; tokens are minted with the stack's local secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from shared.api.auth import Role, mint
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import LOCAL_WHATSAPP, Stack


@dataclass
class ApiClient:
    base: str
    token: str | None
    session: requests.Session = field(default_factory=requests.Session)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token is not None:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return self.session.request(
            method, f"{self.base}{path}", headers=headers, timeout=60, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def local_token(cnpj: Cnpj, role: Role = Role.ADMIN, subject: str = "tester", **kw: Any) -> str:
    return mint(LOCAL_WHATSAPP["API_JWT_SECRET"], cnpj, role, subject, **kw)


@pytest.fixture(scope="session")
def api_url(stack: Stack) -> str:
    return f"{stack.environment()['CAMPAIGNS_FUNCTIONS_URL']}/api"


@pytest.fixture
def api_as(api_url: str) -> Callable[..., ApiClient]:
    """``api_as(cnpj, Role.EDITOR)``: a client holding a valid token for that tenant and role."""

    def client(cnpj: Cnpj, role: Role = Role.ADMIN, subject: str = "tester") -> ApiClient:
        return ApiClient(api_url, local_token(cnpj, role, subject))

    return client
