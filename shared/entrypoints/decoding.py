"""What the triggers deliver, decoded: a Pub/Sub push and a Firestore document event.

An event that cannot be understood raises :class:`MalformedEvent`, which its entry point logs
and acknowledges (a retry would fail the same way forever).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.http import CloudEvent
from google.events.cloud.firestore import DocumentEventData

from shared.domain.delivery import TargetRef
from shared.domain.errors import FieldError

_BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/=\s]+$")


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


def target_of_firestore_event(event: CloudEvent) -> TargetRef:
    """The created document's path, from the DocumentEventData payload.

    Production Eventarc sends the protobuf bytes; the Firestore emulator sends their base64
    text. Protobuf bytes of a document event always hold bytes outside base64's alphabet.
    """
    data = event.data
    if isinstance(data, str):
        data = data.encode()
    if not isinstance(data, bytes | bytearray) or not data:
        raise MalformedEvent("Firestore event without a protobuf payload")
    raw = bytes(data)
    try:
        if _BASE64_TEXT.fullmatch(raw):
            raw = base64.b64decode(raw, validate=False)
        name = DocumentEventData.deserialize(raw).value.name
    except (binascii.Error, ValueError, TypeError) as error:
        raise MalformedEvent(f"undecodable DocumentEventData: {error}") from error
    _, marker, path = name.partition("/documents/")
    if not marker:
        raise MalformedEvent(f"event document name has no path: {name[:200]!r}")
    try:
        return TargetRef.parse(path)
    except FieldError as error:
        raise MalformedEvent(str(error)) from error
