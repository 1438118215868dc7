"""A trivial authenticated endpoint: the baseline the API benchmark compares every route with."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from shared.api.deps import Reader

router = APIRouter(prefix="/api/v1", tags=["health"])


class WhoAmI(BaseModel):
    cnpj: str
    subject: str
    role: str


@router.get("/whoami", response_model=WhoAmI, summary="The caller as the API sees it")
def whoami(principal: Reader) -> WhoAmI:
    return WhoAmI(cnpj=principal.cnpj.value, subject=principal.subject, role=principal.role.value)
