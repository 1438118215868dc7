"""The console's language and formatting: every Portuguese text has its English, Babel formats."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

from shared.console import i18n, labels
from shared.console.pages import signin
from shared.services import tenant_settings

CONSOLE = Path(i18n.__file__).parent
_MSGID = re.compile(r"""_\((["'])(.+?)\1\)""")


def _portuguese_texts() -> set[str]:
    texts = {
        match.group(2)
        for template in CONSOLE.glob("templates/*.html")
        for match in _MSGID.finditer(template.read_text())
    }
    for table in (
        labels.CAMPAIGN_STATUS,
        labels.KIND,
        labels.ACTION,
        labels.ACTION_EFFECT,
        labels.TARGET_STATUS,
        labels.RUN_STATUS,
        labels.SEND_ERROR,
        labels.OPTOUT_SOURCE,
    ):
        texts |= set(table.values())
    texts |= set(labels.SKIP_REASON.values()) | set(labels.REJECTION_REASON.values())
    texts |= set(tenant_settings.MEANINGS.values())  # shown on Configurações
    texts |= {
        match.group(1)
        for match in re.finditer(
            r'_login_problem\(request, "(.+?)"\)', Path(signin.__file__).read_text()
        )
    }
    return texts


def test_every_portuguese_text_has_an_english_translation() -> None:
    english = i18n.translations("en")
    texts = _portuguese_texts()
    assert len(texts) > 80  # the extraction itself works
    missing = sorted(text for text in texts if english.gettext(text) == text)
    assert missing == []


def test_portuguese_needs_no_catalogue_and_unknown_locales_fall_back_to_it() -> None:
    assert i18n.translations("pt_BR").gettext("Início") == "Início"
    assert i18n.choose_locale("xx") == "pt_BR"
    assert i18n.translations("en").gettext("Início") == "Home"


def test_money_and_instants_in_brazilian_form_and_the_tenants_zone() -> None:
    brazil = i18n.Formatter("pt_BR", "America/Sao_Paulo")
    assert brazil.money(1234.5).replace("\xa0", " ") == "R$ 1.234,50"
    assert brazil.number(12345) == "12.345"
    assert brazil.datetime(datetime(2026, 12, 5, 2, 30, tzinfo=UTC)) == "04/12/2026 23:30"
    manaus = i18n.Formatter("pt_BR", "America/Manaus")
    assert manaus.datetime(datetime(2026, 12, 5, 2, 30, tzinfo=UTC)) == "04/12/2026 22:30"
    assert i18n.Formatter("en", "America/Sao_Paulo").money(1234.5) == "R$1,234.50"


def test_the_vendored_htmx_is_the_pinned_file() -> None:
    vendored = CONSOLE / "static" / "vendor" / "htmx-2.0.11.min.js"
    digest = hashlib.sha256(vendored.read_bytes()).hexdigest()
    assert digest == "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
    assert digest in (vendored.parent / "README.md").read_text()
