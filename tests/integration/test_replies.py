"""A customer's reply through the real functions host: a response of the message it answers.

Each tenant sends from a number of its own (``delivery_tenant``), so the replies posted to that
number here are the only ones its analytics see.
"""

from __future__ import annotations

import time
from typing import Any

from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.targets import Target
from shared.services.analytics import AnalyticsRequest, campaign_analytics
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import DONE, DeliveryTenant, SandboxClient, TenantFactory
from tests.integration.test_consent_ledger import post, text_message, webhook_url

delivery_tenant = delivery_fixtures.delivery_tenant
sandbox = delivery_fixtures.sandbox
webhook_url = webhook_url  # the fixture, re-exported for this module


def _replied_rows(tenant: DeliveryTenant, count: int) -> list[dict[str, Any]]:
    table = f"`{tenant.cnpj.campaign_dataset}.message_history`"  # a validated CNPJ

    def rows() -> list[dict[str, Any]] | None:
        found = [
            dict(row)
            for row in tenant.deps.warehouse.query(
                f"SELECT * FROM {table} WHERE status = 'REPLIED'",  # noqa: S608
                {},
            )
        ]
        return found if len(found) >= count else None

    return delivery_fixtures.wait_until(rows, f"{count} reply rows")


def _messaged(tenant: DeliveryTenant) -> tuple[Target, TargetRef, TargetRecord]:
    """One customer of ``tenant`` sent a campaign message: the target, its ref, its record."""
    target = tenant.target()
    (ref,) = tenant.create(target)
    return target, ref, tenant.wait_status(ref, DONE)


def _responses(tenant: DeliveryTenant) -> tuple[int, float]:
    request = AnalyticsRequest(campaign_id="BIRTHDAY", cost_per_message=0)
    metrics = campaign_analytics(tenant.deps.warehouse, tenant.cnpj, request).metrics
    return metrics.responses, metrics.response_rate


def test_a_text_reply_is_a_response_of_the_message_it_answers_and_its_text_is_not_kept(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    answered, silent = tenant.target(), tenant.target()
    refs = tenant.create(answered, silent)
    record = tenant.wait_status(refs[0], DONE)
    assert tenant.wait_status(refs[1], DONE).status in DONE

    sandbox.inbound(answered.phone, tenant.number, text="Vocês abrem no domingo?")

    (row,) = _replied_rows(tenant, 1)
    assert (row["wamid"], row["phone"]) == (record.wamid, answered.phone)
    assert row["message_content"] == "text"  # the kind of reply, never what it said
    assert "domingo" not in str(row)
    assert _responses(tenant) == (1, 50.0)  # one of the two delivered messages answered


def test_a_quoted_media_reply_counts_once_and_a_strangers_message_is_nobodys(
    delivery_tenant: TenantFactory, webhook_url: str
) -> None:
    tenant = delivery_tenant()
    target, ref, record = _messaged(tenant)
    photo = {
        "from": target.phone.lstrip("+"),
        "id": f"wamid.IMG{record.wamid[-12:]}",
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": {"id": "1234567890", "mime_type": "image/jpeg", "caption": "minha roupa"},
        "context": {"id": record.wamid},
    }

    answers = [post(webhook_url, tenant.number, messages=[photo]) for _ in range(2)]  # resent

    assert [answer.get("reply") for answer in answers] == [1, 1]
    (row,) = {r["event_id"]: r for r in _replied_rows(tenant, 2)}.values()  # one event
    assert (row["wamid"], row["message_content"]) == (record.wamid, "image")
    assert _responses(tenant) == (1, 100.0)
    stranger = text_message(delivery_fixtures.new_phone(), "oi", "wamid.STRANGER1")
    assert post(webhook_url, tenant.number, messages=[stranger]).get("reply_unattributed") == 1
    assert tenant.load(ref).status in {Status.DELIVERED, Status.READ}


def test_a_reply_quoting_an_older_message_answers_that_message_whenever_it_comes(
    delivery_tenant: TenantFactory, webhook_url: str
) -> None:
    tenant = delivery_tenant()
    target, _, record = _messaged(tenant)
    # a week later, past the window in which a reply quoting nothing is taken as an answer
    later = int(time.time()) + 7 * 24 * 3600
    quoting = {**text_message(target.phone, "ainda vale?", "wamid.LATE1", at=later)}
    quoting["context"] = {"id": record.wamid}
    unquoted = text_message(target.phone, "oi", "wamid.LATE2", at=later)

    answer = post(webhook_url, tenant.number, messages=[quoting, unquoted])

    assert (answer.get("reply"), answer.get("reply_unattributed")) == (1, 1)
    (row,) = _replied_rows(tenant, 1)
    assert (row["wamid"], row["phone"], row["event_id"]) == (
        record.wamid,
        target.phone,
        "reply#wamid.LATE1",
    )
    assert _responses(tenant) == (1, 100.0)
