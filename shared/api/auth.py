"""Who is calling: a verified JWT whose ``cnpj`` claim is the only source of the tenant.

Locally tokens are HS256, signed with ``API_JWT_SECRET`` (``campaigns token`` mints one). In
production the identity provider signs RS256 and publishes its keys at ``API_JWKS_URL``; the
issuer and audience are then checked too, so a token minted for another app is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

import jwt

from shared.clock import system_clock
from shared.config import Settings
from shared.domain.cnpj import Cnpj
from shared.domain.errors import (
    CampaignError,
    FieldError,
    PermanentError,
    TransientError,
)

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


_MAX_SUBJECT_LENGTH = 256
_JWKS_TIMEOUT_SECONDS = 5.0


class Verifier:
    """Checks a bearer token and turns its claims into a :class:`Principal`.

    Exactly one algorithm is accepted per deployment and it is decided by configuration, never
    by the token: RS256 against the JWKS keys when ``API_JWKS_URL`` is set, else HS256 with the
    local secret. So ``alg: none`` and the classic key confusion (an HS256 token "signed" with
    the public RSA key) are refused before any key is looked up. A JWKS without issuer and
    audience would accept every token the identity provider ever signed, for any app, so that
    configuration is refused outright.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        if settings.api_jwks_url and not (settings.api_jwt_issuer and settings.api_jwt_audience):
            raise PermanentError(
                "API_JWKS_URL needs API_JWT_ISSUER and API_JWT_AUDIENCE, or tokens minted "
                "for other apps of the same identity provider would be accepted"
            )
        self.algorithm = "RS256" if settings.api_jwks_url else "HS256"

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        url = self._settings.api_jwks_url
        # The key set is cached for 5 minutes; no per-key cache, whose entries never expire
        # and would keep trusting a revoked key.
        return jwt.PyJWKClient(url, timeout=_JWKS_TIMEOUT_SECONDS) if url else None

    def _key(self, token: str) -> Any:
        if self._jwks is None:
            secret = self._settings.api_jwt_secret.get_secret_value()
            if not secret:
                raise PermanentError("API_JWT_SECRET is not configured (nor API_JWKS_URL)")
            return secret
        try:
            return self._jwks.get_signing_key_from_jwt(token).key
        except jwt.PyJWKClientConnectionError as error:
            raise TransientError(f"identity provider keys unavailable: {error}") from error

    def verify(self, token: str) -> Principal:
        settings = self._settings
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"malformed token: {error}") from error
        if algorithm != self.algorithm:
            raise AuthenticationError(
                f"token algorithm {algorithm!r} is not accepted (expected {self.algorithm})"
            )
        options: dict[str, bool | list[str]] = {"require": ["exp", "sub", "cnpj", "role"]}
        try:
            claims = jwt.decode(
                token,
                self._key(token),
                algorithms=[self.algorithm],
                issuer=settings.api_jwt_issuer,
                audience=settings.api_jwt_audience,
                options=options,  # type: ignore[arg-type]
                leeway=_LEEWAY_SECONDS,
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"invalid token: {error}") from error
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    subject, cnpj, role = claims["sub"], claims["cnpj"], claims["role"]
    if not isinstance(subject, str) or not subject.strip() or len(subject) > _MAX_SUBJECT_LENGTH:
        raise AuthenticationError(
            f"invalid token claims: sub must be 1-{_MAX_SUBJECT_LENGTH} chars"
        )
    if not isinstance(cnpj, str) or not isinstance(role, str):
        raise AuthenticationError("invalid token claims: cnpj and role must be strings")
    try:
        return Principal(cnpj=Cnpj.parse(cnpj), subject=subject, role=Role(role))
    except (FieldError, ValueError) as error:
        raise AuthenticationError(f"invalid token claims: {error}") from error


def mint(
    secret: str,
    cnpj: Cnpj,
    role: Role = Role.ADMIN,
    subject: str = "local-user",
    ttl_seconds: int = 3600,
    audience: str | None = None,
    issuer: str | None = None,
) -> str:
    """A local HS256 token, for trying the API and for tests (production tokens come from IdP).

    Its times are the wall clock's, not an injected one: PyJWT checks ``exp`` against the
    wall clock when the token is verified, so a token minted on any other clock is refused."""
    now = int(system_clock().timestamp())
    claims: dict[str, object] = {
        "sub": subject,
        "cnpj": cnpj.value,
        "role": role.value,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if audience:
        claims["aud"] = audience
    if issuer:
        claims["iss"] = issuer
    return jwt.encode(claims, secret, algorithm="HS256")
