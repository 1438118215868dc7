"""Cloud Function ``sweeper``: every few minutes (Pub/Sub) -> repair targets a crash left behind."""

import functions_framework
from cloudevents.http import CloudEvent

from shared import logs
from shared.config import get_settings
from shared.entrypoints.pubsub import handle_sweep

logs.configure(get_settings().log_level)


@functions_framework.cloud_event
def sweeper(cloud_event: CloudEvent) -> None:
    handle_sweep(cloud_event)
