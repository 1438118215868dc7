"""The Firestore-triggered function ``enqueue_target``: a target was created -> plan it and
make its Cloud Task.

Eventarc retries a failed call, so a TransientError fails it; a malformed event or a
PermanentError is logged and acknowledged.
"""

from __future__ import annotations

import logging

from cloudevents.http import CloudEvent

from shared import logs
from shared.bootstrap import container
from shared.domain.errors import PermanentError
from shared.entrypoints.decoding import MalformedEvent, target_of_firestore_event
from shared.services.enqueue import enqueue_target

_log = logging.getLogger(__name__)


def handle_target_created(event: CloudEvent) -> None:
    try:
        ref = target_of_firestore_event(event)
    except MalformedEvent as error:
        logs.log(_log, logging.ERROR, "malformed Firestore event acknowledged", error=str(error))
        return
    try:
        enqueue_target(ref, container().delivery_ports())
    except PermanentError as error:
        logs.log(
            _log, logging.ERROR, "enqueue failed permanently", target=ref.path, error=str(error)
        )
