"""Language and formatting: Brazilian Portuguese first, English on request, all through Babel.

Message ids are the Portuguese text itself, so a page reads naturally in its template and
Portuguese needs no catalogue; English comes from ``locale/en/*.po`` (one file per area of the
console, compiled in memory at start-up). Numbers, money and dates are formatted by Babel's
CLDR data for the chosen locale, and dates are always shown in the tenant's own time zone.
"""

from __future__ import annotations

import gettext
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = {"pt_BR": "Português", "en": "English"}
DEFAULT_LOCALE = "pt_BR"
_LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def translations(locale: str) -> gettext.NullTranslations:
    if locale == DEFAULT_LOCALE:
        return gettext.NullTranslations()
    merged: Translations | None = None
    for po_file in sorted((_LOCALE_DIR / locale).glob("*.po")):
        with po_file.open("rb") as source:
            catalog = read_po(source, locale=locale)
        compiled = BytesIO()
        write_mo(compiled, catalog)
        compiled.seek(0)
        part = Translations(compiled)
        merged = part if merged is None else merged.merge(part)
    return merged or gettext.NullTranslations()


def choose_locale(requested: str | None) -> str:
    return requested if requested in LOCALES else DEFAULT_LOCALE


class Formatter:
    """Every number and instant a page shows, formatted for one locale and one time zone."""

    def __init__(self, locale: str, timezone: str) -> None:
        self.locale = locale
        self.zone = ZoneInfo(timezone)

    def number(self, value: float | int) -> str:
        return numbers.format_decimal(value, locale=self.locale)

    def percent(self, value: float | None) -> str:
        if value is None:
            return "—"
        return numbers.format_percent(value, format="#,##0.0%", locale=self.locale)

    def money(self, value: float | Decimal | None) -> str:
        return numbers.format_currency(value or 0, "BRL", locale=self.locale)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return dates.format_datetime(value, "short", tzinfo=self.zone, locale=self.locale)

    def date(self, value: date | None) -> str:
        if value is None:
            return "—"
        return dates.format_date(value, "medium", locale=self.locale)
