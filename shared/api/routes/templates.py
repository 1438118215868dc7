"""``/api/v1/templates``: the approved WhatsApp templates a campaign can use."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from shared.api.deps import Reader, Services
from shared.domain.approved_templates import ApprovedTemplate
from shared.services.templates import approved_templates

router = APIRouter(prefix="/api/v1", tags=["templates"])


class TemplateList(BaseModel):
    items: list[ApprovedTemplate]


@router.get("/templates", response_model=TemplateList)
def list_templates(principal: Reader, services: Services) -> TemplateList:
    """The tenant's approved templates. A campaign sends one as
    ``templates[].whatsapp_template {name, language}`` with ``content`` = the template's
    ``content`` and ``variables`` = its ``parameters``; a parameter no target field fills
    (``first_name``, ``name``, the voucher's ``voucherCode``, ``voucherValue``,
    ``voucherExpiresAt``) needs a value in ``variable_values``."""
    return TemplateList(items=approved_templates(services.templates, principal.cnpj))
