"""An in-process Cloud Tasks that enforces the production rules the emulator lets slide.

The Cloud Tasks emulator only dispatches: it accepts a duplicate task name, ignores the queue's
rate limits and retries a failed task at once, forever alike. Code that relies on production's
dedup, pacing or backoff would pass against it and fail in the cloud, so tests and benchmarks
run that code against :class:`FaithfulCloudTasks` instead, which refuses what production
refuses and paces, retries and drops what production paces, retries and drops:

- a task name in use, or used within ``name_retention_seconds``, is refused (ALREADY_EXISTS:
  ``create`` returns False, as the real adapter does);
- a queue that was never created is NOT_FOUND, a malformed task id INVALID_ARGUMENT, and a
  schedule more than 30 days ahead INVALID_ARGUMENT (each a :class:`PermanentError` here, as
  the real adapter raises them);
- each queue dispatches through a token bucket (``max_dispatches_per_second``, ``max_burst``)
  with at most ``max_concurrent`` requests in flight;
- a non-2xx answer, a connection error or a timeout is retried after production's backoff
  (:meth:`RetryPolicy.delay_after`: doubling ``max_doublings`` times, then linear, capped at
  ``max_backoff``) until ``max_attempts`` dispatches, then dropped.

Every queue gets the same settings (the real adapter's, by default): ours all share one
configuration in Terraform too. Not modelled: OIDC tokens, task deletion, pausing and fairness
between queues.

It reads the wall clock (``time.time``), not a :data:`shared.clock.Clock`: it stands for an outside
service whose schedules are absolute wall-clock times and whose threads wait in real time; the
code under test gets its clock injected, the world around it keeps real time.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType

import requests

from shared.adapters.cloud_tasks_queue import (
    MAX_CONCURRENT_DISPATCHES,
    MAX_DISPATCHES_PER_SECOND,
)
from shared.domain.errors import PermanentError
from shared.domain.retry import SEND_RETRY, RetryPolicy
from shared.ports import TaskRequest

TASK_ID = re.compile(r"[A-Za-z0-9_-]{1,500}")
"""Production's rule for the last part of a task name."""
QUEUE_ID = re.compile(r"[A-Za-z0-9-]{1,100}")
"""Production's rule for a queue id."""
MAX_SCHEDULE_AHEAD_SECONDS = 30 * 24 * 3600
"""Production refuses a ``schedule_time`` more than 30 days in the future."""
DEFAULT_WORKERS = 64
"""Dispatching threads shared by all queues; more than any one queue may use at once."""


@dataclass(frozen=True, slots=True)
class DispatchRecord:
    """One attempt to deliver one task, as a benchmark or test needs to judge the pacing."""

    task_id: str
    queue: str
    scheduled_at: float
    """When this attempt became due (epoch s): ``schedule_at`` first, then each backoff's end."""
    dispatched_at: float
    """When the request left (epoch s)."""
    responded_at: float
    attempt: int
    """1 for the first dispatch (``X-CloudTasks-TaskRetryCount`` is ``attempt - 1``)."""
    status: int | None
    """The HTTP status, or None when no answer came (see ``error``)."""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(slots=True)
class _Task:
    request: TaskRequest
    body: bytes
    due: float
    attempts: int = 0
    executions: int = 0
    """Earlier attempts the handler answered (503s excluded), as production counts them."""


@dataclass(slots=True)
class _Queue:
    tokens: float
    refilled_at: float
    """``time.monotonic()`` of the last refill: pacing must not jump with the wall clock."""
    due: list[tuple[float, int, _Task]] = field(default_factory=list)
    in_flight: int = 0


class FaithfulCloudTasks:
    """A :class:`~shared.ports.TaskQueue` that dispatches HTTP tasks like production does.

    ``create`` works before ``start``: tasks wait until the dispatcher runs (like a paused
    queue). ``clock`` only drives name retention, so a test can move it past
    ``name_retention_seconds`` without sleeping; schedules use the wall clock (``schedule_at``
    is absolute) and pacing the monotonic clock.

    ``max_burst`` is the token bucket's size, and the bucket starts full: in any window of
    ``w`` seconds a queue dispatches at most ``max_burst + max_dispatches_per_second * w``
    tasks. Production derives the burst from the rate without documenting the formula; one
    second's worth (``max(1, int(rate))``) is the default here.
    """

    def __init__(
        self,
        *,
        max_dispatches_per_second: float = MAX_DISPATCHES_PER_SECOND,
        max_burst: int | None = None,
        max_concurrent: int = MAX_CONCURRENT_DISPATCHES,
        max_attempts: int = SEND_RETRY.max_attempts,
        min_backoff: float = SEND_RETRY.min_backoff.total_seconds(),
        max_backoff: float = SEND_RETRY.max_backoff.total_seconds(),
        max_doublings: int = SEND_RETRY.max_doublings,
        name_retention_seconds: float = 3600.0,
        clock: Callable[[], float] = time.time,
        dispatch_timeout: float = 30.0,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        if max_dispatches_per_second <= 0 or max_concurrent < 1 or max_attempts < 1:
            raise ValueError("rate, max_concurrent and max_attempts must be positive")
        self.max_dispatches_per_second = max_dispatches_per_second
        self.max_burst = (
            max_burst if max_burst is not None else max(1, int(max_dispatches_per_second))
        )
        if self.max_burst < 1:
            raise ValueError("max_burst must be at least 1")
        self.max_concurrent = max_concurrent
        self.max_attempts = max_attempts
        self.retry = RetryPolicy(
            max_attempts,
            timedelta(seconds=min_backoff),
            timedelta(seconds=max_backoff),
            max_doublings,
        )
        self.name_retention_seconds = name_retention_seconds
        self.dispatch_timeout = dispatch_timeout
        self._clock = clock
        self._workers = workers

        self._lock = threading.Lock()
        self._schedule = threading.Condition(self._lock)
        """The scheduler waits here: for a task, a free worker, a due time or a token."""
        self._work = threading.Condition(self._lock)
        """Idle workers wait here for the scheduler's hand-off."""
        self._idle = threading.Condition(self._lock)
        """``wait_idle`` waits here for the last pending task to finish."""
        self._queues: dict[str, _Queue] = {}
        self._names: dict[tuple[str, str], float | None] = {}
        """Per (queue, task id): None while the task exists, else when it finished (clock)."""
        self._ready: deque[tuple[_Task, float]] = deque()
        self._idle_workers = 0
        self._pending = 0
        self._dropped = 0
        self._log: list[DispatchRecord] = []
        self._sequence = itertools.count()
        self._threads: list[threading.Thread] = []
        self._closed = False

    # -- TaskQueue ---------------------------------------------------------------------------

    def ensure_queue(self, queue: str) -> None:
        if not QUEUE_ID.fullmatch(queue):
            raise PermanentError(f"invalid queue id {queue!r}: letters, digits and hyphens, 1-100")
        with self._lock:
            if queue not in self._queues:
                self._queues[queue] = _Queue(tokens=self.max_burst, refilled_at=time.monotonic())

    def create(self, task: TaskRequest) -> bool:
        if not TASK_ID.fullmatch(task.task_id):
            raise PermanentError(
                f"invalid task id {task.task_id!r}: only letters, digits, '-' and '_', 1-500 chars"
            )
        due = _epoch(task.schedule_at)
        if due > time.time() + MAX_SCHEDULE_AHEAD_SECONDS:
            raise PermanentError(f"task {task.task_id!r} is scheduled more than 30 days ahead")
        body = json.dumps(dict(task.payload)).encode()
        with self._lock:
            state = self._queues.get(task.queue)
            if state is None:
                raise PermanentError(f"queue {task.queue!r} does not exist (create it first)")
            key = (task.queue, task.task_id)
            if key in self._names:
                finished = self._names[key]
                if finished is None or self._clock() - finished < self.name_retention_seconds:
                    return False
            self._names[key] = None
            heapq.heappush(state.due, (due, next(self._sequence), _Task(task, body, due)))
            self._pending += 1
            self._schedule.notify()
        return True

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FaithfulCloudTasks:
        """Start dispatching (once); returns self so ``with FaithfulCloudTasks().start()`` reads."""
        with self._lock:
            if self._threads or self._closed:
                return self
            self._threads = [threading.Thread(target=self._run_scheduler, daemon=True)]
            self._threads += [
                threading.Thread(target=self._run_worker, daemon=True) for _ in range(self._workers)
            ]
        for thread in self._threads:
            thread.start()
        return self

    def close(self) -> None:
        """Stop dispatching; requests in flight finish, tasks not yet dispatched stay pending."""
        with self._lock:
            self._closed = True
            self._schedule.notify_all()
            self._work.notify_all()
            self._idle.notify_all()
        for thread in self._threads:
            thread.join(self.dispatch_timeout + 1)

    def __enter__(self) -> FaithfulCloudTasks:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- introspection -----------------------------------------------------------------------

    @property
    def dispatch_log(self) -> list[DispatchRecord]:
        """Every attempt so far, in the order their answers came (a copy)."""
        with self._lock:
            return list(self._log)

    def pending_count(self) -> int:
        """Tasks neither completed nor dropped (waiting, backing off or in flight)."""
        with self._lock:
            return self._pending

    def dropped_count(self) -> int:
        """Tasks given up after ``max_attempts`` failed dispatches."""
        with self._lock:
            return self._dropped

    def wait_idle(self, timeout: float) -> bool:
        """Block until every task completed or was dropped; False if ``timeout`` came first."""
        with self._lock:
            self._idle.wait_for(lambda: self._pending == 0 or self._closed, timeout)
            return self._pending == 0

    # -- dispatching -------------------------------------------------------------------------

    def _run_scheduler(self) -> None:
        """Hand due tasks to idle workers as tokens and concurrency allow; sleep until the next."""
        with self._lock:
            while not self._closed:
                self._schedule.wait(self._hand_out())

    def _hand_out(self) -> float | None:
        """Hand out what may go now (lock held); seconds until something else may, or None."""
        wall, mono = time.time(), time.monotonic()
        wake = math.inf
        for state in self._queues.values():
            rate = self.max_dispatches_per_second
            state.tokens = min(self.max_burst, state.tokens + (mono - state.refilled_at) * rate)
            state.refilled_at = mono
            while state.due and self._idle_workers and state.in_flight < self.max_concurrent:
                due, _, task = state.due[0]
                if due > wall:
                    wake = min(wake, due - wall)
                    break
                if state.tokens < 1:
                    wake = min(wake, (1 - state.tokens) / rate)
                    break
                heapq.heappop(state.due)
                state.tokens -= 1
                state.in_flight += 1
                self._idle_workers -= 1
                self._ready.append((task, due))
                self._work.notify()
            else:  # stopped by a busy worker pool or queue: a finished request wakes us
                if state.due and state.due[0][0] > wall:
                    wake = min(wake, state.due[0][0] - wall)
        return None if wake == math.inf else wake

    def _run_worker(self) -> None:
        with requests.Session() as session:
            session.trust_env = False  # production calls the URL directly, never via a proxy
            while True:
                with self._lock:
                    self._idle_workers += 1
                    self._schedule.notify()
                    while not self._ready and not self._closed:
                        self._work.wait()
                    if self._closed:
                        return
                    task, due = self._ready.popleft()
                self._finish(task, due, *self._dispatch(session, task, due))

    def _dispatch(
        self, session: requests.Session, task: _Task, due: float
    ) -> tuple[float, int | None, str | None]:
        request = task.request
        headers = {
            "Content-Type": "application/json",
            "X-CloudTasks-QueueName": request.queue,
            "X-CloudTasks-TaskName": request.task_id,
            "X-CloudTasks-TaskRetryCount": str(task.attempts),
            "X-CloudTasks-TaskExecutionCount": str(task.executions),
            "X-CloudTasks-TaskETA": f"{due:.6f}",
        }
        sent = time.time()
        try:
            response = session.post(
                request.url,
                data=task.body,
                headers=headers,
                timeout=self.dispatch_timeout,
                allow_redirects=False,  # production counts a redirect as a failure
            )
        except requests.RequestException as error:
            return sent, None, f"{type(error).__name__}: {error}"
        response.close()
        return sent, response.status_code, None

    def _finish(
        self, task: _Task, due: float, sent: float, status: int | None, error: str | None
    ) -> None:
        done = time.time()
        with self._lock:
            task.attempts += 1
            if status is not None and status != 503:
                task.executions += 1
            request = task.request
            record = DispatchRecord(
                request.task_id, request.queue, due, sent, done, task.attempts, status, error
            )
            self._log.append(record)
            state = self._queues[request.queue]
            state.in_flight -= 1
            if record.ok or task.attempts >= self.max_attempts:
                if not record.ok:
                    self._dropped += 1
                self._names[(request.queue, request.task_id)] = self._clock()
                self._pending -= 1
                if self._pending == 0:
                    self._idle.notify_all()
            else:
                backoff = self.retry.delay_after(task.attempts).total_seconds()
                heapq.heappush(state.due, (done + backoff, next(self._sequence), task))
            self._schedule.notify()


def _epoch(moment: datetime) -> float:
    """Seconds since the epoch; a naive datetime is UTC, as the real adapter's protobuf reads it."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
