"""What a status webhook leaves on a target besides its status: the wamid, and no stale error.

A send that got no answer from ``/messages`` (UNKNOWN) is settled by its webhook; the target
must then carry the status's wamid, or a button reply quoting that message cannot be linked to
it (analytics join clicks on the wamid of the target's history rows). And once a message has
reached the phone (DELIVERED, READ), an error from an earlier attempt or from a ``failed``
receipt it outranks no longer describes it. The webhook runs in-process on the real adapters:
Firestore for the target, bqemulator for the history.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared.bootstrap import Container
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.ports import Change, Claim
from shared.services.send import LEASE
from shared.services.webhooks import handle_webhook
from tests.integration.delivery_fixtures import DeliveryTenant, new_delivery_tenant

BASE_TIME = 1_790_000_000


@pytest.fixture(scope="module")
def tenant(deps: Container) -> DeliveryTenant:
    """Targets wait hours for their window, so nothing but these tests moves them."""
    return new_delivery_tenant(deps, open=False)


def _queued(tenant: DeliveryTenant) -> TargetRef:
    (ref,) = tenant.create(tenant.target())
    tenant.wait_queued(ref)
    return ref


def _claimed(tenant: DeliveryTenant) -> TargetRef:
    ref = _queued(tenant)
    store, now = tenant.deps.delivery_store, tenant.deps.clock()
    claim = store.claim(ref, 1, now, now + LEASE, 0)
    assert claim.outcome is Claim.CLAIMED, claim
    return ref


def _unanswered(tenant: DeliveryTenant) -> TargetRecord:
    """Claimed and sent, but ``/messages`` never answered: UNKNOWN, no wamid, an error."""
    ref = _claimed(tenant)
    change = Change(Status.UNKNOWN, error_reason="no answer: timeout")
    record = tenant.deps.delivery_store.transition(
        ref, frozenset({Status.SENDING}), 1, change, tenant.deps.clock()
    )
    assert record is not None and record.status is Status.UNKNOWN
    assert (record.wamid, record.error_reason) == ("", "no answer: timeout")
    return record


def _webhook(record: TargetRecord, receipt: str, wamid: str, offset: int = 0) -> dict[str, Any]:
    status: dict[str, Any] = {
        "id": wamid,
        "status": receipt,
        "timestamp": str(BASE_TIME + offset),
        "recipient_id": record.phone.lstrip("+"),
        "biz_opaque_callback_data": record.ref.callback_data(record.send_no),
    }
    if receipt == "failed":
        status["errors"] = [{"code": 131026, "title": "Message undeliverable"}]
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550000000", "phone_number_id": "0"},
        "statuses": [status],
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}],
    }


def _history_wamids(tenant: DeliveryTenant, target_id: str) -> dict[str, str]:
    """Status -> wamid of this target's history rows."""
    table = f"`{tenant.cnpj.campaign_dataset}.message_history`"  # a validated CNPJ
    rows = tenant.deps.warehouse.query(
        f"SELECT status, wamid FROM {table} WHERE target_id = @target_id",  # noqa: S608
        {"target_id": target_id},
    )
    return {str(row["status"]): str(row["wamid"] or "") for row in rows}


def test_a_webhook_settling_an_unanswered_send_records_its_wamid(tenant: DeliveryTenant) -> None:
    record = _unanswered(tenant)
    wamid = f"wamid.SETTLED{record.ref.target_id}"

    report = handle_webhook(_webhook(record, "delivered", wamid), tenant.ports)

    assert report["delivered"] == 1
    settled = tenant.load(record.ref)
    assert (settled.status, settled.wamid) == (Status.DELIVERED, wamid)
    assert _history_wamids(tenant, record.ref.target_id)["DELIVERED"] == wamid


def test_a_later_status_never_replaces_the_wamid_a_target_has(tenant: DeliveryTenant) -> None:
    record = tenant.mark_sent(_queued(tenant), "wamid.OURS")

    handle_webhook(_webhook(record, "read", "wamid.SOMEONE_ELSES"), tenant.ports)

    read = tenant.load(record.ref)
    assert (read.status, read.wamid) == (Status.READ, "wamid.OURS")


@pytest.mark.parametrize("better", ["delivered", "read"])
def test_reaching_the_phone_clears_the_error_of_an_unanswered_send(
    tenant: DeliveryTenant, better: str
) -> None:
    record = _unanswered(tenant)

    handle_webhook(_webhook(record, better, "wamid.LATE"), tenant.ports)

    reached = tenant.load(record.ref)
    assert reached.status is Status(better.upper())
    assert (reached.error_code, reached.error_reason) == (None, "")


def test_a_read_receipt_clears_the_error_of_the_failed_one_it_overtakes(
    tenant: DeliveryTenant,
) -> None:
    record = tenant.mark_sent(_queued(tenant), "wamid.MULTIDEVICE")

    handle_webhook(_webhook(record, "failed", record.wamid, offset=1), tenant.ports)
    failed = tenant.load(record.ref)
    handle_webhook(_webhook(record, "read", record.wamid, offset=2), tenant.ports)
    read = tenant.load(record.ref)

    assert (failed.status, failed.error_code) == (Status.FAILED, 131026)
    assert (read.status, read.error_code, read.error_reason) == (Status.READ, None, "")
    assert set(read.receipts) == {"failed", "read"}  # the failure's time stays as evidence


def test_a_failed_receipt_after_read_leaves_no_error(tenant: DeliveryTenant) -> None:
    record = tenant.mark_sent(_queued(tenant), "wamid.READFIRST")

    handle_webhook(_webhook(record, "read", record.wamid, offset=2), tenant.ports)
    handle_webhook(_webhook(record, "failed", record.wamid, offset=1), tenant.ports)

    read = tenant.load(record.ref)
    assert (read.status, read.error_code, read.error_reason) == (Status.READ, None, "")
