"""Contatos: find a person, see them, tag them, export or erase them; the opt-outs; imports.

Every page calls the same services as the REST API (``shared.services.people`` for people,
``shared.services.contacts`` for imports), so a number, a rule or a refusal exists once. Phones
are masked on every page; only the JSON export (a download the audit trail records, like the
API's) holds them in clear. The import reports each bad row with its line; the good rows land.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

import pydantic
from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from shared.api.audit import record_write
from shared.console.forms import field_errors
from shared.console.pages.home import loaded, state_of
from shared.console.templating import render
from shared.console.visit import Refused, SignedIn, Visit, form_text, write_form
from shared.domain.contacts import (
    MAX_FILE_BYTES,
    ImportOptions,
    JsonImportRequest,
    MergeStrategy,
)
from shared.domain.errors import ConflictError, FieldError
from shared.services import consent, people
from shared.services.contacts import ImportReport, import_file, import_json

router = APIRouter(prefix="/contatos")
_log = logging.getLogger(__name__)

FIELD_LABELS = {"file": "Arquivo", "merge_strategy": "Se o contato já existe", "tags": "Etiquetas"}
PAGE_SIZE = 25
OPT_OUT_PAGE_SIZE = 50
PersonId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:@-]{1,128}$")]
RESULTS_ID = "resultados"
"""The id of the element that holds the list (its own load does not change the address)."""
BUSY = "Outra alteração dos contatos está em andamento. Tente de novo em um minuto."


@router.get("")
def search_page(
    visit: SignedIn,
    q: str | None = None,
    etiqueta: str = "",
    pagina: str = "1",
    apagado: str = "",
) -> Response:
    """The search form at once; the people come from BigQuery, so they follow as a fragment.

    A search the person asked for (``?q=``, even empty, as the form sends it, a tag or a page)
    is answered here in full, so the page works without JavaScript and its address can be
    shared; the bare page shows the form and loads the list right after it is shown."""
    search = _search(q, etiqueta, pagina)
    asked = q is not None or bool(search.tag) or search.page > 1
    return render(
        visit.request,
        "contacts.html",
        visit,
        search=search,
        results=_results(visit, search) if asked else None,
        erased=bool(apagado),
    )


@router.get("/resultados")
def results_fragment(
    visit: SignedIn, q: str = "", etiqueta: str = "", pagina: str = "1"
) -> Response:
    """The list alone: loaded by the bare page, and swapped in by htmx on each search."""
    search = _search(q, etiqueta, pagina)
    answer = render(
        visit.request,
        "_contacts_results.html",
        visit,
        search=search,
        results=_results(visit, search),
    )
    headers = visit.request.headers
    if headers.get("HX-Request") and headers.get("HX-Trigger") != RESULTS_ID:  # a search
        answer.headers["HX-Push-Url"] = search.address(visit.url("/contatos"))
    return answer


@dataclass(frozen=True)
class Search:
    q: str
    tag: str
    page: int

    def address(self, path: str, page: int | None = None) -> str:
        """``path`` with this search's query (``page``: another page of it)."""
        query = {"q": self.q, "etiqueta": self.tag, "pagina": page or self.page}
        return f"{path}?{urlencode(query)}"


@dataclass(frozen=True)
class Results:
    found: people.PersonPage | None
    pages: int = 1


def _search(q: str | None, tag: str, page: str) -> Search:
    return Search((q or "").strip()[:100], tag.strip()[:64], _page_number(page))


def _results(visit: Visit, search: Search) -> Results:
    """The people found, or ``found=None`` when the search failed (the page still shows)."""
    try:
        found = people.search(
            visit.principal.cnpj,
            visit.services.people_ports(),
            q=search.q,
            tag=search.tag,
            page=search.page,
            page_size=PAGE_SIZE,
        )
    except Exception:  # a part of a page says so in place instead of crashing it
        _log.exception("contacts search failed")
        return Results(None)
    return Results(found, _pages(found.total, PAGE_SIZE))


@router.get("/descadastrados")
def opt_outs_page(visit: SignedIn, pagina: str = "1") -> Response:
    page = _page_number(pagina)
    ledger = people.list_opt_outs(
        visit.principal.cnpj, visit.services.people_ports(), page=page, page_size=OPT_OUT_PAGE_SIZE
    )
    return render(
        visit.request,
        "optouts.html",
        visit,
        ledger=ledger,
        pages=_pages(ledger.total, OPT_OUT_PAGE_SIZE),
    )


@router.get("/importar")
def import_form(visit: SignedIn) -> Response:
    return _form(visit, errors={})


def _form(visit: Visit, errors: dict[str, str], status: int = 200) -> Response:
    return render(
        visit.request,
        "contacts_import.html",
        visit,
        status=status,
        strategies=list(MergeStrategy),
        errors=errors,
    )


@router.post("/importar")
async def import_upload(visit: SignedIn) -> Response:
    form = await write_form(visit)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form(visit, {"file": "Escolha um arquivo .csv, .xlsx ou .json."}, 422)
    content = await upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        megabytes = MAX_FILE_BYTES // 1_000_000
        return _form(visit, {"file": f"Arquivo grande demais (máximo {megabytes} MB)."}, 422)
    tags = [t.strip() for t in str(form.get("tags", "")).split(",") if t.strip()]
    try:
        options = ImportOptions.from_form(None, tags, str(form.get("merge_strategy", "")) or None)
        report = await run_in_threadpool(_import, visit, content, upload.filename, options)
    except pydantic.ValidationError as error:
        return _form(visit, field_errors(error), 422)
    except FieldError as error:
        return _form(visit, {error.field: _portuguese(error.reason)}, 422)
    summary = report.model_dump(mode="json", exclude={"rejections"})
    await run_in_threadpool(
        record_write, visit.services, visit.principal, "contacts.import", "contacts", None, summary
    )
    return render(visit.request, "contacts_import_result.html", visit, report=report)


def _import(visit: Visit, content: bytes, filename: str, options: ImportOptions) -> ImportReport:
    """A ``.json`` file holds the API's ``data`` array; CSV and Excel go to the file parser."""
    ports = visit.services.contact_ports()
    if filename.lower().endswith(".json"):
        try:
            rows = json.loads(content)
        except ValueError as error:
            raise FieldError("file", "not valid JSON") from error
        request = JsonImportRequest(data=rows, **options.model_dump())
        return import_json(visit.principal.cnpj, request, ports, now=visit.now)
    return import_file(visit.principal.cnpj, content, filename, options, ports, now=visit.now)


@router.get("/{person_id}")
def person_page(visit: SignedIn, person_id: PersonId) -> Response:
    """Who the person is, from the one read that proves they are this tenant's (404 if not);
    their profile and their messages (the profile view and the history, in BigQuery) are
    fragments the page loads right after it is shown."""
    return _person(visit, person_id, errors={})


def _person(visit: Visit, person_id: str, errors: dict[str, str], status: int = 200) -> Response:
    """The page; with ``errors`` (the tag form's answer) the profile, where the form and its
    errors are, comes in it."""
    cnpj, ports = visit.principal.cnpj, visit.services.people_ports()
    person = people.find_person(cnpj, ports, person_id)
    profile = None
    if errors:
        profile = loaded("person profile", lambda: people.person_profile(cnpj, ports, person_id))
    return render(
        visit.request,
        "contact.html",
        visit,
        status=status,
        person=person,
        person_id=person.id,
        profile=profile,
        profile_state=state_of(profile) if errors else "loading",
        messages_state="loading",
        consent_state="loading",
        errors={field: visit.gettext(message) for field, message in errors.items()},
    )


@router.get("/{person_id}/perfil")
def profile_fragment(visit: SignedIn, person_id: PersonId) -> Response:
    """The profile as ``GET /api/v1/contacts/{id}`` has it, loaded by the person's page."""
    cnpj, ports = visit.principal.cnpj, visit.services.people_ports()
    profile = loaded("person profile", lambda: people.person_profile(cnpj, ports, person_id))
    return render(
        visit.request,
        "_contact_profile.html",
        visit,
        person_id=person_id,
        profile=profile,
        profile_state=state_of(profile),
        errors={},
    )


@router.get("/{person_id}/mensagens")
def messages_fragment(visit: SignedIn, person_id: PersonId) -> Response:
    """The messages campaigns meant for the person, loaded by the person's page."""
    cnpj, ports = visit.principal.cnpj, visit.services.people_ports()
    received = loaded(
        "person messages", lambda: people.messages_received(cnpj, ports, person_id, visit.now)
    )
    return render(
        visit.request,
        "_contact_messages.html",
        visit,
        person_id=person_id,
        received=received,
        messages_state=state_of(received),
    )


@router.get("/{person_id}/consentimento")
def consent_fragment(visit: SignedIn, person_id: PersonId) -> Response:
    """The person's consent history (LGPD), as ``GET /api/v1/contacts/{id}/consent`` has it,
    loaded by the person's page."""
    cnpj, services = visit.principal.cnpj, visit.services
    history = loaded(
        "consent history",
        lambda: consent.person_consent(
            services.consent_ports(), services.tenants, services.people_ports(), cnpj, person_id
        ),
    )
    return render(
        visit.request,
        "_contact_consent.html",
        visit,
        person_id=person_id,
        history=history,
        consent_state=state_of(history),
    )


@router.post("/{person_id}/etiquetas")
async def change_tags(visit: SignedIn, person_id: PersonId) -> Response:
    """One form adds (comma-separated), each tag's own button removes it: the API's rules."""
    form = await write_form(visit)
    add = [tag for tag in form_text(form, "add").split(",") if tag.strip()]
    remove = [form_text(form, "remove")] if form_text(form, "remove") else []
    problem, status = "Escreva ao menos uma etiqueta.", 422
    if add or remove:
        try:
            change = people.PersonTagChange(add=add, remove=remove)
            await run_in_threadpool(_tag, visit, person_id, change)
            return RedirectResponse(visit.url(f"/contatos/{person_id}"), status_code=303)
        except pydantic.ValidationError:
            problem = "Etiqueta inválida: cada uma com até 64 caracteres, no máximo 50 por vez."
        except FieldError:
            problem = "Esta pessoa não tem celular válido, por isso não pode receber etiquetas."
        except ConflictError:
            problem, status = BUSY, 409
    return await run_in_threadpool(_person, visit, person_id, {"add": problem}, status)


def _tag(visit: Visit, person_id: str, change: people.PersonTagChange) -> None:
    result = people.tag_person(
        visit.principal.cnpj, visit.services.people_ports(), person_id, change, visit.now
    )
    record_write(
        visit.services,
        visit.principal,
        "contacts.tags",
        f"contacts/{result.id}",
        None,
        {"request": change.model_dump(mode="json"), "tags": result.tags},
    )


@router.get("/{person_id}/exportar")
def export_download(visit: SignedIn, person_id: PersonId) -> Response:
    """The API's LGPD export as a file, recorded in the audit trail the same way."""
    export = people.export_person(
        visit.principal.cnpj, visit.services.people_ports(), person_id, visit.now
    )
    record_write(
        visit.services,
        visit.principal,
        "contacts.export",
        f"contacts/{export.id}",
        None,
        export.counts(),
    )
    return Response(
        export.model_dump_json(indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="dados-{export.id}.json"'},
    )


@router.get("/{person_id}/apagar")
def confirm_erase(visit: SignedIn, person_id: PersonId) -> Response:
    if not visit.can_write:
        raise Refused("role")
    return _confirm_erase(visit, person_id, problem="")


def _confirm_erase(visit: Visit, person_id: str, problem: str, status: int = 200) -> Response:
    person = people.person_profile(visit.principal.cnpj, visit.services.people_ports(), person_id)
    return render(
        visit.request, "contact_erase.html", visit, status=status, person=person, problem=problem
    )


@router.post("/{person_id}/apagar")
async def erase(visit: SignedIn, person_id: PersonId) -> Response:
    await write_form(visit)
    try:
        await run_in_threadpool(_erase, visit, person_id)
    except ConflictError:
        return await run_in_threadpool(_confirm_erase, visit, person_id, BUSY, 409)
    return RedirectResponse(visit.url("/contatos?apagado=1"), status_code=303)


def _erase(visit: Visit, person_id: str) -> None:
    report = people.erase_person(
        visit.principal.cnpj,
        visit.services.people_ports(),
        person_id,
        visit.principal.subject,
        visit.now,
    )
    record_write(
        visit.services,
        visit.principal,
        "contacts.erase",
        f"contacts/{report.id}",
        None,
        report.model_dump(mode="json"),
    )


def _page_number(text: str) -> int:
    """A page from the address bar: anything odd is the first page, not an error page."""
    return min(max(int(text), 1), 10_000) if text.isdigit() else 1


def _pages(total: int, size: int) -> int:
    return max(1, -(-total // size))


def _portuguese(reason: str) -> str:
    """The service's reasons are English for API clients; the owner reads Portuguese."""
    return f"Valor inválido ({reason})."
