"""``campaigns deliveries``: wait until the messages of a run have gone, then count outcomes.

Delivery is asynchronous (paced tasks, then receipts from WhatsApp), so "done" means: no
target is still moving through the pipeline now. A target planned for later (the next send
window, a frequency-cap deferral, a retry backoff) counts as waiting, not as unfinished.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

from shared.bootstrap import Container
from shared.campaigns import registered_processors
from shared.domain.campaign_ids import SEGMENT
from shared.domain.cnpj import Cnpj
from shared.domain.delivery_status import Status

POLL_SECONDS = 0.5
SOON = timedelta(seconds=90)
"""A QUEUED target planned within this horizon is still "in flight"."""
COLUMNS = ("delivered", "read", "failed", "skipped", "expired", "unknown", "waiting", "in_flight")
_IN_FLIGHT = {Status.PENDING.value, Status.SENDING.value, Status.SENT.value}

Counts = dict[tuple[str, str], Counter[str]]


def delivery_counts(deps: Container, cnpjs: list[Cnpj]) -> Counts:
    """(tenant, campaign) -> outcome counts, read from the target documents."""
    now = deps.clock()
    counts: Counts = {}
    for cnpj in cnpjs:
        built_in = [processor.kind for processor in registered_processors()]
        for kind in dict.fromkeys([*built_in, *_api_campaigns(deps, cnpj)]):
            counter: Counter[str] = Counter()
            for target in deps.targets.list(cnpj, kind):
                counter[_column(target, now)] += 1
            if counter:
                counts[(cnpj.value, kind)] = counter
    return counts


def _api_campaigns(deps: Container, cnpj: Cnpj) -> list[str]:
    """The tenant's API campaigns, oldest first (a demo tenant has a few)."""
    campaigns = deps.campaigns.page(
        cnpj,
        equals={},
        created_from=None,
        created_until=None,
        order_by="created_at",
        descending=False,
        offset=0,
        limit=1000,
    )
    return [campaign.id for campaign in campaigns if campaign.kind == SEGMENT]


def _column(target: dict[str, object], now: datetime) -> str:
    status = str(target.get("status"))
    if status in _IN_FLIGHT:
        return "in_flight"
    if status == Status.QUEUED.value:
        planned = target.get("plannedAt")
        soon = isinstance(planned, datetime) and planned <= now + SOON
        return "in_flight" if soon else "waiting"
    return status.lower()


def wait_for_deliveries(deps: Container, cnpjs: list[Cnpj], timeout: float) -> Counts:
    deadline = time.monotonic() + timeout
    while True:
        counts = delivery_counts(deps, cnpjs)
        moving = sum(counter["in_flight"] for counter in counts.values())
        if moving == 0 or time.monotonic() >= deadline:
            return counts
        time.sleep(POLL_SECONDS)


def delivery_table(counts: Counts, names: dict[str, str]) -> str:
    header = ("tenant", "campaign", "targets", *COLUMNS)
    rows: list[tuple[str, ...]] = [header]
    previous = ""
    for (cnpj, kind), counter in sorted(counts.items()):
        label = f"{cnpj} {names.get(cnpj, '')}".strip() if cnpj != previous else ""
        previous = cnpj
        values = tuple(str(counter[column]) for column in COLUMNS)
        rows.append((label, kind, str(sum(counter.values())), *values))
    widths = [max(len(row[index]) for row in rows) for index in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)
