"""Jinja2 pages: autoescaped, strict about missing names, with the visit's tools in scope.

Autoescape is on for every template, so a customer's name or an imported field is always text,
never markup; ``StrictUndefined`` turns a misspelt name into an error in tests rather than a
blank on a page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from shared.console import labels
from shared.console.i18n import DEFAULT_LOCALE, choose_locale, translations
from shared.console.session import CSRF_FIELD, CSRF_HEADER
from shared.console.visit import LOCALE_COOKIE, Visit, base_path

_environment = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(
    request: Request,
    template: str,
    visit: Visit | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page for a signed-in visit, or (``visit=None``) a public one such as sign-in."""
    locale = visit.locale if visit else choose_locale(request.cookies.get(LOCALE_COOKIE))
    page = _environment.get_template(template).render(
        visit=visit,
        base=base_path(request),
        _=translations(locale).gettext,
        lang="pt-BR" if locale == DEFAULT_LOCALE else locale,
        labels=labels,
        csrf_field=CSRF_FIELD,
        csrf_header=CSRF_HEADER,
        **context,
    )
    return HTMLResponse(page, status_code=status)
