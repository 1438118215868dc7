"""What the benchmarks share: a private stack, a sample tenant, an in-memory history log,
percentiles, the machine line and markdown tables."""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from shared.bootstrap import Container
from shared.config import Settings
from shared.domain.cnpj import Cnpj
from shared.localstack.stack import PortNumbers, Stack
from shared.ports import HistoryRow
from shared.sample_data import SampleSpec, tenant_cnpjs, tenant_names, write_tenant_files
from shared.services.loading import load_tenant_files
from shared.services.tenants import register_tenant

SAMPLE_AS_OF = date(2026, 11, 20)


class CountingHistory:
    """A HistoryLog that keeps rows in memory (by event id) and counts appends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.appends = 0
        self.rows: dict[str, HistoryRow] = {}
        self.repeated = 0
        """Rows whose event id was appended before (retry-safe by design; counted, not kept)."""

    def append(self, cnpj: Cnpj, rows: Sequence[HistoryRow]) -> None:
        del cnpj
        with self._lock:
            self.appends += 1
            for row in rows:
                if row.event_id in self.rows:
                    self.repeated += 1
                self.rows[row.event_id] = row


def machine() -> str:
    """Cores, Python, kernel and CPU model: figures mean nothing without them."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}" + (f", {cpu}" if cpu else "")
    )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table, first column left-aligned and the figures right-aligned."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(("-" * (w + 1)) + ":" if i else "-" * (w + 2) for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def percentile(samples: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method; a single sample is every percentile)."""
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


@contextmanager
def private_stack(prefix: str, **environ: str) -> Iterator[tuple[Stack, Path]]:
    """A stack of its own on free ports (no delivery), with ``environ`` set for the functions
    host and the stack's variables for this process; everything is undone on the way out."""
    saved_env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix=prefix) as temp:
        os.environ.update(environ)
        stack = Stack(Path(temp) / "stack", ports=PortNumbers.free(), delivery=False)
        try:
            started = time.perf_counter()
            stack.up(say=lambda _: None)
            os.environ.update(stack.environment())
            print(f"private stack up in {time.perf_counter() - started:.1f} s")
            yield stack, Path(temp)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            stack.down(say=lambda _: None)


def sample_tenant(directory: Path, customers: int, seed: int, *, with_queue: bool) -> Cnpj:
    """One tenant of generated laundromat data as of :data:`SAMPLE_AS_OF` (its send queue
    only when the bench creates targets that get enqueued)."""
    deps = Container(Settings())
    cnpj = tenant_cnpjs(1, seed)[0]
    register_tenant(
        cnpj,
        name=tenant_names(1, seed)[0],
        timezone=None,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=deps.task_queue if with_queue else None,
    )
    write_tenant_files(SampleSpec(as_of=SAMPLE_AS_OF, customers=customers, seed=seed), directory)
    load_tenant_files(cnpj, directory, deps.warehouse)
    return cnpj
