"""FastAPI dependencies every route uses: the verified caller, the role it needs, the adapters.

Routes never read the tenant from the path or the body: ``principal.cnpj`` is the tenant, so
a request can only ever address its own documents and datasets. Every authenticated request
also takes one request from its caller's rate-limit bucket (:mod:`shared.api.ratelimit`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.api.auth import AuthenticationError, Principal, Role, Verifier
from shared.api.ratelimit import RateLimiter
from shared.bootstrap import Container, container
from shared.domain.errors import CampaignError

_bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    scheme_name="bearerAuth",
    description="JWT with `sub`, `cnpj`, `role` (viewer, editor, admin) and `exp` claims; "
    "locally HS256 (`campaigns token --cnpj ...`), in production RS256 from the identity provider",
)


class ForbiddenError(CampaignError):
    """The caller is known but its role does not allow this operation."""


@cache
def _verifier() -> Verifier:
    return Verifier(container().settings)


def services(request: Request) -> Container:
    """The container the app was built with (:func:`shared.api.app.create_app`)."""
    built: Container = request.app.state.services
    return built


Services = Annotated[Container, Depends(services)]


def now(services: Services) -> datetime:
    """This request's instant, from the container's clock. FastAPI resolves a dependency once
    per request, so every use within one request sees the same "now"."""
    return services.clock()


Now = Annotated[datetime, Depends(now)]


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("missing bearer token")
    principal = _verifier().verify(credentials.credentials)
    request.state.principal = principal
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.check(f"{principal.cnpj.value}/{principal.subject}")
    return principal


ROLE_CHECKS: dict[Callable[..., Principal], Role] = {}
"""Each role dependency and the role it needs (the OpenAPI document lists 403 on those)."""


def _needs(role: Role) -> Callable[..., Principal]:
    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.role.allows(role):
            raise ForbiddenError(f"role {principal.role.value} may not do this; needs {role.value}")
        return principal

    ROLE_CHECKS[check] = role
    return check


Reader = Annotated[Principal, Depends(current_principal)]
Writer = Annotated[Principal, Depends(_needs(Role.EDITOR))]
Admin = Annotated[Principal, Depends(_needs(Role.ADMIN))]
