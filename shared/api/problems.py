"""Every error leaves as ``application/problem+json`` (RFC 9457), with field-level details.

Services raise the domain's error vocabulary; this module is the one place that maps it to
HTTP. Validation errors are always 422 and name the field, so a client can fix the request;
a stored document that does not validate (:class:`CorruptDocument`) is the server's fault, not
the caller's, and like anything unexpected it is a logged 500 that says nothing about the
internals.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from shared import logs
from shared.api.auth import AuthenticationError
from shared.api.deps import ForbiddenError
from shared.api.ratelimit import RateLimitedError
from shared.domain.contacts import ImportTooLarge
from shared.domain.errors import (
    ConflictError,
    CorruptDocument,
    FieldError,
    NotFoundError,
    PermanentError,
    TransientError,
)

_log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"


class Problem(pydantic.BaseModel):
    """The error body of every non-2xx answer."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[dict[str, str]] = pydantic.Field(
        default_factory=list, description="one entry per invalid field: {field, reason}"
    )


def problem(
    status: int,
    title: str,
    detail: str = "",
    errors: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, errors=list(errors))
    return JSONResponse(
        body.model_dump(), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def _field(location: Sequence[Any]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path")]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "request"


def _pydantic_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    return [{"field": _field(error["loc"]), "reason": str(error["msg"])} for error in errors]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _request_invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = _pydantic_errors(error.errors())
        return problem(422, "Invalid request", "; ".join(e["field"] for e in errors), errors)

    @app.exception_handler(pydantic.ValidationError)
    async def _model_invalid(_: Request, error: pydantic.ValidationError) -> JSONResponse:
        errors = _pydantic_errors(error.errors())
        return problem(422, "Invalid request", "; ".join(e["field"] for e in errors), errors)

    @app.exception_handler(FieldError)
    async def _invalid(_: Request, error: FieldError) -> JSONResponse:
        return problem(
            422, "Invalid request", str(error), [{"field": error.field, "reason": error.reason}]
        )

    @app.exception_handler(ImportTooLarge)
    async def _too_large(_: Request, error: ImportTooLarge) -> JSONResponse:
        return problem(
            413, "Too large", str(error), [{"field": error.field, "reason": error.reason}]
        )

    @app.exception_handler(AuthenticationError)
    async def _unauthenticated(_: Request, error: AuthenticationError) -> JSONResponse:
        return problem(401, "Unauthenticated", str(error), headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(ForbiddenError)
    async def _forbidden(_: Request, error: ForbiddenError) -> JSONResponse:
        return problem(403, "Forbidden", str(error))

    @app.exception_handler(RateLimitedError)
    async def _throttled(_: Request, error: RateLimitedError) -> JSONResponse:
        headers = {"Retry-After": str(error.retry_after)}
        return problem(429, "Too many requests", str(error), headers=headers)

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, error: NotFoundError) -> JSONResponse:
        return problem(404, "Not found", str(error))

    @app.exception_handler(ConflictError)
    async def _conflict(_: Request, error: ConflictError) -> JSONResponse:
        return problem(409, "Conflict", str(error))

    @app.exception_handler(TransientError)
    async def _transient(_: Request, error: TransientError) -> JSONResponse:
        logs.log(_log, logging.WARNING, "API request failed transiently", error=str(error))
        return problem(503, "Try again", "a backing service is briefly unavailable")

    @app.exception_handler(CorruptDocument)
    async def _corrupt(_: Request, error: CorruptDocument) -> JSONResponse:
        # Not the caller's 422: the request was fine, the stored data is not.
        logs.log(
            _log,
            logging.ERROR,
            "stored document does not validate",
            document=error.path,
            fields=list(error.fields),
        )
        return problem(500, "Internal error", "the request could not be completed")

    @app.exception_handler(PermanentError)
    async def _permanent(_: Request, error: PermanentError) -> JSONResponse:
        logs.log(_log, logging.ERROR, "API request failed", error=str(error))
        return problem(500, "Internal error", "the request could not be completed")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, error: HTTPException) -> JSONResponse:
        headers = dict(error.headers) if error.headers else None
        return problem(error.status_code, str(error.detail), headers=headers)

    @app.exception_handler(Exception)
    async def _crash(_: Request, error: Exception) -> JSONResponse:
        _log.error("API request crashed", exc_info=error)
        return problem(500, "Internal error", "the request could not be completed")
