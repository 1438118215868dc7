"""The FastAPI application: routers, error mapping, rate limiting and the generated docs.

The OpenAPI document is generated from the request and response models (never written by
hand) and served at the seed's paths, with Swagger UI at ``/docs`` and ReDoc at ``/redoc``
(:mod:`shared.api.docs`). One app, hence one rate limiter, per process (see
:mod:`shared.api.ratelimit` for why that is per instance).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from shared.api import docs, problems
from shared.api.ratelimit import RateLimiter
from shared.api.routes import (
    alerts,
    audit,
    campaigns,
    contacts,
    dashboard,
    health,
    media,
    runs,
    segments,
    templates,
    tenant_settings,
)
from shared.bootstrap import Container, container

OPENAPI_PATH = "/api-docs/openapi.json"
CONSOLE_PATH = "/app"

ROUTERS = (
    health.router,
    audit.router,
    campaigns.router,
    segments.router,
    contacts.router,
    templates.router,
    media.router,
    tenant_settings.router,
    runs.router,
    dashboard.router,
    alerts.router,
)


def create_app(services: Container | None = None) -> FastAPI:
    """The app on ``services`` (the process-wide container unless a caller, e.g. a test on a
    fixed clock, brings its own): every route and page reads its adapters and clock from it."""
    services = services or container()
    app = _documented_routes()
    app.state.services = services
    app.state.rate_limiter = RateLimiter(services.settings.api_requests_per_minute, services.clock)
    problems.install(app)
    docs.install(app, OPENAPI_PATH)
    # Imported here: the console's templates and catalogues load only where the API runs.
    from shared.console.app import create_console

    app.mount(CONSOLE_PATH, create_console(services))
    return app


def openapi_document() -> dict[str, Any]:
    """The document the app serves, built without services or a stack: the schema test
    enumerates its operations when it is collected, so each one is a test of its own."""
    return _documented_routes().openapi()


def _documented_routes() -> docs.DocumentedApi:
    app = docs.DocumentedApi(
        title="Campaigns API",
        version="1.0.0",
        description="WhatsApp marketing campaigns for small businesses (one tenant per CNPJ).",
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
    )
    for router in ROUTERS:
        app.include_router(router)
    return app
