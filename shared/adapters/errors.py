"""Which Google API failures are worth a retry. Shared by every adapter so they agree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from google.api_core import exceptions as api
from requests import exceptions as http

from shared.domain.errors import PermanentError, TransientError

TRANSIENT: tuple[type[BaseException], ...] = (
    api.ServerError,
    api.TooManyRequests,
    api.DeadlineExceeded,
    api.ServiceUnavailable,
    api.Aborted,
    api.RetryError,
    http.ConnectionError,
    http.Timeout,
    ConnectionError,
    TimeoutError,
)


@contextmanager
def translated(service: str) -> Iterator[None]:
    """Re-raise SDK failures as TransientError (retry later) or PermanentError (record, move on)."""
    try:
        yield
    except TRANSIENT as error:
        raise TransientError(f"{service} unavailable: {error}") from error
    except api.GoogleAPICallError as error:
        raise PermanentError(f"{service} rejected the request: {error}") from error
