"""``/api/v1/alerts``: what WhatsApp decided about the tenant's templates that needs the owner."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from shared.api.deps import Reader, Services
from shared.domain.alerts import Alert
from shared.services.alerts import open_alerts

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class AlertList(BaseModel):
    items: list[Alert]


@router.get("/alerts", response_model=AlertList)
def list_alerts(principal: Reader, services: Services) -> AlertList:
    """Open alerts, newest first: a template PAUSED, DISABLED (its running campaigns paused:
    ``campaigns_paused``), REJECTED or FLAGGED (``kind: template_status``); its quality down to
    YELLOW or RED (``template_quality``); its category changed (``template_category``;
    ``announced``: Meta changes it in 24 h). Dismissed ones are left out (the console dismisses)."""
    return AlertList(items=open_alerts(services.alerts, principal.cnpj))
