"""A number's limits shared between its tenants: fair, never above the number in any second or
day, and a tenant's own pace is never raised."""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from shared.domain.pacing import Planner, SendWindow, ShardState, Throttle
from shared.domain.sending_number import NumberLimits, fair_shares, shared_throttle, split

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
START = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)

demands = st.dictionaries(
    st.text("abcdefgh", min_size=1, max_size=3), st.integers(1, 200), max_size=12
)


@given(demands, st.integers(1, 400))
def test_fair_shares_are_within_demand_and_capacity_and_max_min_fair(
    asked: dict[str, int], capacity: int
) -> None:
    shares = fair_shares(asked, capacity)
    assert shares.keys() == asked.keys()
    assert all(1 <= shares[key] <= asked[key] for key in asked)
    if len(asked) <= capacity:
        assert sum(shares.values()) <= capacity
        # Nobody short of its demand gets less than anyone else's share minus one: the
        # remainder is the only inequality.
        for key in asked:
            if shares[key] < asked[key]:
                assert all(shares[key] >= other - 1 for other in shares.values())
        if sum(asked.values()) > capacity:
            assert sum(shares.values()) == capacity  # nothing left unused while someone waits


def test_small_askers_keep_their_pace_and_the_rest_share_what_is_left() -> None:
    assert fair_shares({"a": 1, "b": 60, "c": 60}, 70) == {"a": 1, "b": 35, "c": 34}
    assert fair_shares({"a": 10, "b": 20}, 70) == {"a": 10, "b": 20}


def fast(per_minute: int, per_day: int = 1_000_000) -> Throttle:
    return Throttle(
        messages_per_minute=per_minute,
        messages_per_hour=1_000_000,
        messages_per_day=per_day,
        shards=1,
    )


def planned(throttle: Throttle, count: int) -> list[datetime]:
    planner = Planner(throttle, SendWindow(start="00:00", end="23:59"), SAO_PAULO, SAO_PAULO)
    state: ShardState = {}
    sends = []
    for _ in range(count):
        slot = planner.plan(START, 0, state)
        state = slot.state
        sends.append(slot.send_at)
    return sends


def most_in_any(times: list[datetime], width: timedelta) -> int:
    ordered = sorted(times)
    return max(bisect_left(ordered, at + width) - i for i, at in enumerate(ordered))


def test_two_tenants_on_one_number_never_exceed_its_ceiling_in_any_second() -> None:
    limits = NumberLimits(ceiling_per_second=7)
    own = {"11111111000191": fast(600), "22222222000191": fast(290)}  # 10/s and 4.83/s asked
    shares = split(own, limits).shares
    assert {cnpj: share.per_second for cnpj, share in shares.items()} == {
        "11111111000191": 4,  # 3 each, and the remainder to the first in order
        "22222222000191": 3,
    }
    union = [
        at
        for cnpj, throttle in own.items()
        for at in planned(shared_throttle(throttle, shares[cnpj]), 600)
    ]
    assert most_in_any(union, timedelta(seconds=1)) == 7
    alone = planned(own["11111111000191"], 600)
    assert most_in_any(alone, timedelta(seconds=1)) == 10  # what it asked for, alone


def test_the_daily_limit_is_split_and_a_lower_own_cap_stands() -> None:
    limits = NumberLimits(daily_limit=250)
    own = {"a": fast(60, per_day=1000), "b": fast(60, per_day=50), "c": fast(60, per_day=1000)}
    result = split(own, limits)
    assert {cnpj: share.per_day for cnpj, share in result.shares.items()} == {
        "a": 100,
        "b": 50,
        "c": 100,
    }
    assert shared_throttle(own["b"], result.shares["b"]).messages_per_day == 50
    assert not result.oversubscribed


def test_more_tenants_than_messages_is_oversubscribed_and_each_keeps_one() -> None:
    own = {str(n): fast(60) for n in range(5)}
    result = split(own, NumberLimits(ceiling_per_second=3))
    assert result.oversubscribed
    assert {share.per_second for share in result.shares.values()} == {1}


@given(st.integers(1, 6000))
def test_a_share_never_raises_a_tenants_own_pace(per_minute: int) -> None:
    throttle = Throttle(messages_per_minute=per_minute)
    limits = NumberLimits()
    shared = shared_throttle(throttle, split({"a": throttle}, limits).shares["a"])
    assert shared.per_minute == throttle.per_minute
    lowered = shared_throttle(throttle, split({"a": throttle, "b": fast(6000)}, limits).shares["a"])
    assert lowered.per_minute <= throttle.per_minute
