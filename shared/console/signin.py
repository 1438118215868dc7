"""How a person proves who they are before the console issues a session.

Production: the identity provider's ID token (RS256, checked against its JWKS, issuer and
audience by the API's own :class:`~shared.api.auth.Verifier`) is posted once and exchanged for
the session cookie. Locally there is no identity provider, so ``campaigns signin-link`` mints a
one-time link: a short-lived HS256 token with a random ``jti`` that is consumed on first use.
The link mode exists only while the API itself runs on the local HS256 secret.
"""

from __future__ import annotations

import secrets
from typing import Any

import jwt

from shared.api.auth import AuthenticationError, Principal, Role, Verifier
from shared.clock import system_clock
from shared.config import Settings
from shared.domain.cnpj import Cnpj

LINK_PURPOSE = "console-signin"
LINK_TTL_SECONDS = 15 * 60
"""Long enough to copy the link from a terminal into a phone; useless soon after."""


def safe_next(path: str | None) -> str | None:
    """A local path to return to after sign-in, never another site (no open redirect)."""
    if not path or not path.startswith("/app") or path.startswith("//") or "\\" in path:
        return None
    return path


def signin_link_token(
    secret: str,
    cnpj: Cnpj,
    role: Role,
    subject: str = "local-user",
    next_path: str | None = None,
) -> str:
    now = int(system_clock().timestamp())  # on PyJWT's clock, as in shared.api.auth.mint
    claims: dict[str, Any] = {
        "sub": subject,
        "cnpj": cnpj.value,
        "role": role.value,
        "purpose": LINK_PURPOSE,
        "jti": secrets.token_urlsafe(16),
        "iat": now,
        "exp": now + LINK_TTL_SECONDS,
    }
    if safe_next(next_path):
        claims["next"] = next_path
    return jwt.encode(claims, secret, algorithm="HS256")


def links_enabled(settings: Settings) -> bool:
    return not settings.api_jwks_url and bool(settings.api_jwt_secret.get_secret_value())


def verify_link(settings: Settings, token: str) -> tuple[Principal, str, str | None]:
    """The principal, the link's one-time id and where it leads (AuthenticationError if bad)."""
    if not links_enabled(settings):
        raise AuthenticationError("sign-in links exist only on the local stack")
    secret = settings.api_jwt_secret.get_secret_value()
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "sub", "cnpj", "role", "jti", "purpose"]},
        )
    except jwt.PyJWTError as error:
        raise AuthenticationError(f"invalid sign-in link: {error}") from error
    if claims["purpose"] != LINK_PURPOSE:
        raise AuthenticationError("this token is not a sign-in link")
    principal = Verifier(settings).verify(jwt.encode(_api_claims(claims), secret, "HS256"))
    return principal, str(claims["jti"]), safe_next(claims.get("next"))


def _api_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """Re-checked through the API's verifier so the console accepts exactly the API's claims."""
    return {key: claims[key] for key in ("sub", "cnpj", "role", "exp", "iat")}


def verify_id_token(settings: Settings, token: str) -> Principal:
    """An identity provider's token, verified exactly as an API bearer token is."""
    return Verifier(settings).verify(token)
