"""Cloud Function ``enqueue_target``: a target was created (Firestore) -> plan it, make its task."""

import functions_framework
from cloudevents.http import CloudEvent

from shared import logs
from shared.config import get_settings
from shared.entrypoints.firestore import handle_target_created

logs.configure(get_settings().log_level)


@functions_framework.cloud_event
def enqueue_target(cloud_event: CloudEvent) -> None:
    handle_target_created(cloud_event)
