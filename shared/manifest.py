"""What the pipeline is made of: functions, their triggers, topics and queues.

The local stack creates exactly these resources, the local functions host serves exactly
these functions, and the Terraform in ``infra/`` must declare the same ones (a test checks).
Each function's entry point is ``functions/<name>.py`` defining a function of the same name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"

TICK_TOPIC = "campaign-tick"
"""Cloud Scheduler publishes the hourly tick here."""
TENANT_TOPIC = "tenant-campaigns"
"""``fanout`` publishes one job per active tenant here."""
SWEEP_TOPIC = "delivery-sweep"
"""Cloud Scheduler publishes here every few minutes; the ``sweeper`` repairs stuck targets."""
TARGET_DOCUMENT = "users/{cnpj}/campaigns/{campaign_type}/targets/{target_id}"
TARGET_CREATED = "google.cloud.firestore.document.v1.created"
WEBHOOK_PATH = "/webhooks/whatsapp"
"""Served by the ``api`` function; Meta's webhook URL is <api url> + this path."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    signature: Literal["http", "cloudevent"]
    topic: str | None = None
    """Pub/Sub topic whose messages trigger the function (through a push subscription)."""
    document: str | None = None
    """Firestore document pattern whose creation triggers the function (Eventarc)."""
    event_type: str | None = None

    @property
    def source(self) -> Path:
        return FUNCTIONS_DIR / f"{self.name}.py"

    @property
    def subscription(self) -> str | None:
        return f"{self.name}-push" if self.topic else None


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("fanout", "cloudevent", topic=TICK_TOPIC),
    FunctionSpec("process_tenant", "cloudevent", topic=TENANT_TOPIC),
    FunctionSpec(
        "enqueue_target", "cloudevent", document=TARGET_DOCUMENT, event_type=TARGET_CREATED
    ),
    FunctionSpec("send_message", "http"),
    FunctionSpec("api", "http"),
    FunctionSpec("sweeper", "cloudevent", topic=SWEEP_TOPIC),
)
TOPICS: tuple[str, ...] = (TICK_TOPIC, TENANT_TOPIC, SWEEP_TOPIC)


def send_queue(cnpj_value: str) -> str:
    """Each tenant has its own Cloud Tasks queue, so one tenant's backlog never delays another's."""
    return f"whatsapp-{cnpj_value.lower()}"
