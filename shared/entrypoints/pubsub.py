"""Pub/Sub-triggered functions: the hourly tick (``fanout``), one tenant's job
(``process_tenant``) and the sweeper's schedule (``sweeper``).

Pub/Sub redelivers a push until it is acknowledged: a TransientError makes the function fail
(redelivery), a malformed message is logged and acknowledged, and a job that was processed
returns normally.
"""

from __future__ import annotations

import logging

import pydantic
from cloudevents.http import CloudEvent

from shared import logs
from shared.bootstrap import container
from shared.domain.errors import FieldError, PermanentError
from shared.entrypoints.decoding import MalformedEvent, decode_pubsub
from shared.messages import TenantJob, TickMessage
from shared.services.fanout import fan_out
from shared.services.process_tenant import process_tenant
from shared.services.sweeper import sweep

_log = logging.getLogger(__name__)


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


def handle_sweep(event: CloudEvent) -> None:
    del event  # the schedule is the only information
    sweep(container().delivery_ports(), links=container().link_ports())
