"""``campaigns number [ID] [--ceiling N] [--daily-limit N|none]``: a sending number's limits and
how its tenants share them (see :mod:`shared.domain.sending_number`).

Without ``ID`` it is the installation's default number. With ``--ceiling`` or
``--daily-limit`` the operator records what Meta granted the number (its throughput and the
portfolio's messaging tier) before the table is printed.
"""

from __future__ import annotations

from shared.domain.sending_number import NumberLimits, per_second_demand
from shared.services.number_shares import NumberShares, NumberView

UNSET = "none"


def set_limits(
    shares: NumberShares, number: str, ceiling: int | None, daily_limit: str | None
) -> None:
    """Change only what was given; ``--daily-limit none`` removes the daily limit."""
    current = shares.limits(number)
    update: dict[str, int | None] = {}
    if ceiling is not None:
        update["ceiling_per_second"] = ceiling
    if daily_limit is not None:
        update["daily_limit"] = None if daily_limit == UNSET else int(daily_limit)
    limits = NumberLimits.model_validate({**current.model_dump(), **update})
    shares.set_limits(number, limits)


def number_table(view: NumberView) -> str:
    limits = view.limits
    daily = f"{limits.daily_limit:,}/day" if limits.daily_limit is not None else "no daily limit"
    lines = [
        f"number {view.phone_number_id or '(default)'}: "
        f"{limits.ceiling_per_second}/s, {daily}, {len(view.tenants)} active tenant(s)"
    ]
    if view.split.oversubscribed:
        lines.append("OVERSUBSCRIBED: more tenants than messages to share; they may exceed it")
    head = ["tenant", "asks/s", "share/s", "cap/day", "share/day"]
    rows = []
    for tenant in sorted(view.tenants, key=lambda tenant: tenant.cnpj):
        throttle = tenant.delivery.throttle
        share = view.split.shares[tenant.cnpj]
        rows.append(
            [
                tenant.cnpj,
                str(per_second_demand(throttle, limits)),
                str(share.per_second),
                str(throttle.messages_per_day),
                str(share.per_day) if share.per_day is not None else "-",
            ]
        )
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines += [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [head, *rows]
    ]
    return "\n".join(lines)
