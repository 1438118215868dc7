"""The console's signed session cookie and the CSRF token derived from it.

A browser cannot hold a bearer token safely (any script could read it), so a verified identity
is exchanged once for an HttpOnly cookie. The cookie carries the principal (tenant, subject,
role) and its own expiry, signed with a key derived from the API's secret: nothing about the
session is stored server-side, so any instance of the function can serve any request.

The CSRF token is an HMAC of the session's random id: it is unknowable to another site (it
never leaves our pages), needs no storage, and dies with the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from shared.api.auth import Principal, Role
from shared.domain.cnpj import Cnpj
from shared.domain.errors import FieldError

COOKIE_NAME = "console_session"
LIFETIME = timedelta(hours=8)
"""A working day: long enough not to interrupt the owner, short enough to bound a stolen cookie."""

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def derive_key(secret: str, purpose: str) -> bytes:
    """One key per purpose, so a value signed for one use is never valid for another."""
    if not secret:
        raise ValueError("the console needs API_JWT_SECRET to sign its sessions")
    return hmac.new(secret.encode(), f"console:{purpose}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class Session:
    principal: Principal
    session_id: str
    expires_at: datetime


class SessionCodec:
    """Turns a :class:`Session` into a cookie value and back, refusing forged or expired ones."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, "session")
        self._serializer = URLSafeSerializer(self._key, salt="console-session")

    def issue(self, principal: Principal, now: datetime) -> tuple[Session, str]:
        session = Session(principal, secrets.token_urlsafe(16), now + LIFETIME)
        return session, self.encode(session)

    def encode(self, session: Session) -> str:
        payload = {
            "sid": session.session_id,
            "cnpj": session.principal.cnpj.value,
            "sub": session.principal.subject,
            "role": session.principal.role.value,
            "exp": int(session.expires_at.timestamp()),
        }
        return self._serializer.dumps(payload)

    def decode(self, value: str, now: datetime) -> Session | None:
        """The session, or None when the cookie is forged, malformed or past its expiry."""
        try:
            payload: Any = self._serializer.loads(value)
            expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
            principal = Principal(
                cnpj=Cnpj.parse(str(payload["cnpj"])),
                subject=str(payload["sub"]),
                role=Role(payload["role"]),
            )
            session = Session(principal, str(payload["sid"]), expires_at)
        except (BadSignature, KeyError, TypeError, ValueError, FieldError):
            return None
        return session if now < expires_at else None

    def csrf_token(self, session: Session) -> str:
        digest = hmac.new(self._key, f"csrf:{session.session_id}".encode(), hashlib.sha256)
        return digest.hexdigest()

    def csrf_matches(self, session: Session, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token(session), presented or "")
