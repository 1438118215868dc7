"""HTTP client of the Cloud API's /messages endpoint, reduced to a :class:`SendResult`.

It decides nothing: it only reports what happened, including the one fact that matters most
for exactly-once sending — whether the request could have reached Meta. A refused or
timed-out *connection* means nothing was sent; a read timeout or a dropped connection after
the request was written means it may have been.
"""

from __future__ import annotations

from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from shared.whatsapp.graph import GraphClient
from shared.whatsapp.outcomes import SendResult

DEFAULT_TIMEOUT_SECONDS = (3.05, 15.0)
"""(connect, read): a template send answers in well under a second when Meta is healthy."""


class WhatsAppClient(GraphClient):
    default_timeout = DEFAULT_TIMEOUT_SECONDS

    def send(self, phone_number_id: str, body: dict[str, Any]) -> SendResult:
        try:
            response = self._session.post(
                self._url(phone_number_id, "messages"),
                json=body,
                headers=self._headers(),
                timeout=self._timeout,
            )
        except requests.ConnectTimeout:
            return SendResult(None, error_reason="connect timeout", request_left=False)
        except requests.ConnectionError as error:
            left = not _refused_before_sending(error)
            return SendResult(None, error_reason=type(error).__name__, request_left=left)
        except requests.Timeout:
            return SendResult(None, error_reason="read timeout", request_left=True)
        return _result(response)


def _refused_before_sending(error: requests.ConnectionError) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, NewConnectionError | ConnectTimeoutError):
            return True
        reason = getattr(cause, "reason", None)
        cause = reason if isinstance(reason, BaseException) else cause.__context__
    return False


def _result(response: requests.Response) -> SendResult:
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    if response.ok:
        messages = payload.get("messages") or [{}]
        return SendResult(response.status_code, wamid=str(messages[0].get("id", "")))
    error = payload.get("error") or {}
    code = error.get("code")
    details = (error.get("error_data") or {}).get("details") or error.get("message") or ""
    return SendResult(
        response.status_code,
        error_code=_code(code),
        error_reason=str(details)[:500],
    )


def _code(value: object) -> int | None:
    """Graph's ``error.code`` (an int; tolerate a numeric string, ignore anything else)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None
