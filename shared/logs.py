"""Structured JSON logs that Cloud Logging understands, with phone numbers never in clear text.

Cloud Functions forwards each stdout line to Cloud Logging and reads ``severity`` and
``message`` from JSON; extra fields become ``jsonPayload`` entries we can filter on (tenant,
campaign, run). LGPD: a phone number is personal data, so :func:`mask_phone` keeps only
what an operator needs to tell two numbers apart.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

import phonenumbers

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_phone(phone: str) -> str:
    """``+5511987654321`` -> ``+55119*****21``: enough to correlate, not enough to call."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return "***"
    return f"+{digits[:4]}{'*' * (len(digits) - 6)}{digits[-2:]}"


def redact(text: str) -> str:
    """Mask every phone number in free text (phonenumbers finds them; ISO dates are not phones)."""
    pieces: list[str] = []
    last = 0
    for match in phonenumbers.PhoneNumberMatcher(
        text, "BR", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        if _ISO_DATE.fullmatch(match.raw_string):
            continue
        pieces += [text[last : match.start], mask_phone(match.raw_string)]
        last = match.end
    return "".join(pieces) + text[last:]


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": redact(record.getMessage()),
            "logger": record.name,
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    """Idempotent: warm function instances call it on every import of an entry point."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def log(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """Log with structured fields (tenant, campaign, run...) as top-level JSON keys."""
    logger.log(level, message, extra={"fields": fields})
