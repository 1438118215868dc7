"""The API's documentation: the generated OpenAPI document, Swagger UI and ReDoc, all offline.

The pages and their scripts come from this function itself (the ``fastapi-offline`` package's
copies), never from a CDN: the docs keep working where the network is locked down and no third
party sees who reads them. Every URL in the pages is prefixed with the request's ``root_path``,
so the same app serves them at the root in production and under ``/api`` on the local
functions host.

The generated document is completed with what FastAPI cannot infer from the models: the
problem+json error answers each operation can give, derived from its dependencies (a token
-> 401 and 429, a role -> 403, a path parameter -> 404, a write -> 409, any input -> 422).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from shared.api.deps import ROLE_CHECKS, current_principal
from shared.api.problems import MEDIA_TYPE, Problem

STATIC_URL = "/api-docs/static"
STATIC_DIRECTORY = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_URL = "/docs"
REDOC_URL = "/redoc"

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_FASTAPI_422 = "#/components/schemas/HTTPValidationError"


class DocumentedApi(FastAPI):
    """FastAPI whose OpenAPI document also lists every operation's problem+json errors."""

    _completed: dict[str, Any] | None = None

    def openapi(self) -> dict[str, Any]:
        schema = super().openapi()
        if self._completed is not schema:  # FastAPI regenerates when routes change
            add_error_responses(schema, self.routes)
            self._completed = schema
        return schema


def install(app: FastAPI, openapi_url: str) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets under ``/api-docs/static``."""
    app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIRECTORY), name="api-docs-static")

    @app.get(SWAGGER_URL, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            oauth2_redirect_url=None,  # bearer tokens only, no OAuth flow in the page
            # validatorUrl null: no badge fetched from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    @app.get(REDOC_URL, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = _root(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


# -- error responses in the OpenAPI document ----------------------------------------------------


def _problem(description: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        response["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in headers.items()
        }
    return response


_UNAUTHENTICATED = _problem(
    "Missing, malformed, expired or untrusted token, or a token whose claims are invalid",
    {"WWW-Authenticate": "`Bearer`"},
)
_FORBIDDEN = _problem("The token's role does not allow this operation")
_NOT_FOUND = _problem("No such resource in the caller's tenant")
_CONFLICT = _problem("The resource's current state does not allow this change")
_INVALID = _problem("Invalid request; `errors` names each field and the reason")
_THROTTLED = _problem(
    "Too many requests from this user; retry after `Retry-After` seconds",
    {"Retry-After": "seconds to wait before the next request"},
)


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _dependencies(dependency)


def _errors_of(route: Any, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    calls = set(_dependencies(route.dependant))
    authenticated = current_principal in calls
    errors: dict[str, Any] = {}
    if authenticated:
        errors["401"] = _UNAUTHENTICATED
    if any(call in ROLE_CHECKS for call in calls):
        errors["403"] = _FORBIDDEN
    if "{" in route.path_format:
        errors["404"] = _NOT_FOUND
    if method not in _SAFE_METHODS:
        errors["409"] = _CONFLICT
    if (
        operation.get("parameters")
        or operation.get("requestBody")
        or "422" in operation.get("responses", {})
    ):
        errors["422"] = _INVALID
    if authenticated:
        errors["429"] = _THROTTLED
    return errors


def _is_fastapi_default(response: dict[str, Any]) -> bool:
    return _FASTAPI_422 in json.dumps(response)


def add_error_responses(schema: dict[str, Any], routes: Sequence[BaseRoute]) -> None:
    """Add the problem+json answers of each operation (keeping any a route declared itself)."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    paths = schema.get("paths", {})
    # Route contexts, not app.routes: included routers are not flattened into app.routes, and
    # a context carries the effective path and dependencies (router-level ones included).
    for route in iter_route_contexts(routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in sorted(route.methods or ()):
            operation = paths.get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in _errors_of(route, method, operation).items():
                if status not in responses or _is_fastapi_default(responses[status]):
                    responses[status] = copy.deepcopy(response)
            operation["responses"] = dict(sorted(responses.items()))
    if _FASTAPI_422 not in json.dumps(paths):
        # FastAPI's own 422 body is never sent (problems.py answers instead): drop its models.
        components.pop("HTTPValidationError", None)
        if "ValidationError" in components and "#/components/schemas/ValidationError" not in (
            json.dumps(schema)
        ):
            components.pop("ValidationError", None)
