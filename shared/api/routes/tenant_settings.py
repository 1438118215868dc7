"""``/api/v1/settings``: the tenant's own delivery settings (time zone, number, pace, caps).

Anyone of the tenant reads them; only an admin changes them, because they bind every campaign
at once and the daily cap guards the WhatsApp number itself (a cap above the number's messaging
tier gets messages refused and the number's quality rating lowered).
"""

from __future__ import annotations

from fastapi import APIRouter

from shared.api.audit import record_write
from shared.api.deps import Admin, Reader, Services
from shared.services import tenant_settings as service
from shared.services.tenant_settings import TenantSettings, TenantSettingsPatch

router = APIRouter(prefix="/api/v1", tags=["settings"])

RESOURCE = "settings"
"""The audit trail's name for these settings."""


@router.get("/settings", response_model=TenantSettings, summary="The tenant's delivery settings")
def get_settings(principal: Reader, services: Services) -> TenantSettings:
    return service.read_settings(services.tenants, principal.cnpj)


@router.patch(
    "/settings", response_model=TenantSettings, summary="Change some of the delivery settings"
)
def patch_settings(
    body: TenantSettingsPatch, principal: Admin, services: Services
) -> TenantSettings:
    """Only the fields sent change; a bad value is a 422 naming it, and then nothing changes."""
    before, after = service.change_settings(
        services.tenants, principal.cnpj, body, services.number_shares, services.consent_ports()
    )
    if after != before:
        record_write(
            services,
            principal,
            "settings.update",
            RESOURCE,
            before.model_dump(),
            after.model_dump(),
        )
    return after
