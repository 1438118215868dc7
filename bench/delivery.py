"""Delivery benchmark: paced sends with injected faults, against a private local stack.

For N targets of one tenant (unique phones, ~5% of them with a WhatsApp fault) this prints,
measured side by side in one run:

* the achieved send rate vs the configured rate R: over the busiest full 60-s window (goal
  95-100% of R; judged on the planned slots, which must never exceed R x 60, and on the send
  times, which may exceed it only by what the spread of the slot -> request lag explains)
  and over the steady period (from the first send until the first pacing shard
  has planned its last target: every shard has work all along), and the most sends in any
  1-s window (goal: never above the number's per-second ceiling; shown against R too);
* duplicate sends: phones the WhatsApp sandbox accepted more than one message for (goal 0);
* lost targets: targets not in a final state (DELIVERED/READ/FAILED/SKIPPED) nor UNKNOWN once
  the pipeline is idle (goal 0), and what each fault kind ended as;
* planning throughput (``enqueue_target`` calls/s), how late tasks are dispatched against
  their planned slot, and the enqueue -> dispatch lag;
* then issue 13's figures, from the same functions as their own benchmarks (imported, not
  copied): a campaign's achieved pace as a ratio of the configured one at 1/min, 5/min,
  60/min and 20/s, and the most sends in any window of its period (goal: never above)
  (``bench/pace.py``); the share of birthdays planned on their day behind a bulk backlog
  (goal 100%) and the planning throughput with priorities against the first-come planner
  (goal >= 80%) (``bench/priority.py``, on this run's stack, ``--priority-rounds``).

It prints figures and ratios with a one-line verdict per goal; it asserts nothing.

What runs, and why it is built this way:

* A private stack (``Stack(..., ports=PortNumbers.free(), delivery=False)``): the Firestore
  emulator is the real store (pacing shards, claims, receipts all run as its transactions);
  BigQuery holds the tenant's tables. ``delivery=False`` registers no Firestore trigger, so
  the bench calls ``enqueue_target`` itself for every created target, from a thread pool:
  that is exactly the trigger's code path (a failure other than PermanentError is retried,
  as Eventarc would). The pool has ONE thread by default (``--enqueue-workers``): every plan
  is a transaction on one of the tenant's pacing shard documents, and two transactions on
  the same document deadlock in the Firestore emulator until its lock timeout (two writers
  on one document: under 1 transaction/s), so two planners plan at less than half the rate
  of one: more planners would bench the emulator's lock timeouts, not our planning. A JVM
  warm-up on scratch documents comes first (a cold emulator plans at half speed).
* Cloud Tasks is :class:`~shared.localstack.faithful_tasks.FaithfulCloudTasks` (name dedup,
  token-bucket rate limit, concurrency cap, backoff retries): the emulator enforces none of
  them. Its rate limit is the production queue's (70/s, or 2 R if that were lower), so it is a
  safety net above the planned rate and never what paces: the planner's slots are.
* The fake dispatches over HTTP to an in-process werkzeug server serving the real functions
  (``functions_host.build_app``: ``/send_message`` and ``/api``, through functions-framework,
  exactly as the local host does). ``send_message`` calls WhatsApp at an in-process
  :class:`~shared.localstack.whatsapp_sandbox.Sandbox` (0.05 s status delays, every message
  delivered, half of them read) whose signed status webhooks go to ``/api``. The sandbox
  posts webhooks from one thread, so at R = 20 they queue up (receipts come late; sends are
  not slowed by it) and the run ends once they are all in.
* The entry points use the process-wide ``container()``; the bench patches
  ``shared.entrypoints.http.container`` to return a Container whose ``delivery_ports()``
  are the real ones with two replacements: ``tasks`` = the fake above, and ``history`` = an
  in-memory log that counts rows. The BigQuery emulator takes ~30 ms per streaming insert on
  a small machine and every send writes 3-5 rows; with it, this would bench the emulator,
  not our pacing.
* Logs below WARNING are off: JSON formatting with phone redaction for every step would cost
  this one process CPU that production spreads over function instances. WARNING and worse
  are counted and printed.
* Send times are when the sandbox received each /messages request (refused ones included:
  Meta counts them against the rate too); duplicates come from the messages it accepted.
* Faults (``times=1`` on one phone each, in equal shares): ``rate_limit`` and
  ``server_error`` are retried by ``send_message`` 30 s later and must end delivered with ONE
  accepted message; ``timeout_after_accept`` gets no answer within the client's 15-s read
  timeout, so the target becomes UNKNOWN and is never re-sent (the sandbox did accept it, so
  its status webhooks may still settle it as DELIVERED/READ); ``undeliverable`` ends FAILED.
* The tenant's send window opens a little after the bench has planned every target (sized
  from a conservative planning rate), as in production where the 08:00 run creates the
  targets and the window opens at 09:00. Planning while sending in this one process would
  measure the planning rate of a single emulator-bound thread, not the pacing.
* The sweeper is not run: nothing in this run is late enough for it (QUEUED grace is 15 min).

Everything (the functions, the sandbox, the fake queue, the enqueue pool) shares one Python
process, so R is bounded by what this process sustains, not by the production design.

Run: ``.venv/bin/python bench/delivery.py`` (default rate and size) or
``--rate 10 --targets 600`` (a quick check); ``--targets 10000`` for the issue's full count.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import logging
import math
import os
import random
import shlex
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from unittest import mock

import pace
import priority
from google.cloud import firestore
from reporting import CountingHistory, machine, table

from shared import logs
from shared.adapters.cloud_tasks_queue import MAX_CONCURRENT_DISPATCHES, MAX_DISPATCHES_PER_SECOND
from shared.bootstrap import Container
from shared.campaigns import registered_processors
from shared.config import Settings
from shared.domain.calendar import local_date, zone
from shared.domain.campaign import Campaign, LocalWindow
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.delivery_status import FINAL, Status
from shared.domain.errors import PermanentError
from shared.domain.targets import Target
from shared.entrypoints import http as http_entrypoints
from shared.localstack.faithful_tasks import DispatchRecord, FaithfulCloudTasks
from shared.localstack.functions_host import build_app
from shared.localstack.stack import LOCAL_WHATSAPP, PortNumbers, Stack
from shared.localstack.whatsapp_sandbox import Fault, Sandbox, SandboxConfig, WsgiApp, serving
from shared.manifest import WEBHOOK_PATH
from shared.ports import MAX_BATCH_WRITES
from shared.sample_data import tenant_cnpjs, tenant_names
from shared.services.delivery_common import DeliveryPorts
from shared.services.enqueue import enqueue_target
from shared.services.tenants import register_tenant

DEFAULT_RATE = 20.0
SECONDS_OF_SENDING = 120
"""Default size: this many seconds of sends at R, so the whole run stays near five minutes."""
FULL_COUNT = 10_000
FAULT_KINDS = ("rate_limit", "server_error", "timeout_after_accept", "undeliverable")
CAMPAIGN = "BIRTHDAY"
"""Its default template needs only the first name."""
PLANNING_ESTIMATE_PER_SECOND = 25.0
"""A conservative planning rate on a 2-core machine: it sizes the lead before the window opens."""
RATE_GOAL = (0.95, 1.00)
ENQUEUE_TRIES = 5
ENQUEUE_WORKERS = 1
WARM_UP_TRANSACTIONS = 2_000
WARM_UP = "bench_warm_up"
PROGRESS_SECONDS = 15.0
DONE = FINAL | {Status.UNKNOWN}
"""Where a target may end in this run: final, or UNKNOWN (never re-sent, settled later)."""


# -- instruments --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Attempt:
    at: float
    """When the sandbox received the /messages request (epoch s)."""
    to: str
    status: int


class AttemptLog:
    """WSGI middleware in front of the sandbox: records every /messages request it answers."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._attempts: list[Attempt] = []

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if environ.get("REQUEST_METHOD") != "POST" or not path.endswith("/messages"):
            return self._app(environ, start_response)
        if path.startswith("/_sandbox"):
            return self._app(environ, start_response)
        at = time.time()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            to = str(json.loads(body).get("to", "")).lstrip("+")
        except (ValueError, AttributeError):
            to = "?"

        def recording(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            with self._lock:
                self._attempts.append(Attempt(at, to, int(status.split()[0])))
            return start_response(status, headers, *rest)

        return self._app(environ, recording)

    def attempts(self) -> list[Attempt]:
        with self._lock:
            return sorted(self._attempts, key=lambda a: a.at)


class LogCounter(logging.Handler):
    """Counts WARNING+ records by level and message. Its JSON formatter makes the functions'
    ``logs.configure()`` a no-op, so nothing is written to stdout."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logs.JsonFormatter())
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}: {record.getMessage()[:90]}"] += 1


class BenchContainer(Container):
    """The real composition root, except for the delivery ports the bench set."""

    ports: DeliveryPorts | None = None

    def delivery_ports(self) -> DeliveryPorts:
        return self.ports if self.ports is not None else super().delivery_ports()


@dataclass
class Enqueued:
    ref: TargetRef
    status: Status | None
    seconds: float
    done_at: float
    retries: int


@dataclass
class Run:
    """What one run produced, for the report."""

    rate: float
    per_minute: int
    ceiling: float
    shards: int
    shard_of_task: dict[str, int]
    """Task id without its ``-g<generation>`` suffix -> the target's pacing shard."""
    task_of_phone: dict[str, str]
    """Phone digits -> task id without its suffix."""
    n: int
    targets: list[Target]
    faults: dict[str, str]
    """Phone digits -> fault kind."""
    enqueued: list[Enqueued]
    enqueue_s: float
    attempts: list[Attempt]
    accepted: Counter[str]
    """Phone digits -> messages the sandbox accepted."""
    dispatches: list[DispatchRecord]
    statuses: dict[str, Status]
    """Phone (E.164) -> final status of its target."""
    no_answer: set[str]
    """Phones whose send got no answer (the send recorded UNKNOWN; receipts may outrank it)."""
    sandbox_stats: dict[str, Any]
    history: CountingHistory
    log_counts: Counter[str]
    dropped: int
    pending: int
    idle_s: float
    send_cpu: float
    timings: dict[str, float] = field(default_factory=dict)


# -- helpers ------------------------------------------------------------------------------


def in_process(
    scope: ExitStack,
    sandbox_url: str,
    functions_url: str,
    tasks: FaithfulCloudTasks,
    history: CountingHistory,
) -> BenchContainer:
    """The container the benchmark's in-process functions use: WhatsApp is the sandbox at
    ``sandbox_url``, tasks go to ``functions_url``, ``tasks`` and ``history`` are this
    process's instruments. ``send_message`` and ``api`` call the process-wide ``container()``,
    so it is made this one until ``scope`` closes."""
    os.environ["WHATSAPP_API_BASE_URL"] = sandbox_url
    os.environ["SEND_MESSAGE_URL"] = f"{functions_url}/send_message"
    deps = BenchContainer(Settings())
    deps.ports = replace(deps.delivery_ports(), tasks=tasks, history=history)
    scope.enter_context(mock.patch.object(http_entrypoints, "container", return_value=deps))
    scope.callback(tasks.close)
    return deps


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _max_in_window(times: Sequence[float], width: float) -> tuple[int, float]:
    """Most events in any half-open window [t, t + width) of sorted ``times``, and its t."""
    best, best_at, start = 0, times[0] if times else 0.0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= width:
            start += 1
        if end - start + 1 > best:
            best, best_at = end - start + 1, times[start]
    return best, best_at


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"configured messages per second (throttle = rate*60 per minute; default "
        f"{DEFAULT_RATE:g})",
    )
    parser.add_argument(
        "--targets",
        type=int,
        default=0,
        help=f"targets (default: {SECONDS_OF_SENDING} s of sends at --rate, capped at "
        f"{FULL_COUNT:,}; --targets {FULL_COUNT} for the issue's full count)",
    )
    parser.add_argument("--fault-share", type=float, default=0.05)
    parser.add_argument("--enqueue-workers", type=int, default=ENQUEUE_WORKERS)
    parser.add_argument(
        "--shards", type=int, default=0, help="the tenant's pacing shards (default: its default)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--priority-rounds",
        type=int,
        default=3,
        help="rounds of each planner in the priority figures (0: skip them)",
    )
    parser.add_argument(
        "--settle-timeout",
        type=float,
        default=180.0,
        help="seconds to wait, after the last planned slot, for every target to finish",
    )
    return parser.parse_args(argv)


# -- the run ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    total_started = time.perf_counter()
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    saved_env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="delivery-bench-") as temp:
        stack = Stack(Path(temp) / "stack", ports=PortNumbers.free(), delivery=False)
        try:
            started = time.perf_counter()
            stack.up(say=lambda _: None)
            os.environ.update(stack.environment())
            print(
                f"private stack up in {time.perf_counter() - started:.1f} s "
                f"(Firestore port {stack.ports.firestore})"
            )
            run = _bench(args, stack)
            _report(run, args, command, total_started)
            _report_pace_and_priority(args)
            return 0
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            stack.down(say=lambda _: None)


PACE_CASES = ("1/min", "5/min", "60/min", "20/s")
"""The issue's paces: low (a minute's) and high (a second's)."""


def _report_pace_and_priority(args: argparse.Namespace) -> None:
    """Issue 13's figures beside the delivery run's: a campaign's achieved pace against the
    configured one (``bench/pace.py``'s pure planner) and the send-by/priority figures
    (``bench/priority.py`` on this run's stack), with their verdicts."""
    started = time.perf_counter()
    figures = [pace.measure(case) for case in pace.CASES if case.name in PACE_CASES]
    print()
    print("## Pace exactly as set (pure planner, simulated clock; `bench/pace.py`)")
    print()
    print(table(pace.HEADERS, [pace.row(f) for f in figures]))
    print()
    near = all(f.ratio >= 0.95 * f.case.bound for f in figures)
    above = [f.case.name for f in figures if not f.never_above]
    print(
        f"**achieved / configured over the steady period: "
        f"{', '.join(f'{f.case.name} {f.ratio:.3f}' for f in figures)}"
        f" -> {_verdict(near)}** (goal >= 0.95)"
    )
    print(
        f"**above the configured pace in any window: {above or 'never'}"
        f" -> {_verdict(not above)}** (goal never)"
    )
    if args.priority_rounds <= 0:
        return
    print()
    print("## Send-by and priority (this run's stack; `bench/priority.py`)")
    print()
    comparison = priority.compare(600, 100, args.priority_rounds)
    print()
    priority.report(comparison)
    print(f"pace and priority figures took {time.perf_counter() - started:.1f} s")


def _quiet_logs() -> LogCounter:
    counter = LogCounter()
    root = logging.getLogger()
    root.addHandler(counter)
    root.setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    return counter


def _phones(n: int, rng: random.Random) -> list[str]:
    """Unique valid São Paulo mobiles (+55 11 9xxxx-xxxx)."""
    return [f"+55119{number:08d}" for number in rng.sample(range(10**8), n)]


def _bench(args: argparse.Namespace, stack: Stack) -> Run:
    per_minute = max(1, round(args.rate * 60))
    rate = per_minute / 60
    n = args.targets or min(FULL_COUNT, round(rate * SECONDS_OF_SENDING))
    rng = random.Random(args.seed)
    log_counter = _quiet_logs()
    history = CountingHistory()
    tasks = FaithfulCloudTasks(
        max_dispatches_per_second=max(MAX_DISPATCHES_PER_SECOND, 2 * rate),
        max_concurrent=MAX_CONCURRENT_DISPATCHES,
    )
    timings: dict[str, float] = {}
    with ExitStack() as scope:
        functions_url = scope.enter_context(serving(build_app(stack.project)))
        sandbox = Sandbox(
            SandboxConfig(
                access_token=LOCAL_WHATSAPP["WHATSAPP_ACCESS_TOKEN"],
                app_secret=LOCAL_WHATSAPP["WHATSAPP_APP_SECRET"],
                webhook_url=f"{functions_url}/api{WEBHOOK_PATH}",
                sent_delay_seconds=0.05,
                delivered_delay_seconds=0.05,
                read_delay_seconds=0.05,
                delivered_probability=1.0,
                read_probability=0.5,
                seed=args.seed,
                ambiguous_delay_seconds=20.0,  # longer than the client's 15-s read timeout
            )
        )
        scope.callback(sandbox.close)
        attempt_log = AttemptLog(sandbox)
        sandbox_url = scope.enter_context(serving(attempt_log))
        deps = in_process(scope, sandbox_url, functions_url, tasks, history)
        ports = deps.delivery_ports()

        cnpj = tenant_cnpjs(1, args.seed)[0]
        started = time.perf_counter()
        tenant = register_tenant(
            cnpj,
            name=tenant_names(1, args.seed)[0],
            timezone=None,
            tenants=deps.tenants,
            warehouse=deps.warehouse,
            queues=tasks,
            campaigns=deps.campaigns,
            now=deps.clock(),
        )
        limits: dict[str, int] = {
            "messages_per_minute": per_minute,
            "messages_per_hour": per_minute * 60,
            "messages_per_day": 10_000_000,
        }
        if args.shards:
            limits["shards"] = args.shards
        throttle = tenant.delivery.throttle.model_copy(update=limits)
        delivery = tenant.delivery.model_copy(
            update={"throttle": throttle, "frequency_cap_hours": 0}
        )
        window, opens_at = _window_opening_after(
            n / PLANNING_ESTIMATE_PER_SECOND + 15, tenant.timezone
        )
        for processor in registered_processors():
            deps.campaigns.mutate(cnpj, processor.kind, _windowed(LocalWindow(**window)))
        deps.tenants.save(tenant.model_copy(update={"delivery": delivery}))
        timings["register"] = time.perf_counter() - started

        phones = _phones(n, rng)
        today = local_date(datetime.now(UTC), zone(tenant.timezone)).isoformat()
        targets = [
            Target(
                customer_id=f"b{index:06d}",
                name="Maria da Silva",
                phone=phone,
                campaign_id=CAMPAIGN,
                period="2026",
                run_id="bench-delivery",
                local_date=today,
            )
            for index, phone in enumerate(phones)
        ]
        started = time.perf_counter()
        for offset in range(0, n, MAX_BATCH_WRITES):
            deps.targets.create_batch(cnpj, targets[offset : offset + MAX_BATCH_WRITES])
        timings["create"] = time.perf_counter() - started

        faulty = rng.sample(phones, round(n * args.fault_share))
        faults = {
            phone.lstrip("+"): FAULT_KINDS[i % len(FAULT_KINDS)] for i, phone in enumerate(faulty)
        }
        for digits, kind in faults.items():
            sandbox.add_fault(Fault(kind, to=digits, times=1))
        print(
            f"tenant {cnpj.value}: throttle {per_minute}/min (R = {rate:g}/s), ceiling "
            f"{throttle.number_ceiling_per_second:g}/s, {throttle.effective_shards} shards; "
            f"{n:,} targets created in {timings['create']:.1f} s, {len(faults)} with a fault"
        )

        warm_s = _warm_up(deps)
        timings["warm_up"] = warm_s
        print(
            f"emulator warm-up: {WARM_UP_TRANSACTIONS:,} scratch transactions in {warm_s:.1f} s "
            "(not reported)"
        )

        tasks.start()
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        progress = _Progress(attempt_log, sandbox, tasks)
        progress.start()
        refs = [TargetRef(cnpj, CAMPAIGN, target.id) for target in targets]
        started = time.perf_counter()
        with ThreadPoolExecutor(args.enqueue_workers, thread_name_prefix="enqueue") as pool:
            enqueued = list(pool.map(lambda ref: _enqueue(ref, ports), refs))
        enqueue_s = time.perf_counter() - started
        print(
            f"enqueued {n:,} targets in {enqueue_s:.1f} s = {n / enqueue_s:,.1f}/s "
            f"({args.enqueue_workers} threads)"
        )

        until_open = max(0.0, (opens_at - datetime.now(UTC)).total_seconds())
        budget = until_open + n / rate + args.settle_timeout
        idle_s, docs = _settle(deps, cnpj, tasks, sandbox, budget)
        send_cpu = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
        progress.stop()
        tasks.close()
        return Run(
            rate=rate,
            per_minute=per_minute,
            ceiling=throttle.number_ceiling_per_second,
            shards=throttle.effective_shards,
            shard_of_task={
                ref.task_id(1).removesuffix("-g1"): throttle.shard_of(ref.path) for ref in refs
            },
            task_of_phone={
                target.phone.lstrip("+"): ref.task_id(1).removesuffix("-g1")
                for target, ref in zip(targets, refs, strict=True)
            },
            n=n,
            targets=targets,
            faults=faults,
            enqueued=enqueued,
            enqueue_s=enqueue_s,
            attempts=attempt_log.attempts(),
            accepted=Counter(message.to for message in sandbox.messages()),
            dispatches=tasks.dispatch_log,
            statuses={str(d.get("phone")): Status(str(d.get("status"))) for d in docs},
            no_answer={
                str(d.get("phone"))
                for d in docs
                if str((d.get("error") or {}).get("reason", "")).startswith("no answer")
            },
            sandbox_stats=sandbox.stats(),
            history=history,
            log_counts=log_counter.counts,
            dropped=tasks.dropped_count(),
            pending=tasks.pending_count(),
            idle_s=idle_s,
            send_cpu=send_cpu,
            timings=timings,
        )


def _warm_up(deps: Container) -> float:
    """Read-modify-write transactions on scratch documents (distinct ones, so they never wait
    for each other), so the emulator's JIT is warm: a cold JVM plans at half the speed."""
    client = deps.firestore_client

    def one(index: int) -> None:
        doc = client.document(WARM_UP, f"doc-{index % 500}-{index // 500}")

        @firestore.transactional
        def run(transaction: firestore.Transaction) -> None:
            seen = (doc.get(transaction=transaction).to_dict() or {}).get("n", 0)
            transaction.set(doc, {"n": seen + 1, "at": datetime.now(UTC)})

        run(client.transaction())

    started = time.perf_counter()
    with ThreadPoolExecutor(4, thread_name_prefix="warm-up") as pool:
        list(pool.map(one, range(WARM_UP_TRANSACTIONS)))
    return time.perf_counter() - started


def _windowed(window: LocalWindow) -> Callable[[Campaign | None], Campaign]:
    """A built-in campaign's record (registered just now) sending within ``window``."""

    def change(current: Campaign | None) -> Campaign:
        assert current is not None
        return current.model_copy(update={"send_window": window})

    return change


def _window_opening_after(seconds: float, timezone: str) -> tuple[dict[str, str], datetime]:
    """A send window that opens at the first whole local minute ``seconds`` from now.

    As in production (targets created by the 08:00 run, window opening at 09:00), every
    target is planned before the first send, so the send rate measures the pacing and the
    send path, not how fast one process can plan while it also sends.
    """
    opens = datetime.now(UTC).astimezone(zone(timezone)) + timedelta(seconds=seconds + 60)
    if opens.date() != datetime.now(UTC).astimezone(zone(timezone)).date():
        raise SystemExit("run the bench before 23:00 local time (the window must fit in the day)")
    start = opens.replace(second=0, microsecond=0).time()
    if start >= dt_time(23, 0):
        raise SystemExit("run the bench before 23:00 local time (the window must fit in the day)")
    window = {"start": start.isoformat(), "end": dt_time(23, 59, 59, 999999).isoformat()}
    return window, opens.replace(second=0, microsecond=0).astimezone(UTC)


def _enqueue(ref: TargetRef, ports: DeliveryPorts) -> Enqueued:
    """The Firestore trigger's work. The trigger lets every exception but a PermanentError
    fail the function, and Eventarc then retries it; so does this (with backoff)."""
    started = time.perf_counter()
    for retry in range(ENQUEUE_TRIES):
        try:
            status = enqueue_target(ref, ports)
        except PermanentError:
            raise
        except Exception as error:
            with _ENQUEUE_FAILURES_LOCK:
                _ENQUEUE_FAILURES[_failure_name(error)] += 1
            if retry == ENQUEUE_TRIES - 1:
                raise
            time.sleep(0.5 * 2**retry)
            continue
        return Enqueued(ref, status, time.perf_counter() - started, time.time(), retry)
    raise AssertionError("unreachable")


_ENQUEUE_FAILURES: Counter[str] = Counter()
_ENQUEUE_FAILURES_LOCK = threading.Lock()


def _failure_name(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:60]}"


class _Progress:
    """A line every PROGRESS_SECONDS, so a long run shows it is moving."""

    def __init__(self, attempts: AttemptLog, sandbox: Sandbox, tasks: FaithfulCloudTasks) -> None:
        self._attempts, self._sandbox, self._tasks = attempts, sandbox, tasks
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._started = time.perf_counter()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(PROGRESS_SECONDS):
            stats = self._sandbox.stats()
            print(
                f"  {time.perf_counter() - self._started:5.0f} s: {stats['requests']:,} sends "
                f"({stats['accepted']:,} accepted), {self._tasks.pending_count():,} tasks "
                f"pending, {stats['webhooks_pending']} webhooks pending",
                flush=True,
            )


def _settle(
    deps: Container, cnpj: Cnpj, tasks: FaithfulCloudTasks, sandbox: Sandbox, timeout: float
) -> tuple[float, list[dict[str, Any]]]:
    """Wait until no task is pending, no webhook is due and every target is done (bounded);
    the target documents as they are then."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if tasks.wait_idle(max(0.0, min(left, 5.0))) and sandbox.wait_idle(max(0.0, left)):
            docs = deps.targets.list(cnpj, CAMPAIGN)
            if all(Status(str(doc.get("status"))) in DONE for doc in docs):
                break
        if time.monotonic() >= deadline:
            docs = deps.targets.list(cnpj, CAMPAIGN)
            break
        time.sleep(1.0)
    return time.perf_counter() - started, docs


# -- the report ---------------------------------------------------------------------------


def _empty_slots(run: Run, planned: Sequence[DispatchRecord]) -> tuple[int, float, int]:
    """Free slots between each shard's first and last planned send (shard ``s`` owns every
    ``shards``-th slot, so its slots are ``shards / R`` apart); the widest gap and its shard.
    While a shard has a backlog, its plan should leave none."""
    by_shard: dict[int, list[float]] = {}
    for record in planned:
        shard = run.shard_of_task.get(record.task_id.rsplit("-g", 1)[0])
        if shard is not None:
            by_shard.setdefault(shard, []).append(record.scheduled_at)
    interval = run.shards / run.rate
    empty, widest, widest_shard = 0, 0.0, -1
    for shard, times in by_shard.items():
        times.sort()
        for before, after in itertools.pairwise(times):
            gap = after - before
            empty += max(0, round(gap / interval) - 1)
            if gap > widest:
                widest, widest_shard = gap, shard
    return empty, widest, widest_shard


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _report(run: Run, args: argparse.Namespace, command: str, total_started: float) -> None:
    rate, n = run.rate, run.n
    times = [a.at for a in run.attempts]
    accepted_times = [a.at for a in run.attempts if 200 <= a.status < 300]

    planned = [d for d in run.dispatches if d.attempt == 1]
    # The steady period: from the first send until the first shard has planned its last
    # first-generation send (every shard has work all along; after it the shards drain).
    last_by_shard: dict[int, float] = {}
    for record in planned:
        shard = run.shard_of_task.get(record.task_id.rsplit("-g", 1)[0])
        if shard is not None and record.task_id.endswith("-g1"):
            last_by_shard[shard] = max(last_by_shard.get(shard, 0.0), record.scheduled_at)
    steady_start = times[0] if times else 0.0
    steady_end = min(last_by_shard.values(), default=steady_start)
    steady = [t for t in times if steady_start <= t <= steady_end]
    span = steady_end - steady_start
    steady_rate = (len(steady) - 1) / span if span > 0 else 0.0
    drain = max(times, default=0.0) - steady_end
    busiest_60, busiest_at = _max_in_window(times, 60.0)
    busiest_1, _ = _max_in_window(times, 1.0)
    busiest_1_accepted, _ = _max_in_window(accepted_times, 1.0)
    full_minute = max(times, default=0.0) - steady_start >= 60.0
    minute_ratio = busiest_60 / (rate * 60)

    planned_times = sorted(d.scheduled_at for d in planned)
    planned_60, _ = _max_in_window(planned_times, 60.0)
    planned_1, _ = _max_in_window(planned_times, 1.0)
    # Slot -> WhatsApp request: how long after its planned slot each target's first request
    # reached the sandbox (dispatch + send_message's reads and claim). Sends in [t, t + 60)
    # were planned in [t - max lag, t + 60 - min lag), so a sliding window over send times
    # can hold up to R x (max - min lag) + 1 more sends than the plan put in any 60 s.
    first_slot = {
        d.task_id.removesuffix("-g1"): d.scheduled_at for d in planned if d.task_id.endswith("-g1")
    }
    first_request: dict[str, float] = {}
    for attempt in run.attempts:
        first_request.setdefault(attempt.to, attempt.at)
    send_lag = [
        first_request[to] - first_slot[base]
        for to, base in run.task_of_phone.items()
        if to in first_request and base in first_slot
    ]
    spread = _pct(send_lag, 0.99) - _pct(send_lag, 0.01)
    full_spread = max(send_lag, default=0.0) - min(send_lag, default=0.0)
    jitter_allowance = math.ceil(rate * full_spread) + 1
    minute_cap = run.per_minute + jitter_allowance
    lateness = [d.dispatched_at - d.scheduled_at for d in planned]
    handler = [d.responded_at - d.dispatched_at for d in run.dispatches if d.ok]
    not_ok = [d for d in run.dispatches if not d.ok]
    done_at = {e.ref.task_id(1): e.done_at for e in run.enqueued}
    lag = [d.dispatched_at - done_at[d.task_id] for d in planned if d.task_id in done_at]
    enqueue_calls = [e.seconds for e in run.enqueued]
    enqueue_retries = sum(e.retries for e in run.enqueued)

    empty, widest, widest_shard = _empty_slots(run, planned)

    duplicates = {to: count for to, count in run.accepted.items() if count > 1}
    lost = {phone: s for phone, s in run.statuses.items() if s not in DONE}
    missing = n - len(run.statuses)
    outcome = Counter(s.value for s in run.statuses.values())
    requests_per_phone = Counter(a.to for a in run.attempts)

    kinds: dict[str, list[str]] = {"(none)": []}
    for target in run.targets:
        digits = target.phone.lstrip("+")
        kinds.setdefault(run.faults.get(digits, "(none)"), []).append(target.phone)
    kind_rows = []
    for kind, phones in kinds.items():
        ends = Counter(run.statuses.get(p, Status.PENDING).value for p in phones)
        accepted = [run.accepted.get(p.lstrip("+"), 0) for p in phones]
        kind_rows.append(
            [
                kind,
                f"{len(phones):,}",
                f"{ends['DELIVERED'] + ends['READ']:,}",
                f"{ends['FAILED']:,}",
                f"{ends['UNKNOWN']:,}",
                f"{sum(1 for p in phones if p in run.no_answer):,}",
                f"{sum(v for k, v in ends.items() if Status(k) not in DONE):,}",
                f"{sum(requests_per_phone.get(p.lstrip('+'), 0) for p in phones):,}",
                f"{sum(accepted):,}",
                f"{sum(1 for a in accepted if a > 1):,}",
            ]
        )

    total_s = time.perf_counter() - total_started
    stats = run.sandbox_stats
    print()
    print("## Delivery benchmark")
    print()
    print(f"- command: `{command}`")
    print(f"- machine: {machine()}")
    print(
        f"- configured: R = {rate:g} msg/s ({run.per_minute}/min), number ceiling "
        f"{run.ceiling:g}/s; fake Cloud Tasks limit {max(MAX_DISPATCHES_PER_SECOND, 2 * rate):g}"
        f"/s, {MAX_CONCURRENT_DISPATCHES} concurrent (a safety net, not the pacer)"
    )
    print(
        f"- targets: {n:,} unique phones, {len(run.faults)} with one fault "
        f"({args.fault_share:.0%}, equal shares of {', '.join(FAULT_KINDS)})"
        + ("" if args.targets else f"; {FULL_COUNT:,} with --targets {FULL_COUNT}")
    )
    print()
    rows = [
        [
            "busiest full 60-s window (sliding)",
            f"{busiest_60:,} sends = {busiest_60 / 60:.2f}/s",
            f"**{minute_ratio:.1%}** of R",
        ],
        [
            "steady period (every shard has work)",
            f"{len(steady):,} sends in {span:.1f} s = {steady_rate:.2f}/s",
            f"{steady_rate / rate:.1%} of R; then {drain:.0f} s of drain",
        ],
        [
            "planned slots, busiest 60-s window",
            f"{planned_60:,} = {planned_60 / 60:.2f}/s",
            f"{planned_60 / (rate * 60):.1%} of R",
        ],
        [
            "most sends in any 1-s window (all / accepted)",
            f"{busiest_1} / {busiest_1_accepted}",
            f"{busiest_1 / run.ceiling:.0%} of ceiling, {busiest_1 / rate:.2f} x R; "
            f"planned slots: {planned_1}",
        ],
        [
            "planned slots left empty inside shards' spans",
            f"{empty:,}",
            f"widest gap {widest:.1f} s (shard {widest_shard} of {run.shards})",
        ],
        ["duplicate sends (phones with > 1 accepted)", f"{len(duplicates)}", "-"],
        [
            "lost targets (not final nor UNKNOWN)",
            f"{len(lost) + missing}",
            ", ".join(f"{k} {v}" for k, v in Counter(s.value for s in lost.values()).items())
            or "-",
        ],
        [
            "planning: enqueue_target calls",
            f"{n / run.enqueue_s:,.1f}/s",
            f"{run.enqueue_s:.1f} s; call p50 {_pct(enqueue_calls, 0.5) * 1000:.0f} ms, "
            f"p95 {_pct(enqueue_calls, 0.95) * 1000:.0f} ms; {enqueue_retries} retried",
        ],
        [
            "dispatch lateness vs planned slot",
            f"p50 {_pct(lateness, 0.5) * 1000:.0f} ms",
            f"p95 {_pct(lateness, 0.95) * 1000:.0f} ms, max {max(lateness, default=0):.2f} s",
        ],
        [
            "enqueue -> first dispatch (backlog wait)",
            f"p50 {_pct(lag, 0.5):.1f} s",
            f"max {max(lag, default=0):.1f} s",
        ],
        [
            "planned slot -> WhatsApp request",
            f"p50 {_pct(send_lag, 0.5) * 1000:.0f} ms",
            f"spread p1-p99 {spread * 1000:.0f} ms, min-max {full_spread * 1000:.0f} ms",
        ],
        [
            "send_message handler (2xx answers)",
            f"p50 {_pct(handler, 0.5) * 1000:.0f} ms",
            f"p95 {_pct(handler, 0.95) * 1000:.0f} ms",
        ],
    ]
    print(table(["figure", "measured", "ratio / detail"], rows))
    print()
    print(
        "outcomes: "
        + ", ".join(f"{status} {count:,}" for status, count in sorted(outcome.items()))
        + (f", missing {missing}" if missing else "")
    )
    print()
    print(
        table(
            [
                "fault",
                "targets",
                "delivered/read",
                "failed",
                "unknown",
                "no answer",
                "not done",
                "requests",
                "accepted",
                "dup",
            ],
            kind_rows,
        )
    )
    print()
    print(
        f"sandbox: {stats['requests']:,} requests, {stats['accepted']:,} accepted, refused "
        f"{stats['refused']}; webhooks {stats['webhooks_posted']:,} posted, "
        f"{stats['webhook_retries']} retried, {stats['webhooks_failed']} given up"
    )
    print(
        f"tasks: {len(run.dispatches):,} dispatches, {len(not_ok)} not 2xx "
        f"({Counter(d.status or d.error for d in not_ok).most_common(3)}), "
        f"{run.dropped} dropped, {run.pending} still pending"
    )
    if _ENQUEUE_FAILURES:
        print(f"enqueue failures (retried like Eventarc): {dict(_ENQUEUE_FAILURES)}")
    print(
        f"history (in memory): {len(run.history.rows):,} rows from {run.history.appends:,} "
        f"appends ({run.history.repeated} repeated event ids)"
    )
    print(
        f"this process: {run.send_cpu:.0%} of one CPU while sending; settled "
        f"{run.idle_s:.1f} s after the last enqueue"
    )
    if run.log_counts:
        print("warnings and errors logged:")
        for line, count in run.log_counts.most_common(8):
            print(f"  {count:6,} x {line}")
    print()
    rate_ok = (
        full_minute
        and minute_ratio >= RATE_GOAL[0]
        and planned_60 <= run.per_minute
        and busiest_60 <= minute_cap
    )
    print(
        f"**rate: {minute_ratio:.1%} of R over the busiest 60 s of sends "
        f"(from {datetime.fromtimestamp(busiest_at, UTC):%H:%M:%S} UTC; planned slots "
        f"{planned_60 / run.per_minute:.1%}) -> {_verdict(rate_ok)}** (goal "
        f"{RATE_GOAL[0]:.0%}-{RATE_GOAL[1]:.0%}: {round(RATE_GOAL[0] * run.per_minute)}-"
        f"{run.per_minute} planned slots in any 60 s; send times may exceed that by "
        f"R x (max - min slot -> request lag) + 1 = {jitter_allowance})"
        + ("" if full_minute else " -- no full 60 s of sending")
    )
    print(
        f"**steady period: {steady_rate / rate:.1%} of R** (informational: slots the plan "
        f"left empty are lost for good)"
    )
    print(
        f"**per-second: at most {busiest_1} in any 1 s -> "
        f"{_verdict(busiest_1 <= run.ceiling)}** (goal <= ceiling {run.ceiling:g}/s; R = "
        f"{rate:g})"
    )
    print(f"**duplicates: {len(duplicates)} -> {_verdict(not duplicates)}** (goal 0)")
    print(f"**lost: {len(lost) + missing} -> {_verdict(not lost and not missing)}** (goal 0)")
    print()
    print(
        "notes: history rows go to an in-memory log (the BigQuery emulator costs ~30 ms per "
        "streaming insert here,"
    )
    print(
        "which would bench the emulator, not the pacing); Cloud Tasks is FaithfulCloudTasks; "
        "everything runs in"
    )
    print("this one Python process; logs below WARNING are off.")
    print(
        f"total benchmark time: {total_s:.1f} s (stack start-up included; register "
        f"{run.timings.get('register', 0):.1f} s)"
    )


if __name__ == "__main__":
    sys.exit(main())
