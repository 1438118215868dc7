"""Cloud Tasks as the TaskQueue: one named HTTP task per planned send.

The task name is the dedup key (production answers ALREADY_EXISTS for a name in use or used
within about an hour), and in production each task carries an OIDC token so ``send_message``
only accepts calls from our own service account. The local emulator enforces neither
dedup nor rate limits; :mod:`shared.localstack.faithful_tasks` is the fake that does.
"""

from __future__ import annotations

import contextlib
import json

from google.api_core import exceptions as api
from google.cloud import tasks_v2

from shared.adapters.errors import translated
from shared.domain.retry import SEND_RETRY
from shared.ports import TaskRequest

MAX_DISPATCHES_PER_SECOND = 70.0
"""A second safety net under WhatsApp's per-number 80/s; the planner is the first."""
MAX_CONCURRENT_DISPATCHES = 20


class CloudTasksQueue:
    def __init__(
        self,
        client: tasks_v2.CloudTasksClient,
        project: str,
        location: str,
        invoker_service_account: str | None = None,
    ) -> None:
        self._client = client
        self._project = project
        self._location = location
        self._invoker = invoker_service_account

    def create(self, task: TaskRequest) -> bool:
        parent = self._client.queue_path(self._project, self._location, task.queue)
        http_request = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url=task.url,
            headers={"Content-Type": "application/json"},
            body=json.dumps(dict(task.payload)).encode(),
        )
        if self._invoker:
            http_request.oidc_token = tasks_v2.OidcToken(
                service_account_email=self._invoker, audience=task.url
            )
        request = tasks_v2.Task(
            name=f"{parent}/tasks/{task.task_id}",
            http_request=http_request,
            schedule_time=task.schedule_at,
        )
        with translated("Cloud Tasks"):
            try:
                self._client.create_task(parent=parent, task=request)
            except api.AlreadyExists:
                return False
        return True

    def ensure_queue(self, queue: str) -> None:
        parent = f"projects/{self._project}/locations/{self._location}"
        definition = tasks_v2.Queue(
            name=f"{parent}/queues/{queue}",
            rate_limits=tasks_v2.RateLimits(
                max_dispatches_per_second=MAX_DISPATCHES_PER_SECOND,
                max_concurrent_dispatches=MAX_CONCURRENT_DISPATCHES,
            ),
            # A task whose handler failed (infrastructure errors only: WhatsApp outcomes are
            # handled by the code and answered 2xx) is retried on the send's own policy; the
            # handler's claim makes every retry harmless.
            retry_config=tasks_v2.RetryConfig(
                max_attempts=SEND_RETRY.max_attempts,
                min_backoff=SEND_RETRY.min_backoff,
                max_backoff=SEND_RETRY.max_backoff,
                max_doublings=SEND_RETRY.max_doublings,
            ),
        )
        with translated("Cloud Tasks"), contextlib.suppress(api.AlreadyExists):
            self._client.create_queue(parent=parent, queue=definition)
