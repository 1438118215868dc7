"""Button replies reach BigQuery: the webhook's click branch appends a CLICKED history row.

The webhook runs in-process (``handle_webhook``) on the real adapters — Firestore for the
click ledger, bqemulator for the history — so the row analytics joins on is the row the
production code writes. Each tenant sends from a WhatsApp number of its own, so no other
test's tenant hears these customers.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.bootstrap import Container
from shared.ports import HistoryRow
from shared.services.analytics import AnalyticsRequest, campaign_analytics
from shared.services.delivery_common import DeliveryPorts
from shared.services.tenants import register_tenant
from shared.services.webhooks import handle_webhook
from tests.conftest import new_tenant_id

_random = random.SystemRandom()
CLICKED_AT = datetime(2026, 11, 20, 22, 40, tzinfo=UTC)
"""19:40 in São Paulo."""


class ClickTenant:
    def __init__(self, deps: Container) -> None:
        self.deps = deps
        self.cnpj = new_tenant_id()
        self.number = f"{_random.randrange(10**14, 10**15)}"
        tenant = register_tenant(
            self.cnpj,
            name="clicks",
            timezone=None,
            tenants=deps.tenants,
            warehouse=deps.warehouse,
            queues=None,
        )
        delivery = tenant.delivery.model_copy(update={"phone_number_id": self.number})
        deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))

    @property
    def ports(self) -> DeliveryPorts:
        return self.deps.delivery_ports()

    def history(self) -> list[dict[str, Any]]:
        table = f"`{self.cnpj.campaign_dataset}.message_history`"  # a validated CNPJ
        rows = self.deps.warehouse.query(f"SELECT * FROM {table}", {})  # noqa: S608
        return [dict(row) for row in rows]

    def click_document(self, message_id: str) -> dict[str, Any]:
        path = f"users/{self.cnpj.value}/clicks/{message_id}"
        return self.deps.firestore_client.document(path).get().to_dict() or {}


def reply(
    number: str,
    phone: str,
    message_id: str,
    quoted: str | None,
    kind: str = "button",
    at: datetime = CLICKED_AT,
) -> dict[str, Any]:
    """A webhook POST carrying one button reply (``quoted``: the wamid it answers)."""
    message: dict[str, Any] = {
        "from": phone.lstrip("+"),
        "id": message_id,
        "timestamp": str(int(at.timestamp())),
        "type": kind,
    }
    if kind == "button":
        message["button"] = {"payload": "QUERO_O_CUPOM", "text": "Quero o cupom"}
    else:
        message["interactive"] = {
            "type": "button_reply",
            "button_reply": {"id": "QUERO_O_CUPOM", "title": "Quero o cupom"},
        }
    if quoted is not None:
        message["context"] = {"from": "15550000000", "id": quoted}
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": number},
        "messages": [message],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def new_phone() -> str:
    return f"+55119{_random.randrange(10**8):08d}"


def new_id() -> str:
    return f"wamid.IN{_random.randrange(10**12)}"


@pytest.mark.parametrize("kind", ["button", "interactive"])
def test_a_button_reply_appends_a_clicked_row_once(deps: Container, kind: str) -> None:
    tenant = ClickTenant(deps)
    phone, message_id = new_phone(), new_id()
    body = reply(tenant.number, phone, message_id, "wamid.OURS", kind)

    first = handle_webhook(body, tenant.ports)
    again = handle_webhook(body, tenant.ports)  # Meta redelivers the same webhook

    assert first["click"] == again["click"] == 1
    rows = tenant.history()
    assert {row["event_id"] for row in rows} == {f"click#{message_id}"}
    row = rows[0]
    assert (row["status"], row["wamid"], row["phone"]) == ("CLICKED", "wamid.OURS", phone)
    assert row["sent_at"] == CLICKED_AT
    assert (row["user_id"], row["campaign_id"], row["target_id"], row["period"]) == ("",) * 4
    assert tenant.click_document(message_id)["wamid"] == "wamid.OURS"  # Firestore, as before


def test_a_reply_quoting_no_message_is_kept_out_of_history(deps: Container) -> None:
    tenant = ClickTenant(deps)
    message_id = new_id()

    report = handle_webhook(reply(tenant.number, new_phone(), message_id, None), tenant.ports)

    assert report["click"] == 1
    assert tenant.click_document(message_id)["payload"] == "QUERO_O_CUPOM"
    # A CLICKED row without a wamid would belong to nobody (and must never match the empty
    # wamid of a target's rows before its send).
    assert tenant.history() == []


def test_only_tenants_sending_from_the_number_hear_the_click(deps: Container) -> None:
    ours, theirs = ClickTenant(deps), ClickTenant(deps)

    handle_webhook(reply(ours.number, new_phone(), new_id(), "wamid.X"), ours.ports)

    assert [row["status"] for row in ours.history()] == ["CLICKED"]
    assert theirs.history() == []


def test_a_click_reaches_the_campaigns_analytics(deps: Container) -> None:
    tenant = ClickTenant(deps)
    phone = new_phone()
    campaign = "SEG_CLICKS0000000001"
    sent_at = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)
    for version, status in enumerate(("SENT", "DELIVERED"), start=1):
        row = HistoryRow(
            event_id=f"users/{tenant.cnpj.value}/campaigns/{campaign}/targets/t1#{version}",
            user_id="c1",
            campaign_kind="SEGMENT",
            campaign_id=campaign,
            target_id="t1",
            sent_at=sent_at,
            status=status,
            phone=phone,
            wamid="wamid.T1",
            period="once",
        )
        tenant.deps.history.append(tenant.cnpj, [row])
    press = reply(tenant.number, phone, new_id(), "wamid.T1")
    handle_webhook(press, tenant.ports)
    handle_webhook(press, tenant.ports)  # redelivered
    handle_webhook(reply(tenant.number, phone, new_id(), "wamid.T1"), tenant.ports)  # again
    handle_webhook(reply(tenant.number, phone, new_id(), "wamid.ELSEWHERE"), tenant.ports)

    result = campaign_analytics(
        deps.warehouse, tenant.cnpj, AnalyticsRequest(campaign_id=campaign, cost_per_message=0)
    )

    m = result.metrics
    assert (m.messages_sent, m.messages_delivered, m.messages_read, m.clicks) == (1, 1, 1, 1)
    assert m.click_through_rate == 100.0 and m.roi is None
    hours = {h.hour: h.clicks for h in result.engagement_by_hour if h.clicks}
    assert hours == {19: 1}  # 22:40 UTC is 19:40 in São Paulo
