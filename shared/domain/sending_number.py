"""A WhatsApp sending number's limits, and each tenant's fair share of them.

WhatsApp limits the *number* (about 80 messages a second, inbound and outbound together) and
the *business portfolio* (its daily messaging tier), not the tenant. Several tenants may send
from one number (the installation's default number, or a franchise's), so the number's
limits are split between the active tenants on it:

* **per second**: each tenant asks for ``ceil(per_minute / 60)`` messages a second (its own
  pace, at most the number's ceiling); when the asks fit under the ceiling each tenant keeps
  its own, else the ceiling is shared max-min fairly (:func:`fair_shares`). A tenant's slot
  grid is evenly spaced from each minute's start, so one asking ``s`` a second never has
  more than ``s`` slots in any one-second window: the shares together never exceed the
  ceiling in any second;
* **per day**: the number's daily limit (when its operator set one) is shared the same way
  between the tenants' daily caps.

A share is at least one message (a second, a day): with more tenants than the ceiling has
messages the number is *oversubscribed* and the split cannot hold; :func:`split` says so and
the operator's ``campaigns number`` shows it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.pacing import WHATSAPP_CEILING_PER_SECOND, Throttle


class NumberLimits(BaseModel):
    """What the operator knows of a number (Firestore ``numbers/{phone_number_id}``)."""

    model_config = ConfigDict(extra="forbid")

    ceiling_per_second: int = Field(
        default=WHATSAPP_CEILING_PER_SECOND,
        ge=1,
        le=1000,
        description="messages a second the number may send (Meta: 80, inbound included; "
        "1,000 after an upgrade)",
    )
    daily_limit: int | None = Field(
        default=None,
        ge=1,
        description="the portfolio's messaging tier (250, 2,000, 10,000, 100,000 a day); "
        "unset: only each tenant's own daily cap applies",
    )


@dataclass(frozen=True, slots=True)
class Share:
    """One tenant's part of its number: what the planner may use."""

    per_second: int
    per_day: int | None
    """None: the number has no daily limit, the tenant's own cap stands alone."""


@dataclass(frozen=True, slots=True)
class Split:
    shares: dict[str, Share]
    """By tenant (CNPJ)."""
    oversubscribed: bool
    """More tenants than the ceiling (or the daily limit) has messages: each still gets one,
    and together they may exceed it."""


def per_second_demand(throttle: Throttle, limits: NumberLimits) -> int:
    """Messages a second the tenant's own pace can use on this number."""
    ceiling = min(throttle.number_ceiling_per_second, limits.ceiling_per_second)
    own = throttle.model_copy(update={"number_ceiling_per_second": ceiling})
    return math.ceil(own.per_minute / 60)


def split(throttles: Mapping[str, Throttle], limits: NumberLimits) -> Split:
    """Each tenant's share of the number, from every active tenant's own throttle."""
    per_second = fair_shares(
        {cnpj: per_second_demand(throttle, limits) for cnpj, throttle in throttles.items()},
        limits.ceiling_per_second,
    )
    oversubscribed = len(throttles) > limits.ceiling_per_second
    per_day: dict[str, int] = {}
    if limits.daily_limit is not None:
        daily = {cnpj: throttle.messages_per_day for cnpj, throttle in throttles.items()}
        per_day = fair_shares(daily, limits.daily_limit)
        oversubscribed = oversubscribed or len(throttles) > limits.daily_limit
    shares = {
        cnpj: Share(per_second[cnpj], per_day.get(cnpj) if per_day else None) for cnpj in throttles
    }
    return Split(shares, oversubscribed)


def fair_shares(demands: Mapping[str, int], capacity: int) -> dict[str, int]:
    """Max-min fair integer shares of ``capacity``: nobody gets more than it asks; what the
    small askers leave is shared equally by the rest, the remainder one each in key order (so
    every tenant computes the same split on its own). Every share is at least 1."""
    if sum(demands.values()) <= capacity:
        return dict(demands)
    shares = dict.fromkeys(demands, 0)
    left = capacity
    unmet = sorted(demands, key=lambda key: (demands[key], key))
    while unmet and left >= len(unmet):
        level = left // len(unmet)
        satisfied = [key for key in unmet if demands[key] - shares[key] <= level]
        if not satisfied:
            for key in unmet:
                shares[key] += level
            left -= level * len(unmet)
            break
        for key in satisfied:
            left -= demands[key] - shares[key]
            shares[key] = demands[key]
        unmet = [key for key in unmet if key not in satisfied]
    for key in sorted(unmet)[:left]:
        shares[key] += 1
    return {key: max(1, share) for key, share in shares.items()}


def shared_throttle(throttle: Throttle, share: Share) -> Throttle:
    """The tenant's throttle within its share: a lower ceiling, a lower daily cap; never higher."""
    update: dict[str, int] = {
        "number_ceiling_per_second": min(throttle.number_ceiling_per_second, share.per_second)
    }
    if share.per_day is not None:
        update["messages_per_day"] = min(throttle.messages_per_day, share.per_day)
    return throttle.model_copy(update=update)
