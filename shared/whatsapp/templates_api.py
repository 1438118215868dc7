"""HTTP client of Graph's ``GET /{WABA_ID}/message_templates``: every template of an account.

Graph pages the list (``data``, ``paging.next``); this follows ``next`` to the end, asking for
the fields the catalogue keeps. An unreachable Graph or a 5xx is a
:class:`~shared.domain.errors.TransientError` (try again); a refusal (a wrong token, an account
the token cannot read) is :class:`MetaRefused` (:mod:`shared.whatsapp.graph`).
"""

from __future__ import annotations

from typing import Any

from shared.domain.errors import TransientError
from shared.whatsapp.graph import GraphClient, GraphRefused

FIELDS = "id,name,language,status,category,components,parameter_format,quality_score"
PAGE_SIZE = 100
MAX_PAGES = 100
"""10,000 templates: far above Meta's per-account limit (250 for an unverified business)."""
DEFAULT_TIMEOUT_SECONDS = (3.05, 30.0)


class MetaRefused(GraphRefused):
    what = "the template list"


class MetaTemplateSource(GraphClient):
    default_timeout = DEFAULT_TIMEOUT_SECONDS

    def list_templates(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the account, in Graph's order."""
        url: str | None = self._url(waba_id, "message_templates")
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
        return self._json("GET", url, MetaRefused, params=params)
