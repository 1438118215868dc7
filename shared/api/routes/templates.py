"""``/api/v1/templates``: the tenant's WhatsApp templates, and their sync from Meta."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from shared.api.audit import record_write
from shared.api.deps import Admin, Reader, Services
from shared.api.problems import MEDIA_TYPE
from shared.domain.approved_templates import ApprovedTemplate
from shared.services.template_sync import SyncReport, sync_templates
from shared.services.templates import approved_templates
from shared.whatsapp.templates_api import MetaRefused

router = APIRouter(prefix="/api/v1", tags=["templates"])
_META_REFUSED = {
    "description": "WhatsApp refused the template list (the token, or an account it cannot read)",
    "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


class TemplateList(BaseModel):
    items: list[ApprovedTemplate]


@router.get("/templates", response_model=TemplateList)
def list_templates(principal: Reader, services: Services) -> TemplateList:
    """The tenant's templates with Meta's ``status`` and ``category``. A campaign sends an
    APPROVED one that is ``on_meta`` as ``templates[].whatsapp_template {name, language}`` with
    ``content`` = the template's ``content`` and ``variables`` = its ``parameters``; a
    parameter no target field fills (``first_name``, ``name``, the voucher's ``voucherCode``,
    ``voucherValue``, ``voucherExpiresAt``) needs a value in ``variable_values``. Starting a
    campaign on one that is not APPROVED or no longer on the account is a 422 naming it."""
    return TemplateList(items=approved_templates(services.templates, principal.cnpj))


@router.post(
    "/templates/sync",
    response_model=SyncReport,
    summary="Sync the templates from the WhatsApp Business account",
    responses={502: _META_REFUSED},
)
def sync(principal: Admin, services: Services) -> SyncReport:
    """Reads the account's ``message_templates`` and stores each template with its status,
    category, components and parameter format; a stored template the account no longer lists
    is kept with ``on_meta: false``. Safe to repeat."""
    try:
        report = sync_templates(services.template_sync_ports(), principal.cnpj)
    except MetaRefused as error:
        raise HTTPException(502, str(error)) from None
    record_write(services, principal, "templates.sync", "templates", None, report.model_dump())
    return report
