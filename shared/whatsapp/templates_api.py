"""HTTP client of Graph's ``GET /{WABA_ID}/message_templates``: every template of an account.

Graph pages the list (``data``, ``paging.next``); this follows ``next`` to the end, asking for
the fields the catalogue keeps. An unreachable Graph or a 5xx is a
:class:`~shared.domain.errors.TransientError` (try again); a refusal (a wrong token, an account
the token cannot read) is :class:`MetaRefused` with Meta's code and message, which the caller
shows: retrying would not help.
"""

from __future__ import annotations

from typing import Any

import requests

from shared.domain.errors import TransientError

FIELDS = "id,name,language,status,category,components,parameter_format,quality_score"
PAGE_SIZE = 100
MAX_PAGES = 100
"""10,000 templates: far above Meta's per-account limit (250 for an unverified business)."""
DEFAULT_TIMEOUT_SECONDS = (3.05, 30.0)


class MetaRefused(Exception):
    def __init__(self, http_status: int, code: int | None, message: str) -> None:
        super().__init__(f"WhatsApp refused the template list ({code}): {message}")
        self.http_status, self.code, self.message = http_status, code, message


class MetaTemplateSource:
    def __init__(
        self,
        base_url: str,
        version: str,
        access_token: str,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._version = version
        self._token = access_token
        self._timeout = timeout
        self._session = session or requests.Session()

    def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the account, in Graph's order."""
        url: str | None = f"{self._base_url}/{self._version}/{waba_id}/message_templates"
        params: dict[str, Any] | None = {"fields": FIELDS, "limit": PAGE_SIZE}
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return found
            page = self._get(url, params)
            found += [t for t in page.get("data") or [] if isinstance(t, dict)]
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            url, params = (paging or {}).get("next"), None  # ``next`` carries its own query
        raise TransientError(f"the template list of {waba_id} has more than {MAX_PAGES} pages")

    def _get(self, url: str, params: dict[str, Any] | None) -> dict[str, Any]:
        try:
            response = self._session.get(
                url,
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            raise TransientError(f"WhatsApp unreachable: {type(error).__name__}") from error
        try:
            payload = response.json()
        except ValueError:
            payload = {}
        payload = payload if isinstance(payload, dict) else {}
        if response.status_code >= 500:
            raise TransientError(f"WhatsApp answered {response.status_code}")
        if not response.ok:
            found = payload.get("error")
            refusal: dict[str, Any] = found if isinstance(found, dict) else {}
            code = refusal.get("code") if isinstance(refusal.get("code"), int) else None
            raise MetaRefused(response.status_code, code, str(refusal.get("message", ""))[:300])
        return payload
