"""FastAPI dependencies every route uses: the verified caller, the role it needs, the adapters.

Routes never read the tenant from the path or the body: ``principal.cnpj`` is the tenant, so
a request can only ever address its own documents and datasets.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.api.auth import AuthenticationError, Principal, Role, Verifier
from shared.bootstrap import Container, container
from shared.domain.errors import CampaignError

_bearer = HTTPBearer(auto_error=False, description="JWT with `cnpj`, `role` and `sub` claims")


class ForbiddenError(CampaignError):
    """The caller is known but its role does not allow this operation."""


@cache
def _verifier() -> Verifier:
    return Verifier(container().settings)


def services() -> Container:
    return container()


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthenticationError("missing bearer token")
    principal = _verifier().verify(credentials.credentials)
    request.state.principal = principal
    return principal


def _needs(role: Role) -> object:
    def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.role.allows(role):
            raise ForbiddenError(f"role {principal.role.value} may not do this; needs {role.value}")
        return principal

    return check


Reader = Annotated[Principal, Depends(current_principal)]
Writer = Annotated[Principal, Depends(_needs(Role.EDITOR))]
Admin = Annotated[Principal, Depends(_needs(Role.ADMIN))]
Services = Annotated[Container, Depends(services)]
