"""A campaign's own pace, exact: its slots are a subset of the tenant's slot grid.

The tenant's pacing (:mod:`shared.domain.pacing`) hands out global slots ``g = minute * P_t + i``
of a 60-second periodic grid (``P_t`` the tenant's per-minute pace, slot ``i`` of a minute at
``_slot_offset(i, P_t)``). A campaign that sets a pace of its own does not get a second grid,
whose sends could crowd the tenant's: its slot ``k`` (an integer since the epoch) is the tenant
slot ``G(k) = ceil(k * r)``, with ``r = max(P_t / P_c, step)`` a fraction (``P_c`` the
campaign's per-minute pace, never above the tenant's; ``step`` the fewest tenant slots that
span the campaign's delay). So:

- at most ``P_c`` campaign sends in any 60 s: ``G(k + P_c) = G(k) + P_t``, one minute later;
- consecutive campaign slots are at least ``floor(r) >= step`` tenant slots apart (the delay);
- every campaign send also takes its tenant slot, in the tenant shard that owns it, and counts
  in a tenant shard's hour and day shares (the slot's own while they last, else another's):
  the tenant's limits hold on the union of all its sends, and the campaign can use its whole
  hour and day although its slots fall in a few of the tenant's shards.

The campaign's hour and day caps are calendar counters (UTC hour, the tenant's local day) in
the campaign's own pacing documents, split over ``C`` campaign shards as the tenant's are
(shard ``c`` owns campaign slots ``k ≡ c (mod C)``); ``C`` is never more than any of the
campaign's limits, so a low pace is never raised, and a fast campaign's planning writes still
spread. A campaign shard's state has the tenant shard's shape (:data:`ShardState`): a minute's
entries count the shard's campaign slots mapped into that tenant minute.
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from shared.domain.campaign_settings import CampaignThrottle
from shared.domain.pacing import (
    Planner,
    PlanningError,
    SendByMissed,
    ShardState,
    _count,
    _day_key,
    _first_at_or_after,
    _hour_key,
    _minute_usage,
    _share,
    _slot_offset,
    _start_of_day,
    _take,
    shard_of_lane,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)
_MAX_STEPS = 200_000


@dataclass(frozen=True, slots=True)
class CampaignSlot:
    """A campaign send: when, the tenant shard whose slot it takes, the new states of the
    tenant shards it changes (the slot's, and those its hour and day are counted in), and the
    campaign shard's new state."""

    send_at: datetime
    tenant_shard: int
    tenant_states: dict[int, ShardState]
    campaign_state: ShardState


@dataclass(frozen=True, slots=True)
class CampaignPlanner:
    """The tenant's planner (its grid, shards, window and zones) narrowed to a campaign's pace."""

    tenant: Planner
    pace: CampaignThrottle

    @property
    def per_minute(self) -> int:
        """``P_c``: the campaign's per-minute pace, never above the tenant's."""
        return max(1, min(self.pace.messages_per_minute, self.tenant.throttle.per_minute))

    @property
    def ratio(self) -> Fraction:
        """``r``: tenant slots per campaign slot."""
        tenant_per_minute = self.tenant.throttle.per_minute
        return max(
            Fraction(tenant_per_minute, self.per_minute),
            Fraction(_delay_step(tenant_per_minute, _micros(self.pace))),
        )

    @property
    def rate_per_minute(self) -> Fraction:
        """Campaign sends a minute at most, once its delay is applied: ``P_t / r``."""
        return self.tenant.throttle.per_minute / self.ratio

    @property
    def shards(self) -> int:
        """``C``: campaign pacing documents; none may own zero slots of a minute, hour or day."""
        pace = self.pace
        return max(
            1,
            min(
                self.tenant.throttle.effective_shards,
                self.per_minute,
                pace.messages_per_hour,
                pace.messages_per_day,
            ),
        )

    def shard_of(self, target_key: str) -> int:
        digest = hashlib.sha256(target_key.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.shards

    def plan(
        self,
        earliest: datetime,
        shard: int,
        state: ShardState,
        tenant_state: Callable[[int], ShardState],
        before: datetime | None = None,
    ) -> CampaignSlot:
        """The first campaign slot of ``shard`` at or after ``earliest`` that the campaign's and
        the tenant's limits and the contact's window allow; :class:`SendByMissed` if there is
        none before ``before``. ``tenant_state(s)`` is tenant shard ``s``'s state, read on
        demand: usually only the first candidate's shard; others when the slot is taken, or
        when the slot's shard has used its share of the hour or day (:func:`_with_share`)."""
        shards = self.shards
        if not 0 <= shard < shards:
            raise ValueError(f"campaign shard {shard} outside 0..{shards - 1}")
        tenant = self.tenant.throttle
        tenant_per_minute, tenant_shards = tenant.per_minute, tenant.effective_shards
        ratio = self.ratio
        hour_share = _share(self.pace.messages_per_hour, shard, shards)
        day_share = _share(self.pace.messages_per_day, shard, shards)
        tenant_states: dict[int, ShardState] = {}

        def tenant_shard_state(index: int) -> ShardState:
            if index not in tenant_states:
                tenant_states[index] = tenant_state(index)
            return tenant_states[index]

        moment = earliest.astimezone(UTC)
        slot: int | None = None
        for _ in range(_MAX_STEPS):
            if slot is None:
                moment = self.tenant.next_opening(moment)
                if before is not None and moment >= before:
                    raise SendByMissed(f"no slot before {before.isoformat()}")
                slot = _in_class(_campaign_slot_at(moment, tenant_per_minute, ratio), shard, shards)
            grid = math.ceil(slot * ratio)
            minute_number, index = divmod(grid, tenant_per_minute)
            minute = _EPOCH + minute_number * _MINUTE
            send_at = minute + timedelta(microseconds=_slot_offset(index, tenant_per_minute))
            if before is not None and send_at >= before:
                raise SendByMissed(f"no slot before {before.isoformat()}")
            if not self.tenant.in_window(send_at):
                moment, slot = send_at, None
                continue
            # the campaign shard's own slots of this tenant minute: index j = position in it
            first = _in_class(
                _first_slot_of(minute_number, tenant_per_minute, ratio), shard, shards
            )
            position = (slot - first) // shards
            high, reserved = _minute_usage(state, minute)
            if position < high or position in reserved:
                position = max(position, high)
                while position in reserved:
                    position += 1
                slot = first + position * shards
                continue  # still maps into this minute or a later one: checked again
            hour_key = _hour_key(send_at)
            if _count(state, hour_key) >= hour_share:
                moment, slot = _next_hour(send_at), None
                continue
            day = send_at.astimezone(self.tenant.tenant_zone).date()
            if _count(state, _day_key(day)) >= day_share:
                moment, slot = _start_of_day(day + timedelta(days=1), self.tenant.tenant_zone), None
                continue
            tenant_shard = shard_of_lane(index % tenant_shards, minute, tenant_shards)
            tenant_position = index // tenant_shards
            tenant_high, tenant_reserved = _minute_usage(tenant_shard_state(tenant_shard), minute)
            if tenant_position < tenant_high or tenant_position in tenant_reserved:
                slot += shards  # the tenant's slot is taken: the campaign's next one
                continue
            hour_shard = _with_share(
                hour_key, tenant.messages_per_hour, tenant_shard, tenant_shards, tenant_shard_state
            )
            if hour_shard is None:
                moment, slot = _next_hour(send_at), None
                continue
            day_shard = _with_share(
                _day_key(day),
                tenant.messages_per_day,
                tenant_shard,
                tenant_shards,
                tenant_shard_state,
            )
            if day_shard is None:
                moment, slot = _start_of_day(day + timedelta(days=1), self.tenant.tenant_zone), None
                continue
            changed: dict[int, ShardState] = {}
            for owner in (tenant_shard, hour_shard, day_shard):
                changed.setdefault(owner, dict(tenant_shard_state(owner)))
            _take(changed[tenant_shard], minute, tenant_high, tenant_reserved | {tenant_position})
            _count_one(changed[hour_shard], hour_key)
            _count_one(changed[day_shard], _day_key(day))
            new_state = dict(state)
            _take(new_state, minute, high, reserved | {position})
            _count_one(new_state, hour_key, _day_key(day))
            return CampaignSlot(send_at, tenant_shard, changed, new_state)
        raise PlanningError(f"no send slot found after {earliest.isoformat()}")


def _with_share(
    key: str, total: int, preferred: int, shards: int, state_of: Callable[[int], ShardState]
) -> int | None:
    """The tenant shard to count this send's hour or day in: the slot's own while its share
    lasts, else the first with share left (None: the tenant's whole hour or day is used).

    A campaign's slots fall in a fixed pattern of the tenant's shards (``G(k)``'s indices of a
    minute); counted only in those, it could use only their shares of the tenant's hour and
    day (a 5/min campaign on 60/min and 8 shards: 2 shards, 63 of 250 a day). The counts of
    all shards still add up to the tenant's caps, whichever shard holds them."""
    for index in (preferred, *(other for other in range(shards) if other != preferred)):
        if _count(state_of(index), key) < _share(total, index, shards):
            return index
    return None


def _count_one(state: ShardState, *keys: str) -> None:
    for key in keys:
        state[key] = _count(state, key) + 1


def _micros(pace: CampaignThrottle) -> int:
    return round(pace.delay_between_messages_seconds * 1_000_000)


@functools.cache
def _delay_step(tenant_per_minute: int, delay_micros: int) -> int:
    """The fewest tenant slots between two sends that always span ``delay_micros``: slot
    times are rounded to the microsecond, so the shortest such gap over a minute counts."""
    if delay_micros <= 0:
        return 1
    step = max(1, math.ceil(Fraction(delay_micros * tenant_per_minute, 60_000_000)))
    while (
        min(
            _slot_offset(index + step, tenant_per_minute) - _slot_offset(index, tenant_per_minute)
            for index in range(tenant_per_minute)
        )
        < delay_micros
    ):
        step += 1
    return step


def _first_slot_of(minute_number: int, tenant_per_minute: int, ratio: Fraction) -> int:
    """The first campaign slot whose tenant slot is in the minute or later:
    ``ceil(k r) >= g`` exactly when ``k > (g - 1) / r``."""
    return _first_slot_at(minute_number * tenant_per_minute, ratio)


def _first_slot_at(grid: int, ratio: Fraction) -> int:
    return math.floor((grid - 1) / ratio) + 1


def _campaign_slot_at(moment: datetime, tenant_per_minute: int, ratio: Fraction) -> int:
    """The first campaign slot at or after ``moment``."""
    minute = moment.replace(second=0, microsecond=0)
    offset = (moment - minute) // timedelta(microseconds=1)
    index = _first_at_or_after(offset, 0, 1, tenant_per_minute)
    minute_number = (minute - _EPOCH) // _MINUTE
    return _first_slot_at(minute_number * tenant_per_minute + index, ratio)


def _in_class(slot: int, shard: int, shards: int) -> int:
    """The first slot at or after ``slot`` that campaign shard ``shard`` owns."""
    return slot + (shard - slot) % shards


def _next_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
