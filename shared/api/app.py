"""The FastAPI application: routers, error mapping and the generated OpenAPI document.

The OpenAPI document is generated from the request and response models (never written by
hand) and served at the seed's paths.
"""

from __future__ import annotations

from fastapi import FastAPI

from shared.api import problems
from shared.api.routes import health

OPENAPI_PATH = "/api-docs/openapi.json"

ROUTERS = (health.router,)


def create_app() -> FastAPI:
    app = FastAPI(
        title="Campaigns API",
        version="1.0.0",
        description="WhatsApp marketing campaigns for small businesses (one tenant per CNPJ).",
        openapi_url=OPENAPI_PATH,
        docs_url=None,
        redoc_url=None,
    )
    problems.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
