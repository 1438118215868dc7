"""Fan-out benchmark: one tenant, every campaign, against a private local stack.

For one tenant (100k customers / 1M sales by default) this prints the BigQuery query time per
campaign, the targets written per second by the pipeline, and -- measured in the same run, on
the same Firestore emulator -- the emulator's raw batch-write rate, with the ratio of the two
(goal: the pipeline writes at >= 80% of the raw rate).

How each number is taken:

* query: ``deps.warehouse.query`` of the rendered targeting SQL with the parameters built
  from ``CampaignProcessor.targeting_query``, timed until every row is read.
* run: ``processor.run(ctx)`` end to end (query + phone filter + build + write). The store is
  wrapped by :class:`TimedStore`, a thin delegate to the real ``FirestoreTargetStore`` that
  sums the time spent inside ``create_batch`` (the write phase) and keeps the targets it saw.
* warm-up: before anything is timed, 3,000 synthetic documents are written raw, because the
  first 500-document commit on a cold emulator JVM takes seconds and would skew the first rows.
* write rate, interleaved: the targets the run built (an even 1-in-k spread capped at
  ``--sample``, default 20,000, so the full run stays well under five minutes; ``--sample 0``
  uses all of them) are written again three times with the
  real ``FirestoreTargetStore.create_batch`` (chunks of 500, one campaign per chunk, as
  ``run`` does) under a fresh tenant CNPJ each round, so every document path is new; between
  them the same documents (``Target.document()`` + ``createdAt``) are written with plain
  ``client.batch()`` + ``batch.set()`` in chunks of 500 into a fresh scratch collection
  (no create precondition, no dedup; documents prepared before the clock starts). The order
  alternates per round (raw first, then pipeline first, ...). Medians are compared.
* duplicate path (informational): the same sample is written again under the real tenant,
  where all of them exist, so every batch conflicts and falls back to reading the batch.

Run: ``.venv/bin/python bench/fanout.py`` (full) or ``--customers 2000`` (a quick check).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from pathlib import Path
from typing import Any

from google.cloud import firestore
from reporting import machine, table

from shared.adapters.firestore_targets import FirestoreTargetStore
from shared.bootstrap import Container
from shared.campaigns import RunContext, registered_processors
from shared.config import Settings
from shared.domain.calendar import DEFAULT_TIMEZONE, local_date, zone
from shared.domain.cnpj import Cnpj
from shared.domain.targets import Target
from shared.localstack.stack import PortNumbers, Stack
from shared.ports import MAX_BATCH_WRITES, BatchResult
from shared.sample_data import SampleSpec, tenant_cnpjs, tenant_names, write_tenant_files
from shared.services.loading import load_tenant_files
from shared.services.tenants import register_tenant

GOAL = 0.80
ROUNDS = 3
WARM_UP_DOCS = 3_000
SCRATCH = "bench_raw_writes"


class TimedStore:
    """Delegates to the real store; sums the wall time spent in ``create_batch``."""

    def __init__(self, inner: FirestoreTargetStore) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.calls = 0
        self.targets: list[Target] = []

    def create_batch(self, cnpj: Cnpj, targets: Sequence[Target]) -> BatchResult:
        self.targets.extend(targets)
        started = time.perf_counter()
        try:
            return self.inner.create_batch(cnpj, targets)
        finally:
            self.seconds += time.perf_counter() - started
            self.calls += 1

    def customers_with_targets_since(
        self, cnpj: Cnpj, campaign_id: str, period_key: str
    ) -> set[str]:
        return self.inner.customers_with_targets_since(cnpj, campaign_id, period_key)


@dataclass
class CampaignRow:
    campaign: str
    query_s: float
    rows: int
    run_s: float
    candidates: int
    created: int
    write_s: float
    batches: int
    targets: list[Target] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return _rate(self.created, self.write_s)


@dataclass
class Rounds:
    """Rates (docs/s) and client CPU shares (process CPU time / wall time) per round."""

    raw: list[float] = field(default_factory=list)
    pipeline: list[float] = field(default_factory=list)
    raw_cpu: list[float] = field(default_factory=list)
    pipeline_cpu: list[float] = field(default_factory=list)


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _chunks(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _timed(action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, share of them this process spent on a CPU)."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, (cpu / wall if wall > 0 else 0.0)


def _by_campaign(targets: Sequence[Target]) -> dict[str, list[Target]]:
    groups: dict[str, list[Target]] = {}
    for target in targets:
        groups.setdefault(target.campaign_id, []).append(target)
    return groups


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--sales-per-customer", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date(2026, 11, 20),
        help="the data's reference day (default 2026-11-20)",
    )
    parser.add_argument(
        "--instant",
        type=datetime.fromisoformat,
        default=datetime.fromisoformat("2026-11-20T11:30:00Z"),
        help="the tick's instant (default 2026-11-20T11:30:00Z)",
    )
    parser.add_argument(
        "--sample",
        type=int,
        default=20_000,
        help="at most this many of the run's targets (an even spread over all "
        "campaigns) per interleaved write and for the duplicate path; "
        "0 = all (default 20000)",
    )
    return parser.parse_args(argv)


def _campaigns(deps: Container, ctx: RunContext) -> list[CampaignRow]:
    rows: list[CampaignRow] = []
    for processor_class in registered_processors():
        store = TimedStore(deps.targets)
        processor = processor_class(deps.warehouse, store)
        settings = processor.settings(deps.campaigns.get(ctx.tenant.id, processor.kind))
        period = processor.period(ctx, settings)
        sql, params = processor.targeting_query(ctx, settings, period)
        started = time.perf_counter()
        count = sum(1 for _ in deps.warehouse.query(sql, params))
        query_s = time.perf_counter() - started

        reason = processor.not_due_reason(ctx, settings)
        if reason is not None:
            print(f"  note: {processor.kind} would not run today ({reason}); run anyway")
        started = time.perf_counter()
        outcome = processor.run(ctx, settings)
        run_s = time.perf_counter() - started
        row = CampaignRow(
            processor.kind,
            query_s,
            count,
            run_s,
            outcome.candidates,
            outcome.created,
            store.seconds,
            store.calls,
            store.targets,
        )
        rows.append(row)
        print(
            f"  {row.campaign:<13} query {query_s:6.2f} s ({count} rows)   run {run_s:6.2f} s   "
            f"created {row.created}   write {row.write_s:6.2f} s = {row.rate:,.0f} targets/s"
        )
    return rows


Documents = dict[str, list[tuple[str, dict[str, Any]]]]


def _documents(targets: Sequence[Target]) -> Documents:
    """Per campaign, (id, fields) exactly as the store writes them, server timestamp included."""
    return {
        campaign: [(t.id, {**t.document(), "createdAt": firestore.SERVER_TIMESTAMP}) for t in group]
        for campaign, group in _by_campaign(targets).items()
    }


def _raw_write(client: firestore.Client, scope: str, documents: Documents) -> None:
    """Plain batch.set of prepared documents, 500 per commit, into a scratch collection."""
    for campaign, docs in documents.items():
        collection = client.collection(SCRATCH, scope, "campaigns", campaign, "targets")
        for chunk in _chunks(docs, MAX_BATCH_WRITES):
            batch = client.batch()
            for doc_id, document in chunk:
                batch.set(collection.document(doc_id), document)
            batch.commit()


def _pipeline_write(
    store: FirestoreTargetStore, cnpj: Cnpj, groups: dict[str, list[Target]]
) -> BatchResult:
    """The real store's create_batch, 500 targets (one campaign) per call, as run() does."""
    created = present = 0
    for targets in groups.values():
        for chunk in _chunks(targets, MAX_BATCH_WRITES):
            result = store.create_batch(cnpj, chunk)
            created += result.created
            present += result.already_present
    return BatchResult(created, present)


def _warm_up(client: firestore.Client, count: int) -> float:
    """Untimed-in-results raw writes of synthetic targets, so the JVM's JIT is warm before the
    first campaign writes (the first 500-document commit on a cold emulator takes seconds)."""
    targets = [
        Target(
            customer_id=f"W{i:07d}",
            name="Maria da Silva",
            phone="+5511987654321",
            campaign_id="WARMUP",
            period="2026",
            run_id="warm-up",
            local_date="2026-01-01",
            data={"lastPurchaseAt": "2026-01-01T10:00:00+00:00"},
        )
        for i in range(count)
    ]
    documents = _documents(targets)
    return _timed(lambda: _raw_write(client, "warm-up", documents))[0]


def _interleaved(deps: Container, targets: list[Target], seed: int) -> Rounds:
    client = deps.firestore_client
    groups = _by_campaign(targets)
    documents = _documents(targets)
    n = len(targets)
    result = Rounds()
    for index in range(ROUNDS):
        # A fresh tenant per round: every document path is new, as for a first run.
        fresh = Cnpj.from_base(f"{(seed * 7919 + index) % 90_000_000 + 10_000_000:08d}9{index:03d}")
        order = ("raw", "pipeline") if index % 2 == 0 else ("pipeline", "raw")
        for kind in order:
            if kind == "raw":
                seconds, cpu = _timed(
                    lambda: _raw_write(client, f"{fresh.value}-{index}", documents)  # noqa: B023
                )
                result.raw.append(_rate(n, seconds))
                result.raw_cpu.append(cpu)
            else:
                outcome: list[BatchResult] = []
                seconds, cpu = _timed(
                    lambda: outcome.append(_pipeline_write(deps.targets, fresh, groups))  # noqa: B023
                )
                if outcome[0].created != n:
                    raise RuntimeError(f"round {index + 1}: created {outcome[0].created} of {n}")
                result.pipeline.append(_rate(n, seconds))
                result.pipeline_cpu.append(cpu)
            print(
                f"  round {index + 1} {kind:<8} {n} docs in {seconds:6.2f} s = "
                f"{_rate(n, seconds):,.0f} docs/s (client CPU {cpu:.0%} of wall)"
            )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    total_started = time.perf_counter()
    command = shlex.join([Path(sys.executable).name, *sys.argv])
    saved_env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="fanout-bench-") as temp:
        stack = Stack(Path(temp) / "stack", ports=PortNumbers.free(), delivery=False)
        try:
            started = time.perf_counter()
            stack.up(say=lambda _: None)
            os.environ.update(stack.environment())
            stack_s = time.perf_counter() - started
            print(f"private stack up in {stack_s:.1f} s (Firestore port {stack.ports.firestore})")
            return _bench(args, Path(temp), command, total_started)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            stack.down(say=lambda _: None)


def _bench(args: argparse.Namespace, temp: Path, command: str, total_started: float) -> int:
    deps = Container(Settings())
    cnpj = tenant_cnpjs(1, args.seed)[0]
    tenant = register_tenant(
        cnpj,
        name=tenant_names(1, args.seed)[0],
        timezone=DEFAULT_TIMEZONE,
        tenants=deps.tenants,
        warehouse=deps.warehouse,
        queues=None,  # targeting only: the bench's stack runs no delivery
    )

    spec = SampleSpec(
        as_of=args.as_of,
        customers=args.customers,
        sales_per_customer=args.sales_per_customer,
        seed=args.seed,
    )
    data = temp / "data"
    started = time.perf_counter()
    counts = write_tenant_files(spec, data)
    gen_s = time.perf_counter() - started
    print(
        f"generated {counts['clientes']:,} customers / {counts['vendas']:,} sales in {gen_s:.1f} s"
    )
    started = time.perf_counter()
    loaded = load_tenant_files(cnpj, data, deps.warehouse)
    load_s = time.perf_counter() - started
    print(f"loaded {loaded} in {load_s:.1f} s")

    tz = zone(tenant.timezone)
    today = local_date(args.instant, tz)
    if today != args.as_of:
        print(f"  warning: the instant's local date {today} is not --as-of {args.as_of}")
    ctx = RunContext(
        tenant=tenant,
        zone=tz,
        instant=args.instant,
        today=today,
        run_id=f"bench-{args.instant:%Y%m%dT%H%M%S}",
    )

    warm_s = _warm_up(deps.firestore_client, WARM_UP_DOCS)
    print(f"emulator warm-up: {WARM_UP_DOCS:,} raw documents in {warm_s:.1f} s (not reported)")

    print("campaigns (query alone, then processor.run end to end):")
    campaigns = _campaigns(deps, ctx)
    produced = [t for row in campaigns for t in row.targets]
    step = -(-len(produced) // args.sample) if args.sample > 0 else 1
    targets = produced[:: max(step, 1)]
    n = len(targets)

    print(
        f"write rate, {ROUNDS} interleaved rounds of {n:,} docs each "
        f"(1 in {step} of the run's {len(produced):,} targets):"
    )
    rounds = _interleaved(deps, targets, args.seed) if n else Rounds()

    print("duplicate path (every target exists already):")
    dup: list[BatchResult] = []
    dup_s, dup_cpu = _timed(
        lambda: dup.append(_pipeline_write(deps.targets, cnpj, _by_campaign(targets)))
    )
    print(
        f"  {n:,} targets in {dup_s:.2f} s = {_rate(n, dup_s):,.0f} targets/s "
        f"(created {dup[0].created}, already present {dup[0].already_present})"
    )

    raw = statistics.median(rounds.raw) if rounds.raw else 0.0
    pipe = statistics.median(rounds.pipeline) if rounds.pipeline else 0.0
    ratio = pipe / raw if raw else 0.0
    verdict = "PASS" if ratio >= GOAL else "FAIL"
    total_s = time.perf_counter() - total_started

    campaign_rows = [
        [
            r.campaign,
            f"{r.query_s:.2f}",
            f"{r.rows:,}",
            f"{r.run_s:.2f}",
            f"{r.candidates:,}",
            f"{r.created:,}",
            f"{r.write_s:.2f}",
            f"{r.rate:,.0f}",
        ]
        for r in campaigns
    ]
    created = sum(r.created for r in campaigns)
    write_s = sum(r.write_s for r in campaigns)
    campaign_rows.append(
        [
            "**total**",
            f"{sum(r.query_s for r in campaigns):.2f}",
            f"{sum(r.rows for r in campaigns):,}",
            f"{sum(r.run_s for r in campaigns):.2f}",
            f"{sum(r.candidates for r in campaigns):,}",
            f"{created:,}",
            f"{write_s:.2f}",
            f"{_rate(created, write_s):,.0f}",
        ]
    )
    write_rows = [
        [
            f"round {i + 1}",
            f"{r:,.0f}",
            f"{p:,.0f}",
            f"{p / r:.0%}" if r else "-",
            f"{rc:.0%} / {pc:.0%}",
        ]
        for i, (r, p, rc, pc) in enumerate(
            zip(rounds.raw, rounds.pipeline, rounds.raw_cpu, rounds.pipeline_cpu, strict=True)
        )
    ]
    write_rows.append(
        ["**median**", f"{raw:,.0f}", f"{pipe:,.0f}", f"**{ratio:.0%}**", _cpu_pair(rounds)]
    )

    print()
    print("## Fan-out benchmark")
    print()
    print(f"- command: `{command}`")
    print(f"- machine: {machine()}")
    print(
        f"- data: {counts['clientes']:,} customers / {counts['vendas']:,} sales "
        f"(seed {args.seed}, as of {args.as_of}); generated in {gen_s:.1f} s, "
        f"loaded into bqemulator in {load_s:.1f} s"
    )
    print(f"- tick: {args.instant.isoformat()} (local date {today}, {tenant.timezone})")
    print()
    print(
        table(
            [
                "campaign",
                "query s",
                "rows",
                "run s",
                "candidates",
                "created",
                "write s",
                "targets/s",
            ],
            campaign_rows,
        )
    )
    print()
    print("query s: the targeting query alone, every row read; run s: processor.run end to")
    print("end (query + filter + build + write); write s: time inside create_batch during that")
    print("run; targets/s = created / write s.")
    print()
    print(
        table(
            [
                f"writes of N={n:,}",
                "raw docs/s",
                "pipeline targets/s",
                "pipeline/raw",
                "client CPU raw / pipeline",
            ],
            write_rows,
        )
    )
    print()
    print("raw: client.batch() + batch.set(), 500 per commit, documents prepared beforehand;")
    print("pipeline: FirestoreTargetStore.create_batch, 500 per call; same documents, fresh")
    print("paths each round, order alternating. Client CPU: this process's CPU time / wall time.")
    print()
    print(f"**pipeline/raw = {ratio:.0%} (median) -> {verdict}** (goal >= {GOAL:.0%})")
    print()
    print(
        f"duplicate path (all {n:,} exist; failed commit + get_all per batch): "
        f"{_rate(n, dup_s):,.0f} targets/s, client CPU {dup_cpu:.0%} (informational)"
    )
    print(f"total benchmark time: {total_s:.1f} s (stack start-up included)")
    return 0


def _cpu_pair(rounds: Rounds) -> str:
    if not rounds.raw_cpu:
        return "-"
    return f"{statistics.median(rounds.raw_cpu):.0%} / {statistics.median(rounds.pipeline_cpu):.0%}"


if __name__ == "__main__":
    sys.exit(main())
