"""Campanhas automáticas: the four built-in campaigns, each explained in a plain sentence.

Each is a campaign of the API (``GET/PATCH /api/v1/campaigns/{KIND}``) and is edited through
the same service call as that PATCH: the run hour is its daily ``recurrence.hour``, on/off is
the PATCH's ``enabled`` (running or paused), and the thresholds are checked by the kind's own
settings model. The form's field names are the API's field paths, so an error lands beside the
field it names, and one PATCH is one transaction: a bad field saves nothing.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from shared.api.audit import record_write
from shared.console.forms import field_errors
from shared.console.templating import render
from shared.console.visit import SignedIn, Visit, form_text, write_form
from shared.domain.campaign import Campaign, CampaignPatch, CampaignStatus
from shared.domain.campaign_ids import BUILT_IN_KINDS
from shared.domain.campaign_settings import CampaignSettings
from shared.domain.errors import ConflictError, FieldError, NotFoundError
from shared.services import campaigns as service
from shared.services.templates import approved_templates

router = APIRouter(prefix="/automaticas")

EDITABLE_THRESHOLDS = {
    "BIRTHDAY": (),
    "WELCOME": ("days_after_signup",),
    "REACTIVATION": ("min_day_of_month", "inactive_days", "lookback_days"),
    "LOYALTY": ("min_visits", "window_months"),
}
"""The numbers an owner tunes; the others (loyalty tiers, a legacy fixed voucher code) are kept
as they are and shown."""

HINTS = {
    "send_window": "O fim da janela deve ser depois do início.",
    "send_window.start": "Use o formato HH:MM, por exemplo 09:00.",
    "send_window.end": "Use o formato HH:MM, por exemplo 18:00.",
    "voucher.value": "Percentual: até 100; valor em reais: até 100.000; no máximo dois decimais.",
}
"""Portuguese for the model rules that have no generic wording (see ``field_errors``)."""


def _settings(campaign: Campaign) -> CampaignSettings:
    """The campaign as its kind reads it, defaults filled in (for the sentence and the form)."""
    return campaign.pipeline


def _template_index(campaign: Campaign) -> int:
    """The template that is sent: the first one mapped to an approved WhatsApp template."""
    for index, template in enumerate(campaign.templates):
        if template.whatsapp_template is not None:
            return index
    return 0


def _form_values(campaign: Campaign, settings: CampaignSettings) -> dict[str, str]:
    index = _template_index(campaign)
    approved = campaign.templates[index].whatsapp_template if campaign.templates else None
    values = {
        "enabled": "on" if campaign.status == CampaignStatus.RUNNING else "",
        "recurrence.hour": str(settings.run_hour),
        "send_window.start": settings.send_window.start.strftime("%H:%M"),
        "send_window.end": settings.send_window.end.strftime("%H:%M"),
        f"templates.{index}.whatsapp_template.name": approved.name if approved else "",
        f"templates.{index}.whatsapp_template.language": approved.language if approved else "",
        "voucher.kind": campaign.voucher.kind if campaign.voucher else "",
        "voucher.value": f"{campaign.voucher.value:g}" if campaign.voucher else "",
        "voucher.validity_days": str(campaign.voucher.validity_days if campaign.voucher else 30),
    }
    for name in EDITABLE_THRESHOLDS[campaign.id]:
        value = campaign.thresholds.get(name)
        values[f"thresholds.{name}"] = "" if value is None else str(value)
    return values


def _patch(campaign: Campaign, form: FormData) -> dict[str, Any]:
    """The PATCH body the form means. A threshold left blank takes the kind's default."""
    thresholds = {
        name: value
        for name, value in campaign.thresholds.items()
        if name not in EDITABLE_THRESHOLDS[campaign.id]
    }
    for name in EDITABLE_THRESHOLDS[campaign.id]:
        text = form_text(form, f"thresholds.{name}")
        if text:
            thresholds[name] = text
    index = _template_index(campaign)
    templates = [t.model_dump() for t in campaign.templates]
    template_name = form_text(form, f"templates.{index}.whatsapp_template.name")
    approved = {
        "name": template_name,
        "language": form_text(form, f"templates.{index}.whatsapp_template.language"),
    }
    if templates:
        templates[index] = {
            **templates[index],
            "name": template_name or templates[index]["name"],
            "whatsapp_template": approved,
        }
    voucher_kind = form_text(form, "voucher.kind")
    return {
        "enabled": form_text(form, "enabled") == "on",
        "recurrence": {"frequency": "daily", "hour": form_text(form, "recurrence.hour")},
        "send_window": {
            "start": form_text(form, "send_window.start"),
            "end": form_text(form, "send_window.end"),
        },
        "thresholds": thresholds,
        "templates": templates,
        "voucher": {
            "kind": voucher_kind,
            "value": form_text(form, "voucher.value").replace(",", "."),
            "validity_days": form_text(form, "voucher.validity_days"),
        }
        if voucher_kind
        else None,
    }


def _campaign(visit: Visit, kind: str) -> Campaign:
    return service.get_campaign(visit.services.campaign_ports(), visit.principal.cnpj, kind)


@router.get("")
def automatic_list(visit: SignedIn, salvo: str | None = None) -> Response:
    campaigns = [_campaign(visit, kind) for kind in BUILT_IN_KINDS]
    return render(
        visit.request,
        "automatic.html",
        visit,
        cards=[(campaign, _settings(campaign)) for campaign in campaigns],
        editable=EDITABLE_THRESHOLDS,
        saved=salvo if salvo in BUILT_IN_KINDS else None,
    )


@router.get("/{kind}")
def automatic_form(visit: SignedIn, kind: str) -> Response:
    campaign = _campaign(visit, _built_in(kind))
    settings = _settings(campaign)
    return _form(visit, campaign, settings, _form_values(campaign, settings), {})


@router.post("/{kind}")
async def automatic_save(visit: SignedIn, kind: str) -> Response:
    form = await write_form(visit)
    kind = _built_in(kind)
    campaign = await run_in_threadpool(_campaign, visit, kind)
    settings = _settings(campaign)
    submitted = {name: form_text(form, name) for name in _form_values(campaign, settings)}
    try:
        patch = CampaignPatch.model_validate(_patch(campaign, form))
        before, after = await run_in_threadpool(
            service.patch_campaign,
            visit.services.campaign_ports(),
            visit.principal.cnpj,
            kind,
            patch,
            visit.now,
        )
    except pydantic.ValidationError as error:
        return _form(visit, campaign, settings, submitted, field_errors(error, HINTS), 422)
    except FieldError as error:
        errors = {error.field: f"Valor inválido: {error.reason}."}
        return _form(visit, campaign, settings, submitted, errors, 422)
    except ConflictError as error:
        problem = f"Esta campanha não pode ser alterada agora ({error})."
        return _form(visit, campaign, settings, submitted, {"formulário": problem}, 409)
    await run_in_threadpool(
        record_write,
        visit.services,
        visit.principal,
        "campaign.update",
        f"campaigns/{kind}",
        before.model_dump(mode="json"),
        after.model_dump(mode="json"),
    )
    return RedirectResponse(visit.url(f"/automaticas?salvo={kind}#{kind}"), status_code=303)


def _built_in(kind: str) -> str:
    """Only the four built-in kinds live here; any other address is a plain 404 page."""
    if kind not in BUILT_IN_KINDS:
        raise NotFoundError(f"no automatic campaign {kind!r}")
    return kind


def _form(
    visit: Visit,
    campaign: Campaign,
    settings: CampaignSettings,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        visit.request,
        "automatic_form.html",
        visit,
        status=status,
        campaign=campaign,
        settings=settings,
        values=values,
        errors=errors,
        editable=EDITABLE_THRESHOLDS[campaign.id],
        template_index=_template_index(campaign),
        approved_names=sorted(
            {t.name for t in approved_templates(visit.services.templates, visit.principal.cnpj)}
        ),
        hours=range(24),
    )
