"""The forecast's simulation: the delivery planner on copies of the pacing states."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.campaign_settings import CampaignThrottle
from shared.domain.forecast import Unplanned, per_local_day, simulate
from shared.domain.pacing import Planner, SendWindow, ShardState, Throttle
from shared.domain.send_by import Priority

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MORNING = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)  # 08:00 in São Paulo
END_OF_DAY = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)  # midnight in São Paulo

PLANNER = Planner(
    Throttle(messages_per_minute=1, messages_per_day=3, shards=1),
    SendWindow(),
    SAO_PAULO,
    SAO_PAULO,
)


def _message(n: int, priority: Priority, send_by: datetime | None = None) -> Unplanned:
    return Unplanned(
        "C", f"users/x/campaigns/C/targets/{n}", MORNING, send_by, priority.rank, PLANNER
    )


def test_what_fits_before_its_send_by_goes_and_the_rest_would_expire() -> None:
    messages = [_message(n, Priority.TIME_CRITICAL, END_OF_DAY) for n in range(5)]

    results = simulate(messages, {})

    sends = [at for _, at in results]
    assert sends[3:] == [None, None]  # a cap of 3 a day leaves no slot for the last two
    planned = [at for at in sends if at is not None]
    assert per_local_day(planned, SAO_PAULO) == {date(2026, 11, 21): 3}
    assert planned == sorted(planned) and len(set(planned)) == 3


def test_time_critical_messages_are_planned_before_bulk_ones() -> None:
    bulk = [_message(n, Priority.BULK) for n in range(3)]
    urgent = [_message(10 + n, Priority.TIME_CRITICAL, END_OF_DAY) for n in range(3)]

    results = simulate([*bulk, *urgent], {})

    day = {message.key: at for message, at in results}
    assert all((at := day[m.key]) is not None and at < END_OF_DAY for m in urgent)
    assert all((at := day[m.key]) is not None and at >= END_OF_DAY for m in bulk)


def test_the_states_it_is_given_are_left_as_they_were() -> None:
    state = PLANNER.plan(MORNING, 0, {}).state
    before = dict(state)

    results = simulate([_message(1, Priority.NORMAL)], {0: state})

    assert state == before
    assert results[0][1] is not None and results[0][1] > MORNING  # after the taken slot
    assert results[0][1] - MORNING >= timedelta(minutes=1)


def test_a_campaign_s_own_pace_is_forecast_on_its_own_pacing_states() -> None:
    """5 a minute on the tenant's 60: 12 s apart at least, 5 in any minute. The campaign's
    day (1 used of 2) is read from its own states, left as they were: the second message
    of the day would go the next day."""
    tenant = Planner(Throttle(), SendWindow(start=time(0), end=time(23, 59)), SAO_PAULO, SAO_PAULO)
    paced = CampaignPlanner(tenant, CampaignThrottle(messages_per_minute=5))
    messages = [
        Unplanned("SEG", f"users/x/campaigns/SEG/targets/{n}", MORNING, None, 1, paced)
        for n in range(10)
    ]
    sends = sorted(at for _, at in simulate(messages, {}) if at is not None)
    assert len(sends) == 10 and min(b - a for a, b in pairwise(sends)) == timedelta(seconds=12)
    assert all(b - a >= timedelta(minutes=1) for a, b in zip(sends, sends[5:], strict=False))

    daily = CampaignPlanner(tenant, CampaignThrottle(messages_per_day=2))
    used: dict[str, dict[int, ShardState]] = {"SEG": {0: {"d:2026-11-21": 1}}}
    results = simulate(
        [
            Unplanned("SEG", f"users/x/campaigns/SEG/targets/{n}", MORNING, None, 1, daily)
            for n in range(2)
        ],
        {},
        used,
    )
    days = [at.astimezone(SAO_PAULO).date() for _, at in results if at is not None]
    assert days == [date(2026, 11, 21), date(2026, 11, 22)]
    assert used == {"SEG": {0: {"d:2026-11-21": 1}}}


def test_messages_that_all_hash_to_one_shard_fill_the_others_before_any_would_expire() -> None:
    planner = Planner(
        Throttle(messages_per_minute=2, messages_per_day=4, shards=2),
        SendWindow(),
        SAO_PAULO,
        SAO_PAULO,
    )
    keys = (f"users/x/campaigns/C/targets/{n}" for n in range(100))
    one_shard = [key for key in keys if planner.throttle.shard_of(key) == 0][:5]
    messages = [
        Unplanned("C", key, MORNING, END_OF_DAY, Priority.TIME_CRITICAL.rank, planner)
        for key in one_shard
    ]

    sends = [at for _, at in simulate(messages, {})]

    # shard 0 owns 2 of the day's 4 slots; shard 1's 2 take the next two, and only the fifth
    # message would expire
    assert sends[4] is None
    assert per_local_day([at for at in sends if at is not None], SAO_PAULO) == {
        date(2026, 11, 21): 4
    }
