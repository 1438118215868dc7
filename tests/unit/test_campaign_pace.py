"""A campaign's own pace on the tenant's slot grid: exact, and never crowding the tenant's.

Each scenario plans a long backlog on a fixed clock the way delivery does (every target on
its campaign shard, the tenant shards' states shared), then measures what was planned.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.campaign_pace import CampaignPlanner, _delay_step
from shared.domain.campaign_settings import CampaignThrottle
from shared.domain.pacing import Planner, SendByMissed, SendWindow, ShardState, Throttle

UTC_ZONE = ZoneInfo("UTC")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
ALL_DAY = SendWindow(start=time(0), end=time(23, 59, 59))
START = datetime(2026, 3, 10, 10, 0, 7, tzinfo=UTC)
LOTS = 10**6
MINUTE, HOUR, DAY, SECOND = (
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
    timedelta(seconds=1),
)


def tenant_throttle(per_minute: int = 60, *, per_hour: int = LOTS, per_day: int = LOTS) -> Throttle:
    return Throttle(
        messages_per_minute=per_minute, messages_per_hour=per_hour, messages_per_day=per_day
    )


@dataclass
class Tenant:
    """A tenant's pacing documents and one campaign's, as Firestore would hold them."""

    planner: Planner
    tenant_states: dict[int, ShardState] = field(default_factory=dict)
    campaign_states: dict[int, ShardState] = field(default_factory=dict)

    def campaign(self, pace: CampaignThrottle, key: str, earliest: datetime) -> datetime:
        planner = CampaignPlanner(self.planner, pace)
        shard = planner.shard_of(key)
        slot = planner.plan(
            earliest,
            shard,
            self.campaign_states.get(shard, {}),
            lambda index: self.tenant_states.get(index, {}),
        )
        self.campaign_states[shard] = slot.campaign_state
        self.tenant_states.update(slot.tenant_states)
        return slot.send_at

    def built_in(self, key: str, earliest: datetime) -> datetime:
        shard = self.planner.throttle.shard_of(key)
        slot = self.planner.plan(earliest, shard, self.tenant_states.get(shard, {}))
        self.tenant_states[shard] = slot.state
        return slot.send_at


def tenant(throttle: Throttle | None = None, zone: ZoneInfo = UTC_ZONE) -> Tenant:
    return Tenant(Planner(throttle or tenant_throttle(), ALL_DAY, zone, zone))


@dataclass(frozen=True)
class Run:
    times: list[datetime]
    """Every send planned, in order."""
    busy_until: datetime
    """When the first campaign shard planned its last send: targets are hashed to shards, so
    some run dry before others, and the sends after this are a tail."""

    def achieved(self, per: timedelta, limit: int) -> float:
        """Sends per period while every campaign shard had work, as a ratio of ``limit``."""
        busy = [at for at in self.times if at <= self.busy_until]
        return (len(busy) - 1) * (per / (busy[-1] - busy[0])) / limit


def backlog(pace: CampaignThrottle, count: int, on: Tenant | None = None) -> Run:
    on = on or tenant()
    shards = CampaignPlanner(on.planner, pace)
    last: dict[int, datetime] = {}
    times: list[datetime] = []
    for n in range(count):
        key = f"campaigns/api/targets/t{n}"
        send_at = on.campaign(pace, key, START)
        last[shards.shard_of(key)] = max(send_at, last.get(shards.shard_of(key), send_at))
        times.append(send_at)
    assert len(last) == shards.shards, "a backlog too small to keep every shard busy"
    return Run(sorted(times), min(last.values()))


def most_in_any_window(times: Sequence[datetime], width: timedelta) -> int:
    """The most sends in any half-open window ``[t, t + width)`` (one starting at a send is
    always among the fullest)."""
    ordered = sorted(times)
    return max(bisect_left(ordered, at + width) - i for i, at in enumerate(ordered))


@pytest.mark.parametrize(
    ("per_minute", "count"), [(1, 120), (5, 300), (7, 420), (60, 1200), (59, 600)]
)
def test_n_a_minute_is_n_in_any_minute_and_n_a_minute_over_the_run(
    per_minute: int, count: int
) -> None:
    run = backlog(CampaignThrottle(messages_per_minute=per_minute), count)
    assert len(set(run.times)) == count
    assert most_in_any_window(run.times, MINUTE) == per_minute
    assert run.achieved(MINUTE, per_minute) >= 0.99
    assert min(run.times) >= START


@pytest.mark.parametrize(("delay", "step"), [(10.0, 10.0), (7.5, 8.0), (0.5, 1.0)])
def test_the_delay_between_messages_is_honoured_exactly(delay: float, step: float) -> None:
    """On a 60/min tenant grid (a slot a second) a 10 s delay is every 10 s; 7.5 s is every
    8 s, the grid's nearest at or above it (7.5 a minute, the exact bound it allows)."""
    run = backlog(CampaignThrottle(delay_between_messages_seconds=delay), 400)
    gaps = [later - earlier for earlier, later in pairwise(run.times)]
    assert min(gaps) >= timedelta(seconds=delay)
    assert run.achieved(MINUTE, 1) == pytest.approx(60 / step)


def test_one_a_day_and_three_an_hour_hold_in_every_calendar_period() -> None:
    """Caps of an hour and a day count calendar periods (UTC hours, the tenant's local days),
    as the tenant's do: the first day's one goes now, each next one at its day's start."""
    sao_paulo = tenant(zone=SAO_PAULO)
    daily = backlog(CampaignThrottle(messages_per_day=1), 10, sao_paulo).times
    per_day = Counter(at.astimezone(SAO_PAULO).date() for at in daily)
    assert set(per_day.values()) == {1} and len(per_day) == 10
    assert all(at.astimezone(SAO_PAULO).time() == time(0) for at in daily[1:])
    hourly = backlog(CampaignThrottle(messages_per_hour=3), 60).times
    per_hour = Counter(at.replace(minute=0, second=0, microsecond=0) for at in hourly)
    assert max(per_hour.values()) == 3  # and 3 in every hour while each shard has work:
    assert all(per_hour[START.replace(minute=0, second=0) + n * HOUR] == 3 for n in range(15))


def test_twenty_a_second_is_twenty_in_any_second() -> None:
    fast_tenant = tenant(tenant_throttle(4200))  # 70/s, the number's ceiling
    run = backlog(CampaignThrottle(messages_per_minute=1200), 6000, fast_tenant)
    assert len(set(run.times)) == 6000
    assert most_in_any_window(run.times, SECOND) == 20
    assert most_in_any_window(run.times, MINUTE) == 1200
    assert run.achieved(SECOND, 20) >= 0.99


def test_the_tenant_s_limits_hold_on_a_campaign_and_a_built_in_backlog_together() -> None:
    """Both backlogs planned interleaved on the same tenant shards: the campaign keeps its
    5 a minute, the tenant never exceeds its 60 a minute or its hour and day caps, and the
    built-in kind fills what the campaign leaves."""
    shared = tenant(tenant_throttle(60, per_hour=1000, per_day=2000))
    pace = CampaignThrottle(messages_per_minute=5)
    campaign: list[datetime] = []
    built_in: list[datetime] = []
    for n in range(300):
        campaign.append(shared.campaign(pace, f"campaigns/api/targets/t{n}", START))
        built_in.extend(shared.built_in(f"BIRTHDAY/targets/b{n}-{i}", START) for i in range(5))
    union = campaign + built_in
    assert len(set(union)) == len(union)  # one message per tenant slot
    assert most_in_any_window(campaign, MINUTE) == 5
    assert most_in_any_window(union, MINUTE) <= 60
    per_hour = Counter(at.replace(minute=0, second=0, microsecond=0) for at in union)
    per_day = Counter(at.date() for at in union)
    assert max(per_hour.values()) <= 1000 and max(per_day.values()) <= 2000
    first_hour = START.replace(minute=0, second=0)
    assert per_hour[first_hour] == 1000  # the tenant's hour is filled, not more


def test_a_campaign_can_use_the_tenant_s_whole_day() -> None:
    """At 5 a minute on a 60/min grid the campaign's slots fall in tenant shards 0 and 4 only
    (indices 0, 12, 24, 36, 48); it still gets the tenant's whole daily cap, not their share."""
    default_tenant = tenant(Throttle(), zone=SAO_PAULO)  # 250 a day, 1000 an hour, 8 shards
    times = backlog(CampaignThrottle(messages_per_minute=5), 600, default_tenant).times
    per_day = Counter(at.astimezone(SAO_PAULO).date() for at in times)
    assert sorted(per_day.values()) == [100, 250, 250]
    assert most_in_any_window(times, MINUTE) == 5


def test_a_send_by_the_campaign_s_pace_cannot_meet_is_missed() -> None:
    planner = CampaignPlanner(tenant().planner, CampaignThrottle(messages_per_day=1))
    first = planner.plan(START, 0, {}, lambda _: {})
    assert first.send_at == START  # a tenant slot a second: START is one
    with pytest.raises(SendByMissed):
        planner.plan(START, 0, first.campaign_state, lambda _: {}, before=START + DAY / 2)


def test_the_contact_s_window_is_kept() -> None:
    office = SendWindow(start=time(9), end=time(18))
    planner = Planner(tenant_throttle(), office, SAO_PAULO, SAO_PAULO)
    times = backlog(CampaignThrottle(messages_per_minute=2), 600, Tenant(planner)).times
    assert all(time(9) <= at.astimezone(SAO_PAULO).time() < time(18) for at in times)
    assert most_in_any_window(times, MINUTE) == 2


def test_a_low_pace_is_never_raised_by_the_shard_count() -> None:
    """The old floor: 5 a minute sent 8, 1 a day sent 8. Shards never outnumber the limits."""
    base = tenant().planner
    assert CampaignPlanner(base, CampaignThrottle(messages_per_minute=5)).shards == 5
    assert CampaignPlanner(base, CampaignThrottle(messages_per_day=1)).shards == 1
    assert CampaignPlanner(base, CampaignThrottle(messages_per_hour=3)).shards == 3
    assert CampaignPlanner(base, CampaignThrottle()).shards == 8


@settings(max_examples=40, deadline=None)
@given(
    tenant_pace=st.integers(min_value=1, max_value=120),
    campaign_pace=st.integers(min_value=1, max_value=120),
    delay=st.integers(min_value=0, max_value=120_000),
)
def test_any_pace_keeps_its_minute_and_its_delay(
    tenant_pace: int, campaign_pace: int, delay: int
) -> None:
    pace = CampaignThrottle(
        messages_per_minute=campaign_pace, delay_between_messages_seconds=delay / 1000
    )
    count = 2 * min(tenant_pace, campaign_pace) + 30
    times = backlog(pace, count, tenant(tenant_throttle(tenant_pace))).times
    assert most_in_any_window(times, MINUTE) <= min(tenant_pace, campaign_pace)
    assert min(b - a for a, b in pairwise(times)) >= timedelta(milliseconds=delay)


@pytest.mark.parametrize(("per_minute", "delay_micros"), [(7, 8_571_429), (60, 1_000_000)])
def test_the_delay_step_covers_the_grid_s_rounding(per_minute: int, delay_micros: int) -> None:
    """Slots of 7 a minute are 8.571428.. s apart, rounded to the microsecond: a delay of
    8.571429 s needs two slots when some gap of one is a microsecond short."""
    assert _delay_step(per_minute, delay_micros) == (2 if per_minute == 7 else 1)


@settings(max_examples=30, deadline=None)
@given(
    tenant_pace=st.integers(min_value=1, max_value=90),
    per_hour=st.integers(min_value=1, max_value=400),
    per_day=st.integers(min_value=1, max_value=900),
    shards=st.integers(min_value=1, max_value=8),
    campaign_pace=st.integers(min_value=1, max_value=90),
    campaign_day=st.integers(min_value=1, max_value=900),
)
def test_the_tenant_s_limits_hold_whatever_the_paces(
    tenant_pace: int,
    per_hour: int,
    per_day: int,
    shards: int,
    campaign_pace: int,
    campaign_day: int,
) -> None:
    """A campaign and a built-in backlog planned interleaved: each tenant slot used once, the
    tenant's minute, hour and day never exceeded, the campaign's minute and day neither."""
    throttle = Throttle(
        messages_per_minute=tenant_pace,
        messages_per_hour=per_hour,
        messages_per_day=per_day,
        shards=shards,
    )
    shared = tenant(throttle)
    pace = CampaignThrottle(messages_per_minute=campaign_pace, messages_per_day=campaign_day)
    campaign: list[datetime] = []
    built_in: list[datetime] = []
    for n in range(60):
        campaign.append(shared.campaign(pace, f"campaigns/api/targets/t{n}", START))
        built_in.append(shared.built_in(f"BIRTHDAY/targets/b{n}", START))
    union = campaign + built_in
    assert len(set(union)) == len(union)
    assert most_in_any_window(union, MINUTE) <= throttle.per_minute
    assert (
        max(Counter(at.replace(minute=0, second=0, microsecond=0) for at in union).values())
        <= per_hour
    )
    assert max(Counter(at.date() for at in union).values()) <= per_day
    assert most_in_any_window(campaign, MINUTE) <= min(campaign_pace, throttle.per_minute)
    assert max(Counter(at.date() for at in campaign).values()) <= campaign_day


def test_a_half_rate_campaign_leaves_every_shard_its_turn() -> None:
    """30 a minute on the tenant's 60 takes every other slot of the minute. Slot ownership
    turns every minute, so no tenant shard loses all its slots to the campaign: a built-in
    target in any shard goes within two minutes, not after the campaign's backlog."""
    pace = CampaignThrottle(messages_per_minute=30, messages_per_hour=LOTS, messages_per_day=LOTS)
    place = tenant(tenant_throttle(60))
    for n in range(900):  # half an hour of campaign sends, planned first
        place.campaign(pace, f"users/x/campaigns/SEG_A/targets/c{n}", START)
    shards = place.planner.throttle.effective_shards
    waits = {}
    for n in range(400):
        key = f"users/x/campaigns/BIRTHDAY/targets/b{n}"
        shard = place.planner.throttle.shard_of(key)
        if shard not in waits:
            waits[shard] = place.built_in(key, START) - START
    assert set(waits) == set(range(shards))
    assert max(waits.values()) <= 2 * MINUTE, waits


def test_planning_far_ahead_keeps_todays_counters() -> None:
    """The campaign's own day and the tenant's day both survive a plan a week ahead."""
    planner = CampaignPlanner(
        tenant(tenant_throttle(per_day=1)).planner, CampaignThrottle(messages_per_day=1)
    )
    today = planner.plan(START, 0, {}, lambda _: {})
    week_ahead = planner.plan(
        START + 7 * DAY, 0, today.campaign_state, lambda s: today.tenant_states.get(s, {})
    )
    assert week_ahead.campaign_state["d:2026-03-10"] == 1
    tenant_states = {**today.tenant_states, **week_ahead.tenant_states}
    assert [state.get("d:2026-03-10") for state in tenant_states.values()].count(1) == 1
    again = planner.plan(START, 0, week_ahead.campaign_state, lambda s: tenant_states.get(s, {}))
    assert again.send_at >= datetime(2026, 3, 11, tzinfo=UTC)
