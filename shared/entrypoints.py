"""What the Cloud Function entry points share: decode the event, call a service, map errors.

Pub/Sub redelivers a push until it is acknowledged, so the rule is: a TransientError makes
the function fail (redelivery), a malformed message is logged and acknowledged (a retry would
fail the same way forever), and a job that was processed returns normally.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pydantic
from cloudevents.http import CloudEvent

from shared import logs
from shared.bootstrap import container
from shared.domain.errors import FieldError, PermanentError
from shared.messages import TenantJob, TickMessage
from shared.services.fanout import fan_out
from shared.services.process_tenant import process_tenant

_log = logging.getLogger(__name__)


class MalformedEvent(Exception):
    """The event cannot be understood; acknowledging it is the only sane answer."""


@dataclass(frozen=True, slots=True)
class PubSubMessage:
    message_id: str
    publish_time: datetime
    payload: dict[str, Any]


def decode_pubsub(event: CloudEvent) -> PubSubMessage:
    try:
        message = event.data["message"]
        payload = json.loads(base64.b64decode(message.get("data", "")) or b"{}")
        if not isinstance(payload, dict):
            raise MalformedEvent("message data is not a JSON object")
        publish_time = datetime.fromisoformat(message["publishTime"].replace("Z", "+00:00"))
        return PubSubMessage(str(message["messageId"]), publish_time, payload)
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        raise MalformedEvent(f"not a Pub/Sub message: {error}") from error


def handle_tick(event: CloudEvent) -> None:
    try:
        message = decode_pubsub(event)
        tick = TickMessage.model_validate(message.payload)
    except (MalformedEvent, pydantic.ValidationError, FieldError) as error:
        logs.log(_log, logging.ERROR, "malformed tick acknowledged", error=str(error))
        return
    deps = container()
    fan_out(
        tick_id=message.message_id,
        instant=tick.instant or message.publish_time,
        only_cnpj=tick.cnpj,
        force=tick.force,
        tenants=deps.tenants,
        ticks=deps.ticks,
        publisher=deps.publisher,
    )


def handle_tenant_job(event: CloudEvent) -> None:
    try:
        job = TenantJob.model_validate(decode_pubsub(event).payload)
    except (MalformedEvent, pydantic.ValidationError, FieldError) as error:
        logs.log(_log, logging.ERROR, "malformed tenant job acknowledged", error=str(error))
        return
    try:
        process_tenant(job, container().tenant_ports())
    except PermanentError as error:  # e.g. an invalid tenant document: retrying cannot help
        logs.log(
            _log, logging.ERROR, "tenant job failed permanently", tenant=job.cnpj, error=str(error)
        )
