"""``campaigns tick``: publish a tick as Cloud Scheduler would, wait for the runs, summarise."""

from __future__ import annotations

import sys
import time
from datetime import datetime
from typing import Any

from shared.bootstrap import Container
from shared.domain.cnpj import Cnpj
from shared.manifest import TICK_TOPIC
from shared.messages import TickMessage

POLL_SECONDS = 0.25
_DONE = {"FINISHED"}


def publish_tick(deps: Container, instant: datetime | None, cnpj: str | None, force: bool) -> str:
    message = TickMessage(instant=instant, cnpj=cnpj, force=force)
    return deps.publisher.publish(TICK_TOPIC, message.model_dump(mode="json", exclude_none=True))


def wait_for_runs(deps: Container, tick_id: str, timeout: float) -> dict[str, dict[str, Any]]:
    """Run documents by CNPJ once every tenant of the tick finished (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    tenants: list[str] | None = None
    runs: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        if tenants is None:
            tick = deps.ticks.get(tick_id)
            tenants = None if tick is None else list(tick.get("tenants", []))
        if tenants is not None:
            for cnpj in tenants:
                if runs.get(cnpj, {}).get("status") not in _DONE:
                    runs[cnpj] = deps.runs.document(Cnpj(cnpj), tick_id) or {}
            finished = sum(1 for run in runs.values() if run.get("status") in _DONE)
            _progress(f"{finished}/{len(tenants)} tenants finished", started)
            if finished == len(tenants):
                break
        else:
            _progress("waiting for the fan-out", started)
        time.sleep(POLL_SECONDS)
    _progress_end()
    return runs


def _progress(text: str, started: float) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(f"\r  {text} ({time.monotonic() - started:4.1f} s)   ")
        sys.stderr.flush()


def _progress_end() -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\n")


def _short(text: str, width: int = 70) -> str:
    first_line = text.splitlines()[0] if text else ""
    return first_line if len(first_line) <= width else first_line[: width - 1] + "…"


def _figure(value: object) -> str:
    """A foreseen figure; "-" where the run did not foresee it."""
    return str(value) if isinstance(value, int) else "-"


def summary_table(runs: dict[str, dict[str, Any]]) -> str:
    header = (
        "tenant",
        "campaign",
        "status",
        "candidates",
        "created",
        "already",
        "will go",
        "expire",
        "skipped",
        "detail",
    )
    rows: list[tuple[str, ...]] = [header]
    for cnpj, run in sorted(runs.items()):
        name = run.get("tenantName") or ""
        label = f"{cnpj} {name}".strip()
        campaigns = run.get("campaigns") or {}
        if not campaigns:
            rows.append(
                (
                    label,
                    "-",
                    run.get("status", "NOT STARTED"),
                    *([""] * 6),
                    run.get("error", ""),
                )
            )
        for kind, outcome in sorted(campaigns.items()):
            skipped = outcome.get("skipped") or {}
            skipped_text = str(sum(skipped.values()))
            if skipped:
                skipped_text += (
                    " (" + ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())) + ")"
                )
            rows.append(
                (
                    label,
                    kind,
                    outcome["status"],
                    str(outcome["candidates"]),
                    str(outcome["created"]),
                    str(outcome["already_present"]),
                    _figure(outcome.get("will_send")),
                    _figure(outcome.get("will_expire")),
                    skipped_text,
                    _short(outcome.get("detail", "")),
                )
            )
            label = ""
        if run.get("status") not in _DONE:
            rows.append(
                (
                    "",
                    "(run)",
                    run.get("status", "NOT STARTED"),
                    *([""] * 6),
                    run.get("error", ""),
                )
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)
