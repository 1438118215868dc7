"""Nova campanha: the guided form (audience, message and voucher, when, A/B test, review).

One HTML form whose steps are shown one at a time; each "Próximo" posts the whole form and the
server validates the campaign so far with the API's own models and rules
(:mod:`shared.console.campaign_form`), so it works without JavaScript. htmx only enhances it:
the audience's estimate and sample, and the message's preview, update as they are edited, from
the same services as ``POST /api/v1/segments/estimate``, ``/sample`` and ``/forecast``. Nothing
is stored until "Salvar como rascunho" or "Iniciar", and then only a campaign that passed every
check (a campaign made here can always be started).

The estimate is a BigQuery query, so the page's first answer does not wait for it: the form
comes at once and the estimate follows as a fragment (``GET /publico``). A post, which a person
makes on purpose ("Atualizar estimativa", "Próximo"), still shows it in the page, so without
JavaScript the estimate is one button away, and the review always shows it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import pydantic
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from shared.api.audit import record_write
from shared.console import campaign_form as form
from shared.console.templating import render
from shared.console.visit import Refused, SignedIn, Visit, write_form
from shared.domain.approved_templates import ApprovedTemplate
from shared.domain.campaign import CampaignCreate
from shared.domain.errors import ConflictError, FieldError
from shared.domain.message_parts import shape_of
from shared.domain.segmentation import FIELDS, Operator
from shared.domain.vouchers import Voucher, VoucherConfig
from shared.services import campaign_review as review
from shared.services import campaigns as service
from shared.services.campaign_review import Forecast, SampleMember
from shared.services.message_checks import approved_components
from shared.services.message_preview import MessagePreview, preview
from shared.services.templates import approved_templates

router = APIRouter(prefix="/campanhas/nova")
_log = logging.getLogger(__name__)

SAMPLE_SIZE = 5
EXAMPLE_CODE = "7K2M9QXD"
"""The voucher code a preview shows: each customer gets a code of their own when it is sent."""

Variant = Annotated[str, Query(pattern="^[ab]$")]


@dataclass
class Audience:
    count: int | None = None
    sample: list[SampleMember] = field(default_factory=list)
    problem: str | None = None
    failed: bool = False
    """The estimate could not be had (the store failed): said in place, the form still works."""


@dataclass
class Bubble:
    variant: str
    text: str | None = None
    to: SampleMember | None = None
    problem: str | None = None
    rich: MessagePreview | None = None
    """Header, footer and buttons as WhatsApp draws them (the same preview as the API's)."""


@dataclass
class Message:
    """One variant's chosen template, the inputs its variables need, and its preview."""

    variant: str
    template: ApprovedTemplate | None
    free: list[str]
    fixed: list[str]
    bubble: Bubble


@router.get("")
def new_campaign(visit: SignedIn) -> Response:
    if not visit.can_write:
        raise Refused("role")
    return _page(visit, {}, form.AUDIENCE, {}, estimate_later=True)


@router.get("/publico")
def first_audience_fragment(visit: SignedIn) -> Response:
    """The estimate and sample of a fresh form's audience (everyone), loaded after the page."""
    if not visit.can_write:
        raise Refused("role")
    audience = _audience(visit, {})
    return render(visit.request, "_campaign_new_audience.html", visit, audience=audience)


@router.post("")
async def submit(visit: SignedIn) -> Response:
    posted = await write_form(visit)
    return await run_in_threadpool(_submit, visit, form.values_of(posted.multi_items()))


@router.post("/publico")
async def audience_fragment(visit: SignedIn) -> Response:
    """The estimate and sample, re-rendered alone as the audience is edited."""
    posted = await write_form(visit)
    values = form.values_of(posted.multi_items())
    audience = await run_in_threadpool(_audience, visit, values)
    return render(visit.request, "_campaign_new_audience.html", visit, audience=audience)


@router.post("/mensagem")
async def message_fragment(visit: SignedIn, variante: Variant = "a") -> Response:
    """A variant's variables and preview, when its template changes."""
    posted = await write_form(visit)
    values = form.values_of(posted.multi_items())
    message = await run_in_threadpool(_message, visit, values, variante)
    return render(
        visit.request,
        "_campaign_new_message.html",
        visit,
        message=message,
        form={**form.DEFAULTS, **values},
        errors={},
    )


@router.post("/previa")
async def preview_fragment(visit: SignedIn, variante: Variant = "a") -> Response:
    """The preview bubble alone, as the variables or the voucher are edited."""
    posted = await write_form(visit)
    values = form.values_of(posted.multi_items())
    message = await run_in_threadpool(_message, visit, values, variante)
    return render(visit.request, "_bubble.html", visit, bubble=message.bubble)


# -- the form's posts ------------------------------------------------------------------------


def _submit(visit: Visit, values: dict[str, str]) -> Response:
    current = _step(values.get("passo", ""), form.AUDIENCE)
    action = values.get("acao", "")
    if action == "filtro-mais":
        form.add_filter_row(values)
        return _page(visit, values, form.AUDIENCE, {})
    if action in ("salvar", "iniciar"):
        return _finish(visit, values, start=action == "iniciar")
    target = _step(values.get("ir", ""), current)
    if target <= current:  # back, or the same step again (no-JS refresh): nothing to check
        return _page(visit, values, target, {})
    checked = form.check(values, _catalogue(visit), _zone(visit), visit.now, upto=current)
    if checked.errors:
        return _page(visit, values, checked.first_step() or 0, checked.errors, status=422)
    return _page(visit, values, current + 1, {})


def _finish(visit: Visit, values: dict[str, str], *, start: bool) -> Response:
    moment = visit.now
    checked = form.check(values, _catalogue(visit), _zone(visit), moment, upto=form.REVIEW)
    if checked.body is None:
        step = checked.first_step()
        return _page(visit, values, form.REVIEW if step is None else step, checked.errors, 422)
    ports = visit.services.campaign_ports()
    cnpj = visit.principal.cnpj
    campaign = service.create_campaign(ports, cnpj, visit.principal.subject, checked.body, moment)
    record_write(
        visit.services,
        visit.principal,
        "campaign.create",
        f"campaigns/{campaign.id}",
        None,
        campaign.model_dump(mode="json"),
    )
    if start:
        try:
            before, after, _ = service.change_status(ports, cnpj, campaign.id, "start", moment)
        except (ConflictError, FieldError):
            # Checked above, so only a race can refuse it: the draft stays, its page can start it.
            return RedirectResponse(visit.url(f"/campanhas/{campaign.id}"), status_code=303)
        record_write(
            visit.services,
            visit.principal,
            "campaign.start",
            f"campaigns/{campaign.id}",
            before.model_dump(mode="json"),
            after.model_dump(mode="json"),
        )
    return RedirectResponse(visit.url(f"/campanhas/{campaign.id}"), status_code=303)


def _page(
    visit: Visit,
    values: dict[str, str],
    step: int,
    errors: dict[str, str],
    status: int = 200,
    *,
    estimate_later: bool = False,
) -> Response:
    """The form at ``step``; ``estimate_later``: the page loads the estimate once it is shown."""
    catalogue = _catalogue(visit)
    forecast: Forecast | None = None
    body: CampaignCreate | None = None
    if step == form.REVIEW:
        checked = form.check(values, catalogue, _zone(visit), visit.now, upto=form.REVIEW)
        first = checked.first_step()
        if first is not None and first < form.REVIEW:  # a refresh with a broken earlier step
            return _page(visit, values, first, checked.errors, 422)
        errors = {**checked.errors, **errors}
        body = checked.body
        if body is not None:
            ports = visit.services.campaign_ports()
            forecast = review.forecast(ports, visit.principal.cnpj, body, visit.now)
        elif status == 200:
            status = 422
    return render(
        visit.request,
        "campaign_new.html",
        visit,
        status=status,
        step=step,
        steps=form.STEPS,
        form={**form.DEFAULTS, **values},
        errors=errors,
        templates=list(catalogue.values()),
        rows=form.filter_rows(values),
        fields=list(FIELDS),
        operators=[op.value for op in Operator],
        audience=None if estimate_later else _audience_at(visit, values, step),
        message_a=_message(visit, values, "a", catalogue, live=step in (form.MESSAGE, form.REVIEW)),
        message_b=_message(visit, values, "b", catalogue, live=step == form.AB),
        forecast=forecast,
        body=body,
    )


# -- the live parts --------------------------------------------------------------------------


def _audience_at(visit: Visit, values: dict[str, str], step: int) -> Audience:
    """The estimate in the page itself: on the audience step only (the review has its own)."""
    return _audience(visit, values) if step == form.AUDIENCE else Audience()


def _audience(visit: Visit, values: dict[str, str]) -> Audience:
    segmentation, errors = form.audience(values, _zone(visit))
    if segmentation is None:
        return Audience(problem=next(iter(errors.values()), None))
    ports = visit.services.campaign_ports()
    moment = visit.now
    try:
        count = service.estimate_audience(ports, visit.principal.cnpj, segmentation, moment)
        sample = review.sample(ports, visit.principal.cnpj, segmentation, moment, SAMPLE_SIZE)
    except Exception:  # the estimate is a part of the page: it says so in place
        _log.exception("audience estimate failed")
        return Audience(failed=True)
    return Audience(count=count, sample=sample)


def _message(
    visit: Visit,
    values: dict[str, str],
    variant: str,
    catalogue: dict[str, ApprovedTemplate] | None = None,
    live: bool = True,
) -> Message:
    key = form.value(values, "template" if variant == "a" else "template_b")
    template = (catalogue if catalogue is not None else _catalogue(visit)).get(key)
    free = form.free_parameters(template)
    fixed = [p for p in (template.parameters if template else []) if p not in free]
    bubble = Bubble(variant)
    if template is None:
        bubble.problem = "Escolha um modelo para ver a prévia."
    elif live:
        bubble = _bubble(visit, values, variant, template)
    return Message(variant, template, free, fixed, bubble)


def _bubble(
    visit: Visit, values: dict[str, str], variant: str, template: ApprovedTemplate
) -> Bubble:
    """The template as the first customer of the audience would read it (sample values for
    what is only known when it is sent, such as the voucher's code)."""
    bubble = Bubble(variant)
    segmentation, _ = form.audience(values, _zone(visit))
    if segmentation is not None:
        sample = review.sample(
            visit.services.campaign_ports(), visit.principal.cnpj, segmentation, visit.now, 1
        )
        bubble.to = sample[0] if sample else None
    name = bubble.to.name if bubble.to else "Maria Silva"
    filled = {"name": name.strip(), "first_name": bubble.to.first_name if bubble.to else "Maria"}
    filled |= _voucher_example(values, visit.tenant.timezone, visit.now)
    try:
        message = template.message_template(variable_values=form.variables(values, variant))
    except pydantic.ValidationError:
        bubble.problem = "Algum valor preenchido é longo demais (máximo 1.024 caracteres)."
        return bubble
    bubble.rich = preview(message, approved_components(template), values=filled)
    bubble.text = bubble.rich.body
    return bubble


def _voucher_example(values: dict[str, str], timezone: str, issued: datetime) -> dict[str, str]:
    if form.value(values, "cupom") != "on":
        return {}
    try:
        config = VoucherConfig.model_validate(form.voucher(values))
    except pydantic.ValidationError:
        return {}
    example = Voucher(
        code=EXAMPLE_CODE,
        campaign_id="",
        target_path="",
        kind=config.kind,
        value=config.value,
        issued_at=issued,
        expires_at=config.expires_at(issued, timezone),
        timezone=timezone,
    )
    return example.template_fields()


# -- helpers ---------------------------------------------------------------------------------


def _catalogue(visit: Visit) -> dict[str, ApprovedTemplate]:
    """The templates a new campaign may choose: those WhatsApp would send now (APPROVED and
    still on the account) and the form can fill, so it never offers one whose start would be
    refused. The form has no media or URL-suffix inputs yet: a template with a media header, a
    text header parameter or a dynamic URL button is made through the API (a copy-code button
    is filled by the voucher)."""
    templates = approved_templates(visit.services.templates, visit.principal.cnpj)
    return {t.key: t for t in templates if t.unusable_reason is None and _fillable(t)}


def _fillable(template: ApprovedTemplate) -> bool:
    shape = shape_of(approved_components(template))
    return not shape.needs_header and not any(b.dynamic for b in shape.buttons)


def _zone(visit: Visit) -> ZoneInfo:
    return ZoneInfo(visit.tenant.timezone)


def _step(text: str, default: int) -> int:
    try:
        step = int(text)
    except ValueError:
        return default
    return step if 0 <= step < len(form.STEPS) else default
