"""Plain Portuguese for every state and reason a page shows (the internal code stays a tooltip)."""

from __future__ import annotations

CAMPAIGN_STATUS = {
    "draft": "Rascunho",
    "scheduled": "Agendada",
    "running": "Enviando",
    "paused": "Pausada",
    "completed": "Concluída",
    "cancelled": "Cancelada",
}

KIND = {
    "SEGMENT": "Campanha",
    "BIRTHDAY": "Aniversário",
    "WELCOME": "Boas-vindas",
    "REACTIVATION": "Reativação",
    "LOYALTY": "Fidelidade",
}

ACTION = {
    "start": "Iniciar",
    "pause": "Pausar",
    "resume": "Retomar",
    "cancel": "Cancelar",
}

ACTION_EFFECT = {
    "start": "A campanha começa: o público é calculado agora e as mensagens são enviadas no ritmo "
    "configurado, dentro da janela de envio.",
    "pause": "Nenhuma nova mensagem sai até você retomar. As que já saíram não são afetadas.",
    "resume": "Os envios continuam de onde pararam, no ritmo configurado.",
    "cancel": "A campanha termina de vez: mensagens ainda não enviadas não serão enviadas. "
    "Não é possível desfazer.",
}

_PHONE_PROBLEM = {
    "missing_phone": "sem celular",
    "invalid_phone": "celular inválido",
    "not_mobile": "número não é celular",
    "foreign_phone": "número de fora do Brasil",
    "duplicate_phone": "telefone repetido no arquivo",
}

SKIP_REASON = {
    **_PHONE_PROBLEM,
    "waiting_for_ab_decision": "aguardando o resultado do teste A/B",
    "recently_targeted": "recebeu mensagem há pouco tempo",
    "duplicate_customer_row": "cliente repetido nos dados",
}

REJECTION_REASON = {
    **_PHONE_PROBLEM,
    "invalid_email": "e-mail inválido",
    "unknown_timezone": "fuso horário desconhecido",
    "invalid_value": "valor inválido",
    "too_long": "texto longo demais",
    "too_many": "itens demais",
    "unknown_field": "campo desconhecido",
    "extra_cells": "células a mais na linha",
    "not_an_object": "a linha não é um objeto JSON",
}


def say(table: dict[str, str], code: str) -> str:
    """The plain words for a code, or the code itself when no words exist yet."""
    return table.get(code, code)
