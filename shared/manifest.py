"""What the pipeline is made of: functions, their triggers and configuration, topics, queues.

The local stack creates exactly these resources, the local functions host serves exactly
these functions, and the Terraform in ``infra/`` declares the same ones with the same
environment variables and secrets (``tests/infra/test_consistency.py`` checks both ways).
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
TARGET_DOCUMENT = "users/{cnpj}/campaigns/{campaign_id}/targets/{target_id}"
TARGET_CREATED = "google.cloud.firestore.document.v1.created"
WEBHOOK_PATH = "/webhooks/whatsapp"
"""Served by the ``api`` function; Meta's webhook URL is <api url> + this path."""

# Settings (shared/config.py) each function is given in production. Everything the code
# reads from the environment is either given to some function here or local-only.
_BASE = ("GOOGLE_CLOUD_PROJECT", "LOG_LEVEL")
_CREATES_SEND_TASKS = ("CAMPAIGNS_REGION", "SEND_MESSAGE_URL", "TASKS_INVOKER_SERVICE_ACCOUNT")
_CREATES_OCCURRENCE_TASKS = (
    "CAMPAIGNS_REGION",
    "RUN_OCCURRENCE_URL",
    "TASKS_INVOKER_SERVICE_ACCOUNT",
)
"""An API campaign's next occurrence gets a Cloud Task at its instant wherever the campaign
goes live or an occurrence materialises: the api (start, resume), the tick, the task itself."""
LOCAL_ONLY_SETTINGS = frozenset(
    {
        "FIRESTORE_EMULATOR_HOST",
        "PUBSUB_EMULATOR_HOST",
        "BIGQUERY_EMULATOR_HOST",
        "CLOUD_TASKS_EMULATOR_HOST",
        "CAMPAIGNS_FUNCTIONS_URL",  # production gives SEND_MESSAGE_URL, RUN_OCCURRENCE_URL
        "WHATSAPP_API_BASE_URL",  # the sandbox's address; production keeps the default
    }
)


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    signature: Literal["http", "cloudevent"]
    topic: str | None = None
    """Pub/Sub topic whose messages trigger the function (through a push subscription)."""
    document: str | None = None
    """Firestore document pattern whose creation triggers the function (Eventarc)."""
    event_type: str | None = None
    environment: tuple[str, ...] = _BASE
    """Plain settings the function is deployed with."""
    secrets: tuple[str, ...] = ()
    """Secret settings, read from Secret Manager when an instance starts."""

    @property
    def deployed_name(self) -> str:
        """Cloud Functions (gen2) names allow hyphens, not underscores."""
        return self.name.replace("_", "-")

    @property
    def source(self) -> Path:
        return FUNCTIONS_DIR / f"{self.name}.py"

    @property
    def subscription(self) -> str | None:
        return f"{self.name}-push" if self.topic else None


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("fanout", "cloudevent", topic=TICK_TOPIC),
    FunctionSpec(
        "process_tenant",
        "cloudevent",
        topic=TENANT_TOPIC,
        environment=(*_BASE, *_CREATES_OCCURRENCE_TASKS),
    ),
    FunctionSpec(
        "enqueue_target",
        "cloudevent",
        document=TARGET_DOCUMENT,
        event_type=TARGET_CREATED,
        environment=(*_BASE, *_CREATES_SEND_TASKS),
    ),
    FunctionSpec(
        "send_message",
        "http",
        environment=(
            *_BASE,
            *_CREATES_SEND_TASKS,
            "WHATSAPP_PHONE_NUMBER_ID",
            "WHATSAPP_API_VERSION",
            "LINK_BASE_URL",  # tracked links in messages point at the api function
        ),
        secrets=("WHATSAPP_ACCESS_TOKEN", "LINK_SECRET"),
    ),
    FunctionSpec(
        "api",
        "http",
        environment=(
            *_BASE,
            *_CREATES_SEND_TASKS,  # the webhook re-plans a target WhatsApp asked to defer
            "RUN_OCCURRENCE_URL",  # a start or resume schedules the next occurrence's task
            "WHATSAPP_PHONE_NUMBER_ID",  # the webhook finds a tenant by its number
            "WHATSAPP_BUSINESS_ACCOUNT_ID",  # templates sync: the default account
            "WHATSAPP_API_VERSION",  # templates sync: GET /{WABA}/message_templates
            "API_JWKS_URL",
            "API_JWT_ISSUER",
            "API_JWT_AUDIENCE",
            "API_REQUESTS_PER_MINUTE",
        ),
        secrets=(
            "WHATSAPP_APP_SECRET",
            "WHATSAPP_VERIFY_TOKEN",
            "API_JWT_SECRET",
            "LINK_SECRET",
            "WHATSAPP_ACCESS_TOKEN",  # templates sync reads the account's message_templates
        ),
    ),
    FunctionSpec(
        "sweeper", "cloudevent", topic=SWEEP_TOPIC, environment=(*_BASE, *_CREATES_SEND_TASKS)
    ),
    FunctionSpec("run_occurrence", "http", environment=(*_BASE, *_CREATES_OCCURRENCE_TASKS)),
)
TOPICS: tuple[str, ...] = (TICK_TOPIC, TENANT_TOPIC, SWEEP_TOPIC)


def send_queue(cnpj_value: str) -> str:
    """Each tenant has its own Cloud Tasks queue, so one tenant's backlog never delays another's.

    Its campaigns' occurrence tasks (``run_occurrence``) go there too: one queue per tenant
    to create, grant and pace, and an occurrence is that tenant's work like its sends."""
    return f"whatsapp-{cnpj_value.lower()}"
