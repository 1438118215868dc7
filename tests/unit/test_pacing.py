"""Pacing: the throttle's derived limits, the planner's slots, caps, windows and shard state."""

from __future__ import annotations

import random
from bisect import bisect_left
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pydantic
import pytest

from shared.domain.pacing import (
    Planner,
    SendWindow,
    ShardState,
    Slot,
    Throttle,
    lane_of,
    pruned,
)

UTC_ZONE = ZoneInfo("UTC")
SAO_PAULO = ZoneInfo("America/Sao_Paulo")  # UTC-3
MANAUS = ZoneInfo("America/Manaus")  # UTC-4
NORONHA = ZoneInfo("America/Noronha")  # UTC-2
OFFICE = SendWindow(start=time(9), end=time(18))
ALL_DAY = SendWindow(start=time(0), end=time(23, 59, 59))
LOTS = 10**6
MICROSECOND = timedelta(microseconds=1)
"""Instants have microsecond resolution, so evenly spaced slots may be off by one of them."""


def throttle(
    per_minute: int = 60,
    *,
    shards: int = 8,
    per_hour: int = LOTS,
    per_day: int = LOTS,
    ceiling: int = 70,
    delay: float = 0.0,
) -> Throttle:
    return Throttle(
        messages_per_minute=per_minute,
        messages_per_hour=per_hour,
        messages_per_day=per_day,
        number_ceiling_per_second=ceiling,
        delay_between_messages_seconds=delay,
        shards=shards,
    )


def planner(
    pace: Throttle,
    window: SendWindow = ALL_DAY,
    contact: ZoneInfo = UTC_ZONE,
    tenant: ZoneInfo = UTC_ZONE,
) -> Planner:
    return Planner(pace, window, contact_zone=contact, tenant_zone=tenant)


def utc(day: int, hour: int, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, micro, tzinfo=UTC)


def local(zone: ZoneInfo, day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, second, tzinfo=zone)


def plan_many(plan: Planner, shard: int, earliest: datetime, count: int) -> list[Slot]:
    slots: list[Slot] = []
    state: ShardState = {}
    for _ in range(count):
        slot = plan.plan(earliest, shard, state)
        slots.append(slot)
        state = slot.state
    return slots


def shard_minute(plan: Planner, shard: int, minute: datetime) -> list[datetime]:
    """Every slot ``shard`` gets in ``minute`` when it has work throughout."""
    times: list[datetime] = []
    state: ShardState = {}
    while True:
        slot = plan.plan(minute, shard, state)
        if slot.send_at >= minute + timedelta(minutes=1):
            return times
        times.append(slot.send_at)
        state = slot.state


def gaps(times: list[datetime]) -> list[timedelta]:
    return [later - earlier for earlier, later in pairwise(times)]


def most_in_any_window(times: list[datetime], width: timedelta) -> int:
    ordered = sorted(times)
    return max(bisect_left(ordered, start + width) - i for i, start in enumerate(ordered))


# -- throttle ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pace", "expected"),
    [
        (throttle(60), 60),
        (throttle(5000), 4200),  # 70/s ceiling
        (throttle(5000, ceiling=10), 600),
        (throttle(600, delay=0.13), 461),  # floor(60 / 0.13)
        (throttle(600, delay=0.5), 120),
        (throttle(100, delay=120), 1),  # never zero
        (throttle(100, delay=3600), 1),
    ],
)
def test_per_minute_applies_every_finer_limit(pace: Throttle, expected: int) -> None:
    assert pace.per_minute == expected


@pytest.mark.parametrize(
    ("pace", "expected"),
    [
        (throttle(60, shards=8), 8),
        (throttle(5, shards=8), 5),
        (throttle(60, shards=8, per_hour=2), 2),
        (throttle(60, shards=8, per_day=3), 3),
        (throttle(60, shards=64, delay=120), 1),
        (throttle(600, shards=64), 64),
    ],
)
def test_effective_shards_never_exceed_any_limit(pace: Throttle, expected: int) -> None:
    assert pace.effective_shards == expected


@pytest.mark.parametrize(
    "pace",
    [
        throttle(60, shards=8, per_day=3),
        throttle(60, shards=8, per_hour=5),
        throttle(3, shards=8),
        throttle(60, shards=64, delay=20),
    ],
)
def test_no_shard_owns_zero_slots(pace: Throttle) -> None:
    """Every shard gets a slot on the window's first day: one owning none could never plan."""
    plan = planner(pace, OFFICE, SAO_PAULO, SAO_PAULO)
    opening = local(SAO_PAULO, 10, 9)
    for shard in range(pace.effective_shards):
        send_at = plan.plan(opening, shard, {}).send_at
        assert opening <= send_at < local(SAO_PAULO, 10, 18), shard


def test_daily_cap_smaller_than_shards_still_sends_the_whole_cap_each_day() -> None:
    pace = throttle(60, shards=8, per_day=3)
    plan = planner(pace, OFFICE, SAO_PAULO, SAO_PAULO)
    opening = local(SAO_PAULO, 10, 9)
    first = [plan_many(plan, shard, opening, 2) for shard in range(pace.effective_shards)]
    assert [slots[0].send_at.date() for slots in first] == [opening.date()] * 3
    assert all(slots[1].send_at >= local(SAO_PAULO, 11, 9) for slots in first)


@pytest.mark.parametrize("pace", [throttle(60, shards=8), throttle(600, shards=64), throttle(3)])
def test_shard_of_is_deterministic_and_in_range(pace: Throttle) -> None:
    keys = [f"users/11222333000181/campaigns/BIRTHDAY/targets/c{i}" for i in range(500)]
    shards = [pace.shard_of(key) for key in keys]
    assert shards == [pace.model_copy().shard_of(key) for key in keys]
    assert set(shards) == set(range(pace.effective_shards))


@pytest.mark.parametrize(
    ("key", "of_8", "of_64"),
    [
        ("users/11222333000181/campaigns/BIRTHDAY/targets/c1", 1, 17),
        ("customer-42", 5, 53),
        ("a", 2, 10),
    ],
)
def test_shard_of_is_stable_across_processes(key: str, of_8: int, of_64: int) -> None:
    """Pinned values: a salted hash (``hash()``) would move targets between shard documents."""
    assert throttle(60, shards=8).shard_of(key) == of_8
    assert throttle(600, shards=64).shard_of(key) == of_64


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"messages_per_minute": 0}, "messages_per_minute"),
        ({"messages_per_hour": 0}, "messages_per_hour"),
        ({"messages_per_day": 0}, "messages_per_day"),
        ({"number_ceiling_per_second": 1001}, "number_ceiling_per_second"),
        ({"number_ceiling_per_second": 0}, "number_ceiling_per_second"),
        ({"delay_between_messages_seconds": -1}, "delay_between_messages_seconds"),
        ({"shards": 0}, "shards"),
        ({"shards": 65}, "shards"),
        ({"burst": 10}, "burst"),
    ],
)
def test_bad_throttle_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Throttle.model_validate(data)
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


@pytest.mark.parametrize(("start", "end"), [("18:00", "09:00"), ("09:00", "09:00")])
def test_window_must_end_after_it_starts(start: str, end: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=r"send_window\.end"):
        SendWindow.model_validate({"start": start, "end": end})


# -- slots -------------------------------------------------------------------------------------

SPACING_CASES = [
    pytest.param(throttle(60, shards=8), id="60-per-min"),
    pytest.param(throttle(7, shards=3), id="uneven-7-by-3"),
    pytest.param(throttle(5000, shards=8, ceiling=7), id="ceiling-bound"),
    pytest.param(throttle(600, shards=8, delay=0.13), id="delay-bound"),
    pytest.param(throttle(1000, shards=64, ceiling=10), id="64-shards"),
]


@pytest.mark.parametrize("pace", SPACING_CASES)
def test_one_shards_slots_are_evenly_spaced(pace: Throttle) -> None:
    plan = planner(pace)
    minute = utc(10, 12)
    shard_gap = timedelta(seconds=60 / pace.per_minute * pace.effective_shards)
    for shard in range(pace.effective_shards):
        times = shard_minute(plan, shard, minute)
        lane = lane_of(shard, minute, pace.effective_shards)
        assert times[0] == minute + timedelta(seconds=60 / pace.per_minute * lane)
        assert all(abs(gap - shard_gap) <= MICROSECOND for gap in gaps(times)), shard


def test_a_shards_slots_turn_every_minute_so_each_owns_every_lane_in_turn() -> None:
    """A campaign whose pace takes a fixed pattern of the minute's slots (every other one)
    takes each shard's slots only some minutes: no shard's targets wait behind it for long."""
    pace = throttle(60, shards=6)
    plan = planner(pace)
    start = utc(10, 12)
    for shard in range(6):
        firsts = []
        for minutes in range(6):
            minute = start + timedelta(minutes=minutes)
            times = shard_minute(plan, shard, minute)
            assert set(gaps(times)) == {timedelta(seconds=6)}  # evenly spaced within a minute
            firsts.append(int((times[0] - minute).total_seconds()))
        assert sorted(firsts) == list(range(6)), shard  # every lane once in six minutes
        assert all((b - a) % 6 == 1 for a, b in pairwise(firsts))


@pytest.mark.parametrize("pace", SPACING_CASES)
def test_all_shards_together_fill_a_minute_evenly(pace: Throttle) -> None:
    minute = utc(10, 12)
    plan = planner(pace)
    times = sorted(
        send_at
        for shard in range(pace.effective_shards)
        for send_at in shard_minute(plan, shard, minute)
    )
    spacing = timedelta(seconds=60 / pace.per_minute)
    assert len(times) == pace.per_minute
    assert len(set(times)) == len(times)
    assert times[0] == minute
    assert all(abs(gap - spacing) <= MICROSECOND for gap in gaps(times))
    closest = min(gaps(times))
    assert closest >= timedelta(seconds=1 / pace.number_ceiling_per_second) - MICROSECOND
    assert closest >= timedelta(seconds=pace.delay_between_messages_seconds) - MICROSECOND


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("pace", SPACING_CASES)
def test_mid_minute_earliest_gets_the_shards_next_slot(pace: Throttle, seed: int) -> None:
    plan = planner(pace)
    minute = utc(10, 12)
    spacing = 60 / pace.per_minute
    shards = pace.effective_shards
    draw = random.Random(seed)
    for _ in range(50):
        shard = draw.randrange(shards)
        earliest = minute + timedelta(microseconds=draw.randrange(60_000_000))
        grid = [
            start + timedelta(seconds=slot * spacing)
            for start in (minute, minute + timedelta(minutes=1))
            for slot in range(lane_of(shard, start, shards), pace.per_minute, shards)
        ]
        send_at = plan.plan(earliest, shard, {}).send_at
        assert send_at >= earliest
        assert send_at == min(at for at in grid if at >= earliest)


def test_earliest_exactly_on_a_slot_gets_that_slot() -> None:
    """``plan`` promises the first slot *at or after* ``earliest``.

    Slot instants are rounded to the microsecond; when one rounds up, the float index
    computation sees ``earliest`` as past the slot and skips it (here by 25.7 s).
    """
    pace = throttle(7, shards=3)
    plan = planner(pace)
    slot = utc(10, 12) + timedelta(seconds=3 * (60 / 7))  # shard 0's second slot
    assert plan.plan(slot, 0, {}).send_at == slot


def test_shard_outside_the_effective_range_is_refused() -> None:
    pace = throttle(60, shards=8, per_day=3)
    with pytest.raises(ValueError, match="shard 3"):
        planner(pace).plan(utc(10, 12), 3, {})


# -- caps --------------------------------------------------------------------------------------


def test_hourly_cap_moves_to_the_next_hour() -> None:
    plan = planner(throttle(60, shards=1, per_hour=4))
    times = [slot.send_at for slot in plan_many(plan, 0, utc(10, 12, 30), 6)]
    assert times == [
        utc(10, 12, 30, 0),
        utc(10, 12, 30, 1),
        utc(10, 12, 30, 2),
        utc(10, 12, 30, 3),
        utc(10, 13, 0, 0),
        utc(10, 13, 0, 1),
    ]


@pytest.mark.parametrize(
    ("shard", "used", "expected"),
    [
        (0, 2, utc(10, 12, 10, 0)),  # shard 0 owns 3 of the 5 hourly slots
        (0, 3, utc(10, 13, 0, 0)),
        (1, 1, utc(10, 12, 10, 1)),  # shard 1 owns 2
        (1, 2, utc(10, 13, 0, 1)),
    ],
)
def test_hourly_cap_is_counted_per_shard_share(shard: int, used: int, expected: datetime) -> None:
    plan = planner(throttle(60, shards=2, per_hour=5))
    assert plan.plan(utc(10, 12, 10), shard, {"h:2026031012": used}).send_at == expected


def test_daily_cap_moves_to_the_next_days_window() -> None:
    plan = planner(throttle(60, shards=1, per_day=3), OFFICE, SAO_PAULO, SAO_PAULO)
    times = [slot.send_at for slot in plan_many(plan, 0, local(SAO_PAULO, 10, 17, 59), 5)]
    assert times == [
        local(SAO_PAULO, 10, 17, 59, 0),
        local(SAO_PAULO, 10, 17, 59, 1),
        local(SAO_PAULO, 10, 17, 59, 2),
        local(SAO_PAULO, 11, 9, 0, 0),
        local(SAO_PAULO, 11, 9, 0, 1),
    ]


@pytest.mark.parametrize(
    ("state", "expected", "day_key"),
    [
        # 01:00 UTC on the 11th is still the 10th in São Paulo: that local day is full.
        ({"d:2026-03-10": 2}, utc(11, 3), "d:2026-03-11"),
        # The UTC date being full is irrelevant.
        ({"d:2026-03-11": 2}, utc(11, 1), "d:2026-03-10"),
    ],
)
def test_daily_cap_counts_the_tenants_local_day(
    state: ShardState, expected: datetime, day_key: str
) -> None:
    plan = planner(throttle(60, shards=1, per_day=2), ALL_DAY, UTC_ZONE, SAO_PAULO)
    slot = plan.plan(utc(11, 1), 0, state)
    assert slot.send_at == expected
    assert slot.state[day_key] == 1


def test_full_tenant_day_then_waits_for_the_contacts_window() -> None:
    plan = planner(throttle(60, shards=1, per_day=1), OFFICE, NORONHA, MANAUS)
    # 10:00 in Noronha is inside the contact's window, but the tenant's day (Manaus) is full;
    # its next day starts at 04:00 UTC, before the window opens at 09:00 Noronha (11:00 UTC).
    slot = plan.plan(local(NORONHA, 10, 10), 0, {"d:2026-03-10": 1})
    assert slot.send_at == local(NORONHA, 11, 9)


def test_daily_cap_is_counted_per_shard_share() -> None:
    plan = planner(throttle(60, shards=2, per_day=3), OFFICE, SAO_PAULO, SAO_PAULO)
    earliest = local(SAO_PAULO, 10, 10)
    assert plan.plan(earliest, 0, {"d:2026-03-10": 1}).send_at == earliest
    assert plan.plan(earliest, 1, {"d:2026-03-10": 1}).send_at == local(SAO_PAULO, 11, 9, 0, 1)


# -- windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earliest", "expected"),
    [
        (local(SAO_PAULO, 10, 8), local(SAO_PAULO, 10, 9)),
        (local(SAO_PAULO, 11, 0, 30), local(SAO_PAULO, 11, 9)),
        (local(SAO_PAULO, 10, 9), local(SAO_PAULO, 10, 9)),
        (local(SAO_PAULO, 10, 12, 34, 56), local(SAO_PAULO, 10, 12, 34, 56)),
        (local(SAO_PAULO, 10, 18), local(SAO_PAULO, 11, 9)),
        (local(SAO_PAULO, 10, 23, 30), local(SAO_PAULO, 11, 9)),
    ],
)
def test_next_opening(earliest: datetime, expected: datetime) -> None:
    assert planner(throttle(), OFFICE, SAO_PAULO).next_opening(earliest) == expected


@pytest.mark.parametrize(
    ("earliest", "expected"),
    [
        (local(SAO_PAULO, 10, 7, 15), local(SAO_PAULO, 10, 9)),
        (local(SAO_PAULO, 10, 19, 15), local(SAO_PAULO, 11, 9)),
        (local(SAO_PAULO, 10, 23, 59, 59), local(SAO_PAULO, 11, 9)),
        # The minute's last slot would be 17:59:59: the next is past the window's end.
        (local(SAO_PAULO, 10, 17, 59, 59) + timedelta(milliseconds=500), local(SAO_PAULO, 11, 9)),
    ],
)
def test_target_outside_the_window_moves_to_the_next_opening(
    earliest: datetime, expected: datetime
) -> None:
    plan = planner(throttle(60, shards=1), OFFICE, SAO_PAULO, SAO_PAULO)
    assert plan.plan(earliest, 0, {}).send_at == expected


@pytest.mark.parametrize(
    ("contact", "earliest", "expected"),
    [
        (SAO_PAULO, utc(10, 11, 30), utc(10, 12)),
        (MANAUS, utc(10, 11, 30), utc(10, 13)),
        (NORONHA, utc(10, 11, 30), utc(10, 11, 30)),
        (SAO_PAULO, utc(10, 21, 30), utc(11, 12)),
        (MANAUS, utc(10, 21, 30), utc(10, 21, 30)),
        (NORONHA, utc(10, 21, 30), utc(11, 11)),
    ],
)
def test_window_is_the_contacts_local_hours(
    contact: ZoneInfo, earliest: datetime, expected: datetime
) -> None:
    plan = planner(throttle(60, shards=1), OFFICE, contact, SAO_PAULO)
    assert plan.plan(earliest, 0, {}).send_at == expected


# -- state -------------------------------------------------------------------------------------


def test_state_keys_are_utc_minute_and_hour_and_tenant_day() -> None:
    plan = planner(throttle(60, shards=1), ALL_DAY, UTC_ZONE, SAO_PAULO)
    slot = plan.plan(utc(11, 1, 5), 0, {})
    assert slot.state == {"m:202603110105": 1, "h:2026031101": 1, "d:2026-03-10": 1}


def test_state_counters_accumulate() -> None:
    plan = planner(throttle(60, shards=1), ALL_DAY, UTC_ZONE, UTC_ZONE)
    slots = plan_many(plan, 0, utc(11, 1, 5), 3)
    assert slots[-1].state == {"m:202603110105": 3, "h:2026031101": 3, "d:2026-03-11": 3}
    assert slots[0].state == {"m:202603110105": 1, "h:2026031101": 1, "d:2026-03-11": 1}


def test_counters_older_than_two_days_before_now_are_dropped() -> None:
    old: ShardState = {
        "m:202603071159": 5,
        "r:202603071159": [7],
        "h:2026030711": 5,
        "d:2026-03-07": 5,
    }
    recent: ShardState = {"m:202603081201": 4, "h:2026030813": 4, "d:2026-03-09": 4}
    state: ShardState = {**old, **recent}
    assert pruned(state, utc(10, 12)) == recent
    assert state == {**old, **recent}, "the caller's state must not be mutated"


# -- simulation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pace",
    [
        pytest.param(throttle(600, shards=8), id="rate-bound"),
        pytest.param(throttle(1000, shards=8, ceiling=10), id="ceiling-bound"),
    ],
)
def test_many_targets_across_shards_respect_every_limit_and_fill_the_rate(
    pace: Throttle,
) -> None:
    plan = planner(pace, OFFICE, SAO_PAULO, SAO_PAULO)
    earliest = local(SAO_PAULO, 10, 9, 30)
    states: dict[int, ShardState] = {}
    times: list[datetime] = []
    for number in range(2000):
        shard = pace.shard_of(f"users/11222333000181/campaigns/BIRTHDAY/targets/c{number}")
        slot = plan.plan(earliest, shard, states.get(shard, {}))
        states[shard] = slot.state
        times.append(slot.send_at)

    times.sort()
    assert len(set(times)) == len(times)
    assert times[0] >= earliest
    assert most_in_any_window(times, timedelta(seconds=60)) <= pace.per_minute
    assert pace.per_minute <= pace.messages_per_minute
    assert most_in_any_window(times, timedelta(seconds=1)) <= pace.number_ceiling_per_second
    busy = times[: len(times) * 4 // 5]  # only the tail shows the shards' hash imbalance
    rate = (len(busy) - 1) / (busy[-1] - busy[0]).total_seconds() * 60
    assert rate >= 0.95 * pace.per_minute


# -- retries and deferrals planned into a later part of the minute ------------------------------


def test_a_slot_taken_ahead_leaves_the_earlier_slots_of_its_minute_free() -> None:
    """A retry planned 30 s ahead must not waste the slots before it (bench/delivery.py saw 16%)."""
    plan = planner(throttle(60, shards=1))
    start = utc(10, 12)
    retry = plan.plan(start + timedelta(seconds=30), 0, {})
    assert retry.send_at == start + timedelta(seconds=30)

    state = retry.state
    times = []
    for _ in range(59):
        slot = plan.plan(start, 0, state)
        times.append(slot.send_at)
        state = slot.state

    expected = [start + timedelta(seconds=s) for s in range(60) if s != 30]
    assert times == expected  # every other slot of the minute, none twice, none lost
    assert plan.plan(start, 0, state).send_at == start + timedelta(minutes=1)


def test_state_of_a_minute_stays_compact_once_filled() -> None:
    plan = planner(throttle(60, shards=1))
    start = utc(10, 12)
    state = plan.plan(start + timedelta(seconds=45), 0, {}).state
    for _ in range(59):
        state = plan.plan(start, 0, state).state
    assert state["m:202603101200"] == 60
    assert "r:202603101200" not in state


# -- retention ---------------------------------------------------------------------------------


def test_planning_far_ahead_keeps_todays_counters() -> None:
    """A target planned a week ahead writes its shard back: today's caps must survive it, or
    the rest of today is planned on an empty day (over-sending)."""
    plan = planner(throttle(60, shards=1, per_day=1))
    today = plan.plan(utc(10, 12), 0, {})
    assert today.send_at == utc(10, 12)
    week_ahead = plan.plan(utc(17, 12), 0, today.state)
    assert week_ahead.state["d:2026-03-10"] == 1
    assert plan.plan(utc(10, 13), 0, week_ahead.state).send_at == utc(11, 0)


# -- spill: a message whose shard is full takes another's slot rather than expire ----------------


def test_spill_lists_the_shards_with_a_slot_before_the_send_by_soonest_first() -> None:
    plan = planner(throttle(60, shards=3, per_day=6), OFFICE, SAO_PAULO, SAO_PAULO)
    earliest, end_of_day = local(SAO_PAULO, 10, 10), local(SAO_PAULO, 11, 0)
    states: dict[int, ShardState] = {
        0: {"d:2026-03-10": 2},  # its day is full
        1: {"m:202603101300": 20},  # every slot it owns at 10:00 is taken: later than 2
        2: {},
    }

    spilled = plan.spill(earliest, states, before=end_of_day)

    assert [shard for shard, _ in spilled] == [2, 1]
    assert spilled[0][1].send_at < spilled[1][1].send_at < end_of_day
    assert spilled[0][1].state["d:2026-03-10"] == 1  # the slot is counted in its shard's day


def test_spill_finds_nothing_when_every_shard_s_day_is_full() -> None:
    plan = planner(throttle(60, shards=2, per_day=4), OFFICE, SAO_PAULO, SAO_PAULO)
    full: dict[int, ShardState] = {0: {"d:2026-03-10": 2}, 1: {"d:2026-03-10": 2}}

    assert plan.spill(local(SAO_PAULO, 10, 10), full, before=local(SAO_PAULO, 11, 0)) == []
