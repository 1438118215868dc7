"""Reading Meta's template entries into the catalogue, and what a sync writes (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from shared.domain.approved_templates import DEFAULT_TEMPLATES, ApprovedTemplate
from shared.domain.meta_templates import UnreadableTemplate, from_meta
from shared.services.template_sync import _plan

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
KNOWN = {t.key: t for t in DEFAULT_TEMPLATES}


def meta(name: str, body: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "language": "pt_BR",
        "status": "APPROVED",
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": body}],
        **fields,
    }


def test_a_known_positional_body_keeps_what_fills_its_parameters() -> None:
    loyalty = KNOWN["programa_fidelidade@pt_BR"]
    read = from_meta(meta(loyalty.name, loyalty.body), KNOWN, NOW)
    assert read.parameters == ["first_name", "visit_count"]
    assert (read.on_meta, read.synced_at, read.status) == (True, NOW, "APPROVED")


def test_a_changed_or_new_positional_body_gets_numbered_parameters() -> None:
    changed = from_meta(meta("programa_fidelidade", "Oi {{1}}, {{2}} e {{3}}!"), KNOWN, NOW)
    assert changed.parameters == ["parametro_1", "parametro_2", "parametro_3"]
    assert changed.content == "Oi {{parametro_1}}, {{parametro_2}} e {{parametro_3}}!"


def test_a_named_body_is_filled_by_its_names() -> None:
    read = from_meta(
        meta("promo", "Oi {{first_name}}, {{code}} {{first_name}}", parameter_format="NAMED"),
        KNOWN,
        NOW,
    )
    assert (read.parameters, read.parameter_format) == (["first_name", "code"], "NAMED")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (meta("sem_corpo", "x") | {"components": [{"type": "FOOTER", "text": "a"}]}, "BODY"),
        (meta("nova", "x", category="SERVICE"), "category"),
        (meta("nova", "x", status="SOMETHING_NEW"), "status"),
    ],
)
def test_an_entry_the_catalogue_cannot_hold_is_reported_by_key(
    raw: dict[str, Any], reason: str
) -> None:
    with pytest.raises(UnreadableTemplate) as error:
        from_meta(raw, KNOWN, NOW)
    assert error.value.key == f"{raw['name']}@pt_BR" and reason in error.value.reason


def test_a_sync_adds_updates_and_marks_what_meta_no_longer_lists() -> None:
    kept = ApprovedTemplate(name="antigo", body="Oi")
    stored = {t.key: t for t in (*DEFAULT_TEMPLATES[:2], kept)}
    first = DEFAULT_TEMPLATES[0]
    synced = {
        first.key: first.model_copy(update={"synced_at": NOW}),
        DEFAULT_TEMPLATES[1].key: DEFAULT_TEMPLATES[1].model_copy(update={"status": "PAUSED"}),
        "nova@pt_BR": ApprovedTemplate(name="nova", body="Olá"),
    }
    plan = _plan(stored, synced)
    assert (plan.added, plan.updated, plan.unchanged, plan.missing) == (1, 1, 1, 1)
    written = {t.key: t for t in plan.writes}
    assert written["antigo@pt_BR"].on_meta is False
    assert (
        written["antigo@pt_BR"].unusable_reason
        == "no longer exists on the WhatsApp Business account"
    )
    assert (
        written[DEFAULT_TEMPLATES[1].key].unusable_reason == "is PAUSED on WhatsApp, not APPROVED"
    )
    assert _plan({"antigo@pt_BR": written["antigo@pt_BR"]}, {}).writes == []  # marked once


def test_metas_quality_rating_is_kept_and_an_unknown_one_left_out() -> None:
    rated = meta("oi", "Oi", quality_score={"score": "YELLOW", "date": 1})
    odd = meta("oi", "Oi", quality_score={"score": "PURPLE"})
    assert from_meta(rated, KNOWN, NOW).quality_score == "YELLOW"
    assert from_meta(odd, KNOWN, NOW).quality_score is None
