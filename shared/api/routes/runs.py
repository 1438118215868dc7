"""``GET /api/v1/runs``: the tenant's recent targeting runs, newest first.

One run per tick (hourly) that reached the tenant, with each campaign's outcome: how many
customers its query found, how many messages it created, how many it skipped and why, or why
it did not run. Paged with an opaque token; ``local_date`` keeps one local day's runs.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.api import paging
from shared.api.deps import Reader, Services
from shared.domain.errors import FieldError
from shared.services.runs import Run, recent_runs

router = APIRouter(prefix="/api/v1", tags=["runs"])

LISTING = "runs1"
MAX_PAGE_SIZE = 100


class RunPage(BaseModel):
    items: list[Run]
    next_page_token: str | None = Field(
        default=None, description="pass as `page_token` for the next page; null on the last"
    )


@router.get("/runs", response_model=RunPage, summary="Recent targeting runs, newest first")
def list_runs(
    principal: Reader,
    services: Services,
    local_date: Annotated[
        date | None, Query(description="only the runs of this local day of the tenant")
    ] = None,
    page_size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    page_token: Annotated[str | None, Query(max_length=300)] = None,
) -> RunPage:
    after = paging.item_id(LISTING, page_token) if page_token is not None else None
    try:
        runs, last = recent_runs(
            services.runs, principal.cnpj, local_date=local_date, after=after, limit=page_size
        )
    except KeyError as error:
        raise FieldError(paging.FIELD, "not a token from this listing") from error
    return RunPage(
        items=runs, next_page_token=paging.token(LISTING, last) if last is not None else None
    )
