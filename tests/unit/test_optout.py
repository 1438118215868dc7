"""Opt-out keywords: the whole message, folded, must be a keyword; a sentence is not enough."""

from __future__ import annotations

import pytest

from shared.domain.optout import fold, is_opt_out


@pytest.mark.parametrize(
    "text",
    [
        "Sair!",
        "sair",
        "SAIR\n",
        "PARAR",
        "Pare.",
        "para",
        "CANCELAR 😡😡",
        "Descadastrar 🙏",
        "descadastre",
        "remover",
        "bloquear",
        "não quero mais",
        "Não quero mais!!!",
        "NÃO QUERO RECEBER",
        "nao envie mais",
        "Não mande mais...",
        " stop ",
        "STOP.",
        "Unsubscribe",
        "cancel",
        "QUIT",
        "end",
        "opt out",
        "Opt-Out",
        "optout",
        "🙏sair",
        "Sair ❤️",
        "👨‍👩‍👧 parar",
        "stop 👍🏽",
        "ｓｔｏｐ",  # full-width letters (NFKD)
        "sair_",
    ],
)
def test_keyword_alone_opts_out(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    [
        "vou sair mais cedo",
        "pode parar na frente?",
        "Sair por favor",
        "sem parar",
        "não quero mais amaciante",
        "quero mais",
        "stopped",
        "paraguai",
        "cancelamento",
        "the end of the story",
        "",
        "   ",
        "🙏",
        "obrigado!",
    ],
)
def test_sentence_or_other_text_does_not_opt_out(text: str) -> None:
    assert not is_opt_out(text)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("  Não   QUERO mais!! ", "nao quero mais"),
        ("Descadastrar 🙏", "descadastrar"),
        ("opt-out", "opt out"),
        ("Ação_rápida", "acao rapida"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
