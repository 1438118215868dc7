"""Template events on the webhook: the library follows Meta and each tenant gets its alerts.

Each test's tenant has a WhatsApp Business account of its own, so only its catalogue and
alerts see the events sent here (through the webhook's service, on the real Firestore).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from shared.bootstrap import Container
from shared.domain.alerts import Alert
from shared.domain.cnpj import Cnpj
from shared.ports import Warehouse
from shared.services.tenants import register_tenant
from shared.services.webhooks import handle_webhook
from tests.campaign_records import edit_built_in

TEMPLATE = {"message_template_name": "sentimos_sua_falta", "message_template_language": "pt_BR"}
EVENT_TIME = 1_796_000_000


def on_own_account(
    deps: Container, cnpj: Cnpj, name: str, warehouse: Warehouse | None = None
) -> tuple[Cnpj, str]:
    """Register ``cnpj`` on a WhatsApp Business account of its own: (cnpj, the account id)."""
    tenant = register_tenant(
        cnpj,
        name=name,
        timezone=None,
        tenants=deps.tenants,
        warehouse=warehouse,
        queues=None,
        templates=deps.templates,
        campaigns=deps.campaigns,
        now=deps.clock(),
    )
    waba_id = str(random.SystemRandom().randrange(10**14, 10**15))
    delivery = tenant.delivery.model_copy(update={"business_account_id": waba_id})
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    return cnpj, waba_id


@pytest.fixture
def account(deps: Container, new_cnpj: Cnpj) -> tuple[Cnpj, str]:
    return on_own_account(deps, new_cnpj, "Lavanderia Alertada")


def template_event(
    deps: Container, waba_id: str, field: str, value: Any, time: int = EVENT_TIME
) -> dict[str, int]:
    entry = {"id": waba_id, "time": time, "changes": [{"field": field, "value": value}]}
    payload = {"object": "whatsapp_business_account", "entry": [entry]}
    return dict(handle_webhook(payload, deps.delivery_ports()))


def _alerts(deps: Container, cnpj: Cnpj) -> list[Alert]:
    return deps.alerts.recent(cnpj, 50)


def _library(deps: Container, cnpj: Cnpj) -> dict[str, Any]:
    (entry,) = [t for t in deps.templates.list(cnpj) if t.name == TEMPLATE["message_template_name"]]
    return {"quality": entry.quality_score, "category": entry.category, "status": entry.status}


def test_a_quality_drop_is_in_the_library_and_alerted_once_however_often_it_comes(
    deps: Container, account: tuple[Cnpj, str]
) -> None:
    cnpj, waba_id = account
    drop = {**TEMPLATE, "previous_quality_score": "GREEN", "new_quality_score": "RED"}

    assert template_event(deps, waba_id, "message_template_quality_update", drop) == {
        "template_quality": 1
    }
    template_event(deps, waba_id, "message_template_quality_update", drop)  # redelivered

    assert _library(deps, cnpj)["quality"] == "RED"
    (alert,) = _alerts(deps, cnpj)
    assert (alert.kind, alert.value, alert.previous) == ("template_quality", "RED", "GREEN")
    assert alert.at.timestamp() == EVENT_TIME
    back = {**TEMPLATE, "previous_quality_score": "RED", "new_quality_score": "GREEN"}
    template_event(deps, waba_id, "message_template_quality_update", back, EVENT_TIME + 60)
    assert _library(deps, cnpj)["quality"] == "GREEN"
    assert len(_alerts(deps, cnpj)) == 1  # a recovery is no alert


def test_a_category_change_to_marketing_is_stored_and_alerted_as_billed_as_marketing(
    deps: Container, account: tuple[Cnpj, str]
) -> None:
    cnpj, waba_id = account
    change = {**TEMPLATE, "previous_category": "UTILITY", "new_category": "MARKETING"}
    deps.templates.store(
        cnpj,
        [
            t.model_copy(update={"category": "UTILITY"})
            for t in deps.templates.list(cnpj)
            if t.name == TEMPLATE["message_template_name"]
        ],
    )

    assert template_event(deps, waba_id, "template_category_update", change) == {
        "template_category": 1
    }
    dismissed = _alerts(deps, cnpj)[0]
    assert deps.alerts.dismiss(cnpj, dismissed.id, "dono@example.com", deps.clock())
    template_event(
        deps, waba_id, "template_category_update", change
    )  # redelivered: stays dismissed

    assert _library(deps, cnpj)["category"] == "MARKETING"
    (alert,) = _alerts(deps, cnpj)
    assert alert.billed_as_marketing and alert.previous == "UTILITY" and alert.dismissed
    assert not deps.alerts.dismiss(cnpj, "0" * 32, "dono@example.com", deps.clock())


def test_a_category_change_announced_ahead_keeps_the_current_one_and_says_what_comes(
    deps: Container, account: tuple[Cnpj, str]
) -> None:
    cnpj, waba_id = account
    ahead = {**TEMPLATE, "new_category": "UTILITY", "correct_category": "MARKETING"}
    deps.templates.store(
        cnpj,
        [
            t.model_copy(update={"category": "UTILITY"})
            for t in deps.templates.list(cnpj)
            if t.name == TEMPLATE["message_template_name"]
        ],
    )

    template_event(deps, waba_id, "template_category_update", ahead)

    assert _library(deps, cnpj)["category"] == "UTILITY"
    (alert,) = _alerts(deps, cnpj)
    assert (alert.value, alert.previous, alert.announced) == ("MARKETING", "UTILITY", True)


def test_status_changes_that_stop_or_refuse_a_template_are_alerted_with_what_was_paused(
    deps: Container, account: tuple[Cnpj, str]
) -> None:
    cnpj, waba_id = account
    edit_built_in(
        deps.campaigns,
        cnpj,
        "REACTIVATION",
        templates=[
            {
                "name": "Volta",
                "content": "{{first_name}}, sentimos sua falta! Volte a lavar com a gente esta "
                "semana.",
                "whatsapp_template": {"name": "sentimos_sua_falta", "language": "pt_BR"},
            }
        ],
    )

    for minute, event in enumerate(("PAUSED", "APPROVED", "REJECTED", "FLAGGED")):
        value = {**TEMPLATE, "event": event}
        template_event(
            deps, waba_id, "message_template_status_update", value, EVENT_TIME + 60 * minute
        )

    alerts = sorted(_alerts(deps, cnpj), key=lambda a: a.at)
    assert [(a.kind, a.value) for a in alerts] == [
        ("template_status", "PAUSED"),
        ("template_status", "REJECTED"),
        ("template_status", "FLAGGED"),
    ]
    assert alerts[0].campaigns_paused >= 1  # REACTIVATION sends it (and its default does too)
    assert _library(deps, cnpj)["status"] == "FLAGGED"


def test_malformed_and_unknown_template_events_are_acknowledged_and_record_nothing(
    deps: Container, account: tuple[Cnpj, str]
) -> None:
    cnpj, waba_id = account
    bad = [
        ("message_template_quality_update", {**TEMPLATE, "new_quality_score": "PURPLE"}),
        ("message_template_quality_update", {"new_quality_score": "RED"}),
        ("template_category_update", {**TEMPLATE, "new_category": "PROMOTIONAL"}),
        (
            "template_category_update",
            {**TEMPLATE, "new_category": "UTILITY", "correct_category": 7},
        ),
        ("message_template_status_update", {**TEMPLATE, "event": "SHRUGGED"}),
        ("template_category_update", "not an object"),
    ]
    reports = [template_event(deps, waba_id, field, value) for field, value in bad]
    unknown = {"message_template_name": "nao_existe", "message_template_language": "pt_BR"}
    unknown_report = template_event(
        deps, waba_id, "message_template_quality_update", {**unknown, "new_quality_score": "RED"}
    )

    assert all(report == {"malformed": 1} for report in reports), reports
    assert unknown_report == {"template_quality": 1}  # read, but no catalogue of ours holds it
    assert _alerts(deps, cnpj) == []
    assert _library(deps, cnpj) == {"quality": None, "category": "MARKETING", "status": "APPROVED"}


def test_an_entry_time_that_is_no_instant_is_replaced_by_the_clock(
    deps: Container, account: tuple[Cnpj, str]
) -> None:
    cnpj, waba_id = account
    drop = {**TEMPLATE, "new_quality_score": "YELLOW"}
    before = deps.clock()

    report = template_event(deps, waba_id, "message_template_quality_update", drop, time=10**20)

    (alert,) = _alerts(deps, cnpj)
    assert report == {"template_quality": 1} and alert.at >= before
