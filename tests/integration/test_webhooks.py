"""The WhatsApp webhook over HTTP, as Meta calls the functions host's ``api`` function.

Only signed requests change anything; statuses arrive in any order and more than once and
must still leave each target at the best receipt; whatever cannot be used is acknowledged
(so Meta does not retry it forever) and changes nothing.
"""

from __future__ import annotations

import itertools
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.bootstrap import Container
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.localstack.stack import LOCAL_WHATSAPP, Stack
from shared.manifest import WEBHOOK_PATH
from shared.whatsapp.signature import HEADER, sign
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import (
    DeliveryTenant,
    SandboxClient,
    new_delivery_tenant,
    wait_for_log,
    wait_until,
)

sandbox = delivery_fixtures.sandbox
functions_log = delivery_fixtures.functions_log

SECRET = LOCAL_WHATSAPP["WHATSAPP_APP_SECRET"]
PHONE_NUMBER_ID = LOCAL_WHATSAPP["WHATSAPP_PHONE_NUMBER_ID"]
RECEIPTS = ("sent", "delivered", "read", "failed")
ORDERINGS = list(itertools.permutations(RECEIPTS))
BASE_TIME = 1_790_000_000
OFFSETS = {"sent": 1, "delivered": 5, "read": 9, "failed": 3}
"""Seconds after BASE_TIME at which each receipt says it happened (distinct per state)."""


# -- helpers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def webhook_url(stack: Stack) -> str:
    """Where Meta posts: the functions host's ``api`` function."""
    del stack  # its variables are in the environment
    return os.environ["CAMPAIGNS_FUNCTIONS_URL"].rstrip("/") + "/api" + WEBHOOK_PATH


def _envelope(value: dict[str, Any]) -> dict[str, Any]:
    metadata = {"display_phone_number": "15550000000", "phone_number_id": PHONE_NUMBER_ID}
    full = {"messaging_product": "whatsapp", "metadata": metadata, **value}
    change = {"field": "messages", "value": full}
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}


def _status(record: TargetRecord, receipt: str, callback: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {
        "id": record.wamid,
        "status": receipt,
        "timestamp": str(BASE_TIME + OFFSETS.get(receipt, 0)),
        "recipient_id": record.phone.lstrip("+"),
        "biz_opaque_callback_data": callback or record.ref.callback_data(record.send_no),
    }
    if receipt == "failed":
        status["errors"] = [
            {
                "code": 131026,
                "title": "Message undeliverable",
                "error_data": {"details": "test"},
            }
        ]
    return status


def _statuses_body(*statuses: Any) -> bytes:
    return json.dumps(_envelope({"statuses": list(statuses)})).encode()


def _post(url: str, body: bytes, signature: str | None = "sign") -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        headers[HEADER] = sign(body, SECRET)
    elif signature is not None:
        headers[HEADER] = signature
    return requests.post(url, data=body, headers=headers, timeout=30)


def _iso(receipt: str) -> str:
    return datetime.fromtimestamp(BASE_TIME + OFFSETS[receipt], UTC).isoformat()


def _log_count(log: Path, fragment: str) -> int:
    return sum(fragment in line for line in log.read_text(errors="replace").splitlines())


@dataclass
class SentTargets:
    """Targets SENT as send number 1 through the store (the sandbox never saw them)."""

    tenant: DeliveryTenant
    records: list[TargetRecord]

    def take(self, count: int) -> list[TargetRecord]:
        assert len(self.records) >= count, "raise POOL_SIZE"
        taken, self.records[:] = self.records[:count], self.records[count:]
        return taken


POOL_SIZE = 40


@pytest.fixture(scope="module")
def sent(deps: Container) -> SentTargets:
    """One tenant whose targets wait hours for their send window, made SENT here at once.

    Made up front because each target's creation fires the enqueue trigger, and a claim
    racing that trigger's transaction costs the emulator's 2 s lock timeout.
    """
    tenant = new_delivery_tenant(deps, open=False)
    refs = tenant.create(*(tenant.target() for _ in range(POOL_SIZE)))
    for ref in refs:
        tenant.wait_queued(ref)
    with ThreadPoolExecutor(8) as pool:
        records = list(pool.map(lambda r: tenant.mark_sent(r, f"wamid.T{r.target_id}"), refs))
    return SentTargets(tenant, records)


# -- subscription and signatures -------------------------------------------------------------


def test_subscription_is_verified_with_the_token(webhook_url: str) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": LOCAL_WHATSAPP["WHATSAPP_VERIFY_TOKEN"],
        "hub.challenge": "1158201444",
    }
    answer = requests.get(webhook_url, params=params, timeout=10)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    assert answer.headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "change",
    [{"hub.verify_token": "wrong"}, {"hub.mode": "unsubscribe"}, {"hub.verify_token": ""}],
    ids=["wrong-token", "wrong-mode", "no-token"],
)
def test_subscription_is_refused_without_the_right_token_and_mode(
    webhook_url: str, change: dict[str, str]
) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": LOCAL_WHATSAPP["WHATSAPP_VERIFY_TOKEN"],
        "hub.challenge": "1158201444",
        **change,
    }
    answer = requests.get(webhook_url, params=params, timeout=10)
    assert answer.status_code == 403 and "1158201444" not in answer.text


@pytest.mark.parametrize("signature", ["missing", "wrong", "other-body", "not-prefixed"])
def test_unsigned_or_badly_signed_posts_are_refused(
    webhook_url: str, sent: SentTargets, signature: str
) -> None:
    (record,) = sent.take(1)
    body = _statuses_body(_status(record, "delivered"))
    header = {
        "missing": None,
        "wrong": sign(body, "not-the-app-secret"),
        "other-body": sign(body + b" ", SECRET),
        "not-prefixed": sign(body, SECRET).removeprefix("sha256="),
    }[signature]

    answer = _post(webhook_url, body, header)

    assert answer.status_code == 401
    assert sent.tenant.load(record.ref) == record


# -- statuses --------------------------------------------------------------------------------


def test_statuses_in_any_order_and_twice_end_read(
    webhook_url: str, sent: SentTargets, sandbox: SandboxClient
) -> None:
    records = sent.take(len(ORDERINGS))

    def deliver(job: tuple[TargetRecord, tuple[str, ...]]) -> list[int]:
        record, ordering = job
        bodies = [_statuses_body(_status(record, receipt)) for receipt in ordering]
        # Meta retries: the whole sequence comes again after the first one.
        return [_post(webhook_url, body).status_code for body in bodies * 2]

    with ThreadPoolExecutor(len(ORDERINGS)) as pool:
        answers = list(pool.map(deliver, zip(records, ORDERINGS, strict=True)))

    assert all(codes == [200] * 2 * len(RECEIPTS) for codes in answers), answers
    for record, ordering in zip(records, ORDERINGS, strict=True):
        final = sent.tenant.load(record.ref)
        assert final.status is Status.READ, (ordering, final)
        assert final.receipts == {receipt: _iso(receipt) for receipt in RECEIPTS}, ordering
        assert (final.send_no, final.attempts, final.wamid) == (1, 1, record.wamid)
        assert final.error_code is None  # it reached the phone; the failure's time stays
    assert sum(sandbox.per_phone([r.phone for r in records]).values()) == 0


def test_receipts_of_an_older_send_are_stale(webhook_url: str, sent: SentTargets) -> None:
    (record,) = sent.take(1)
    older = record.ref.callback_data(record.send_no - 1)

    answer = _post(webhook_url, _statuses_body(_status(record, "read", callback=older)))

    assert answer.status_code == 200 and answer.json()["stale"] == 1
    assert sent.tenant.load(record.ref) == record


FOREIGN_CALLBACKS = {
    "not-ours": "campaign=black-friday",
    "no-send-number": "users/{cnpj}/campaigns/BIRTHDAY/targets/{id}",
    "foreign-path": "orders/123/items/9#1",
    "bad-cnpj": "users/12345678901234/campaigns/BIRTHDAY/targets/{id}#1",
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(FOREIGN_CALLBACKS))
def test_statuses_for_unknown_messages_are_acknowledged(
    webhook_url: str, sent: SentTargets, functions_log: Path, case: str
) -> None:
    (record,) = sent.take(1)
    callback = FOREIGN_CALLBACKS[case].format(cnpj=record.ref.cnpj.value, id=record.ref.target_id)
    status = _status(record, "delivered")
    status["biz_opaque_callback_data"] = callback
    status["id"] = f"wamid.UNKNOWN{case.upper()}"

    answer = _post(webhook_url, _statuses_body(status))

    assert answer.status_code == 200 and answer.json() == {"status": "ok", "unknown_message": 1}
    wait_for_log(functions_log, "status for an unknown message acknowledged", status["id"])
    assert sent.tenant.load(record.ref) == record


def test_a_status_for_a_missing_target_is_acknowledged(webhook_url: str, sent: SentTargets) -> None:
    ghost = TargetRef(sent.tenant.cnpj, "BIRTHDAY", "never-created_2026-01")
    status = {
        "id": "wamid.GHOST",
        "status": "delivered",
        "timestamp": str(BASE_TIME),
        "recipient_id": "5511900000000",
        "biz_opaque_callback_data": ghost.callback_data(1),
    }

    answer = _post(webhook_url, _statuses_body(status))

    assert answer.status_code == 200 and answer.json() == {"status": "ok", "stale": 1}
    assert sent.tenant.deps.delivery_store.load(ghost) is None


MALFORMED: dict[str, Any] = {
    "unknown-status": {"status": "deleted"},
    "no-status": {"status": None},
    "status-not-an-object": "delivered",
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_statuses_are_acknowledged(
    webhook_url: str, sent: SentTargets, functions_log: Path, case: str
) -> None:
    (record,) = sent.take(1)
    shape = MALFORMED[case]
    status = {**_status(record, "read"), **shape} if isinstance(shape, dict) else shape

    logged = _log_count(functions_log, "malformed status acknowledged")

    answer = _post(webhook_url, _statuses_body(status))

    assert answer.status_code == 200 and answer.json() == {"status": "ok", "malformed": 1}
    wait_until(
        lambda: _log_count(functions_log, "malformed status acknowledged") > logged or None,
        "the malformed status to be logged",
    )
    assert sent.tenant.load(record.ref) == record


def _nested_malformed(case: str) -> dict[str, Any]:
    """A webhook value in which one nested object is something else (a string)."""
    inbound = {"from": "5511900000000", "id": f"wamid.NESTED{case.upper()}", "timestamp": "1"}
    ghost = "users/00000000000191/campaigns/BIRTHDAY/targets/ghost_2026-01#1"
    values: dict[str, dict[str, Any]] = {
        "metadata": {"metadata": "not-an-object", "statuses": [], "messages": [inbound]},
        "error-data": {
            "statuses": [
                {
                    "id": "wamid.NESTED",
                    "status": "failed",
                    "timestamp": str(BASE_TIME),
                    "biz_opaque_callback_data": ghost,
                    "errors": [{"code": 131026, "error_data": "not-an-object"}],
                }
            ]
        },
        "text": {"messages": [{**inbound, "type": "text", "text": "PARAR"}]},
        "button": {"messages": [{**inbound, "type": "button", "button": "not-an-object"}]},
        "interactive": {"messages": [{**inbound, "type": "interactive", "interactive": "x"}]},
        "context": {
            "messages": [{**inbound, "type": "button", "button": {"payload": "P"}, "context": "x"}]
        },
    }
    return values[case]


@pytest.mark.parametrize(
    "case", ["metadata", "error-data", "text", "button", "interactive", "context"]
)
def test_malformed_nested_fields_are_acknowledged(webhook_url: str, case: str) -> None:
    """Anything but 2xx makes Meta retry the same body for days."""
    body = json.dumps(_envelope(_nested_malformed(case))).encode()
    answer = _post(webhook_url, body)
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    "body",
    [
        b"this is not json",
        b"[1, 2, 3]",
        json.dumps({"object": "page", "entry": []}).encode(),
        json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": [1]}]}).encode(),
    ],
    ids=["not-json", "not-an-object", "other-object", "malformed-change"],
)
def test_signed_bodies_that_are_not_webhooks_are_acknowledged(
    webhook_url: str, body: bytes
) -> None:
    answer = _post(webhook_url, body)
    assert answer.status_code == 200


# -- what customers write back ---------------------------------------------------------------


def test_button_reply_is_recorded_as_a_click(sent: SentTargets, sandbox: SandboxClient) -> None:
    phone = delivery_fixtures.new_phone()
    message_id = sandbox.inbound(phone, sent.tenant.number, button_payload="QUERO_O_CUPOM")
    path = f"users/{sent.tenant.cnpj.value}/clicks/{message_id}"

    click = wait_until(lambda: sent.tenant.document(path) or None, "the click to be recorded")

    assert click["phone"] == phone and click["payload"] == "QUERO_O_CUPOM"
    assert not sent.tenant.deps.delivery_store.is_opted_out(sent.tenant.cnpj, phone)
