"""Recognise "stop sending me this" in an inbound WhatsApp message (LGPD: revocable consent).

WhatsApp defines no opt-out keywords, so we do. Matching is on the whole message after
folding case, accents and punctuation, so "Sair!", "PARAR" and "não quero mais" opt out
while "vou sair mais cedo hoje" does not: a false opt-out loses a customer's marketing
consent, a missed one is an LGPD problem, and customers who mean it write the keyword alone.
"""

from __future__ import annotations

import re
import unicodedata

KEYWORDS = frozenset(
    {
        # pt-BR
        "sair",
        "parar",
        "pare",
        "para",
        "cancelar",
        "cancela",
        "descadastrar",
        "descadastre",
        "remover",
        "nao quero mais",
        "nao quero receber",
        "nao envie mais",
        "nao mande mais",
        "bloquear",
        # English
        "stop",
        "unsubscribe",
        "cancel",
        "quit",
        "end",
        "opt out",
        "optout",
    }
)


def fold(text: str) -> str:
    """Lower case, accents removed, punctuation and repeated spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w\s]|_", " ", bare).split())


def is_opt_out(text: str) -> bool:
    return fold(text) in KEYWORDS


STOP_BUTTONS = frozenset(
    {"stop promotions", "parar promocoes", "pare promocoes", "sair das promocoes"}
)
"""A marketing template's "stop promotions" quick reply (Meta's opt-out button), its payload
or its label, folded (``STOP_PROMOTIONS`` folds to ``stop promotions``)."""


def is_stop_button(*labels: str) -> bool:
    """A quick-reply press that opts out: its payload or its text is an opt-out keyword or a
    stop-promotions button. Any other press is a click (interest), never consent either way."""
    return any(fold(label) in KEYWORDS or fold(label) in STOP_BUTTONS for label in labels)
