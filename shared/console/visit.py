"""One signed-in request: who is asking, for which tenant, in which language, and the page tools.

Every page starts from :func:`signed_in`: no session (or an expired one) sends the browser to the
sign-in page and remembers where it was going. Writes go through :func:`write_form`, which
refuses a missing or wrong CSRF token and a role that may not write *before* anything changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from shared.api.auth import Principal, Role
from shared.api.deps import Now, Services
from shared.bootstrap import Container
from shared.console import i18n
from shared.console.session import COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, Session, SessionCodec
from shared.domain.tenant import Tenant

LOCALE_COOKIE = "console_lang"
NEXT_COOKIE = "console_next"


class SignInRequired(Exception):
    """No valid session: answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class Refused(Exception):
    """A write the caller may not make (role, CSRF): answered 403, nothing changed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def codec(services: Container) -> SessionCodec:
    return SessionCodec(services.settings.api_jwt_secret.get_secret_value())


def base_path(request: Request) -> str:
    """The console's own prefix, e.g. ``/api/app`` on the local functions host."""
    return str(request.scope.get("root_path", "")).rstrip("/")


@dataclass
class Visit:
    request: Request
    services: Container
    session: Session
    tenant: Tenant
    locale: str
    csrf_token: str
    now: datetime
    """This request's instant, from the container's clock (see :func:`shared.api.deps.now`)."""

    @property
    def principal(self) -> Principal:
        return self.session.principal

    @property
    def can_write(self) -> bool:
        return self.principal.role.allows(Role.EDITOR)

    @property
    def is_admin(self) -> bool:
        return self.principal.role.allows(Role.ADMIN)

    @property
    def fmt(self) -> i18n.Formatter:
        return i18n.Formatter(self.locale, self.tenant.timezone)

    @property
    def gettext(self) -> Callable[[str], str]:
        return i18n.translations(self.locale).gettext

    def url(self, path: str = "/") -> str:
        return base_path(self.request) + path


def signed_in(request: Request, services: Services, now: Now) -> Visit:
    sessions = codec(services)
    session = sessions.decode(request.cookies.get(COOKIE_NAME, ""), now)
    if session is None:
        raise SignInRequired(_app_path(request))
    tenant = services.tenants.get(session.principal.cnpj)
    if tenant is None:
        raise SignInRequired(_app_path(request))
    locale = i18n.choose_locale(request.cookies.get(LOCALE_COOKIE))
    return Visit(request, services, session, tenant, locale, sessions.csrf_token(session), now)


def _app_path(request: Request) -> str:
    """The path below the mount as the browser sees it under ``/app`` (for ``next``)."""
    route_path = request.url.path[len(base_path(request)) :] or "/"
    query = f"?{request.url.query}" if request.url.query else ""
    return f"/app{route_path}{query}"


SignedIn = Annotated[Visit, Depends(signed_in)]


async def write_form(visit: Visit, needs: Role = Role.EDITOR) -> FormData:
    """The posted form, once its CSRF token matches this session and the role may write."""
    form = await visit.request.form()
    presented = form.get(CSRF_FIELD) or visit.request.headers.get(CSRF_HEADER)
    if not isinstance(presented, str) or not codec(visit.services).csrf_matches(
        visit.session, presented
    ):
        raise Refused("csrf")
    if not visit.principal.role.allows(needs):
        raise Refused("role")
    return form


def form_text(form: FormData, name: str) -> str:
    value: Any = form.get(name)
    return value.strip() if isinstance(value, str) else ""
