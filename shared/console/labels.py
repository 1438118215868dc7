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

TARGET_STATUS = {
    "PENDING": "aguardando",
    "QUEUED": "agendada",
    "SENDING": "enviando",
    "SENT": "enviada",
    "DELIVERED": "entregue",
    "READ": "lida",
    "FAILED": "falhou",
    "SKIPPED": "não enviada",
    "UNKNOWN": "sem confirmação",
    "EXPIRED": "fora do prazo",
}
"""A message's state, as the owner would say it (a target's status, see delivery_status)."""

OPTOUT_SOURCE = {
    "inbound_keyword": "a pessoa pediu para sair (respondeu SAIR, PARAR ou parecido)",
    "whatsapp_131050": "o WhatsApp avisou que a pessoa bloqueou mensagens de marketing",
    "erasure": "os dados da pessoa foram apagados a pedido dela (LGPD)",
    "quick_reply_stop": "a pessoa tocou no botão “parar promoções” da mensagem",
    "user_preferences_stop": "a pessoa desativou as mensagens de marketing no WhatsApp",
    "user_preferences_resume": "a pessoa reativou as mensagens de marketing no WhatsApp",
    "console": "registrado por um usuário no console",
    "api": "registrado pela API",
    "import_opt_in": "consentimento explícito coletado pela empresa e importado",
    "api_opt_in": "consentimento explícito coletado pela empresa, registrado pela API",
}
"""Why a phone is in the opt-out ledger, or a consent event's ``source``
(:class:`shared.domain.consent.ConsentSource`)."""

CONSENT_KIND = {
    "opt_out": "Descadastro",
    "opt_in": "Consentimento renovado",
}
"""A consent event's kind, as the person's page lists them."""

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
    "invalid_bsuid": "ID de usuário do WhatsApp inválido",
    "duplicate_bsuid": "ID de usuário do WhatsApp repetido no arquivo",
}


RUN_STATUS = {
    "done": "rodou",
    "already_done": "já tinha rodado hoje",
    "not_due": "ainda não chegou a hora",
    "disabled": "desligada",
    "failed": "falhou",
    "retry": "falhou e será tentada de novo",
}
"""What a campaign's run did (shared/domain/runs.OutcomeStatus)."""

SEND_ERROR = {
    "opted_out": "o cliente pediu para não receber mensagens",
    "campaign_cancelled": "a campanha foi cancelada antes do envio",
    "invalid_phone": "celular inválido",
    "tenant_inactive": "a empresa está desativada",
    "131026": "o número não tem WhatsApp ou não pode receber a mensagem",
    "131047": "fora da janela de 24 horas do WhatsApp",
    "131048": "limite do WhatsApp por mensagens marcadas como spam",
    "131049": "limite do WhatsApp de mensagens de marketing para este cliente",
    "131050": "o cliente bloqueou mensagens de marketing",
    "368": "número bloqueado temporariamente pelo WhatsApp",
    "130497": "o WhatsApp não permite mensagens para este país",
}
"""Why a message failed or was not sent: our reason codes and WhatsApp's error codes."""


def say(table: dict[str, str], code: str) -> str:
    """The plain words for a code, or the code itself when no words exist yet."""
    return table.get(code, code)
