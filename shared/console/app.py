"""The owner's console: server-rendered pages mounted at ``/app`` on the API's own app.

A sub-application rather than more API routes, because its answers are HTML (errors included),
its caller is a browser holding a session cookie instead of a bearer token, and it has no place
in the OpenAPI document. Its pages call the same services as the REST routes, so a rule or a
validation exists once.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import RedirectResponse, Response

from shared.bootstrap import Container
from shared.console.pages import PAGE_ROUTERS
from shared.console.templating import render
from shared.console.visit import NEXT_COOKIE, Refused, SignInRequired, base_path
from shared.domain.errors import NotFoundError

_log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

SECURITY_HEADERS = {
    # No inline script or style anywhere: injected markup cannot run, even if escaping failed.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class _SecurityHeaders(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith(base_path(request) + "/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages hold tenant data
        return response


def create_console(services: Container) -> FastAPI:
    console = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    console.state.services = services  # a mounted app is its pages' ``request.app``
    console.add_middleware(_SecurityHeaders)
    console.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in PAGE_ROUTERS:
        console.include_router(router)

    @console.exception_handler(SignInRequired)
    async def _sign_in(request: Request, error: SignInRequired) -> Response:
        target = base_path(request) + "/login?" + urlencode({"next": error.next_path})
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            NEXT_COOKIE,
            error.next_path,
            max_age=3600,
            path=base_path(request) or "/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
        return response

    @console.exception_handler(Refused)
    async def _refused(request: Request, error: Refused) -> Response:
        return render(request, "refused.html", status=403, reason=error.reason)

    @console.exception_handler(NotFoundError)
    async def _not_found(request: Request, _: NotFoundError) -> Response:
        return render(request, "not_found.html", status=404)

    @console.exception_handler(404)
    async def _no_route(request: Request, _: Exception) -> Response:
        return render(request, "not_found.html", status=404)

    @console.exception_handler(Exception)
    async def _crash(request: Request, error: Exception) -> Response:
        _log.error("console page crashed", exc_info=error)
        return render(request, "crashed.html", status=500)

    return console
