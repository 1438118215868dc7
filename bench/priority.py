"""Send-by and priority benchmark: birthdays behind a bulk backlog, and what priorities cost.

The issue's scenario on the Firestore emulator, through the real ``enqueue_target`` path
(transactions on the pacing shards, the yielded-slot query), on a clock this script moves:
a tenant at the default 250 messages a day gets a reactivation backlog on the 20th at 08:00
that fills the 20th and the next days; at 08:00 on the 21st its birthdays are found.

Two planners run the same workload on fresh tenants, back to back in each of ``--rounds``
rounds (which goes first alternates):

* **priority** — today's code: every target has its send-by and its campaign's priority, so a
  birthday with no slot left on its day takes a queued reactivation's slot;
* **first-come** — the planner before send-by existed: the same targets without a send-by
  (as older targets are), so each takes the first free slot and nothing yields.

It prints the share of birthdays planned on their day (goal 100% with priorities) and the
planning throughput of both (goal: priorities at least 80% of first-come, as the median of
each round's ratio). Tasks go to the
faithful Cloud Tasks fake and history to an in-memory log: this measures planning, not them.

Run: ``.venv/bin/python bench/priority.py`` (about a minute; ``--backlog``, ``--birthdays``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from reporting import CountingHistory, machine, private_stack, table

from shared.bootstrap import Container
from shared.clock import SettableClock
from shared.config import Settings
from shared.domain.cnpj import Cnpj
from shared.domain.delivery import TargetRef
from shared.domain.send_by import Priority, send_by
from shared.domain.targets import Target
from shared.domain.tenant import Tenant
from shared.localstack.faithful_tasks import FaithfulCloudTasks
from shared.manifest import send_queue
from shared.sample_data import tenant_cnpjs
from shared.services.campaigns import store_built_ins
from shared.services.enqueue import enqueue_target

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
BACKLOG_DAY = date(2026, 11, 20)
BIRTHDAY = date(2026, 11, 21)
EIGHT_AM = {BACKLOG_DAY: datetime(2026, 11, 20, 11, 0, tzinfo=UTC)}
EIGHT_AM[BIRTHDAY] = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Round:
    planner: str
    targets: int
    seconds: float
    birthday_seconds: float
    """Of ``seconds``, planning the birthdays (where priorities differ: slots are taken)."""
    on_their_day: int
    birthdays: int
    expired: int

    @property
    def rate(self) -> float:
        return self.targets / self.seconds


def _targets(
    kind: str, day: date, count: int, clock: SettableClock, *, dated: bool
) -> list[Target]:
    instant = clock()
    deadline = send_by(
        kind, instant=instant, today=day, tenant_zone=SAO_PAULO, contact_zone=SAO_PAULO
    )
    rank = (Priority.TIME_CRITICAL if kind == "BIRTHDAY" else Priority.BULK).rank
    return [
        Target(
            customer_id=f"{kind.lower()}{n}",
            name="Maria",
            phone=f"+5511{9_0000_0000 + n:09d}",
            campaign_id=kind,
            period=day.isoformat(),
            run_id="bench-priority",
            local_date=day.isoformat(),
            send_by=deadline if dated else None,
            priority=rank,
        )
        for n in range(count)
    ]


def run_round(planner: str, cnpj: Cnpj, backlog: int, birthdays: int) -> Round:
    clock = SettableClock(EIGHT_AM[BACKLOG_DAY])
    deps = Container(Settings(), clock)
    tenant = Tenant(cnpj=cnpj.value, name=f"bench {planner}")
    deps.tenants.save(tenant)
    store_built_ins(deps.campaigns, cnpj, now=clock())
    tasks = FaithfulCloudTasks()
    tasks.ensure_queue(send_queue(cnpj.value))
    ports = replace(deps.delivery_ports(), tasks=tasks, history=CountingHistory())
    dated = planner == "priority"
    elapsed: dict[str, float] = {}
    refs: dict[str, list[TargetRef]] = {}
    for kind, day, count in (
        ("REACTIVATION", BACKLOG_DAY, backlog),
        ("BIRTHDAY", BIRTHDAY, birthdays),
    ):
        clock.now = EIGHT_AM[day]
        made = _targets(kind, day, count, clock, dated=dated)
        for start in range(0, len(made), 500):
            deps.targets.create_batch(cnpj, made[start : start + 500])
        refs[kind] = [TargetRef(cnpj, kind, target.id) for target in made]
        started = time.perf_counter()
        for ref in refs[kind]:
            enqueue_target(ref, ports)
        elapsed[kind] = time.perf_counter() - started
    on_day, expired = 0, 0
    for ref in refs["BIRTHDAY"]:
        record = deps.delivery_store.load(ref)
        assert record is not None
        if (
            record.planned_at is not None
            and record.planned_at.astimezone(SAO_PAULO).date() == BIRTHDAY
        ):
            on_day += 1
        expired += record.status.value == "EXPIRED"
    total = sum(elapsed.values())
    return Round(
        planner, backlog + birthdays, total, elapsed["BIRTHDAY"], on_day, birthdays, expired
    )


@dataclass(frozen=True, slots=True)
class Comparison:
    """Both planners' rounds on the same workload, and the figures the issue asks for."""

    backlog: int
    birthdays: int
    rounds: list[Round]

    def of(self, planner: str) -> list[Round]:
        return [r for r in self.rounds if r.planner == planner]

    def rate(self, planner: str) -> float:
        """Median planning throughput (targets/s)."""
        return statistics.median(r.rate for r in self.of(planner))

    def on_their_day(self, planner: str) -> float:
        """Share of birthdays planned on their day."""
        runs = self.of(planner)
        return sum(r.on_their_day for r in runs) / sum(r.birthdays for r in runs)

    @property
    def throughput_ratio(self) -> float:
        """The median over rounds of priority / first-come, each round's two planners run back
        to back: a burst of load from elsewhere on the machine then skews one pair, not the
        median of one planner."""
        pairs = zip(self.of("priority"), self.of("first-come"), strict=True)
        return statistics.median(mine.rate / theirs.rate for mine, theirs in pairs)


def compare(backlog: int, birthdays: int, rounds: int) -> Comparison:
    """Run both planners ``rounds`` times, interleaved, on the stack in this process's
    environment (one fresh tenant per round), after a warm-up round; prints each round."""
    cnpjs = iter(tenant_cnpjs(2 * rounds + 1, 1313))
    run_round("priority", next(cnpjs), 50, 10)  # warm-up: the emulator's first transactions
    done: list[Round] = []
    for index in range(rounds):
        order = ("priority", "first-come") if index % 2 == 0 else ("first-come", "priority")
        for planner in order:
            done.append(run_round(planner, next(cnpjs), backlog, birthdays))
            last = done[-1]
            print(
                f"  round {index + 1} {planner:<10} {last.targets} targets in "
                f"{last.seconds:.1f} s = {last.rate:.1f}/s (the birthdays "
                f"{last.birthday_seconds:.1f} s); birthdays on their day "
                f"{last.on_their_day}/{last.birthdays}, expired {last.expired}"
            )
    return Comparison(backlog, birthdays, done)


def report(comparison: Comparison) -> None:
    """The workload line, the table and a verdict per goal."""
    print(
        f"- workload: {comparison.backlog} reactivation targets planned on the 20th at 08:00, "
        f"then {comparison.birthdays} birthdays on the 21st at 08:00; 250 a day, 60 a minute, "
        "8 shards"
    )
    print()
    planners = ("priority", "first-come")
    print(
        table(
            ["planner", "planning targets/s (median)", "birthdays on their day"],
            [
                [
                    name,
                    f"{comparison.rate(name):,.1f}",
                    f"{100 * comparison.on_their_day(name):.1f}%",
                ]
                for name in planners
            ],
        )
    )
    on_day = comparison.on_their_day("priority")
    ratio = comparison.throughput_ratio
    print()
    verdict = "PASS" if on_day == 1.0 else "FAIL"
    print(
        f"**birthdays on their day with priorities: {100 * on_day:.1f}% -> {verdict}** (goal 100%)"
    )
    verdict = "PASS" if ratio >= 0.8 else "FAIL"
    print(
        f"**planning throughput, priority / first-come (median of the rounds' ratios): "
        f"{100 * ratio:.0f}%"
        f" -> {verdict}** (goal >= 80%)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--backlog", type=int, default=600, help="reactivation targets on the 20th")
    parser.add_argument("--birthdays", type=int, default=100, help="birthdays found on the 21st")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    with private_stack("bench-priority-"):
        comparison = compare(args.backlog, args.birthdays, args.rounds)
    print()
    print("## Send-by and priority benchmark")
    print()
    print("- command: `python bench/priority.py`")
    print(f"- machine: {machine()}")
    report(comparison)
    print(f"total benchmark time: {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
