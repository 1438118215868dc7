"""Configurações: the tenant's delivery settings, validated by the API's own models.

Read and changed through the same service as ``GET``/``PATCH /api/v1/settings``; what each
setting means is its description in that model. Like the API, only an admin changes them: they
bind every campaign at once, and the daily cap guards the WhatsApp number itself.
"""

from __future__ import annotations

import pydantic
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from shared.api.audit import record_write
from shared.api.auth import Role
from shared.api.routes.tenant_settings import RESOURCE
from shared.console.forms import field_errors
from shared.console.templating import render
from shared.console.visit import SignedIn, Visit, form_text, write_form
from shared.services import tenant_settings as service
from shared.services.tenant_settings import MEANINGS, TenantSettings, TenantSettingsPatch

router = APIRouter(prefix="/configuracoes")

FIELDS = tuple(TenantSettings.model_fields)

HINTS = {
    "timezone": "Fuso horário desconhecido: use um nome da lista, como America/Sao_Paulo.",
    "phone_number_id": "Use só os dígitos do identificador do número (até 32), ou deixe vazio.",
    "business_account_id": "Use só os dígitos do identificador da conta (até 32), ou deixe vazio.",
    "messages_per_minute": "Acima do que o número de WhatsApp aguenta (o teto dele, em mensagens "
    "por segundo, vezes 60): o WhatsApp recusaria o excesso.",
    "messages_per_day": "Acima do limite diário do número de WhatsApp (o nível de mensagens que "
    "a Meta deu a ele): o WhatsApp recusaria o excesso.",
}
"""Portuguese for the rules that have no generic wording (see ``field_errors``)."""

BRAZILIAN_ZONES = (
    "America/Sao_Paulo",
    "America/Bahia",
    "America/Fortaleza",
    "America/Recife",
    "America/Maceio",
    "America/Belem",
    "America/Araguaina",
    "America/Santarem",
    "America/Manaus",
    "America/Cuiaba",
    "America/Campo_Grande",
    "America/Porto_Velho",
    "America/Boa_Vista",
    "America/Rio_Branco",
    "America/Eirunepe",
    "America/Noronha",
)
"""Suggestions for the time zone field (any IANA zone is accepted, as by the API)."""


@router.get("")
def settings_page(visit: SignedIn, salvo: str | None = None) -> Response:
    current = service.read_settings(visit.services.tenants, visit.principal.cnpj)
    values = {
        name: f"{value:g}" if isinstance(value, float) else str(value)
        for name, value in current.model_dump().items()
    }
    return _page(visit, current, values, {}, saved=salvo is not None)


@router.post("")
async def settings_save(visit: SignedIn) -> Response:
    form = await write_form(visit, needs=Role.ADMIN)
    values = {name: form_text(form, name) for name in FIELDS}
    values["delay_between_messages_seconds"] = values["delay_between_messages_seconds"].replace(
        ",", "."
    )
    try:
        patch = TenantSettingsPatch.model_validate(values)
        before, after = await run_in_threadpool(
            service.change_settings,
            visit.services.tenants,
            visit.principal.cnpj,
            patch,
            visit.services.number_shares,
            visit.services.consent_ports(),
        )
    except pydantic.ValidationError as error:
        current = await run_in_threadpool(
            service.read_settings, visit.services.tenants, visit.principal.cnpj
        )
        return _page(visit, current, values, field_errors(error, HINTS), status=422)
    if after != before:
        await run_in_threadpool(
            record_write,
            visit.services,
            visit.principal,
            "settings.update",
            RESOURCE,
            before.model_dump(),
            after.model_dump(),
        )
    return RedirectResponse(visit.url("/configuracoes?salvo=1"), status_code=303)


def _page(
    visit: Visit,
    current: TenantSettings,
    values: dict[str, str],
    errors: dict[str, str],
    saved: bool = False,
    status: int = 200,
) -> Response:
    return render(
        visit.request,
        "settings.html",
        visit,
        status=status,
        current=current,
        values=values,
        errors=errors,
        meanings=MEANINGS,
        zones=BRAZILIAN_ZONES,
        saved=saved,
    )
