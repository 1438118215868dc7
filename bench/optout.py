"""Opt-out reliability benchmark: opt-outs that race the sends to the same people.

N people of one tenant (unique phones) each have a target of a running campaign whose sends go
out while the opt-outs arrive: the send window is open from the start and the pace spreads the
sends over ``--seconds``. Every person sends an opt-out (keyword text, the template's quick-reply
stop, or the ``user_preferences`` stop) at a random moment of that span, through signed
webhooks to the real ``/api`` webhook endpoint, the way Meta delivers them at their worst:

* every opt-out is posted twice (the same bytes: Meta redelivers a webhook it doubts), half of
  the copies right after the first, the rest 1-5 s later;
* some batches (``--reversed-share``) are posted in reverse order, so a later opt-out arrives
  before an earlier one; several opt-outs may share one POST;
* for some people (``--late-status-share``) the status webhooks of a message sent to them
  before their opt-out are held back and posted, newest first, only after the opt-out was
  acknowledged.

It records, for each person, the moment the first webhook POST carrying their opt-out was
acknowledged (HTTP 200 returned) and every moment the sandbox accepted a message to them, and
prints: messages accepted after the person's opt-out was acknowledged (the headline, goal 0),
messages sent before it (expected, not a failure), targets that ended SKIPPED for opt-out, and
the ledger's opt-outs against the people (goal equal). It prints figures and asserts nothing;
``tests/integration/test_optout_bench.py`` runs the same core at a small size and asserts.

What runs is ``bench/delivery.py``'s set-up: a private stack on free ports (the Firestore
emulator is the real store: claims and the opt-out ledger are its transactions),
:class:`~shared.localstack.faithful_tasks.FaithfulCloudTasks` dispatching the real
``send_message`` and ``api`` functions served in-process through ``functions_host.build_app``,
the in-process WhatsApp sandbox, and history in an in-memory log. The sandbox's status
webhooks go through a relay in this process (it holds the late ones back); the opt-outs are
posted by this process, so their acknowledgement is measured where Meta would see it.

Run: ``.venv/bin/python bench/optout.py`` (1,000 people, 90 s of sends, about 2 minutes) or
``--people 200 --seconds 30`` for a quick check; ``--seed`` replays a run.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import shlex
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import requests
from delivery import LogCounter, in_process
from reporting import CountingHistory, machine, private_stack, table

from shared.bootstrap import Container
from shared.domain.calendar import local_date, zone
from shared.domain.campaign import Campaign, LocalWindow
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import FINAL, Status
from shared.domain.errors import PermanentError
from shared.domain.targets import Target
from shared.localstack.faithful_tasks import FaithfulCloudTasks
from shared.localstack.functions_host import build_app
from shared.localstack.stack import LOCAL_WHATSAPP, Stack
from shared.localstack.whatsapp_sandbox import Sandbox, SandboxConfig, serving
from shared.manifest import WEBHOOK_PATH
from shared.ports import MAX_BATCH_WRITES
from shared.sample_data import tenant_cnpjs, tenant_names
from shared.services.delivery_common import DeliveryPorts
from shared.services.enqueue import enqueue_target
from shared.services.tenants import register_tenant
from shared.whatsapp.signature import HEADER, sign

CAMPAIGN = "BIRTHDAY"
"""A running built-in campaign; its default template needs only the first name."""
SOURCES = ("keyword", "quick_reply", "user_preferences")
KEYWORDS = ("SAIR", "Parar", "stop", "Não quero mais", "descadastrar")
QUICK_REPLY_STOP = "Parar promoções"
"""The "stop promotions" quick-reply button of a marketing template: its text and payload."""
BATCH_SECONDS = 0.5
"""Opt-outs due within one such bucket form a batch, posted in order (or reversed) by one thread."""
POSTERS = 4
"""Webhook POSTs in flight at once: Meta delivers concurrently."""
POST_RETRIES = 5
POST_BACKOFF_SECONDS = 0.2
DONE = FINAL | {Status.UNKNOWN}
"""Where a target may end in this run: final, or UNKNOWN (never re-sent)."""
PROGRESS_SECONDS = 15.0


# -- what one run is --------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchOptions:
    people: int = 1_000
    seconds: float = 90.0
    """The sends' span at the configured pace; the opt-outs fall within it too."""
    seed: int = 14
    sources: tuple[str, ...] = SOURCES
    reversed_share: float = 0.3
    late_status_share: float = 0.25
    settle_timeout: float = 120.0
    cnpj: Cnpj | None = None
    """The tenant (default: one drawn from the seed)."""


@dataclass(frozen=True)
class OptOut:
    phone: str
    """E.164."""
    source: str
    due: float
    """Seconds after the start of the run."""
    message_id: str


@dataclass(frozen=True)
class Post:
    """One webhook POST: the exact bytes Meta would sign, and whose opt-outs it carries."""

    body: bytes
    optouts: tuple[OptOut, ...]


@dataclass
class Batch:
    due: float
    posts: list[Post]
    reversed: bool = False


@dataclass(frozen=True)
class LateSend:
    """A message the sandbox accepted after its person's opt-out was acknowledged."""

    phone: str
    source: str
    after_ack_s: float
    claimed: str
    """When its send was claimed (the claim reads the ledger): ``before the opt-out was
    posted`` (a send in flight), ``while it was recorded``, ``after it was acknowledged``
    (the ledger missed it), or ``unknown``."""


@dataclass
class Result:
    """What one run measured (the report prints it; the test asserts on it)."""

    options: BenchOptions
    cnpj: Cnpj
    per_minute: int
    posts: int
    """Webhook POSTs of opt-outs, duplicates included."""
    optouts_posted: int
    """Opt-outs carried by those POSTs (each person's twice)."""
    post_retries: int
    reversed_batches: int
    batches: int
    acked: dict[str, float]
    """Phone (E.164) -> when the first POST carrying their opt-out was answered 200."""
    accepted: dict[str, list[float]]
    """Phone (E.164) -> when the sandbox accepted each message to them."""
    sends_attempted: int
    sends_accepted: int
    late: list[LateSend]
    sent_before: int
    """Messages accepted before their person's opt-out was acknowledged (expected)."""
    outcomes: Counter[str]
    """Target status (SKIPPED split by reason) -> targets."""
    skipped_opt_out: int
    ledger: int
    """People the opt-out ledger lists as opted out at the end."""
    answers: dict[str, Counter[str]]
    """Source (``mixed`` for a POST of several) -> what the webhook's answers counted."""
    ack_ms: list[float]
    """How long each acknowledged opt-out POST took (its last attempt)."""
    statuses_held: int
    statuses_released_after_ack: int
    log_counts: Counter[str]
    wall_s: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return self.options.people


# -- webhooks as Meta sends them --------------------------------------------------------------


def _envelope(changes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "100000000000000", "time": int(time.time()), "changes": list(changes)}],
    }


def _change(optout: OptOut, number: str, at: int, rng: random.Random) -> dict[str, Any]:
    """One opt-out in the shape its source has in Meta's webhooks."""
    digits = optout.phone.lstrip("+")
    metadata = {"display_phone_number": "15550000000", "phone_number_id": number}
    contacts = [{"profile": {"name": "Maria"}, "wa_id": digits}]
    value: dict[str, Any] = {"messaging_product": "whatsapp", "metadata": metadata}
    if optout.source == "user_preferences":
        preference = {
            "wa_id": digits,
            "detail": "User requested to stop marketing messages",
            "category": "marketing_messages",
            "value": "stop",
            "timestamp": at,
        }
        value |= {"contacts": contacts, "user_preferences": [preference]}
        return {"field": "user_preferences", "value": value}
    message: dict[str, Any] = {"from": digits, "id": optout.message_id, "timestamp": str(at)}
    if optout.source == "quick_reply":
        earlier = f"wamid.{rng.getrandbits(96):024X}"  # the marketing message it was tapped on
        button = {"payload": QUICK_REPLY_STOP, "text": QUICK_REPLY_STOP}
        message |= {"type": "button", "context": {"id": earlier}, "button": button}
    else:
        message |= {"type": "text", "text": {"body": rng.choice(KEYWORDS)}}
    value |= {"contacts": contacts, "messages": [message]}
    return {"field": "messages", "value": value}


def plan_optouts(phones: Sequence[str], options: BenchOptions, rng: random.Random) -> list[OptOut]:
    """Each person's opt-out: a source (round robin) and a moment within the sends' span."""
    return [
        OptOut(
            phone=phone,
            source=options.sources[index % len(options.sources)],
            due=rng.uniform(0.0, options.seconds),
            message_id=f"wamid.{rng.getrandbits(128):032X}",
        )
        for index, phone in enumerate(phones)
    ]


def plan_batches(
    optouts: Sequence[OptOut],
    number: str,
    started_at: float,
    options: BenchOptions,
    rng: random.Random,
) -> list[Batch]:
    """Opt-outs packed 1-3 to a POST, every POST twice, some batches in reverse order."""
    buckets: dict[int, list[OptOut]] = defaultdict(list)
    for optout in sorted(optouts, key=lambda o: o.due):
        buckets[math.floor(optout.due / BATCH_SECONDS)].append(optout)
    batches: dict[int, Batch] = {}
    for key in sorted(buckets):
        batch = batches.setdefault(key, Batch(key * BATCH_SECONDS, []))
        waiting = buckets[key]
        while waiting:
            size = min(len(waiting), rng.choice((1, 1, 1, 2, 3)))
            carried, waiting = tuple(waiting[:size]), waiting[size:]
            changes = [_change(o, number, int(started_at + o.due), rng) for o in carried]
            post = Post(json.dumps(_envelope(changes), ensure_ascii=False).encode(), carried)
            batch.posts.append(post)
            if rng.random() < 0.5:
                batch.posts.append(post)  # redelivered at once
            else:
                later = math.floor((batch.due + rng.uniform(1.0, 5.0)) / BATCH_SECONDS)
                batches.setdefault(later, Batch(later * BATCH_SECONDS, [])).posts.append(post)
    ordered = [batches[key] for key in sorted(batches)]
    for batch in ordered:
        if len(batch.posts) > 1 and rng.random() < options.reversed_share:
            batch.posts.reverse()
            batch.reversed = True
    return ordered


# -- in-process HTTP --------------------------------------------------------------------------


class _Sessions:
    """One ``requests.Session`` per thread (a session is not thread-safe), all closed at the end;
    never through a proxy from the environment: every receiver is local."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[requests.Session] = []

    def post(self, url: str, body: bytes, signature: str) -> requests.Response:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            self._local.session = session
            with self._lock:
                self._all.append(session)
        headers = {"Content-Type": "application/json", HEADER: signature}
        return session.post(url, data=body, headers=headers, timeout=30)

    def close(self) -> None:
        with self._lock:
            for session in self._all:
                session.close()


class StatusRelay:
    """Between the sandbox and ``/api``: status webhooks of the chosen people wait here until
    their opt-out is acknowledged, then go newest first (the rest pass straight through)."""

    def __init__(self, webhook_url: str, late: set[str], http: _Sessions) -> None:
        self._url, self._late, self._http = webhook_url, late, http
        self._lock = threading.Lock()
        self._acked: set[str] = set()
        self._held: dict[str, list[tuple[bytes, str]]] = defaultdict(list)
        self.held = 0
        self.released = 0

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        signature = str(environ.get("HTTP_X_HUB_SIGNATURE_256", ""))
        recipient = _recipient(body)
        with self._lock:
            hold = recipient in self._late and recipient not in self._acked
            if hold:
                self._held[recipient].append((body, signature))
                self.held += 1
        status = 200 if hold else self._http.post(self._url, body, signature).status_code
        start_response(
            f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "application/json")]
        )
        return [b"{}"]

    def acknowledged(self, phone: str) -> None:
        """The person's opt-out was acknowledged: post what was held for them, newest first."""
        with self._lock:
            self._acked.add(phone)
            held = self._held.pop(phone, [])
        for body, signature in reversed(held):
            self._deliver(body, signature)

    def flush(self) -> None:
        with self._lock:
            held = [item for items in self._held.values() for item in items]
            self._held.clear()
        for body, signature in held:
            self._deliver(body, signature)

    def _deliver(self, body: bytes, signature: str) -> None:
        for attempt in range(POST_RETRIES):
            if self._http.post(self._url, body, signature).status_code == 200:
                with self._lock:
                    self.released += 1
                return
            time.sleep(POST_BACKOFF_SECONDS * 2**attempt)


def _recipient(body: bytes) -> str:
    """The E.164 phone a status webhook of the sandbox is about ('' if none)."""
    try:
        value = json.loads(body)["entry"][0]["changes"][0]["value"]
        return "+" + str(value["statuses"][0]["recipient_id"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


class OptOutPoster:
    """Posts the batches at their moments (signed, retried on non-2xx like Meta) and records
    each person's first acknowledgement."""

    def __init__(
        self,
        webhook_url: str,
        secret: str,
        relay: StatusRelay,
        http: _Sessions,
    ) -> None:
        self._url, self._secret, self._relay, self._http = webhook_url, secret, relay, http
        self._lock = threading.Lock()
        self.acked: dict[str, float] = {}
        self.first_posted: dict[str, float] = {}
        self.answers: dict[str, Counter[str]] = defaultdict(Counter)
        self.ack_ms: list[float] = []
        self.retries = 0
        self.failed = 0

    def run(self, batches: Sequence[Batch], started_at: float) -> None:
        with ThreadPoolExecutor(POSTERS, thread_name_prefix="optout") as pool:
            futures: list[Future[None]] = []
            for batch in batches:
                wait = started_at + batch.due - time.time()
                if wait > 0:
                    time.sleep(wait)
                futures.append(pool.submit(self._post_batch, batch))
            for future in futures:
                future.result()

    def _post_batch(self, batch: Batch) -> None:
        for post in batch.posts:
            self._post(post)

    def _post(self, post: Post) -> None:
        signature = sign(post.body, self._secret)
        with self._lock:
            for optout in post.optouts:
                self.first_posted.setdefault(optout.phone, time.time())
        for attempt in range(POST_RETRIES + 1):
            sent = time.time()
            try:
                answer = self._http.post(self._url, post.body, signature)
            except requests.RequestException:
                answer = None
            if answer is not None and answer.status_code == 200:
                self._acknowledged(post, sent, time.time(), answer)
                return
            with self._lock:
                self.retries += 1
            time.sleep(POST_BACKOFF_SECONDS * 2**attempt)
        with self._lock:
            self.failed += 1

    def _acknowledged(self, post: Post, sent: float, at: float, answer: requests.Response) -> None:
        report = answer.json()
        first: list[str] = []
        sources = {optout.source for optout in post.optouts}
        label = sources.pop() if len(sources) == 1 else "mixed"
        with self._lock:
            self.ack_ms.append((at - sent) * 1000)
            for optout in post.optouts:
                if optout.phone not in self.acked:
                    self.acked[optout.phone] = at
                    first.append(optout.phone)
            for key, count in report.items():
                if key != "status" and isinstance(count, int):
                    self.answers[label][key] += count
        for phone in first:
            self._relay.acknowledged(phone)


# -- the run ------------------------------------------------------------------------------


def run(options: BenchOptions) -> Result:
    """A private stack, the run, and its measurements (the stack is gone afterwards)."""
    with private_stack("optout-bench-") as (stack, _):
        return run_on(stack, options)


def run_on(stack: Stack, options: BenchOptions) -> Result:
    wall_started = time.perf_counter()
    rng = random.Random(options.seed)
    per_minute = max(1, math.ceil(options.people * 60 / options.seconds))
    history = CountingHistory()
    tasks = FaithfulCloudTasks()
    http = _Sessions()
    timings: dict[str, float] = {}
    with ExitStack() as scope:
        log_counter = scope.enter_context(_quiet_logs())
        functions_url = scope.enter_context(serving(build_app(stack.project)))
        webhook_url = f"{functions_url}/api{WEBHOOK_PATH}"
        phones = _phones(options.people, rng)
        late = {p for p in phones if rng.random() < options.late_status_share}
        relay = StatusRelay(webhook_url, late, http)
        relay_url = scope.enter_context(serving(relay))
        sandbox = Sandbox(
            SandboxConfig(
                access_token=LOCAL_WHATSAPP["WHATSAPP_ACCESS_TOKEN"],
                app_secret=LOCAL_WHATSAPP["WHATSAPP_APP_SECRET"],
                webhook_url=relay_url,
                sent_delay_seconds=0.1,
                delivered_delay_seconds=0.2,
                read_delay_seconds=0.3,
                read_probability=0.5,
                seed=options.seed,
            )
        )
        scope.callback(http.close)
        scope.callback(sandbox.close)
        sandbox_url = scope.enter_context(serving(sandbox))
        deps = in_process(scope, sandbox_url, functions_url, tasks, history)
        ports = deps.delivery_ports()

        started = time.perf_counter()
        cnpj = options.cnpj or tenant_cnpjs(1, options.seed)[0]
        timezone = _register(deps, tasks, cnpj, per_minute, options.seed)
        today = local_date(datetime.now(UTC), zone(timezone)).isoformat()
        targets = [
            Target(
                customer_id=f"o{index:06d}",
                name="Maria da Silva",
                phone=phone,
                campaign_id=CAMPAIGN,
                period="2026",
                run_id="bench-optout",
                local_date=today,
            )
            for index, phone in enumerate(phones)
        ]
        for offset in range(0, len(targets), MAX_BATCH_WRITES):
            deps.targets.create_batch(cnpj, targets[offset : offset + MAX_BATCH_WRITES])
        timings["set-up"] = time.perf_counter() - started

        optouts = plan_optouts(phones, options, rng)
        poster = OptOutPoster(webhook_url, LOCAL_WHATSAPP["WHATSAPP_APP_SECRET"], relay, http)
        started_at = time.time() + 1.0
        batches = plan_batches(optouts, ports.default_phone_number_id, started_at, options, rng)
        print(
            f"tenant {cnpj.value}: {options.people:,} people, pace {per_minute}/min over "
            f"{options.seconds:g} s; {len(batches)} opt-out batches planned",
            flush=True,
        )
        tasks.start()
        scope.enter_context(_progress(sandbox, poster, tasks))
        refs = [TargetRef(cnpj, CAMPAIGN, target.id) for target in targets]
        posting = threading.Thread(target=poster.run, args=(batches, started_at), daemon=True)
        posting.start()
        started = time.perf_counter()
        for ref in refs:
            _enqueue(ref, ports)
        timings["planning"] = time.perf_counter() - started
        posting.join(timeout=options.seconds + options.settle_timeout)
        relay.flush()
        docs = _settle(deps, cnpj, tasks, sandbox, options.settle_timeout)
        relay.flush()

        accepted: dict[str, list[float]] = defaultdict(list)
        for message in sandbox.messages():
            accepted["+" + message.to].append(message.received_at)
        stats = sandbox.stats()
        late_sends, sent_before = _late_sends(accepted, optouts, poster, docs)
        outcomes, skipped_opt_out = _outcomes(docs)
        ledger = len(set(deps.campaigns.opted_out_phones(cnpj)) & set(phones))
        return Result(
            options=options,
            cnpj=cnpj,
            per_minute=per_minute,
            posts=sum(len(b.posts) for b in batches),
            optouts_posted=sum(len(p.optouts) for b in batches for p in b.posts),
            post_retries=poster.retries,
            reversed_batches=sum(1 for b in batches if b.reversed),
            batches=len(batches),
            acked=dict(poster.acked),
            accepted=dict(accepted),
            sends_attempted=int(stats["requests"]),
            sends_accepted=int(stats["accepted"]),
            late=late_sends,
            sent_before=sent_before,
            outcomes=outcomes,
            skipped_opt_out=skipped_opt_out,
            ledger=ledger,
            answers=dict(poster.answers),
            ack_ms=list(poster.ack_ms),
            statuses_held=relay.held,
            statuses_released_after_ack=relay.released,
            log_counts=log_counter.counts,
            wall_s=time.perf_counter() - wall_started,
            timings=timings,
        )


def _phones(n: int, rng: random.Random) -> list[str]:
    """Unique valid São Paulo mobiles (+55 11 9xxxx-xxxx)."""
    return [f"+55119{number:08d}" for number in rng.sample(range(10**8), n)]


def _register(
    deps: Container, tasks: FaithfulCloudTasks, cnpj: Cnpj, per_minute: int, seed: int
) -> str:
    """The tenant, sending all day at ``per_minute``; its time zone."""
    tenant = register_tenant(
        cnpj,
        name=tenant_names(1, seed)[0],
        timezone=None,
        tenants=deps.tenants,
        warehouse=None,
        queues=tasks,
        campaigns=deps.campaigns,
        now=deps.clock(),
    )
    throttle = tenant.delivery.throttle.model_copy(
        update={
            "messages_per_minute": per_minute,
            "messages_per_hour": per_minute * 60,
            "messages_per_day": 10_000_000,
        }
    )
    delivery = tenant.delivery.model_copy(update={"throttle": throttle})
    all_day = LocalWindow(start="00:00", end="23:59:59.999999")
    deps.campaigns.mutate(cnpj, CAMPAIGN, _windowed(all_day))
    deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
    return tenant.timezone


def _windowed(window: LocalWindow) -> Callable[[Campaign | None], Campaign]:
    def change(current: Campaign | None) -> Campaign:
        assert current is not None
        return current.model_copy(update={"send_window": window})

    return change


def _enqueue(ref: TargetRef, ports: DeliveryPorts) -> None:
    """The Firestore trigger's work; like Eventarc, retried unless the failure is permanent."""
    for retry in range(5):
        try:
            enqueue_target(ref, ports)
        except PermanentError:
            raise
        except Exception:
            if retry == 4:
                raise
            time.sleep(0.5 * 2**retry)
        else:
            return


def _late_sends(
    accepted: dict[str, list[float]],
    optouts: Sequence[OptOut],
    poster: OptOutPoster,
    docs: Sequence[dict[str, Any]],
) -> tuple[list[LateSend], int]:
    """Messages accepted after their person's opt-out was acknowledged (with when their send
    was claimed), and how many were accepted before it."""
    source_of = {optout.phone: optout.source for optout in optouts}
    claimed_at = {str(doc.get("phone")): _claim_time(doc) for doc in docs}
    late: list[LateSend] = []
    before = 0
    for phone, moments in accepted.items():
        ack = poster.acked.get(phone, math.inf)
        before += sum(1 for moment in moments if moment <= ack)
        claim = claimed_at.get(phone)
        if claim is None:
            claimed = "unknown"
        elif claim < poster.first_posted.get(phone, math.inf):
            claimed = "before the opt-out was posted"
        elif claim <= ack:
            claimed = "while it was recorded"
        else:
            claimed = "after it was acknowledged"
        late += [
            LateSend(phone, source_of.get(phone, "?"), moment - ack, claimed)
            for moment in moments
            if moment > ack
        ]
    return late, before


def _claim_time(doc: dict[str, Any]) -> float | None:
    claimed = (doc.get("statusTimes") or {}).get(Status.SENDING.value)
    return claimed.timestamp() if isinstance(claimed, datetime) else None


def _outcomes(docs: Sequence[dict[str, Any]]) -> tuple[Counter[str], int]:
    """Targets by final status (SKIPPED by reason), and how many were skipped for an opt-out."""
    outcomes: Counter[str] = Counter()
    opted_out = 0
    for doc in docs:
        status = str(doc.get("status"))
        reason = str((doc.get("error") or {}).get("reason", ""))
        outcomes[f"{status} ({reason})" if status == Status.SKIPPED.value else status] += 1
        opted_out += status == Status.SKIPPED.value and reason.startswith("opted_out")
    return outcomes, opted_out


def _settle(
    deps: Container,
    cnpj: Cnpj,
    tasks: FaithfulCloudTasks,
    sandbox: Sandbox,
    timeout: float,
) -> list[dict[str, Any]]:
    """Wait (bounded) until no task is pending, no webhook is due and every target is done;
    the target documents as they are then."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if tasks.wait_idle(max(0.0, min(left, 5.0))) and sandbox.wait_idle(max(0.0, left)):
            docs = deps.targets.list(cnpj, CAMPAIGN)
            if all(Status(str(doc.get("status"))) in DONE for doc in docs):
                return docs
        if time.monotonic() >= deadline:
            return deps.targets.list(cnpj, CAMPAIGN)
        time.sleep(0.5)


@contextmanager
def _quiet_logs() -> Iterator[LogCounter]:
    """Logs below WARNING off (JSON formatting of every step would cost this one process the
    CPU production spreads over instances); WARNING and worse counted. Undone on the way out."""
    counter = LogCounter()
    root, server = logging.getLogger(), logging.getLogger("werkzeug")
    saved = root.level, server.level
    root.addHandler(counter)
    root.setLevel(logging.WARNING)
    server.setLevel(logging.ERROR)  # one line per request otherwise
    try:
        yield counter
    finally:
        root.removeHandler(counter)
        root.setLevel(saved[0])
        server.setLevel(saved[1])


@contextmanager
def _progress(sandbox: Sandbox, poster: OptOutPoster, tasks: FaithfulCloudTasks) -> Iterator[None]:
    """A line every PROGRESS_SECONDS, so a long run shows it is moving."""
    stop = threading.Event()
    started = time.perf_counter()

    def loop() -> None:
        while not stop.wait(PROGRESS_SECONDS):
            stats = sandbox.stats()
            print(
                f"  {time.perf_counter() - started:5.0f} s: {stats['accepted']:,} messages "
                f"accepted, {len(poster.acked):,} opt-outs acknowledged, "
                f"{tasks.pending_count():,} tasks pending",
                flush=True,
            )

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


# -- the report ---------------------------------------------------------------------------


def report(result: Result, command: str) -> None:
    options = result.options
    late = result.late
    in_flight = sum(1 for s in late if s.claimed == "before the opt-out was posted")
    never_acked = options.people - len(result.acked)
    print()
    print("## Opt-out reliability benchmark")
    print()
    print(f"- command: `{command}`")
    print(f"- machine: {machine()}")
    print(
        f"- {options.people:,} people of tenant {result.cnpj.value}, one {CAMPAIGN} target each; "
        f"pace {result.per_minute}/min (sends spread over {options.seconds:g} s); opt-out "
        f"sources {', '.join(options.sources)} in equal shares; seed {options.seed}"
    )
    print(
        f"- webhooks: {result.batches:,} batches, {result.reversed_batches:,} posted in "
        f"reverse order; {result.statuses_held:,} status webhooks of "
        f"{options.late_status_share:.0%} of the people held until their opt-out was "
        f"acknowledged"
    )
    print()
    rows = [
        ["people", f"{options.people:,}", "-"],
        [
            "opt-outs posted (with duplicates)",
            f"{result.optouts_posted:,} in {result.posts:,} POSTs",
            f"{result.post_retries} POSTs retried; {never_acked} people never acknowledged",
        ],
        [
            "sends attempted / accepted",
            f"{result.sends_attempted:,} / {result.sends_accepted:,}",
            "-",
        ],
        [
            "**messages accepted after the opt-out was acknowledged**",
            f"**{len(late)}**",
            "0" + (f" ({in_flight} claimed before the opt-out was posted)" if late else ""),
        ],
        ["messages accepted before the opt-out was acknowledged", f"{result.sent_before:,}", "-"],
        ["targets SKIPPED for opt-out", f"{result.skipped_opt_out:,}", "-"],
        [
            "opt-outs in the ledger vs people",
            f"{result.ledger:,} / {options.people:,}",
            "equal",
        ],
        ["wall time", f"{result.wall_s:.1f} s", "-"],
    ]
    print(table(["figure", "measured", "goal"], rows))
    print()
    print("targets: " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.outcomes.items())))
    print(
        "webhook answers by source: "
        + "; ".join(
            f"{source}: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))
            for source, counts in sorted(result.answers.items())
        )
    )
    if late:
        print("late messages (first 10):")
        for send in sorted(late, key=lambda s: -s.after_ack_s)[:10]:
            print(
                f"  {send.phone[:-4]}**** ({send.source}): {send.after_ack_s * 1000:.0f} ms after "
                f"the ack; claimed {send.claimed}"
            )
    if result.log_counts:
        print("warnings and errors logged:")
        for line, count in result.log_counts.most_common(8):
            print(f"  {count:6,} x {line}")
    print()
    verdict = "PASS" if not late and result.ledger == options.people else "FAIL"
    print(
        f"**after acknowledgement: {len(late)} messages; ledger {result.ledger:,} of "
        f"{options.people:,} people -> {verdict}** (goal 0 and equal)"
    )
    print(
        f"total benchmark time: {result.wall_s:.1f} s after the stack was up (set-up "
        f"{result.timings.get('set-up', 0):.1f} s, planning {result.timings.get('planning', 0):.1f}"
        " s, concurrent with the sends)"
    )


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = BenchOptions()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=defaults.people)
    parser.add_argument(
        "--seconds",
        type=float,
        default=defaults.seconds,
        help="span of the sends (the pace is people/seconds) and of the opt-outs",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--sources",
        default=",".join(defaults.sources),
        help=f"comma-separated opt-out sources, of {', '.join(SOURCES)}",
    )
    parser.add_argument("--reversed-share", type=float, default=defaults.reversed_share)
    parser.add_argument("--late-status-share", type=float, default=defaults.late_status_share)
    parser.add_argument("--settle-timeout", type=float, default=defaults.settle_timeout)
    args = parser.parse_args(argv)
    sources = tuple(s.strip() for s in args.sources.split(",") if s.strip())
    unknown = sorted(set(sources) - set(SOURCES))
    if unknown or not sources:
        parser.error(f"--sources: unknown {unknown}; choose from {', '.join(SOURCES)}")
    if args.people < 1 or args.seconds <= 0:
        parser.error("--people and --seconds must be positive")
    args.sources = sources
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    options = BenchOptions(
        people=args.people,
        seconds=args.seconds,
        seed=args.seed,
        sources=args.sources,
        reversed_share=args.reversed_share,
        late_status_share=args.late_status_share,
        settle_timeout=args.settle_timeout,
    )
    report(run(options), command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
