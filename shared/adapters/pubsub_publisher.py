"""Pub/Sub as the Publisher port: JSON messages, published and confirmed before returning."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from google.cloud.pubsub_v1 import PublisherClient

from shared.adapters.errors import translated

_PUBLISH_TIMEOUT_SECONDS = 30


class PubSubPublisher:
    def __init__(self, client: PublisherClient, project: str) -> None:
        self._client = client
        self._project = project

    def publish(self, topic: str, payload: Mapping[str, Any]) -> str:
        data = json.dumps(payload, separators=(",", ":")).encode()
        with translated("Pub/Sub"):
            future = self._client.publish(self._client.topic_path(self._project, topic), data)
            return str(future.result(timeout=_PUBLISH_TIMEOUT_SECONDS))
