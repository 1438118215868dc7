"""FastAPI behind functions-framework: the ``api`` function hands each request to the ASGI app.

functions-framework serves a Flask (WSGI) function; a2wsgi runs the ASGI app inside that
WSGI call, so the same deployed function serves the REST API and the WhatsApp webhook, and
local tests drive it through the real functions-framework server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, cast

import flask
from a2wsgi import ASGIMiddleware
from werkzeug.wrappers import Response

from shared.api.app import create_app

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


@cache
def _wsgi_app() -> WsgiApp:
    return cast(WsgiApp, ASGIMiddleware(create_app()))  # type: ignore[arg-type]


def serve(request: flask.Request) -> Response:
    return Response.from_app(_wsgi_app(), request.environ)
