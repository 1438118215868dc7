"""Who is calling: a verified JWT whose ``cnpj`` claim is the only source of the tenant.

Locally tokens are HS256, signed with ``API_JWT_SECRET`` (``campaigns token`` mints one). In
production the identity provider signs RS256 and publishes its keys at ``API_JWKS_URL``; the
issuer and audience are then checked too, so a token minted for another app is refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import jwt

from shared.config import Settings
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CampaignError, ValidationError

_LEEWAY_SECONDS = 30


class Role(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = (Role.VIEWER, Role.EDITOR, Role.ADMIN)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class Principal:
    cnpj: Cnpj
    subject: str
    role: Role


class AuthenticationError(CampaignError):
    """No token, or one we cannot trust (bad signature, expired, wrong issuer or audience)."""


class Verifier:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        url = self._settings.api_jwks_url
        return jwt.PyJWKClient(url, cache_keys=True) if url else None

    def verify(self, token: str) -> Principal:
        settings = self._settings
        options: dict[str, bool | list[str]] = {"require": ["exp", "sub", "cnpj", "role"]}
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token,
                    key,
                    algorithms=["RS256"],
                    issuer=settings.api_jwt_issuer,
                    audience=settings.api_jwt_audience,
                    options=options,  # type: ignore[arg-type]
                    leeway=_LEEWAY_SECONDS,
                )
            else:
                secret = settings.api_jwt_secret.get_secret_value()
                if not secret:
                    raise AuthenticationError("API_JWT_SECRET is not configured")
                claims = jwt.decode(
                    token,
                    secret,
                    algorithms=["HS256"],
                    options=options,  # type: ignore[arg-type]
                    leeway=_LEEWAY_SECONDS,
                    audience=settings.api_jwt_audience,
                )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        try:
            cnpj = Cnpj.parse(str(claims["cnpj"]))
            role = Role(str(claims["role"]))
        except (ValidationError, ValueError) as error:
            raise AuthenticationError(f"invalid token claims: {error}") from error
        return Principal(cnpj=cnpj, subject=str(claims["sub"]), role=role)


def mint(
    secret: str,
    cnpj: Cnpj,
    role: Role = Role.ADMIN,
    subject: str = "local-user",
    ttl_seconds: int = 3600,
    audience: str | None = None,
) -> str:
    """A local HS256 token, for trying the API and for tests (production tokens come from IdP)."""
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": subject,
        "cnpj": cnpj.value,
        "role": role.value,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")
