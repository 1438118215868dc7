"""What the planner would do with messages not planned yet, without planning them.

A forecast answers "when will these go, and which will not go at all?" with the delivery
planner itself (:class:`shared.domain.pacing.Planner`), run on copies of the tenant's pacing
states: the same limits, windows and send-by rule as delivery, and no side effect. Messages
are planned in the order delivery would favour them when the day is short (time-critical
first, then by when they may start), so a birthday behind a bulk backlog is forecast on its
day, as the slot it would take over says.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from shared.domain.campaign_pace import CampaignPlanner
from shared.domain.pacing import Planner, PlanningError, SendByMissed, ShardState, Slot


@dataclass(frozen=True, slots=True)
class Unplanned:
    """One message that has no slot yet: a PENDING target, or one of an occurrence to come."""

    campaign_id: str
    key: str
    """Its target path (or a stand-in): which pacing shard it lands on, as delivery hashes it."""
    earliest: datetime
    send_by: datetime | None
    priority: int
    planner: Planner | CampaignPlanner


def simulate(
    messages: Sequence[Unplanned],
    states: Mapping[int, ShardState],
    campaign_states: Mapping[str, Mapping[int, ShardState]] | None = None,
) -> list[tuple[Unplanned, datetime | None]]:
    """Plan ``messages`` on copies of ``states`` (pacing shard -> its state) and of
    ``campaign_states`` (campaign id -> its own pacing shards, for campaigns with a pace of
    their own): each message with its send time, or None when no slot comes before its
    send-by (it would expire)."""
    shards = {shard: dict(state) for shard, state in states.items()}
    campaigns = {
        campaign_id: {shard: dict(state) for shard, state in own.items()}
        for campaign_id, own in (campaign_states or {}).items()
    }
    results: list[tuple[Unplanned, datetime | None]] = []
    for message in sorted(messages, key=lambda m: (m.priority, m.earliest)):
        planner = message.planner
        try:
            if isinstance(planner, CampaignPlanner):
                own = campaigns.setdefault(message.campaign_id, {})
                shard = planner.shard_of(message.key)
                paced = planner.plan(
                    message.earliest,
                    shard,
                    own.get(shard, {}),
                    lambda index: shards.get(index, {}),
                    before=message.send_by,
                )
                own[shard] = paced.campaign_state
                shards.update(paced.tenant_states)
                send_at = paced.send_at
            else:
                shard, slot = _planned(planner, message, shards)
                shards[shard] = slot.state
                send_at = slot.send_at
        except (SendByMissed, PlanningError):
            results.append((message, None))
            continue
        results.append((message, send_at))
    return results


def _planned(
    planner: Planner, message: Unplanned, shards: Mapping[int, ShardState]
) -> tuple[int, Slot]:
    """The message's shard and slot as delivery plans them: its own shard's, else the soonest
    another shard has before its send-by (:meth:`Planner.spill`)."""
    own = planner.throttle.shard_of(message.key)
    try:
        return own, planner.plan(message.earliest, own, shards.get(own, {}), message.send_by)
    except SendByMissed:
        others = {
            shard: shards.get(shard, {})
            for shard in range(planner.throttle.effective_shards)
            if shard != own
        }
        spilled = planner.spill(message.earliest, others, message.send_by)
        if not spilled:
            raise
        return spilled[0]


def per_local_day(moments: Sequence[datetime], zone: ZoneInfo) -> Counter[date]:
    return Counter(moment.astimezone(zone).date() for moment in moments)
