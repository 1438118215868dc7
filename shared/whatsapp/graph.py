"""What every client of Meta's Graph API here shares: the address, the version, the token.

The send client (:mod:`shared.whatsapp.client`), the template list
(:mod:`shared.whatsapp.templates_api`) and the media upload (:mod:`shared.whatsapp.media_api`)
each talk to one Graph version with one access token over one keep-alive session. The two that
answer with JSON or an exception also share how an answer is read: unreachable or 5xx is a
:class:`~shared.domain.errors.TransientError` (try again); any other refusal is a
:class:`GraphRefused` carrying Meta's code and message, which the caller shows, since retrying
would not help. The send client reads answers its own way: it must tell whether a request could
have reached Meta, and it decides nothing.
"""

from __future__ import annotations

from typing import Any

import requests

from shared.domain.errors import TransientError


class GraphRefused(Exception):
    """Graph refused the request (a 4xx with Meta's error)."""

    what = "the request"

    def __init__(self, http_status: int, code: int | None, message: str) -> None:
        super().__init__(f"WhatsApp refused {self.what} ({code}): {message}")
        self.http_status, self.code, self.message = http_status, code, message


class GraphClient:
    default_timeout: tuple[float, float] = (3.05, 30.0)
    """(connect, read) in seconds; each client sets its own read timeout."""

    def __init__(
        self,
        base_url: str,
        version: str,
        access_token: str,
        timeout: tuple[float, float] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._version = version
        self._token = access_token
        self._timeout = timeout or self.default_timeout
        self._session = session or requests.Session()

    def _url(self, *path: str) -> str:
        return "/".join((self._base_url, self._version, *path))

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _json(
        self, method: str, url: str, refused: type[GraphRefused], **request: Any
    ) -> dict[str, Any]:
        """The answer's JSON object ({} when it has none), or the error it stands for."""
        try:
            response = self._session.request(
                method, url, headers=self._headers(), timeout=self._timeout, **request
            )
        except requests.RequestException as error:
            raise TransientError(f"WhatsApp unreachable: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise TransientError(f"WhatsApp answered {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        if not response.ok:
            found = payload.get("error")
            refusal: dict[str, Any] = found if isinstance(found, dict) else {}
            code = refusal.get("code") if isinstance(refusal.get("code"), int) else None
            raise refused(response.status_code, code, str(refusal.get("message", ""))[:300])
        return payload
