"""Create, on the emulators, the resources ``infra/`` creates in the cloud (idempotently)."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import grpc
import requests
from google.api_core import exceptions as api
from google.cloud.pubsub_v1 import PublisherClient, SubscriberClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport

from shared.manifest import FUNCTIONS, TOPICS

PUSH_ACK_DEADLINE_SECONDS = 600
"""A tenant job may run for minutes; a shorter deadline makes Pub/Sub redeliver it meanwhile."""


def create_all(
    environment: Mapping[str, str], functions_port: int, firestore_triggers: bool = True
) -> None:
    """Queues are per tenant: ``tenant add`` creates them (in the cloud: Terraform)."""
    project = environment["GOOGLE_CLOUD_PROJECT"]
    _create_pubsub(project, environment["PUBSUB_EMULATOR_HOST"], functions_port)
    if firestore_triggers:
        _register_firestore_triggers(project, environment["FIRESTORE_EMULATOR_HOST"])


def _register_firestore_triggers(project: str, firestore_host: str) -> None:
    """The emulator's Eventarc stand-in: it POSTs to /functions/projects/<p>/triggers/<name>."""
    for spec in FUNCTIONS:
        if spec.document is None:
            continue
        response = requests.post(
            f"http://{firestore_host}/emulator/v1/projects/{project}/eventarcTrigger",
            params={"eventarcTriggerId": spec.name},
            json={
                "eventType": spec.event_type,
                "database": "(default)",
                "namespace": "(default)",
                "document": {"value": spec.document, "matchType": "PATH_PATTERN"},
            },
            timeout=10,
        )
        response.raise_for_status()


def _create_pubsub(project: str, pubsub_host: str, functions_port: int) -> None:
    channel = grpc.insecure_channel(pubsub_host)
    publisher = PublisherClient(transport=PublisherGrpcTransport(channel=channel))
    subscriber = SubscriberClient(transport=SubscriberGrpcTransport(channel=channel))
    with subscriber:
        for topic in TOPICS:
            with contextlib.suppress(api.AlreadyExists):
                publisher.create_topic(name=publisher.topic_path(project, topic))
        for spec in FUNCTIONS:
            if spec.topic is None or spec.subscription is None:
                continue
            endpoint = f"http://127.0.0.1:{functions_port}/{spec.name}"
            with contextlib.suppress(api.AlreadyExists):
                subscriber.create_subscription(
                    request={
                        "name": subscriber.subscription_path(project, spec.subscription),
                        "topic": publisher.topic_path(project, spec.topic),
                        "push_config": {"push_endpoint": endpoint},
                        "ack_deadline_seconds": PUSH_ACK_DEADLINE_SECONDS,
                    }
                )
