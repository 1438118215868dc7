"""Delivery on the local stack: trigger -> Cloud Task -> WhatsApp sandbox -> webhooks -> target.

Every duplicate the platform can produce (a redelivered creation event, a task dispatched
twice, a crash after WhatsApp accepted the message) and every answer the sandbox can give
must end in at most one message per target, with the target in the state that says why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.retry import DEFER_MARKETING_LIMIT, PAUSE_RECHECK
from shared.localstack.whatsapp_sandbox import REFUSALS
from shared.services.enqueue import enqueue_target
from shared.services.send import LEASE, send_message
from shared.whatsapp.client import WhatsAppClient
from tests.integration import delivery_fixtures
from tests.integration.delivery_fixtures import (
    ALWAYS_OPEN,
    DONE,
    TRIGGER_SECONDS,
    DeliveryTenant,
    SandboxClient,
    TenantFactory,
    wait_for_log,
)

delivery_tenant = delivery_fixtures.delivery_tenant
sandbox = delivery_fixtures.sandbox
functions_log = delivery_fixtures.functions_log

ROOT = Path(__file__).resolve().parents[2]
RETRYABLE = ("rate_limit", "pair_rate", "server_error", "unavailable")
RETRY_DELAYS = {2: timedelta(seconds=30), 3: timedelta(seconds=60)}
"""When the n-th attempt is planned after the previous one failed (SEND_RETRY): 30 s, then 60 s."""


def _code(kind: str) -> int:
    return REFUSALS[kind][1]


def _planned_after_update(record: TargetRecord) -> timedelta:
    assert record.planned_at is not None and record.updated_at is not None, record
    return record.planned_at - record.updated_at


def _requeued(tenant: DeliveryTenant, ref: TargetRef, generation: int) -> TargetRecord:
    """The target as the retry left it: QUEUED for generation ``generation``, not yet sent."""
    record = tenant.wait_queued(ref, generation)
    delay = _planned_after_update(record)
    expected = RETRY_DELAYS[generation]
    assert expected - timedelta(seconds=1) <= delay <= expected + timedelta(seconds=2), record
    assert record.attempts == generation - 1
    return record


# -- the loop --------------------------------------------------------------------------------


def test_whole_loop_delivers_each_target_once(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    targets = [tenant.target() for _ in range(20)]
    refs = tenant.create(*targets)

    records = [tenant.wait_status(ref, DONE) for ref in refs]

    assert sandbox.per_phone([t.phone for t in targets]) == {t.phone[1:]: 1 for t in targets}
    for record in records:
        assert record.wamid.startswith("wamid.") and record.attempts == 1, record
        assert record.task_generation == 1 and record.send_no == 1, record

    def history_complete() -> dict[str, set[str]] | None:
        history = tenant.history()
        steps = {"QUEUED", "SENDING", "SENT", "DELIVERED"}
        done = all(steps | {r.status.value} <= history.get(r.ref.target_id, set()) for r in records)
        return history if done else None

    delivery_fixtures.wait_until(history_complete, "every step of every target in the history")


def test_redelivered_creation_event_makes_no_second_task(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    racing_target, *targets = [tenant.target() for _ in range(4)]
    racing, *refs = tenant.create(racing_target, *targets)
    ports = tenant.ports

    def redeliver(ref: TargetRef) -> Status | None:
        return enqueue_target(ref, ports)

    # Redelivered while the trigger's own delivery of it may still run. (One racer only: the
    # emulator settles each pair of contending transactions by a 2 s lock timeout.)
    assert redeliver(racing) not in (None, Status.PENDING)
    for ref in refs:
        tenant.wait(ref, lambda r: r.status is not Status.PENDING, "enqueued by the trigger")
    with ThreadPoolExecutor(2 * len(refs)) as pool:
        # Redelivered after the trigger enqueued it: once, then twice at once.
        assert all(redeliver(ref) not in (None, Status.PENDING) for ref in refs)
        later = list(pool.map(redeliver, [*refs, *refs]))
    assert all(status not in (None, Status.PENDING) for status in later), later

    for ref in [racing, *refs]:
        record = tenant.wait_status(ref, DONE)
        assert (record.task_generation, record.attempts, record.send_no) == (1, 1, 1), record
    phones = [target.phone for target in (racing_target, *targets)]
    assert set(sandbox.per_phone(phones).values()) == {1}


def test_task_dispatched_twice_at_once_sends_once(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant(open=False)  # QUEUED for hours: only this test dispatches it
    target = tenant.target()
    (ref,) = tenant.create(target)
    tenant.wait_queued(ref)
    # Two at once: the emulator settles contending transactions by 2 s lock timeouts, and a
    # third contender can starve there for a minute (production Firestore uses wound-wait).
    dispatches = 2
    barrier = threading.Barrier(dispatches)

    def dispatch(_: int) -> str:
        ports = Container(Settings()).delivery_ports()  # as separate function instances
        barrier.wait(timeout=30)
        return send_message(ref, 1, ports).label

    with ThreadPoolExecutor(dispatches) as pool:
        labels = sorted(pool.map(dispatch, range(dispatches)))

    assert labels == ["not_claimable"] * (dispatches - 1) + ["sent"]
    record = tenant.wait_status(ref, DONE)
    assert (record.attempts, record.send_no) == (1, 1)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}


CRASHING_SEND = """
import dataclasses, os, sys
from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.delivery import TargetRef
from shared.services.send import send_message

path, generation, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ports = Container(Settings()).delivery_ports()
real = ports.sender

class DiesAfterTheCall:
    def send(self, phone_number_id, body):
        if mode == "lease_expires_in_flight":
            print("claimed", flush=True)
            sys.stdin.readline()
        result = real.send(phone_number_id, body)
        print("called", result.http_status, result.wamid, flush=True)
        os._exit(1)

crashing = dataclasses.replace(ports, sender=DiesAfterTheCall())
send_message(TargetRef.parse(path), generation, crashing)
print("survived", flush=True)
"""


@pytest.mark.parametrize("mode", ["crash_then_sweep", "lease_expires_in_flight"])
def test_crash_after_the_call_is_never_resent_and_settled_by_webhooks(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, mode: str
) -> None:
    """The sender dies after WhatsApp accepted the message, before it wrote SENT.

    ``crash_then_sweep``: the sweeper runs after the crash, as in production. The sandbox's
    ``sent`` webhook comes 0.2 s after acceptance and may beat the sweep, so both orders are
    accepted there. ``lease_expires_in_flight`` makes the order certain: the lease runs out
    (sweep -> UNKNOWN) while the request is in flight, then the call lands and the sender dies.
    """
    tenant = delivery_tenant(open=False)
    target = tenant.target()
    (ref,) = tenant.create(target)
    tenant.wait_queued(ref)
    past_lease = LEASE + timedelta(minutes=1)
    command = [sys.executable, "-c", CRASHING_SEND, ref.path, "1", mode]
    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=dict(os.environ),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as sender:
        assert sender.stdin is not None and sender.stdout is not None
        try:
            if mode == "lease_expires_in_flight":
                assert sender.stdout.readline().strip() == "claimed"
                assert tenant.load(ref).status is Status.SENDING
                assert tenant.sweep(past_lease) == {"sending_to_unknown": 1}
                assert tenant.load(ref).status is Status.UNKNOWN
                sender.stdin.write("go\n")
                sender.stdin.flush()
            called = sender.stdout.readline().split()
            assert sender.wait(timeout=60) == 1  # os._exit(1): nothing after the call ran
        finally:
            if sender.poll() is None:
                sender.kill()
    assert called[:2] == ["called", "200"], called
    wamid = called[2]

    crashed = tenant.load(ref)
    assert crashed.wamid == "" and crashed.send_no == 1  # our own SENT write never happened
    if mode == "crash_then_sweep":
        # SENDING, unless the sandbox's first receipt got there already.
        assert crashed.status in {Status.SENDING, Status.SENT, *DONE}, crashed
        report = tenant.sweep(past_lease)  # "raced": a receipt came between its read and write
        assert set(report) <= {"sending_to_unknown", "raced"}, report
        assert tenant.load(ref).status in {Status.UNKNOWN, Status.SENT, *DONE}

    settled = tenant.wait_status(ref, DONE)
    assert (settled.attempts, settled.send_no) == (1, 1)
    assert "sent" in settled.receipts and "delivered" in settled.receipts
    assert tenant.sweep(past_lease) == {}  # nothing left for the sweeper
    messages = sandbox.messages([target.phone])
    assert [m["wamid"] for m in messages] == [wamid]
    assert messages[0]["biz_opaque_callback_data"] == ref.callback_data(1)


# -- every answer the sandbox can give --------------------------------------------------------


@pytest.mark.parametrize("kind", RETRYABLE)
def test_temporary_refusal_is_retried_as_a_new_generation(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, kind: str
) -> None:
    tenant = delivery_tenant()
    target = tenant.target()
    sandbox.fault(kind, target.phone, times=1)
    (ref,) = tenant.create(target)

    _requeued(tenant, ref, 2)
    # The retry task would run in 30 s; run it now, as Cloud Tasks would then.
    assert send_message(ref, 2, tenant.ports).label == "sent"

    record = tenant.wait_status(ref, DONE)
    assert (record.attempts, record.send_no, record.task_generation) == (2, 2, 2)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}
    assert sandbox.requests_for(target.phone) == 2


@pytest.mark.parametrize("kind", RETRYABLE)
def test_temporary_refusal_that_persists_fails_after_three_attempts(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, kind: str
) -> None:
    tenant = delivery_tenant()
    target = tenant.target()
    sandbox.fault(kind, target.phone)  # every time
    (ref,) = tenant.create(target)

    _requeued(tenant, ref, 2)
    assert send_message(ref, 2, tenant.ports).label == "retry"
    _requeued(tenant, ref, 3)
    assert send_message(ref, 3, tenant.ports).label == "failed"

    record = tenant.load(ref)
    assert record.status is Status.FAILED and record.attempts == 3, record
    assert record.error_code == _code(kind)
    assert record.error_reason.startswith("gave up after 3 attempts")
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 0}
    assert sandbox.requests_for(target.phone) == 3


@pytest.mark.parametrize("kind", ["undeliverable", "policy"])
def test_permanent_refusal_fails_at_once(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, kind: str
) -> None:
    tenant = delivery_tenant()
    target = tenant.target()
    sandbox.fault(kind, target.phone)
    (ref,) = tenant.create(target)

    record = tenant.wait_status(ref, {Status.FAILED})
    assert (record.error_code, record.attempts, record.task_generation) == (_code(kind), 1, 1)
    assert sandbox.requests_for(target.phone) == 1
    campaign = tenant.deps.campaigns.get(tenant.cnpj, "BIRTHDAY")
    assert campaign is not None and not campaign.pipeline.paused


@pytest.mark.parametrize("kind", ["template_missing", "spam"])
def test_broken_template_or_spam_limit_pauses_the_campaign(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, kind: str
) -> None:
    tenant = delivery_tenant()
    first = tenant.target()
    sandbox.fault(kind, first.phone)
    (first_ref,) = tenant.create(first)

    failed = tenant.wait_status(first_ref, {Status.FAILED})
    assert (failed.error_code, failed.attempts) == (_code(kind), 1)
    campaign = tenant.deps.campaigns.get(tenant.cnpj, "BIRTHDAY")
    assert campaign is not None and campaign.pipeline.paused is True
    assert str(_code(kind)) in campaign.pipeline.paused_reason

    later, other_campaign = tenant.target(), tenant.target("WELCOME")
    later_ref, other_ref = tenant.create(later, other_campaign)
    deferred = tenant.wait_queued(later_ref, 2)  # its task ran and found the campaign paused
    assert deferred.attempts == 0
    assert _planned_after_update(deferred) >= PAUSE_RECHECK - timedelta(seconds=1)
    tenant.wait_status(other_ref, DONE)  # the tenant's other campaigns go on
    assert sandbox.per_phone([first.phone, later.phone]) == {
        first.phone[1:]: 0,
        later.phone[1:]: 0,
    }


def test_opted_out_refusal_skips_and_records_the_opt_out(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    target = tenant.target()
    sandbox.fault("opted_out", target.phone)
    (ref,) = tenant.create(target)

    record = tenant.wait_status(ref, {Status.SKIPPED})
    assert (record.error_code, record.attempts) == (131050, 1)
    assert tenant.deps.delivery_store.is_opted_out(tenant.cnpj, target.phone)
    evidence = tenant.document(f"users/{tenant.cnpj.value}/optouts/{target.phone}")
    assert evidence["source"] == "whatsapp_131050" and evidence["messageId"] == ref.path


def test_marketing_limit_defers_a_day(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    target = tenant.target()
    sandbox.fault("marketing_limit", target.phone, times=1)
    (ref,) = tenant.create(target)

    record = tenant.wait_queued(ref, 2)
    assert record.attempts == 1
    assert _planned_after_update(record) >= timedelta(hours=24)
    assert _planned_after_update(record) >= DEFER_MARKETING_LIMIT - timedelta(seconds=1)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 0}


@pytest.mark.parametrize("kind", ["timeout_after_accept", "drop_connection"])
def test_ambiguous_answer_is_never_resent_and_settled_by_webhooks(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, kind: str
) -> None:
    tenant = delivery_tenant(open=False)  # this test dispatches the task itself
    target = tenant.target()
    sandbox.fault(kind, target.phone, times=1)
    (ref,) = tenant.create(target)
    tenant.wait_queued(ref)
    settings = tenant.deps.settings
    # The sandbox holds a timed-out answer for 30 s; wait 1 s for it, not the client's 15 s.
    impatient = WhatsAppClient(
        settings.whatsapp_api_base_url,
        settings.whatsapp_api_version,
        settings.whatsapp_access_token.get_secret_value(),
        timeout=(3.05, 1.0),
    )

    outcome = send_message(ref, 1, replace(tenant.ports, sender=impatient))

    assert outcome.label == "unknown"
    record = tenant.wait_status(ref, DONE)
    # The webhook settled it: it carries the status's wamid, and the UNKNOWN step's "no answer"
    # lives on in that step's history row, not on a message that reached the phone.
    assert (record.error_reason, record.wamid[:6]) == ("", "wamid."), record
    assert (record.attempts, record.send_no, record.task_generation) == (1, 1, 1)
    assert tenant.sweep(LEASE + timedelta(minutes=1)) == {}
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}
    assert sandbox.requests_for(target.phone) == 1


def test_failure_reported_by_webhook_fails_the_target(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    target = tenant.target()
    sandbox.fault("async_failed", target.phone, times=1, code=131026)
    (ref,) = tenant.create(target)

    record = tenant.wait_status(ref, {Status.FAILED})
    assert record.error_code == 131026 and record.attempts == 1
    assert record.wamid.startswith("wamid.") and set(record.receipts) == {"sent", "failed"}
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}


# -- opt-out and frequency cap ---------------------------------------------------------------


def test_inbound_stop_opts_out_before_the_next_send(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    phone = delivery_fixtures.new_phone()
    message_id = sandbox.inbound(phone, tenant.number, text="PARAR")

    evidence = delivery_fixtures.wait_until(
        lambda: tenant.document(f"users/{tenant.cnpj.value}/optouts/{phone}") or None,
        "the opt-out to be recorded",
    )
    assert evidence["source"] == "inbound_keyword" and evidence["messageId"] == message_id
    assert evidence["phone"] == phone
    assert tenant.deps.delivery_store.is_opted_out(tenant.cnpj, phone)

    (ref,) = tenant.create(tenant.target(phone=phone))
    record = tenant.wait_status(ref, {Status.SKIPPED})
    assert record.error_reason == "opted_out" and record.attempts == 0
    assert sandbox.requests_for(phone) == 0


def test_frequency_cap_defers_the_second_campaign_a_day(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant(frequency_cap_hours=24)
    phone = delivery_fixtures.new_phone()
    refs = tenant.create(tenant.target("BIRTHDAY", phone), tenant.target("WELCOME", phone))

    def settled() -> list[TargetRecord] | None:
        records = [tenant.load(ref) for ref in refs]
        if sum(r.status in DONE for r in records) != 1:
            return None
        deferred = [r for r in records if r.status not in DONE]
        ok = deferred[0].status is Status.QUEUED and deferred[0].task_generation == 2
        return records if ok else None

    records = delivery_fixtures.wait_until(settled, "one sent and one deferred")
    sent = next(r for r in records if r.status in DONE)
    deferred = next(r for r in records if r.status not in DONE)
    last_send = tenant.document(f"users/{tenant.cnpj.value}/recentSends/{phone}")
    assert last_send["target"] == sent.ref.path
    assert deferred.planned_at is not None and deferred.attempts == 0
    assert deferred.planned_at >= last_send["sentAt"] + timedelta(hours=24)
    assert sandbox.per_phone([phone]) == {phone[1:]: 1}


# -- the sweeper -----------------------------------------------------------------------------


def test_sweeper_enqueues_a_target_whose_creation_event_was_lost(
    delivery_tenant: TenantFactory, sandbox: SandboxClient, functions_log: Path
) -> None:
    tenant = delivery_tenant()
    users = tenant.deps.firestore_client.collection("users")
    # An invalid tenant document makes the trigger acknowledge the event without enqueueing.
    users.document(tenant.cnpj.value).update({"timezone": "Mars/Olympus_Mons"})
    target = tenant.target()
    (ref,) = tenant.create(target)
    # Its creation event comes after those of every earlier test's targets.
    wait_for_log(
        functions_log, "enqueue failed permanently", ref.target_id, timeout=TRIGGER_SECONDS
    )
    users.document(tenant.cnpj.value).update({"timezone": "America/Sao_Paulo"})
    assert tenant.load(ref).status is Status.PENDING

    assert tenant.sweep(timedelta(minutes=11)) == {"pending_enqueued": 1}

    queued = tenant.load(ref)
    assert queued.status is Status.QUEUED and queued.task_generation == 1
    assert queued.planned_at is not None and queued.planned_at > tenant.deps.clock() + timedelta(
        minutes=9
    )
    # In eleven minutes its task runs; run it now.
    assert send_message(ref, 1, tenant.ports).label == "sent"
    tenant.wait_status(ref, DONE)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}


def test_sweeper_racing_the_creation_event_sends_once(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant()
    target = tenant.target()
    (ref,) = tenant.create(target)

    report = tenant.sweep(timedelta(minutes=11))  # the trigger runs meanwhile

    # With the clock 11 minutes ahead, a send the trigger already started is past its lease.
    assert set(report) <= {"pending_enqueued", "sending_to_unknown"}, report
    queued = tenant.wait(ref, lambda r: r.status is not Status.PENDING, "enqueued")
    # Whoever planned it, its task runs (now: the sweeper may have planned it 11 min ahead);
    # if the trigger won, the emulator runs it too and one of the two finds nothing to do.
    send_message(ref, queued.task_generation, tenant.ports)
    record = tenant.wait_status(ref, DONE)
    assert (record.task_generation, record.attempts) == (1, 1)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}


def test_sweeper_replaces_a_lost_task(
    delivery_tenant: TenantFactory, sandbox: SandboxClient
) -> None:
    tenant = delivery_tenant(open=False)
    target = tenant.target()
    (ref,) = tenant.create(target)
    tenant.wait_queued(ref)
    tenant.set_campaigns(ALWAYS_OPEN)
    # Generation 2 was planned 20 minutes ago, but its task was never created.
    tenant.update(
        ref, {"plannedAt": tenant.deps.clock() - timedelta(minutes=20), "taskGeneration": 2}
    )

    assert tenant.sweep(timedelta(0)) == {"queued_requeued": 1}

    record = tenant.wait_status(ref, DONE)  # generation 3's task, from the emulator
    assert (record.task_generation, record.attempts) == (3, 1)
    assert sandbox.per_phone([target.phone]) == {target.phone[1:]: 1}
