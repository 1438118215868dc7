"""Cloud Function ``process_tenant``: one tenant's job (Pub/Sub) -> targets in Firestore."""

import functions_framework
from cloudevents.http import CloudEvent

from shared import logs
from shared.config import get_settings
from shared.entrypoints.pubsub import handle_tenant_job

logs.configure(get_settings().log_level)


@functions_framework.cloud_event
def process_tenant(cloud_event: CloudEvent) -> None:
    handle_tenant_job(cloud_event)
