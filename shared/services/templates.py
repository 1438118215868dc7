"""The templates a tenant's campaigns can use: its catalogue, or the defaults until it has one.

Registration seeds every tenant's catalogue with :data:`DEFAULT_TEMPLATES`; a tenant whose
catalogue is empty (registered before catalogues existed, or with its documents only) is offered
the same defaults, so the API and the console never show an empty choice. A later change
replaces seeding by a sync from Meta's ``message_templates`` (the WhatsApp Business account's
approved templates), behind the same port.
"""

from __future__ import annotations

from shared.domain.approved_templates import DEFAULT_TEMPLATES, ApprovedTemplate
from shared.domain.cnpj import Cnpj
from shared.ports import TemplateCatalogue


def approved_templates(catalogue: TemplateCatalogue, cnpj: Cnpj) -> list[ApprovedTemplate]:
    """Sorted by name, then language."""
    stored = catalogue.list(cnpj)
    if stored:
        return stored
    return sorted(DEFAULT_TEMPLATES, key=lambda t: (t.name, t.language))


def find_template(catalogue: TemplateCatalogue, cnpj: Cnpj, key: str) -> ApprovedTemplate | None:
    """The template whose :attr:`~ApprovedTemplate.key` (``name@language``) is ``key``."""
    return next((t for t in approved_templates(catalogue, cnpj) if t.key == key), None)


def seed_defaults(catalogue: TemplateCatalogue, cnpj: Cnpj) -> int:
    """Store the defaults the tenant lacks (an edited or synced template is kept)."""
    return catalogue.add_missing(cnpj, DEFAULT_TEMPLATES)
