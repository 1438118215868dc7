"""Pace benchmark: a campaign's own pace, as planned, against the pace its owner set.

The pure planner (:class:`shared.domain.campaign_pace.CampaignPlanner`) on a simulated clock,
no emulator: for each configured pace, a backlog of targets found at one instant is planned
the way delivery plans it (each target on its campaign shard, the hash of its path; the
tenant's pacing shard states shared by every plan), interleaved with a built-in backlog of
the same tenant that fills what the campaign leaves (none beside a campaign that has the
tenant's whole pace or a delay: the built-in backlog would take the slots it wants, first come
first served, and the campaign's own pace would not be what is measured). It prints, per pace:

* the achieved pace as a ratio of the configured one, over the steady period (from the
  first send until the first campaign shard has planned its last target: every shard has
  work all along; the rest is a tail), goal >= 95% or the exact bound the tenant's grid allows;
* the most campaign sends in any window ``[t, t + period)`` (sliding) and in any calendar
  period (UTC hour, tenant's day), goal: the sliding one never above N for a minute or
  a second; caps of an hour or a day are calendar caps, as the tenant's;
* the shortest gap between two campaign sends (goal: at least the delay, when one is set);
* the tenant's most sends in any 60 s (campaign and built-in together), goal: never above
  its pace; and the planning rate (plans/s of the pure planner on this machine).

It asserts nothing. ``python bench/pace.py``.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from reporting import machine, table

from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.campaign_settings import CampaignThrottle
from shared.domain.pacing import Planner, SendWindow, ShardState, Throttle

START = datetime(2026, 11, 20, 13, 0, 7, tzinfo=UTC)
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
ANY_TIME = SendWindow(start=datetime.min.time(), end=datetime.max.time().replace(microsecond=0))
SECOND, MINUTE, HOUR, DAY = (timedelta(seconds=s) for s in (1, 60, 3600, 86400))
LOTS = 10**6


@dataclass(frozen=True)
class Case:
    name: str
    tenant_per_minute: int
    pace: CampaignThrottle
    limit: int
    """N: the configured pace, per ``period``."""
    period: timedelta
    targets: int
    beside: int
    """Built-in targets planned interleaved with the campaign's."""
    bound: float = 1.0
    """The exact ratio the tenant's grid allows (1 unless a delay falls between its slots)."""


CASES = [
    Case("1/min", 60, CampaignThrottle(messages_per_minute=1), 1, MINUTE, 120, 600),
    Case("5/min", 60, CampaignThrottle(messages_per_minute=5), 5, MINUTE, 600, 1200),
    Case("7/min", 60, CampaignThrottle(messages_per_minute=7), 7, MINUTE, 700, 1200),
    Case("60/min", 60, CampaignThrottle(messages_per_minute=60), 60, MINUTE, 3600, 0),
    Case("delay 10 s", 60, CampaignThrottle(delay_between_messages_seconds=10), 6, MINUTE, 600, 0),
    Case(
        "delay 7.5 s (grid: 8 s)",
        60,
        CampaignThrottle(delay_between_messages_seconds=7.5),
        8,
        MINUTE,
        600,
        0,
        bound=7.5 / 8,
    ),
    Case("3/hour", 60, CampaignThrottle(messages_per_hour=3), 3, HOUR, 150, 0),
    Case("1/day", 60, CampaignThrottle(messages_per_day=1), 1, DAY, 30, 0),
    Case("20/s", 4200, CampaignThrottle(messages_per_minute=1200), 20, SECOND, 12_000, 6000),
]


@dataclass(frozen=True)
class Measured:
    campaign: list[datetime]
    built_in: list[datetime]
    steady_until: datetime
    seconds: float


def plan(case: Case) -> Measured:
    throttle = Throttle(
        messages_per_minute=case.tenant_per_minute, messages_per_hour=LOTS, messages_per_day=LOTS
    )
    tenant = Planner(throttle, ANY_TIME, SAO_PAULO, SAO_PAULO)
    planner = CampaignPlanner(tenant, case.pace)
    tenant_states: dict[int, ShardState] = {}
    campaign_states: dict[int, ShardState] = {}
    last: dict[int, datetime] = {}
    campaign: list[datetime] = []
    built_in: list[datetime] = []
    every = max(1, case.targets // max(1, case.beside)) if case.beside else 0
    started = time.perf_counter()
    extra = iter(range(case.beside))
    for n in range(case.targets):
        key = f"users/x/campaigns/api/targets/t{n}"
        shard = planner.shard_of(key)
        slot = planner.plan(
            START, shard, campaign_states.get(shard, {}), lambda s: tenant_states.get(s, {})
        )
        campaign_states[shard] = slot.campaign_state
        tenant_states.update(slot.tenant_states)
        last[shard] = max(slot.send_at, last.get(shard, slot.send_at))
        campaign.append(slot.send_at)
        for _ in range(case.beside // case.targets + (1 if every and n % every == 0 else 0)):
            m = next(extra, None)
            if m is None:
                break
            built_in.append(_built_in(tenant, tenant_states, f"users/x/campaigns/B/targets/{m}"))
    for m in extra:
        built_in.append(_built_in(tenant, tenant_states, f"users/x/campaigns/B/targets/{m}"))
    seconds = time.perf_counter() - started
    return Measured(sorted(campaign), sorted(built_in), min(last.values()), seconds)


def _built_in(tenant: Planner, states: dict[int, ShardState], key: str) -> datetime:
    shard = tenant.throttle.shard_of(key)
    slot = tenant.plan(START, shard, states.get(shard, {}))
    states[shard] = slot.state
    return slot.send_at


def most_in_window(times: Sequence[datetime], width: timedelta) -> int:
    ordered = sorted(times)
    return max((bisect_left(ordered, at + width) - i for i, at in enumerate(ordered)), default=0)


def most_in_calendar(times: Sequence[datetime], period: timedelta) -> int:
    key: Callable[[datetime], object]
    if period == DAY:
        key = lambda at: at.astimezone(SAO_PAULO).date()  # noqa: E731
    elif period == HOUR:
        key = lambda at: at.replace(minute=0, second=0, microsecond=0)  # noqa: E731
    elif period == MINUTE:
        key = lambda at: at.replace(second=0, microsecond=0)  # noqa: E731
    else:
        key = lambda at: at.replace(microsecond=0)  # noqa: E731
    return max(Counter(key(at) for at in times).values())


def achieved(measured: Measured, case: Case) -> float:
    steady = [at for at in measured.campaign if at <= measured.steady_until]
    if len(steady) < 2:
        return float("nan")
    return (len(steady) - 1) * (case.period / (steady[-1] - steady[0])) / case.limit


@dataclass(frozen=True)
class Figures:
    """One pace's measured figures (see the module's docstring)."""

    case: Case
    ratio: float
    most_in_window: int
    most_in_calendar: int
    shortest_gap: timedelta
    tenant_most_in_minute: int
    plans_per_second: float

    @property
    def never_above(self) -> bool:
        """Never above the configured N in any sliding window of its period, nor the tenant's
        pace in any 60 s."""
        return (
            self.most_in_window <= self.case.limit
            and self.tenant_most_in_minute <= self.case.tenant_per_minute
        )


def measure(case: Case) -> Figures:
    measured = plan(case)
    union = measured.campaign + measured.built_in
    return Figures(
        case,
        achieved(measured, case),
        most_in_window(measured.campaign, case.period),
        most_in_calendar(measured.campaign, case.period),
        min(b - a for a, b in pairwise(measured.campaign)),
        most_in_window(union, MINUTE),
        (case.targets + case.beside) / measured.seconds,
    )


HEADERS = [
    "pace",
    "N",
    "targets",
    "achieved / N (steady)",
    "most in any window",
    "most in a calendar period",
    "shortest gap",
    "tenant most in 60 s",
    "plans/s",
]


def row(figures: Figures) -> list[str]:
    case = figures.case
    return [
        case.name,
        f"{case.limit}/{_unit(case.period)}",
        str(case.targets),
        f"{figures.ratio:.3f}" + (f" (bound {case.bound:.4f})" if case.bound < 1 else ""),
        str(figures.most_in_window),
        str(figures.most_in_calendar),
        f"{figures.shortest_gap.total_seconds():.3f} s",
        f"{figures.tenant_most_in_minute}/{case.tenant_per_minute}",
        f"{figures.plans_per_second:,.0f}",
    ]


def main() -> int:
    rows = [row(measure(case)) for case in CASES]
    print("# Campaign pace: planned against configured (pure planner, simulated clock)\n")
    print(machine() + "\n")
    print(table(HEADERS, rows))
    return 0


def _unit(period: timedelta) -> str:
    return {SECOND: "s", MINUTE: "min", HOUR: "h", DAY: "day"}[period]


if __name__ == "__main__":
    raise SystemExit(main())
