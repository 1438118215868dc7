"""Cloud Function ``fanout``: the hourly tick (Pub/Sub) -> one job per active tenant."""

import functions_framework
from cloudevents.http import CloudEvent

from shared import logs
from shared.config import get_settings
from shared.entrypoints.pubsub import handle_tick

logs.configure(get_settings().log_level)


@functions_framework.cloud_event
def fanout(cloud_event: CloudEvent) -> None:
    handle_tick(cloud_event)
