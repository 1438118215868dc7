"""Sign-in, sign-out and the language switch.

``/signin?token=`` (local one-time links) and ``POST /session`` (an identity provider's ID token)
both end the same way: a fresh session cookie and a redirect to the page the person was on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from shared.api.auth import AuthenticationError, Principal, Role
from shared.api.deps import Now, Services
from shared.bootstrap import Container
from shared.console import i18n
from shared.console.session import COOKIE_NAME, LIFETIME
from shared.console.signin import links_enabled, safe_next, verify_id_token, verify_link
from shared.console.templating import render
from shared.console.visit import (
    LOCALE_COOKIE,
    NEXT_COOKIE,
    SignedIn,
    base_path,
    codec,
    write_form,
)

router = APIRouter()


def _secure(request: Request) -> bool:
    """Secure cookies everywhere but plain-http loopback (the local stack has no TLS)."""
    host = request.url.hostname or ""
    return request.url.scheme == "https" or host not in ("127.0.0.1", "localhost", "::1")


def _start_session(
    request: Request,
    services: Container,
    now: datetime,
    principal: Principal,
    next_path: str | None,
) -> Response:
    _, cookie = codec(services).issue(principal, now)
    destination = next_path or safe_next(request.cookies.get(NEXT_COOKIE)) or "/app/"
    app_root = base_path(request).removesuffix("/app")
    response = RedirectResponse(app_root + destination, status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=int(LIFETIME.total_seconds()),
        path=base_path(request) or "/",
        httponly=True,
        secure=_secure(request),
        samesite="lax",
    )
    response.delete_cookie(NEXT_COOKIE, path=base_path(request) or "/")
    return response


@router.get("/login")
def login(
    request: Request, services: Services, next: Annotated[str | None, Query()] = None
) -> Response:
    return render(
        request,
        "login.html",
        links=links_enabled(services.settings),
        next_path=safe_next(next) or "",
        problem=None,
    )


@router.get("/signin")
def signin_link(
    request: Request, services: Services, now: Now, token: Annotated[str, Query(max_length=4096)]
) -> Response:
    try:
        principal, link_id, next_path = verify_link(services.settings, token)
    except AuthenticationError:
        return _login_problem(request, services, "Este link de acesso é inválido ou expirou.")
    if not services.signins.consume(link_id, principal.subject, now):
        return _login_problem(request, services, "Este link de acesso já foi usado. Peça um novo.")
    return _start_session(request, services, now, principal, next_path)


@router.post("/session")
def exchange_id_token(
    request: Request,
    services: Services,
    now: Now,
    id_token: Annotated[str, Form(max_length=8192)],
    next: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    """The identity provider's sign-in widget posts its ID token here, once."""
    try:
        principal = verify_id_token(services.settings, id_token)
    except AuthenticationError:
        return _login_problem(request, services, "Não foi possível confirmar sua identidade.")
    return _start_session(request, services, now, principal, safe_next(next))


def _login_problem(request: Request, services: Container, problem: str) -> Response:
    return render(
        request,
        "login.html",
        status=401,
        links=links_enabled(services.settings),
        next_path="",
        problem=problem,
    )


@router.post("/logout")
async def logout(visit: SignedIn) -> Response:
    await write_form(visit, needs=Role.VIEWER)
    response = RedirectResponse(visit.url("/login"), status_code=303)
    response.delete_cookie(COOKIE_NAME, path=base_path(visit.request) or "/")
    return response


@router.post("/idioma")
async def switch_language(visit: SignedIn) -> Response:
    form = await write_form(visit, needs=Role.VIEWER)
    locale = i18n.choose_locale(str(form.get("lang", "")))
    back = safe_next(str(form.get("back", ""))) or "/app/"
    response = RedirectResponse(base_path(visit.request).removesuffix("/app") + back, 303)
    response.set_cookie(
        LOCALE_COOKIE,
        locale,
        max_age=365 * 86400,
        path=base_path(visit.request) or "/",
        samesite="lax",
        secure=_secure(visit.request),
    )
    return response
