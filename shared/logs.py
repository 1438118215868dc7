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

_PHONE_LIKE = re.compile(r"\+?\(?\d[\d\s()-]{8,}\d")
_MIN_PHONE_DIGITS = 10


def mask_phone(phone: str) -> str:
    """``+5511987654321`` -> ``+55119*****21``: enough to correlate, not enough to call."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 6:
        return "***"
    return f"+{digits[:4]}{'*' * (len(digits) - 6)}{digits[-2:]}"


def _mask_match(match: re.Match[str]) -> str:
    text = match.group(0)
    return mask_phone(text) if sum(c.isdigit() for c in text) >= _MIN_PHONE_DIGITS else text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = _PHONE_LIKE.sub(_mask_match, record.getMessage())
        entry: dict[str, Any] = {
            "severity": record.levelname,
            "message": message,
            "logger": record.name,
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
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
