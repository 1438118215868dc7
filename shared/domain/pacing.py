"""When each message may go: send windows, the tenant's throttle, the number's ceiling.

Planning is pure: given a pacing shard's state (how many slots each minute, hour and day it
has handed out) it returns the next free slot and the new state. The caller keeps the state
in a Firestore document per shard and updates it in a transaction, dropping on read what is
too old to matter now (:func:`pruned`; the planner itself keeps every counter it is given).
Shards exist because production Firestore sustains about one write per second per document:
with N shards each document sees 1/N of the planning writes, and in minute ``m`` shard ``s``
owns the global slots ``l, l+N, l+2N, ...`` with ``l = (s + m) mod N`` (ownership turns every
minute, see :func:`lane_of`), so the shards together never exceed any limit and, while all
have work, fill every slot (the configured rate, evenly spaced). A message whose own shard has
no slot before its send-by takes another shard's (:meth:`Planner.spill`), so an uneven hash
never leaves capacity unused while messages expire.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

WHATSAPP_CEILING_PER_SECOND = 70
"""Default per-number ceiling: under Meta's 80 messages/s (inbound and outbound share it)."""
_MAX_STEPS = 200_000
_STATE_RETENTION = timedelta(days=2)


class SendWindow(BaseModel):
    """Local hours in which messages of a campaign may be sent (the delivery planner uses it)."""

    model_config = ConfigDict(extra="forbid")

    start: time = time(9, 0)
    end: time = time(18, 0)

    @model_validator(mode="after")
    def _ordered(self) -> SendWindow:
        if self.end <= self.start:
            raise ValueError("send_window.end must be after send_window.start")
        return self


class Throttle(BaseModel):
    """The tenant's pace (PyTake's ``throttle_config``), plus the WhatsApp number's ceiling."""

    model_config = ConfigDict(extra="forbid")

    messages_per_minute: int = Field(default=60, ge=1)
    messages_per_hour: int = Field(default=1000, ge=1)
    messages_per_day: int = Field(
        default=250, ge=1, description="keep at or below the number's WhatsApp messaging tier"
    )
    delay_between_messages_seconds: float = Field(default=0.0, ge=0, le=3600)
    number_ceiling_per_second: int = Field(default=WHATSAPP_CEILING_PER_SECOND, ge=1, le=1000)
    shards: int = Field(default=8, ge=1, le=64, description="pacing documents per tenant")

    @property
    def per_minute(self) -> int:
        """Messages per minute once every limit that is finer than a minute is applied."""
        capacity = min(self.messages_per_minute, math.floor(60 * self.number_ceiling_per_second))
        if self.delay_between_messages_seconds > 0:
            capacity = min(capacity, math.floor(60 / self.delay_between_messages_seconds))
        return max(1, capacity)

    @property
    def effective_shards(self) -> int:
        """No shard may own zero slots of a minute, hour or day, or it could never plan."""
        return max(
            1, min(self.shards, self.per_minute, self.messages_per_hour, self.messages_per_day)
        )

    def shard_of(self, target_key: str) -> int:
        digest = hashlib.sha256(target_key.encode()).digest()
        return int.from_bytes(digest[:8], "big") % self.effective_shards


ShardState = dict[str, int | list[int]]
"""``m:YYYYMMDDHHMM`` -> slots of that minute used from its start (a high-water mark);
``r:YYYYMMDDHHMM`` -> slot indices taken beyond the mark (a retry or deferral planned into
a later part of the minute must not make the free slots before it unusable);
``h:YYYYMMDDHH`` (UTC) and ``d:YYYY-MM-DD`` (tenant date) -> slots used in that hour / day."""


@dataclass(frozen=True, slots=True)
class Slot:
    send_at: datetime
    state: ShardState


class PlanningError(RuntimeError):
    """No slot found within the search horizon (only with absurd settings)."""


class SendByMissed(Exception):
    """Every limit leaves no slot before the target's send-by: it must not be planned late."""


@dataclass(frozen=True, slots=True)
class Planner:
    throttle: Throttle
    window: SendWindow
    contact_zone: ZoneInfo
    """The window is the contact's local hours (the tenant's zone when the contact has none)."""
    tenant_zone: ZoneInfo
    """A "day" of the daily limit is the tenant's local day."""

    def plan(
        self, earliest: datetime, shard: int, state: ShardState, before: datetime | None = None
    ) -> Slot:
        """The first slot of ``shard`` at or after ``earliest`` that every limit allows;
        :class:`SendByMissed` if there is none before ``before``."""
        shards = self.throttle.effective_shards
        if not 0 <= shard < shards:
            raise ValueError(f"shard {shard} outside 0..{shards - 1}")
        per_minute = self.throttle.per_minute
        hour_share = _share(self.throttle.messages_per_hour, shard, shards)
        day_share = _share(self.throttle.messages_per_day, shard, shards)
        moment = earliest.astimezone(UTC)
        for _ in range(_MAX_STEPS):
            moment = self.next_opening(moment)
            if before is not None and moment >= before:
                raise SendByMissed(f"no slot before {before.isoformat()}")
            minute = moment.replace(second=0, microsecond=0)
            offset = (moment - minute) // timedelta(microseconds=1)
            lane = lane_of(shard, minute, shards)
            high, reserved = _minute_usage(state, minute)
            index = max(high, _first_at_or_after(offset, lane, shards, per_minute))
            while index in reserved:
                index += 1
            if index >= _share(per_minute, lane, shards):
                moment = minute + timedelta(minutes=1)
                continue
            global_slot = lane + index * shards
            send_at = minute + timedelta(microseconds=_slot_offset(global_slot, per_minute))
            if not self.in_window(send_at):
                moment = send_at  # next_opening moves it to the next window
                continue
            if _count(state, _hour_key(send_at)) >= hour_share:
                moment = send_at.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
                continue
            day = send_at.astimezone(self.tenant_zone).date()
            if _count(state, _day_key(day)) >= day_share:
                moment = _start_of_day(day + timedelta(days=1), self.tenant_zone)
                continue
            if before is not None and send_at >= before:
                raise SendByMissed(f"no slot before {before.isoformat()}")
            new_state = dict(state)
            _take(new_state, minute, high, reserved | {index})
            new_state[_hour_key(send_at)] = _count(state, _hour_key(send_at)) + 1
            new_state[_day_key(day)] = _count(state, _day_key(day)) + 1
            return Slot(send_at, new_state)
        raise PlanningError(f"no send slot found after {earliest.isoformat()}")

    def spill(
        self,
        earliest: datetime,
        states: Mapping[int, ShardState],
        before: datetime | None = None,
    ) -> list[tuple[int, Slot]]:
        """Each shard of ``states`` with a slot before ``before``, and that slot, soonest first.

        A message's shard comes from a hash, to spread the planning writes; it is not a share
        of the capacity the message is owed. When its own shard has no slot before its
        send-by, the message takes another shard's (the first of this list) rather than
        expire: otherwise an uneven hash leaves one shard's day unfilled while another's
        messages expire, and the tenant sends less than its daily cap with work waiting."""
        found: list[tuple[int, Slot]] = []
        for shard, state in states.items():
            try:
                found.append((shard, self.plan(earliest, shard, state, before=before)))
            except SendByMissed:
                continue
        return sorted(found, key=lambda pair: pair[1].send_at)

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` if the contact's window is open then, else the window's next start."""
        local = moment.astimezone(self.contact_zone)
        if self.window.start <= local.time() < self.window.end:
            return moment
        day = local.date() if local.time() < self.window.start else local.date() + timedelta(1)
        return datetime.combine(day, self.window.start, tzinfo=self.contact_zone).astimezone(UTC)

    def in_window(self, moment: datetime) -> bool:
        local_time = moment.astimezone(self.contact_zone).time()
        return self.window.start <= local_time < self.window.end


def lane_of(shard: int, minute: datetime, shards: int) -> int:
    """Which of a minute's slot sequences (``lane, lane+N, ...``) ``shard`` owns that minute.

    Ownership turns by one every minute, so a campaign whose own pace falls on a fixed pattern
    of the minute's slots (every other slot: lanes 0, 2, 4, 6) takes each shard's slots only
    part of the time, and no shard's targets wait behind it for long.
    """
    return (shard + minute_number(minute)) % shards


def shard_of_lane(lane: int, minute: datetime, shards: int) -> int:
    """The shard that owns ``lane`` in ``minute`` (the inverse of :func:`lane_of`)."""
    return (lane - minute_number(minute)) % shards


def minute_number(minute: datetime) -> int:
    return int(minute.astimezone(UTC).timestamp()) // 60


def _count(state: ShardState, key: str) -> int:
    value = state.get(key, 0)
    return value if isinstance(value, int) else 0


def _minute_usage(state: ShardState, minute: datetime) -> tuple[int, set[int]]:
    high = state.get(_minute_key(minute), 0)
    reserved = state.get(_reserved_key(minute), [])
    return (high if isinstance(high, int) else 0), set(
        reserved if isinstance(reserved, list) else []
    )


def _take(state: ShardState, minute: datetime, high: int, taken: set[int]) -> None:
    """Record the minute's taken slots compactly: raise the mark over contiguous ones."""
    while high in taken:
        taken.discard(high)
        high += 1
    state[_minute_key(minute)] = high
    beyond = sorted(index for index in taken if index > high)
    if beyond:
        state[_reserved_key(minute)] = beyond
    else:
        state.pop(_reserved_key(minute), None)


def _slot_offset(slot: int, per_minute: int) -> int:
    """Microseconds from the minute's start to global slot ``slot`` (exact integer math)."""
    return round(slot * 60_000_000 / per_minute)


def _first_at_or_after(offset: int, lane: int, shards: int, per_minute: int) -> int:
    """The first index ``j`` of the lane whose slot starts at or after ``offset`` µs."""
    index = max(0, math.ceil((offset * per_minute / 60_000_000 - lane) / shards))
    while index > 0 and _slot_offset(lane + (index - 1) * shards, per_minute) >= offset:
        index -= 1
    while _slot_offset(lane + index * shards, per_minute) < offset:
        index += 1
    return index


def _share(total: int, shard: int, shards: int) -> int:
    """How many of ``total`` global slots shard ``shard`` owns (slots ``shard, shard+N, ...``)."""
    return len(range(shard, total, shards))


def counted_under(send_at: datetime, tenant_zone: ZoneInfo) -> tuple[str, str]:
    """The hour and day counters a send at ``send_at`` is counted under (UTC hour, local day):
    what a slot handed back must release."""
    return _hour_key(send_at), _day_key(send_at.astimezone(tenant_zone).date())


def _minute_key(moment: datetime) -> str:
    return "m:" + moment.strftime("%Y%m%d%H%M")


def _reserved_key(moment: datetime) -> str:
    return "r:" + moment.strftime("%Y%m%d%H%M")


def _hour_key(moment: datetime) -> str:
    return "h:" + moment.astimezone(UTC).strftime("%Y%m%d%H")


def _day_key(day: date) -> str:
    return "d:" + day.isoformat()


def _start_of_day(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def pruned(state: ShardState, now: datetime) -> ShardState:
    """``state`` without the counters older than two days before ``now``, so a pacing document
    never grows without bound.

    Relative to the clock, never to the instant being planned: the planner keeps every counter
    it is given, because a target planned a week ahead writes its shard back, and pruning
    relative to that week would drop today's minute, hour and day counters and reset today's
    caps. The store, which reads and writes the documents and knows now, prunes on read."""
    horizon = now.astimezone(UTC) - _STATE_RETENTION
    cutoff = {
        "m": _minute_key(horizon),
        "r": _reserved_key(horizon),
        "h": _hour_key(horizon),
        "d": _day_key(horizon.date()),
    }
    return {key: used for key, used in state.items() if key >= cutoff.get(key[:1], "")}
