"""JSON log lines for Cloud Logging, with phone numbers masked in messages (LGPD)."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import logs
from shared.logs import JsonFormatter, mask_phone

PHONE_FORMATS = [
    "(11) 98765-4321",
    "11987654321",
    "+55 11 98765-4321",
    "5511987654321",
    "011 98765-4321",
    "0xx11 98765-4321",
    "+5511987654321",
    "(11) 8765-4321",
    "(21) 7654-3210",
    "(11) 3456-7890",
]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _format(message: str, level: int = logging.INFO, name: str = "test") -> str:
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    return JsonFormatter().format(record)


def _message(message: str) -> str:
    entry = json.loads(_format(message))
    assert isinstance(entry, dict)
    text = entry["message"]
    assert isinstance(text, str)
    return text


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.unit.test_logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    entries = []
    for line in stream.getvalue().splitlines():
        entry = json.loads(line)
        assert isinstance(entry, dict)
        entries.append(entry)
    return entries


# --- mask_phone ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+5511987654321", "+5511*******21"),
        ("+55 (11) 98765-4321", "+5511*******21"),
        ("11987654321", "+1198*****21"),
        ("(11) 8765-4321", "+1187****21"),
        ("1234567", "+1234*67"),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["", "abc", "12345", "+55 1"])
def test_mask_phone_of_too_few_digits(phone: str) -> None:
    assert mask_phone(phone) == "***"


@pytest.mark.parametrize("phone", ["+5511987654321", *PHONE_FORMATS])
def test_mask_phone_keeps_at_most_first_four_and_last_two_digits(phone: str) -> None:
    digits = _digits(phone)
    masked = mask_phone(phone)
    assert _digits(masked) == digits[:4] + digits[-2:]
    assert masked.count("*") == len(digits) - 6


# --- JsonFormatter -------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", PHONE_FORMATS)
def test_phone_numbers_in_messages_are_masked(phone: str) -> None:
    message = _message(f"cliente {phone} sem WhatsApp")
    subscriber = _digits(phone)[-8:]
    assert subscriber not in _digits(message)
    assert _digits(phone)[-4:] not in message
    assert message.startswith("cliente ")
    assert message.endswith(" sem WhatsApp")
    assert "*" in message


def test_two_phones_in_one_message_are_both_masked() -> None:
    message = _message("dup (11) 98765-4321 e +55 21 97654-3210")
    assert message == "dup +1198*****21 e +5521*******10"


@pytest.mark.parametrize(
    "text",
    [
        "listening on 127.0.0.1:8081",
        "emulator at 192.168.100.200:12345",
        "local date 2026-11-20",
        "history since 2026-11-01T03:00:00+00:00",
        "pedido 12345 ok",
        "lote 1234567",  # a bare 9-digit number may be a local mobile: masked on purpose
        "took 1500 ms for 2000 rows",
        "tenant 12.ABC.345/01DE-35",
        "Lavanderia São João",
        "",
        f"as of {datetime(2026, 11, 20, 11, 30, tzinfo=UTC)}",
        "window 2026-11-01 2026-11-30",
    ],
)
def test_non_phones_are_left_intact(text: str) -> None:
    assert _message(text) == text


@pytest.mark.parametrize(
    ("level", "severity"),
    [
        (logging.DEBUG, "DEBUG"),
        (logging.INFO, "INFO"),
        (logging.WARNING, "WARNING"),
        (logging.ERROR, "ERROR"),
        (logging.CRITICAL, "CRITICAL"),
    ],
)
def test_entry_has_severity_message_and_logger(level: int, severity: str) -> None:
    line = _format("hello", level=level, name="shared.services")
    assert json.loads(line) == {
        "severity": severity,
        "message": "hello",
        "logger": "shared.services",
    }


def test_one_json_object_per_line() -> None:
    line = _format("first line\nsecond line (11) 98765-4321")
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "first line\nsecond line +1198*****21"


def test_non_ascii_is_kept_readable() -> None:
    assert "São Paulo" in _format("São Paulo")


def test_log_adds_fields_as_top_level_keys(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logs.log(logger, logging.INFO, "campaign targeted", tenant="11222333000181", created=3)
    logs.log(logger, logging.WARNING, "second", run=datetime(2026, 11, 20, 11, 30, tzinfo=UTC))
    first, second = _lines(stream)
    assert first == {
        "severity": "INFO",
        "message": "campaign targeted",
        "logger": "tests.unit.test_logs",
        "tenant": "11222333000181",
        "created": 3,
    }
    # Values JSON does not know are written with str().
    assert second["severity"] == "WARNING"
    assert second["run"] == "2026-11-20 11:30:00+00:00"


def test_log_respects_level(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    logger.setLevel(logging.WARNING)
    logs.log(logger, logging.INFO, "dropped", tenant="x")
    logs.log(logger, logging.ERROR, "kept", tenant="x")
    assert [entry["message"] for entry in _lines(stream)] == ["kept"]


def test_exception_is_included(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("failed for (11) 98765-4321")
    (entry,) = _lines(stream)
    assert entry["severity"] == "ERROR"
    assert entry["message"] == "failed for +1198*****21"
    assert "RuntimeError: boom" in entry["exception"]


def test_configure_is_idempotent() -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    try:
        logs.configure("WARNING")
        logs.configure("DEBUG")
        json_handlers = [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]
        assert len(json_handlers) == 1
        assert root.level == logging.WARNING
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_fields_and_tracebacks_are_masked_too(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("test.fields")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("bad number +55 11 98765-4321")
        except ValueError:
            logger.exception("failed", extra={"fields": {"to": "(11) 98765-4321", "n": 3}})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(capsys.readouterr().out)
    assert "98765" not in json.dumps(entry)
    assert entry["n"] == 3
