"""The seed's campaign payloads, as a client sends them, and a look at what they created."""

from __future__ import annotations

import copy
from typing import Any

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj

SIMPLE = {  # the seed's "Campanha Simples", exactly as its curl example sends it
    "name": "Promoção de Fim de Ano",
    "description": "Ofertas especiais para clientes",
    "objective": "promotional",
    "throttle_config": {
        "messages_per_minute": 5,
        "messages_per_hour": 300,
        "messages_per_day": 5000,
    },
    "segmentation": {"include_all": True},
    "templates": [
        {
            "name": "Oferta",
            "content": "🎉 Promoção especial! 30% OFF em tudo!",
            "template_type": "text",
        }
    ],
}

BLACK_FRIDAY = {  # the seed's first example: variant B names a template the payload lacks
    "name": "Campanha Black Friday",
    "description": "Promoção especial para clientes VIP",
    "objective": "promotional",
    "scheduled_at": "2024-11-29T09:00:00Z",
    "recurrence": {
        "frequency": "daily",
        "interval": 1,
        "end_type": "after",
        "max_occurrences": 5,
        "hour": 9,
        "minute": 0,
    },
    "throttle_config": {
        "messages_per_minute": 10,
        "messages_per_hour": 600,
        "messages_per_day": 10000,
        "delay_between_messages_ms": 1000,
        "respect_business_hours": True,
        "business_hours_start": 9,
        "business_hours_end": 18,
        "timezone_per_contact": True,
    },
    "segmentation": {
        "include_all": False,
        "included_tags": ["vip", "black-friday"],
        "excluded_tags": ["unsubscribed"],
        "custom_filters": [
            {"field": "last_purchase", "operator": "greater_than", "value": "2024-01-01"}
        ],
    },
    "templates": [
        {
            "name": "Black Friday Offer",
            "content": "🔥 Olá {{name}}! Aproveite 50% OFF em todos os produtos até {{date}}!",
            "template_type": "text",
            "variables": ["name", "date"],
            "ab_variant": "A",
        }
    ],
    "ab_test_config": {
        "enabled": True,
        "test_percentage": 20.0,
        "variants": [
            {"name": "A", "percentage": 50.0, "template_id": "uuid-template-a"},
            {"name": "B", "percentage": 50.0, "template_id": "uuid-template-b"},
        ],
        "metric_to_optimize": "conversion_rate",
        "minimum_sample_size": 100,
        "significance_level": 0.95,
    },
}


def approved(payload: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(payload)
    body["templates"][0]["whatsapp_template"] = {"name": "oferta_fim_de_ano", "language": "pt_BR"}
    return body


def targets_of(deps: Container, cnpj: Cnpj, campaign_id: str) -> list[dict[str, Any]]:
    collection = deps.firestore_client.collection(
        "users", cnpj.value, "campaigns", campaign_id, "targets"
    )
    return [doc.to_dict() or {} for doc in collection.stream()]
