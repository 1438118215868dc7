"""Dismissing an alert about a template (shown on Início, :mod:`shared.services.alerts`).

A dismissal is a write like any other: CSRF and the editor role (:func:`write_form`), audited
as ``alert.dismiss``. The alert itself is kept, only marked dismissed, so a redelivered
webhook does not bring it back.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import RedirectResponse, Response

from shared.api.audit import record_write
from shared.console.visit import SignedIn, write_form
from shared.services.alerts import dismiss_alert

router = APIRouter()
AlertId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/alertas/{alert_id}/dispensar")
async def dismiss(visit: SignedIn, alert_id: AlertId) -> Response:
    await write_form(visit)
    cnpj = visit.principal.cnpj
    dismiss_alert(visit.services.alerts, cnpj, alert_id, visit.principal.subject, visit.now)
    record_write(
        visit.services,
        visit.principal,
        "alert.dismiss",
        f"alerts/{alert_id}",
        {"dismissed": False},
        {"dismissed": True},
    )
    return RedirectResponse(visit.url("/#alertas"), status_code=303)
