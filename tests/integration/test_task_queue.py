"""The TaskQueue contract, against the emulator-backed adapter and the faithful fake alike.

What both must do runs against both. What production does and the emulator does not (dedup,
pacing, backoff, validation) runs against :class:`FaithfulCloudTasks` only; for each such gap
a ``test_emulator_gap_*`` test pins down what the emulator actually does, so a newer emulator
that closes a gap fails that test and the note in local-stack.md gets updated.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.cloud import tasks_v2
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from shared.adapters.cloud_tasks_queue import CloudTasksQueue
from shared.bootstrap import Container
from shared.domain.errors import PermanentError
from shared.localstack.faithful_tasks import FaithfulCloudTasks
from shared.ports import TaskQueue, TaskRequest

WAIT = 10.0
"""Upper bound on any wait for an expected delivery; a healthy run needs a fraction of it."""
CLOCK_SLACK = 0.1


# -- a real HTTP receiver ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Arrival:
    path: str
    headers: Headers
    body: Any
    at: float


class Receiver:
    """A WSGI app that records every request and can fail the first ``fail_first`` of them."""

    def __init__(self) -> None:
        self.url = ""
        self.fail_first = 0
        self.delay = 0.0
        """Handler latency in seconds: a slow ``send_message``."""
        self.arrivals: list[Arrival] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._changed = threading.Condition()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        arrival = Arrival(request.path, Headers(request.headers), request.get_json(), time.time())
        with self._changed:
            number = len(self.arrivals)
            self.arrivals.append(arrival)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self._changed.notify_all()
        time.sleep(self.delay)  # the handler's own work, not a wait for something to happen
        with self._changed:
            self.in_flight -= 1
        status = 500 if number < self.fail_first else 200
        response: Iterable[bytes] = Response("", status)(environ, start_response)
        return response

    def wait_for(self, count: int, timeout: float = WAIT) -> bool:
        """Block until ``count`` requests arrived; False if ``timeout`` passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self.arrivals) >= count, timeout)

    def header(self, name: str) -> list[str | None]:
        with self._changed:
            return [arrival.headers.get(name) for arrival in self.arrivals]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    app.url = f"http://127.0.0.1:{server.server_port}"
    try:
        yield app
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# -- the two implementations ---------------------------------------------------------------


@pytest.fixture
def emulator_queue(request: pytest.FixtureRequest) -> CloudTasksQueue:
    """The adapter the functions use, on the session's emulator (only this fixture starts it)."""
    deps: Container = request.getfixturevalue("deps")
    return deps.task_queue


@pytest.fixture
def fakes() -> Iterator[list[FaithfulCloudTasks]]:
    made: list[FaithfulCloudTasks] = []
    yield made
    for fake in made:
        fake.close()


def fake(made: list[FaithfulCloudTasks], start: bool = True, **options: Any) -> FaithfulCloudTasks:
    """A fake with backoffs short enough for tests, closed at the test's end."""
    instance = FaithfulCloudTasks(**{"min_backoff": 0.01, "max_backoff": 0.1, **options})
    made.append(instance)
    return instance.start() if start else instance


@pytest.fixture(params=["emulator", "faithful"])
def backend(request: pytest.FixtureRequest, fakes: list[FaithfulCloudTasks]) -> TaskQueue:
    if request.param == "emulator":
        queue: TaskQueue = request.getfixturevalue("emulator_queue")
        return queue
    return fake(fakes)


def new_queue(backend: TaskQueue) -> str:
    name = f"test-{uuid.uuid4().hex[:8]}"
    backend.ensure_queue(name)
    return name


def task(
    queue: str, url: str, task_id: str = "", delay: float = 0.0, **payload: Any
) -> TaskRequest:
    return TaskRequest(
        queue=queue,
        task_id=task_id or f"t-{uuid.uuid4().hex}",
        url=f"{url}/send_message",
        payload=payload or {"n": 1},
        schedule_at=datetime.now(UTC) + timedelta(seconds=delay),
    )


# -- the contract: both --------------------------------------------------------------------


def test_task_is_posted_with_its_payload_and_cloud_tasks_headers(
    backend: TaskQueue, receiver: Receiver
) -> None:
    queue = new_queue(backend)
    request = task(queue, receiver.url, target="users/1/x", text="olá")

    assert backend.create(request) is True
    assert receiver.wait_for(1)
    arrival = receiver.arrivals[0]
    assert arrival.path == "/send_message"
    assert arrival.body == {"target": "users/1/x", "text": "olá"}
    assert arrival.headers["Content-Type"].startswith("application/json")
    assert arrival.headers["X-CloudTasks-TaskName"].endswith(request.task_id)
    assert arrival.headers["X-CloudTasks-QueueName"].endswith(queue)
    assert arrival.headers["X-CloudTasks-TaskRetryCount"] == "0"
    assert float(arrival.headers["X-CloudTasks-TaskETA"]) <= arrival.at + CLOCK_SLACK


def test_future_task_is_not_dispatched_before_its_schedule(
    backend: TaskQueue, receiver: Receiver
) -> None:
    request = task(new_queue(backend), receiver.url, delay=1.5)

    assert backend.create(request)
    assert receiver.wait_for(1)  # within WAIT: how soon after its time depends on the machine
    due = request.schedule_at.timestamp()
    assert due - CLOCK_SLACK <= receiver.arrivals[0].at


def test_ensure_queue_twice_is_harmless(backend: TaskQueue, receiver: Receiver) -> None:
    queue = new_queue(backend)
    assert backend.create(task(queue, receiver.url, delay=0.3))
    backend.ensure_queue(queue)  # must neither fail nor reset the queue and its task

    assert receiver.wait_for(1)


def test_failed_task_is_retried_until_it_succeeds(backend: TaskQueue, receiver: Receiver) -> None:
    receiver.fail_first = 2
    assert backend.create(task(new_queue(backend), receiver.url))

    assert receiver.wait_for(3)
    assert receiver.header("X-CloudTasks-TaskRetryCount")[:3] == ["0", "1", "2"]


def test_unknown_queue_is_refused_by_name(backend: TaskQueue, receiver: Receiver) -> None:
    missing = f"test-missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(PermanentError, match=missing):
        backend.create(task(missing, receiver.url))


# -- production rules: the faithful fake ---------------------------------------------------


def test_duplicate_name_is_refused_until_retention_passes(
    fakes: list[FaithfulCloudTasks], receiver: Receiver
) -> None:
    offset = [0.0]
    tasks = fake(fakes, start=False, clock=lambda: time.time() + offset[0])
    queue = new_queue(tasks)
    request = task(queue, receiver.url, task_id="send-1")

    assert tasks.create(request) is True
    assert tasks.create(request) is False  # the task exists
    tasks.start()
    assert tasks.wait_idle(WAIT)
    assert tasks.create(request) is False  # it ran, and its name is retained
    offset[0] += tasks.name_retention_seconds - 1
    assert tasks.create(request) is False
    offset[0] += 2
    assert tasks.create(request) is True  # retention over: the name is free again
    assert tasks.wait_idle(WAIT)

    assert len(receiver.arrivals) == 2
    assert [record.task_id for record in tasks.dispatch_log] == ["send-1", "send-1"]
    other_queue = new_queue(tasks)
    assert tasks.create(task(other_queue, receiver.url, task_id="send-1"))  # names are per queue


def test_rate_limit_holds_in_every_window(
    fakes: list[FaithfulCloudTasks], receiver: Receiver
) -> None:
    rate, burst = 20, 20
    tasks = fake(fakes, start=False, max_dispatches_per_second=rate, max_burst=burst)
    queue = new_queue(tasks)
    for _ in range(60):
        tasks.create(task(queue, receiver.url))

    tasks.start()
    assert tasks.wait_idle(WAIT)

    # The suite's one real-time check of the fake's pacing (its token bucket runs on the
    # monotonic clock): 60 tasks at 20/s after a burst of 20 take 2 s, and never less.
    sent = sorted(record.dispatched_at for record in tasks.dispatch_log)
    assert len(sent) == 60
    # A token bucket allows at most burst + rate * w dispatches in any w seconds
    # (+1 for thread-scheduling jitter between the hand-off and the request).
    for first in range(len(sent)):
        for last in range(first, len(sent)):
            assert last - first + 1 <= burst + rate * (sent[last] - sent[first]) + 1
    one_second = max(sum(1 for t in sent if start <= t < start + 1) for start in sent)
    assert one_second <= burst + rate
    assert (60 - burst) / rate - CLOCK_SLACK <= sent[-1] - sent[0] < 4


def test_concurrency_limit_holds(fakes: list[FaithfulCloudTasks], receiver: Receiver) -> None:
    receiver.delay = 0.2
    tasks = fake(fakes, max_concurrent=2, max_dispatches_per_second=100)
    queue = new_queue(tasks)
    for _ in range(6):
        tasks.create(task(queue, receiver.url))

    assert tasks.wait_idle(WAIT)
    assert len(receiver.arrivals) == 6
    assert receiver.max_in_flight == 2


def test_retries_back_off_exponentially(
    fakes: list[FaithfulCloudTasks], receiver: Receiver
) -> None:
    receiver.fail_first = 2
    tasks = fake(fakes, min_backoff=0.1, max_backoff=1.0)
    assert tasks.create(task(new_queue(tasks), receiver.url))

    assert tasks.wait_idle(WAIT)
    log = tasks.dispatch_log
    assert [(record.attempt, record.status) for record in log] == [(1, 500), (2, 500), (3, 200)]
    assert receiver.header("X-CloudTasks-TaskRetryCount") == ["0", "1", "2"]
    assert receiver.header("X-CloudTasks-TaskExecutionCount") == ["0", "1", "2"]
    # Each retry falls due exactly one backoff after the failed answer (0.1 s, then 0.2 s),
    # and no attempt leaves before it is due: the fake's own decisions, not a stopwatch.
    backoffs = [log[n].scheduled_at - log[n - 1].responded_at for n in (1, 2)]
    assert backoffs == pytest.approx([0.1, 0.2])
    assert all(record.dispatched_at >= record.scheduled_at for record in log), log
    assert tasks.dropped_count() == 0


def test_task_is_dropped_after_max_attempts(
    fakes: list[FaithfulCloudTasks], receiver: Receiver
) -> None:
    receiver.fail_first = 100
    tasks = fake(fakes, max_attempts=2)
    request = task(new_queue(tasks), receiver.url)
    assert tasks.create(request)

    assert tasks.wait_idle(WAIT)
    assert len(receiver.arrivals) == 2
    assert (tasks.dropped_count(), tasks.pending_count()) == (1, 0)
    assert tasks.create(request) is False  # a dropped task's name is retained too


def test_unreachable_url_is_an_attempt_that_failed(fakes: list[FaithfulCloudTasks]) -> None:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    tasks = fake(fakes, max_attempts=2, dispatch_timeout=2)
    assert tasks.create(task(new_queue(tasks), f"http://127.0.0.1:{port}"))

    assert tasks.wait_idle(WAIT)
    log = tasks.dispatch_log
    assert [(record.attempt, record.status) for record in log] == [(1, None), (2, None)]
    assert all(record.error and "ConnectionError" in record.error for record in log)
    assert tasks.dropped_count() == 1


@pytest.mark.parametrize(
    "task_id", ["has space", "slash/inside", "acentuação", "", "x" * 501], ids=repr
)
def test_invalid_task_id_is_refused(
    fakes: list[FaithfulCloudTasks], receiver: Receiver, task_id: str
) -> None:
    tasks = fake(fakes, start=False)
    request = task(new_queue(tasks), receiver.url)
    with pytest.raises(PermanentError, match="invalid task id"):
        tasks.create(TaskRequest(request.queue, task_id, request.url, {}, request.schedule_at))
    assert tasks.create(TaskRequest(request.queue, "x" * 500, request.url, {}, request.schedule_at))


# -- the emulator's gaps, pinned down ------------------------------------------------------


def test_emulator_gap_duplicate_name_is_accepted_and_dispatched_twice(
    emulator_queue: CloudTasksQueue, receiver: Receiver
) -> None:
    """Production answers ALREADY_EXISTS to a name used within ~1 h; the emulator runs both.

    This is why ``send_message`` claims its target in a Firestore transaction instead of
    trusting the task name to deliver once: a duplicate or retried task finds the target
    claimed and does nothing, here and in production alike.
    """
    queue = new_queue(emulator_queue)
    request = task(queue, receiver.url, task_id="send-1")

    assert emulator_queue.create(request) is True
    assert emulator_queue.create(request) is True
    assert receiver.wait_for(2)
    assert receiver.header("X-CloudTasks-TaskName") == ["send-1", "send-1"]


def test_emulator_gap_rate_limit_is_not_enforced(
    emulator_queue: CloudTasksQueue, receiver: Receiver, deps: Container
) -> None:
    """A queue limited to 1 dispatch/s still gets a burst of due tasks at once here.

    Pacing must come from our planner (and be tested against the faithful fake), never from
    the emulator. The limit is tiny so the check does not depend on this machine's speed.
    """
    client = deps.tasks_client
    queue = f"slow-{uuid.uuid4().hex[:8]}"
    parent = f"projects/{deps.settings.google_cloud_project}/locations/{deps.settings.region}"
    client.create_queue(
        parent=parent,
        queue=tasks_v2.Queue(
            name=f"{parent}/queues/{queue}",
            rate_limits=tasks_v2.RateLimits(max_dispatches_per_second=1, max_burst_size=1),
        ),
    )
    count = 20
    schedule_at = datetime.now(UTC) + timedelta(seconds=1)
    for number in range(count):
        request = task(queue, receiver.url, task_id=f"rate-{number}")
        emulator_queue.create(TaskRequest(queue, request.task_id, request.url, {}, schedule_at))

    assert receiver.wait_for(count, timeout=20)
    arrived = sorted(arrival.at for arrival in receiver.arrivals)
    one_second = max(sum(1 for t in arrived if start <= t < start + 1) for start in arrived)
    assert one_second > 2  # production: at most 1/s plus a burst of 1


def test_emulator_gap_retries_have_no_backoff(
    emulator_queue: CloudTasksQueue, receiver: Receiver
) -> None:
    """The queue asks for a 10 s minimum backoff (10 s, then 20 s); the emulator retries at once."""
    receiver.fail_first = 2
    assert emulator_queue.create(task(new_queue(emulator_queue), receiver.url))

    assert receiver.wait_for(3)
    assert receiver.arrivals[2].at - receiver.arrivals[0].at < 10


def test_emulator_gap_invalid_task_id_is_accepted(
    emulator_queue: CloudTasksQueue, receiver: Receiver
) -> None:
    """Production answers INVALID_ARGUMENT to a task id outside ``[A-Za-z0-9_-]``; not so here."""
    assert emulator_queue.create(task(new_queue(emulator_queue), receiver.url, task_id="a b!"))

    assert receiver.wait_for(1)
    assert receiver.header("X-CloudTasks-TaskName") == ["a b!"]
