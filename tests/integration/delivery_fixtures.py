"""What the delivery tests share: tenants that send at any hour, unique phones, bounded waits.

Every test works on tenants and phone numbers of its own, so sandbox faults (filtered by
``to``) and assertions on the sandbox's accepted messages only ever see that test's traffic.
Waiting is always for an expected state with a deadline, never a bare sleep.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from shared.adapters.firestore_delivery import FirestoreDeliveryStore
from shared.bootstrap import Container
from shared.domain.calendar import zone
from shared.domain.campaign import LocalWindow
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRecord, TargetRef
from shared.domain.delivery_status import Status
from shared.domain.phones import normalize_br_mobile
from shared.domain.targets import Target
from shared.localstack.stack import Stack
from shared.ports import Change, Claim
from shared.services.delivery_common import DeliveryPorts
from shared.services.send import LEASE
from shared.services.sweeper import sweep
from shared.services.tenants import register_tenant
from tests.campaign_records import edit_built_in
from tests.conftest import new_tenant_id

CAMPAIGN_TYPES = ("BIRTHDAY", "WELCOME", "REACTIVATION", "LOYALTY")
DONE = frozenset({Status.DELIVERED, Status.READ})
"""Where a message that reached the phone ends (the sandbox reads 60% of them)."""
WAIT_SECONDS = 60.0
TRIGGER_SECONDS = 240.0
"""How long a new target may stay PENDING: the emulator delivers creation events in order, so
a target waits behind those every earlier test created (thousands, a few a second)."""
_POLL_SECONDS = 0.1
_random = random.SystemRandom()

T = TypeVar("T")


def wait_until(probe: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Poll ``probe`` until it returns something other than None (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(_POLL_SECONDS)


def new_phone() -> str:
    """A random valid Brazilian mobile in E.164 (São Paulo, ninth digit)."""
    while True:
        phone = f"+55119{_random.randrange(10**8):08d}"
        if normalize_br_mobile(phone).e164 == phone:
            return phone


def _letters(count: int) -> str:
    # Letters only: the functions' logs mask digit runs that look like phone numbers.
    return "".join(_random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(count))


# -- the stack's WhatsApp sandbox ------------------------------------------------------------


@dataclass(frozen=True)
class SandboxClient:
    base_url: str

    def messages(self, phones: Iterable[str]) -> list[dict[str, Any]]:
        """Messages the sandbox accepted for these E.164 phones, oldest first."""
        wanted = {phone.lstrip("+") for phone in phones}
        answer = requests.get(f"{self.base_url}/_sandbox/messages", timeout=10)
        answer.raise_for_status()
        return [message for message in answer.json() if message["to"] in wanted]

    def per_phone(self, phones: Collection[str]) -> Counter[str]:
        """Accepted messages per phone, every given phone present (0 when none)."""
        counts: Counter[str] = Counter({phone.lstrip("+"): 0 for phone in phones})
        counts.update(message["to"] for message in self.messages(phones))
        return counts

    def requests_for(self, phone: str) -> int:
        """Send requests the sandbox received for this phone (accepted or refused)."""
        answer = requests.get(f"{self.base_url}/_sandbox/stats", timeout=10)
        answer.raise_for_status()
        return int(answer.json()["requests_per_recipient"].get(phone.lstrip("+"), 0))

    def fault(
        self, kind: str, phone: str, times: int | None = None, code: int | None = None
    ) -> None:
        rule: dict[str, Any] = {"kind": kind, "to": phone.lstrip("+")}
        if times is not None:
            rule["times"] = times
        if code is not None:
            rule["code"] = code
        requests.post(f"{self.base_url}/_sandbox/faults", json=rule, timeout=10).raise_for_status()

    def approve_template(
        self,
        name: str,
        body: str,
        waba_id: str = "",
        extra: Iterable[dict[str, Any]] = (),
    ) -> None:
        """Add (or change) an APPROVED template in the sandbox's registry of that business
        account (default: the one of every number not given another), as the business does
        in Meta's manager; the sandbox refuses sends on templates it does not hold. ``extra``
        are its other components (HEADER, FOOTER, BUTTONS) in Meta's shape."""
        components = [{"type": "BODY", "text": body}, *extra]
        template: dict[str, Any] = {"name": name, "components": components}
        answer = requests.post(
            f"{self.base_url}/_sandbox/templates",
            json={"waba_id": waba_id or None, "template": template},
            timeout=10,
        )
        answer.raise_for_status()

    def inbound(self, phone: str, phone_number_id: str, **content: str) -> str:
        """A customer's message (``text=`` or ``button_payload=``); its message id."""
        body = {"from": phone.lstrip("+"), "phone_number_id": phone_number_id, **content}
        answer = requests.post(f"{self.base_url}/_sandbox/inbound", json=body, timeout=10)
        answer.raise_for_status()
        return str(answer.json()["id"])


# -- tenants and their targets ---------------------------------------------------------------


class TenantScopedStore(FirestoreDeliveryStore):
    """The real store, except that the sweeper only finds this tenant's overdue targets.

    The stack is shared by the whole session; a sweep with a clock in the future must not
    repair (and so disturb) targets that other tests are still working on. The sweeper's own
    query runs in Firestore, on each of this tenant's ``campaigns/*/targets`` collections (the
    emulator refuses a collection-group query below the root).
    """

    def __init__(self, store: FirestoreDeliveryStore, cnpj: Cnpj) -> None:
        super().__init__(store._client)
        self._cnpj = cnpj

    def _swept_targets(self) -> list[Any]:
        campaigns = self._client.collection("users", self._cnpj.value, "campaigns")
        return [campaign.collection("targets") for campaign in campaigns.list_documents()]


@dataclass(frozen=True)
class DeliveryTenant:
    deps: Container
    cnpj: Cnpj

    @property
    def number(self) -> str:
        """The WhatsApp number it sends from (``phone_number_id``): its own, see
        :func:`new_delivery_tenant`."""
        return own_number(self.cnpj)

    @property
    def ports(self) -> DeliveryPorts:
        return self.deps.delivery_ports()

    def target(
        self,
        campaign_id: str = "BIRTHDAY",
        phone: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> Target:
        return Target(
            customer_id=f"c{_letters(12)}",
            name="Maria da Silva",
            phone=phone or new_phone(),
            campaign_id=campaign_id,
            period="2026-01",
            run_id="delivery-test",
            local_date="2026-01-01",
            data=data if data is not None else {"visit_count": 10},
        )

    def ref(self, target: Target) -> TargetRef:
        return TargetRef(self.cnpj, target.campaign_id, target.id)

    def create(self, *targets: Target) -> list[TargetRef]:
        """Create the documents (one batch per campaign type): the Firestore trigger fires."""
        for campaign_id in {target.campaign_id for target in targets}:
            batch = [target for target in targets if target.campaign_id == campaign_id]
            result = self.deps.targets.create_batch(self.cnpj, batch)
            assert result.created == len(batch)
        return [self.ref(target) for target in targets]

    def load(self, ref: TargetRef) -> TargetRecord:
        record = self.deps.delivery_store.load(ref)
        assert record is not None, ref.path
        return record

    def document(self, path: str) -> dict[str, Any]:
        """A raw Firestore document ({} when missing)."""
        return self.deps.firestore_client.document(path).get().to_dict() or {}

    def update(self, ref: TargetRef, fields: dict[str, Any]) -> None:
        self.deps.firestore_client.document(ref.path).update(fields)

    def wait(
        self,
        ref: TargetRef,
        predicate: Callable[[TargetRecord], bool],
        what: str,
        timeout: float = WAIT_SECONDS,
    ) -> TargetRecord:
        """This target, once ``predicate`` holds: ``timeout`` seconds from when the trigger
        reached it (it leaves PENDING), which may take up to ``TRIGGER_SECONDS``."""
        last: list[TargetRecord] = []

        def probe(done: Callable[[TargetRecord], bool]) -> TargetRecord | None:
            record = self.load(ref)
            last[:] = [record]
            return record if done(record) else None

        try:
            triggered = wait_until(
                lambda: probe(lambda r: predicate(r) or r.status is not Status.PENDING),
                f"{ref.target_id} {what} (or its creation event)",
                TRIGGER_SECONDS,
            )
            if predicate(triggered):
                return triggered
            return wait_until(lambda: probe(predicate), f"{ref.target_id} {what}", timeout)
        except AssertionError as error:
            raise AssertionError(f"{error}; last seen: {last[-1] if last else None}") from None

    def wait_status(
        self, ref: TargetRef, statuses: Collection[Status], timeout: float = WAIT_SECONDS
    ) -> TargetRecord:
        return self.wait(ref, lambda r: r.status in statuses, f"in {sorted(statuses)}", timeout)

    def wait_queued(self, ref: TargetRef, generation: int = 1) -> TargetRecord:
        return self.wait(
            ref,
            lambda r: r.status is Status.QUEUED and r.task_generation == generation,
            f"QUEUED as generation {generation}",
        )

    def history(self) -> dict[str, set[str]]:
        """Statuses of the campaign history rows per target id (deduplicated by event id)."""
        table = f"`{self.cnpj.campaign_dataset}.message_history`"  # a validated CNPJ
        rows = self.deps.warehouse.query(
            f"SELECT DISTINCT event_id, target_id, status FROM {table}",  # noqa: S608
            {},
        )
        statuses: dict[str, set[str]] = {}
        changes: dict[str, str] = {}
        for row in rows:
            event, status = str(row["event_id"]), str(row["status"])
            # An event id is one change of one target: a repeated append repeats its status.
            assert changes.setdefault(event, status) == status, (event, status, changes[event])
            statuses.setdefault(str(row["target_id"]), set()).add(status)
        return statuses

    def sweep(self, ahead: timedelta, ports: DeliveryPorts | None = None) -> Counter[str]:
        """Run the sweeper as if ``ahead`` had passed, on this tenant's targets only."""
        base = ports or self.ports
        moment = self.deps.clock() + ahead
        scoped = TenantScopedStore(self.deps.delivery_store, self.cnpj)
        return sweep(replace(base, clock=lambda: moment, store=scoped))

    def mark_sent(self, ref: TargetRef, wamid: str) -> TargetRecord:
        """QUEUED (generation 1) -> claimed as send number 1 -> SENT, without a message."""
        store, now = self.deps.delivery_store, self.deps.clock()
        claim = store.claim(ref, 1, now, now + LEASE, 0)
        assert claim.outcome is Claim.CLAIMED, claim
        change = Change(Status.SENT, wamid=wamid)
        sent = store.transition(ref, frozenset({Status.SENDING}), 1, change, now)
        assert sent is not None and sent.status is Status.SENT and sent.send_no == 1
        return sent

    def set_campaigns(self, window: tuple[str, str]) -> None:
        """Every built-in campaign sends within ``window`` (local start and end)."""
        start, end = window
        for kind in CAMPAIGN_TYPES:
            edit_built_in(
                self.deps.campaigns, self.cnpj, kind, send_window=LocalWindow(start=start, end=end)
            )


TenantFactory = Callable[..., DeliveryTenant]

ALWAYS_OPEN = ("00:00:00", "23:59:59.999999")
"""The whole day: a window ending at 23:59 would leave a minute in which nothing goes."""


def closed_window(now: datetime, timezone: str = "America/Sao_Paulo") -> tuple[str, str]:
    """Half an hour of the tenant's day at least eleven hours away from ``now``."""
    hour = (now.astimezone(zone(timezone)).hour + 12) % 24
    return f"{hour:02d}:00:00", f"{hour:02d}:30:00"


def own_number(cnpj: Cnpj) -> str:
    return f"9{cnpj.value}"


def new_delivery_tenant(
    deps: Container, *, frequency_cap_hours: int = 0, open: bool = True
) -> DeliveryTenant:
    """A fresh tenant that may send at any hour, fast (or, ``open=False``, not for hours).

    It sends from a WhatsApp number of its own, as a business does: on the default number it
    would share the number's 70 messages a second with every other tenant of the session."""
    cnpj = new_tenant_id()
    tenant = register_tenant(
        cnpj,
        name=f"Delivery {cnpj.value}",
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=deps.task_queue,
        campaigns=deps.campaigns,
        now=deps.clock(),
    )
    delivery_tenant = DeliveryTenant(deps, cnpj)
    delivery_tenant.set_campaigns(
        ALWAYS_OPEN if open else closed_window(deps.clock(), tenant.timezone)
    )
    throttle = tenant.delivery.throttle.model_copy(
        update={
            # The number's ceiling (70/s): slots a few ms apart, so nothing waits for pacing.
            "messages_per_minute": 4200,
            "messages_per_hour": 250_000,
            "messages_per_day": 1_000_000,
        }
    )
    delivery = tenant.delivery.model_copy(
        update={
            "frequency_cap_hours": frequency_cap_hours,
            "throttle": throttle,
            "phone_number_id": own_number(cnpj),
        }
    )
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    return delivery_tenant


@pytest.fixture
def delivery_tenant(deps: Container) -> TenantFactory:
    """``delivery_tenant(frequency_cap_hours=0, open=True)``: see :func:`new_delivery_tenant`."""

    def create(*, frequency_cap_hours: int = 0, open: bool = True) -> DeliveryTenant:
        return new_delivery_tenant(deps, frequency_cap_hours=frequency_cap_hours, open=open)

    return create


@pytest.fixture
def sandbox(stack: Stack) -> SandboxClient:
    del stack  # the environment variable exists once the stack is up
    return SandboxClient(os.environ["WHATSAPP_API_BASE_URL"])


@pytest.fixture
def functions_log(stack: Stack) -> Path:
    return stack.state_dir / "logs" / "functions.log"


def wait_for_log(log: Path, *fragments: str, timeout: float = 30.0) -> str:
    """The first line of ``log`` that contains every fragment (JSON logs: one event a line)."""

    def probe() -> str | None:
        for line in log.read_text(errors="replace").splitlines():
            if all(fragment in line for fragment in fragments):
                return line
        return None

    return wait_until(probe, f"a log line with {fragments}", timeout)
